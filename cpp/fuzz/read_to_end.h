#pragma once

// Running a reader the way the executor's workers do, for the fuzz targets.

#include <arrow/result.h>

#include <cstdint>
#include <functional>
#include <string>

#include "plan/source_spec.h"

namespace sluice::fuzz {

/// Call once, from LLVMFuzzerInitialize: one worker (no thread-pool nondeterminism between
/// runs of one input), no progress line, and an 8 MiB memory budget. Inputs are at most
/// 32 KiB; the budget sizes the readers' buffers (a text reader's 1 MiB read chunk, 64 KiB
/// CSV and JSON blocks), which keeps an execution cheap, and an input that needs more
/// fails with OutOfMemory, a normal outcome.
void ConfigureEngineForFuzzing();

/// Reads every batch of every task `spec` makes under `pushdown`, handing each to `visit`
/// when given. Returns the rows read, or the reader's error: malformed input should give
/// one. Aborts — a finding — when a batch is not valid Arrow data or its columns do not
/// have the types the source planned.
arrow::Result<int64_t> ReadToEnd(
    const plan::SourceSpec& spec, const plan::Pushdown& pushdown = {},
    const std::function<void(const arrow::RecordBatch&)>& visit = nullptr);

/// Reports a finding on stderr and aborts, so libFuzzer keeps the input as a crash.
[[noreturn]] void Finding(const std::string& what);

}  // namespace sluice::fuzz
