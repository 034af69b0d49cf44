#pragma once

#include <arrow/status.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/batch_stream.h"
#include "runtime/exec_context.h"
#include "runtime/stream_operator.h"

namespace sluice::exec {

/// Wraps every task of `input` so its batches flow through `op` on the worker that runs
/// the task. This is how streaming operators fuse into one pipeline: no queue, no copy
/// and no thread hop between a reader and the filters and projections above it.
std::unique_ptr<TaskSource> MakeOperatorTaskSource(ExecContext* ctx,
                                                   std::unique_ptr<TaskSource> input,
                                                   std::shared_ptr<const StreamOperator> op,
                                                   OperatorCounters* counters);

/// Wraps every task of a source so the time spent producing its batches (reading,
/// decompressing, decoding) and the rows produced land in `counters`, and the tasks
/// listed and finished in the execution's task progress.
std::unique_ptr<TaskSource> MakeMeasuredSourceTaskSource(ExecContext* ctx,
                                                         std::unique_ptr<TaskSource> input,
                                                         OperatorCounters* counters);

/// Regroups the tasks of `input` into `lanes` long tasks: each lane, when its current task
/// is done, takes the next task of `input`, until none is left. The rows of one input task
/// stay together and in order, but which lane gets which task depends on timing, so the
/// order across tasks is lost. For sinks where fewer, longer tasks pay off and order does
/// not matter: a partitioned write then keeps one file per partition per lane open across
/// input tasks instead of starting a file per (input task, partition).
std::unique_ptr<TaskSource> MakeLaneTaskSource(std::unique_ptr<TaskSource> input, int lanes);

/// Runs the tasks of a TaskSource on a set of worker threads and returns their batches in
/// task order (and in order within a task), so results are deterministic.
///
/// Backpressure: while the memory budget is exhausted, workers wait before buffering more
/// output, except for the oldest unfinished task when none of its output is waiting: the
/// consumer can always make progress and buffered memory stays bounded.
///
/// Errors keep task order too: a failed task (or a failed NextTask()) stops the tasks
/// after it, while the tasks before it run to the end and are delivered first. The
/// consumer sees the same batches and the same error on every run, and a limit that is
/// satisfied before the failing task never sees the error at all.
///
/// A pipeline started on another pipeline's worker (the input of a sort, an aggregate or
/// a limit) stops when that one is cancelled: its Next() then returns Status::Cancelled.
class PipelineRunner : public BatchStream {
 public:
  static arrow::Result<std::unique_ptr<PipelineRunner>> Start(ExecContext* ctx,
                                                              std::unique_ptr<TaskSource> source,
                                                              int num_workers = 0);
  ~PipelineRunner() override;

  arrow::Result<BatchPtr> Next() override;
  /// Stops handing out tasks and wakes every waiter; buffered batches are dropped.
  void Cancel();

 private:
  PipelineRunner(ExecContext* ctx, std::unique_ptr<TaskSource> source);
  void WorkerLoop();
  arrow::Status RunTask(int64_t index, const ScanTask& task);
  arrow::Status Deliver(int64_t index, BatchPtr batch);
  /// Records `status` as the failure of task `index` unless an earlier task failed.
  /// Requires mutex_.
  void SetError(int64_t index, arrow::Status status);
  /// Whether task `index` should stop: cancelled, or an earlier task failed. Requires mutex_.
  bool Stopped(int64_t index) const { return cancelled_ || index > error_index_; }

  struct TaskOutput {
    std::deque<BatchPtr> batches;
    bool done = false;
  };

  ExecContext* ctx_;
  std::unique_ptr<TaskSource> source_;
  std::vector<std::thread> workers_;

  std::mutex source_mutex_;  // serializes NextTask()
  int64_t next_task_index_ = 0;
  bool source_exhausted_ = false;

  std::mutex mutex_;
  std::condition_variable consumer_cv_;
  std::condition_variable producer_cv_;
  std::map<int64_t, TaskOutput> outputs_;
  int64_t head_ = 0;          // oldest task the consumer has not finished
  int64_t total_tasks_ = -1;  // known once the source is exhausted
  int64_t buffered_bytes_ = 0;
  int64_t max_buffered_bytes_ = 0;
  arrow::Status error_;  // the failure of task error_index_, the earliest failed task
  int64_t error_index_ = std::numeric_limits<int64_t>::max();
  bool cancelled_ = false;
  int live_workers_ = 0;

  // Set by Cancel(). Pipelines started on this one's workers watch it, so a limit that
  // is satisfied also stops the sort or aggregate that another worker is draining.
  std::shared_ptr<std::atomic<bool>> stopped_ = std::make_shared<std::atomic<bool>>(false);
  std::shared_ptr<const std::atomic<bool>> parent_stopped_;  // null at the top level
};

/// Pulls every batch of `stream` into a table with `schema` (used when the stream may be
/// empty and the schema is needed anyway).
arrow::Result<std::shared_ptr<arrow::Table>> DrainToTable(
    BatchStream* stream, const std::shared_ptr<arrow::Schema>& schema);

}  // namespace sluice::exec
