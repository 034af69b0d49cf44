#pragma once

// Running the fragments of a plan (plan/fragments.h) one task at a time: what a runner
// calls in each of its tasks (a Ray task), and on its driver for the exchanges and the
// commit of a distributed write. Every call here runs in one process on data it is given;
// moving data between processes is the runner's business.

#include <arrow/table.h>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "runtime/session_state.h"
#include "runtime/stream_operator.h"
#include "plan/fragments.h"
#include "sluice/options.h"

namespace sluice::exec {

/// One task of a fragment.
struct FragmentTask {
  /// The fragment's plan.
  plan::PlanNodePtr plan;
  /// For a scan fragment: per scan (plan::Fragment::scans order), the splits this task
  /// reads; scans without an entry read nothing. Unset: every scan is read whole.
  std::optional<std::vector<std::vector<plan::Split>>> splits;
  /// For a fragment with inputs: per input, its data in order (the upstream outputs or
  /// partitions this task gets). An input without tables reads no rows.
  std::vector<std::vector<std::shared_ptr<arrow::Table>>> inputs;
  /// How to cut the output (the fragment's `output` exchange). kHash and kRange give
  /// `partitions` tables; every other kind one.
  plan::Exchange output;
  /// kRange: the boundary rows (SampleRangeBoundaries), `partitions - 1` at most.
  std::shared_ptr<arrow::Table> range_boundaries;
  /// For the root fragment of a write: the task writer (SinkWrite::SerializeTaskWriter)
  /// and this task's index among the write's tasks (which keeps staged names apart). The
  /// task's output is then the writer's result rows, to be committed by the driver.
  std::optional<plan::SerializedPart> task_writer;
  int64_t task_index = 0;
};

/// What running a fragment task needs from the layers above this one (the api layer
/// passes the engine's): a source over an input's data, and the task writer a sink
/// serialized.
struct FragmentTaskCodecs {
  std::function<arrow::Result<std::shared_ptr<const plan::SourceSpec>>(
      std::shared_ptr<arrow::Table> table)>
      table_source;
  /// The task writer of `part`, its task ids from `first_task_id` on.
  std::function<arrow::Result<std::shared_ptr<const StreamOperator>>(
      const plan::SerializedPart& part, ExecContext* ctx, int64_t first_task_id)>
      open_task_writer;
};

/// Runs `task` in `session` (null: the default session) and returns its output tables
/// (see FragmentTask::output). `stats_out` receives the execution's figures.
arrow::Result<std::vector<std::shared_ptr<arrow::Table>>> RunFragmentTask(
    const FragmentTask& task, const FragmentTaskCodecs& codecs,
    std::shared_ptr<SessionState> session = nullptr,
    std::shared_ptr<ExecutionStats> stats_out = nullptr);

/// `table` cut as `exchange` says: kHash by the keys' row hashes (as repartition cuts),
/// kRange by `boundaries` (a row equal to boundary i goes to partition i); other kinds
/// give the table itself. Each partition keeps the table's row order.
arrow::Result<std::vector<std::shared_ptr<arrow::Table>>> PartitionTable(
    const std::shared_ptr<arrow::Table>& table, const plan::Exchange& exchange,
    const std::shared_ptr<arrow::Table>& boundaries, arrow::MemoryPool* pool);

/// Up to `partitions - 1` rows (all columns of `tables`, which share a schema) that cut
/// the rows of `tables`, ordered by `keys`, into `partitions` ranges of about equal size,
/// taken from an evenly spread sample of at most `sample_rows` rows.
arrow::Result<std::shared_ptr<arrow::Table>> SampleRangeBoundaries(
    const std::vector<std::shared_ptr<arrow::Table>>& tables, const std::vector<SortKey>& keys,
    int partitions, int64_t sample_rows, arrow::MemoryPool* pool);

/// The rows of `tables`, in order, cut into `blocks` tables of equal size (the last ones
/// shorter), as repartition without keys cuts them.
arrow::Result<std::vector<std::shared_ptr<arrow::Table>>> CutIntoBlocks(
    const std::vector<std::shared_ptr<arrow::Table>>& tables, int blocks);

/// A write whose tasks run as fragment tasks elsewhere, on the driver: Begin sets it up
/// (checks, staging directory, catalog lock), the tasks stage with TaskWriter(), Commit
/// publishes their results once. Destroying it uncommitted aborts: whatever was staged is
/// removed and the target stays as it was.
class FragmentWrite {
 public:
  static arrow::Result<std::unique_ptr<FragmentWrite>> Begin(
      const plan::WriteNode& write, std::shared_ptr<SessionState> session = nullptr);
  ~FragmentWrite();
  const plan::SerializedPart& task_writer() const { return task_writer_; }
  /// `task_results`: every task's output, in task order.
  arrow::Result<WriteResult> Commit(
      const std::vector<std::shared_ptr<arrow::Table>>& task_results);

 private:
  FragmentWrite() = default;
  std::unique_ptr<class ExecContext> ctx_;
  std::unique_ptr<plan::SinkWrite> sink_write_;
  plan::SerializedPart task_writer_;
  bool committed_ = false;
};

}  // namespace sluice::exec
