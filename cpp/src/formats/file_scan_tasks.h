#pragma once

// Scheduling a reader's files as scan tasks: each task names its file in every error and
// the tasks together honour a pushed-down row limit.

#include <arrow/memory_pool.h>
#include <arrow/result.h>
#include <arrow/type_fwd.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/batch_stream.h"

namespace sluice::io {

/// A piece of one file that a reader scans: the whole file, or some row groups of it.
struct FileScanUnit {
  std::string path;
  /// Opens the unit's batches. Errors need not name the file; the task adds it.
  std::function<arrow::Result<std::unique_ptr<exec::BatchStream>>()> open;
  /// Rows the unit yields, when the metadata says so exactly (Parquet without a filter).
  std::optional<int64_t> known_rows;
};

/// Tasks over `units`, in order, producing at most `limit` rows in total (the first ones
/// in unit order) in batches of at most `max_batch_rows` rows (0: as the units give them). Without
/// a limit every unit is its own task. With a limit, if every unit's row count is known, each task
/// is cut to what the limit leaves after the units before it and units past the limit are never
/// opened; otherwise one task scans the units in sequence and stops at the limit, because which
/// rows come first cannot be known before the earlier files are read. Empty batches are dropped and
/// every error is prefixed with the unit's path.
std::unique_ptr<exec::TaskSource> MakeFileTaskSource(std::vector<FileScanUnit> units,
                                                     std::optional<int64_t> limit,
                                                     int64_t max_batch_rows = 0);

/// Name of the column that `include_paths` adds to CSV, JSON and text reads.
inline constexpr char kPathColumn[] = "path";

/// The columns of `output`, in its order, taken by name from `data`; when `with_path`,
/// the column named kPathColumn is not looked up but filled with `path`.
arrow::Result<exec::BatchPtr> ArrangeColumns(const exec::BatchPtr& data,
                                             const std::shared_ptr<arrow::Schema>& output,
                                             bool with_path, const std::string& path,
                                             arrow::MemoryPool* pool);

}  // namespace sluice::io
