#pragma once

#include <arrow/result.h>

#include <atomic>
#include <memory>
#include <vector>

#include "compute/row_comparator.h"
#include "runtime/exec_context.h"
#include "runtime/spill_file.h"

namespace sluice::spill {

/// Merges sorted runs (spill files sorted by the same keys) into one sorted stream,
/// holding one batch per run at a time. Ties go to the earlier run, so runs cut from
/// consecutive input and sorted stably merge into a stable sort.
class SortedRunMerger {
 public:
  /// More than `max_fan_in` runs are first merged in groups into longer runs (spilled
  /// again, in batches of `spill_batch_rows`), which bounds the batches held at once.
  /// Spill files are deleted as soon as they are read.
  static arrow::Result<std::unique_ptr<SortedRunMerger>> Make(
      exec::ExecContext* ctx, std::shared_ptr<arrow::Schema> schema, std::vector<SortKey> keys,
      std::vector<SpillFile> runs, int max_fan_in, int64_t spill_batch_rows,
      std::atomic<int64_t>* spilled_bytes);

  /// The next rows in order, at most `max_rows`; null once every run is drained.
  arrow::Result<exec::BatchPtr> Next(int64_t max_rows);

 private:
  struct Cursor {
    std::unique_ptr<exec::BatchStream> stream;
    exec::BatchPtr batch;
    compute::RowComparator::KeyColumns keys;
    int64_t row = 0;
    int run = 0;
    /// The batch's index in the sources of the output being built, or -1.
    int source = -1;
  };

  SortedRunMerger(exec::ExecContext* ctx, std::shared_ptr<arrow::Schema> schema,
                  compute::RowComparator comparator)
      : ctx_(ctx), schema_(std::move(schema)), comparator_(std::move(comparator)) {}
  arrow::Status Open(std::vector<SpillFile> runs);
  /// Moves a cursor to its next non-empty batch; false when its run is drained.
  arrow::Result<bool> Advance(Cursor* cursor);
  /// Whether cursor `a` must come out after cursor `b` (the heap keeps the smallest on top).
  bool After(int a, int b) const;
  void SiftDown(size_t position);

  exec::ExecContext* ctx_;
  std::shared_ptr<arrow::Schema> schema_;
  compute::RowComparator comparator_;
  std::vector<Cursor> cursors_;
  std::vector<int> heap_;  // indices into cursors_
};

}  // namespace sluice::spill
