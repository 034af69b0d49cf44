#pragma once

#include "exec/batch_stream.h"
#include "exec/exec_context.h"

namespace sluice::operators {

/// Splits the input, in order, into `num_blocks` tasks of nearly equal row counts (a write
/// after it produces that many files).
arrow::Result<std::unique_ptr<exec::TaskSource>> MakeRepartitionTaskSource(
    exec::ExecContext* ctx, std::unique_ptr<exec::TaskSource> input, int num_blocks,
    exec::OperatorCounters* counters);

}  // namespace sluice::operators
