#pragma once

// How much a reader may buffer ahead of its consumer, derived from the memory budget.

#include <arrow/io/interfaces.h>

#include <algorithm>
#include <cstdint>

#include "runtime/memory_budget.h"
#include "runtime/session_state.h"
#include "sluice/config.h"

namespace sluice::io {

/// Block size for Arrow's streaming CSV and JSON readers. They read ahead up to 32
/// blocks on the IO thread pool, so blocks are sized to keep every worker's read-ahead
/// within a quarter of the budget; `max_bytes` caps them (JSON objects must fit in one).
inline int32_t ReaderBlockBytes(const EngineConfig& config, int64_t max_bytes) {
  constexpr int64_t kReadAheadBlocks = 32;
  const int64_t share =
      config.memory_limit_bytes / 4 / (kReadAheadBlocks * std::max(1, config.num_threads));
  return static_cast<int32_t>(std::clamp<int64_t>(share, 64 << 10, max_bytes));
}

/// The IO context file systems are opened with, so the buffers they read land in the
/// session's budget (null: the default session's).
inline arrow::io::IOContext BudgetedIOContext(
    const std::shared_ptr<exec::SessionState>& session = nullptr) {
  return arrow::io::IOContext((session ? session : exec::SessionState::Default())->budget());
}

}  // namespace sluice::io
