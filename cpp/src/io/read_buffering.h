#pragma once

// How much a reader may buffer ahead of its consumer, derived from the memory budget.

#include <arrow/filesystem/filesystem.h>
#include <arrow/filesystem/localfs.h>
#include <arrow/io/interfaces.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>

#include "exec/memory_budget.h"
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
/// budgeted pool.
inline arrow::io::IOContext BudgetedIOContext() {
  return arrow::io::IOContext(exec::MemoryBudget::Global());
}

/// arrow::fs::FileSystemFromUriOrPath with the budgeted IO context. Arrow makes local
/// filesystems with its default context whatever it is given, so every buffer read from
/// a local file (a Parquet row group's column chunks) would land outside the budget.
inline arrow::Result<std::shared_ptr<arrow::fs::FileSystem>> BudgetedFileSystemFromUriOrPath(
    const std::string& uri_or_path, std::string* out_path) {
  ARROW_ASSIGN_OR_RAISE(
      auto fs, arrow::fs::FileSystemFromUriOrPath(uri_or_path, BudgetedIOContext(), out_path));
  if (fs->io_context().pool() != BudgetedIOContext().pool() && fs->type_name() == "local") {
    const auto& local = static_cast<const arrow::fs::LocalFileSystem&>(*fs);
    fs = std::make_shared<arrow::fs::LocalFileSystem>(local.options(), BudgetedIOContext());
  }
  return fs;
}

}  // namespace sluice::io
