#pragma once

#include <arrow/result.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/exec_context.h"
#include "runtime/memory_budget.h"
#include "operators/materialized_tasks.h"
#include "operators/sorted_run_merger.h"

namespace sluice::operators {

/// The rows a sort produced: in memory with their sorted order when they fit in the
/// budget, otherwise a merge of sorted runs on disk.
struct SortedOutput {
  /// The rows and their order when nothing spilled (table null otherwise).
  MaterializedRows in_memory;
  /// The claim on the budget for the in-memory rows; keep it while they are read.
  std::unique_ptr<exec::MemoryReservation> reservation;
  /// Set when the rows spilled: reads them back in order.
  std::unique_ptr<spill::SortedRunMerger> merged;
  int64_t total_rows = 0;
  /// Rows per piece of merged output: a small share of the budget each (merged only).
  int64_t merged_rows_per_piece = 0;
};

/// Sorts any number of rows within the memory budget. Rows are buffered while the
/// operator's reservation can grow; when it cannot, the buffered rows are sorted
/// (compute::SortIndicesInParallel) and written to a spill file as one sorted run.
/// Finish() returns the rows in memory when nothing spilled, else the k-way merge of the
/// runs. The sort is stable either way.
class ExternalSorter {
 public:
  /// `schema` may be null when unknown until the first batch (after a user function).
  static arrow::Result<std::unique_ptr<ExternalSorter>> Make(exec::ExecContext* ctx,
                                                             std::shared_ptr<arrow::Schema> schema,
                                                             std::vector<SortKey> keys,
                                                             exec::OperatorCounters* counters);

  arrow::Status Add(exec::BatchPtr batch);
  /// Call once, after the last Add().
  arrow::Result<SortedOutput> Finish();

  int runs_spilled() const { return static_cast<int>(runs_.size()); }

 private:
  ExternalSorter(exec::ExecContext* ctx, std::vector<SortKey> keys,
                 exec::OperatorCounters* counters);
  arrow::Status SetSchema(std::shared_ptr<arrow::Schema> schema);
  arrow::Result<std::shared_ptr<arrow::Table>> BufferedTable() const;
  /// The sorted order of the buffered rows, as indices into their concatenation.
  arrow::Result<std::shared_ptr<arrow::UInt64Array>> SortBuffered() const;
  arrow::Status SpillRun();
  int64_t SpillBatchRows() const;

  exec::ExecContext* ctx_;
  std::vector<SortKey> keys_;
  exec::OperatorCounters* counters_;
  std::shared_ptr<arrow::Schema> schema_;
  std::unique_ptr<exec::MemoryReservation> reservation_;
  std::vector<exec::BatchPtr> buffered_;
  int64_t buffered_rows_ = 0;
  int64_t total_rows_ = 0;
  int64_t total_bytes_ = 0;
  std::vector<spill::SpillFile> runs_;
};

/// The task source of an operator whose output is a SortedOutput: on the first request it
/// runs `produce`, then hands out the rows in order: slices gathered by the workers when
/// they stayed in memory, or pieces of the merge of the spilled runs, each merged while
/// the workers process the pieces before it.
std::unique_ptr<exec::TaskSource> MakeSortedOutputTaskSource(
    exec::ExecContext* ctx, std::string label, std::function<arrow::Result<SortedOutput>()> produce,
    exec::OperatorCounters* counters);

}  // namespace sluice::operators
