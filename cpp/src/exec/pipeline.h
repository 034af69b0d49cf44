#pragma once

#include <arrow/status.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "exec/batch_stream.h"
#include "exec/exec_context.h"
#include "exec/stream_operator.h"

namespace sluice::exec {

/// Wraps every task of `input` so its batches flow through `op` on the worker that runs
/// the task. This is how streaming operators fuse into one pipeline: no queue, no copy
/// and no thread hop between a reader and the filters and projections above it.
std::unique_ptr<TaskSource> MakeOperatorTaskSource(ExecContext* ctx,
                                                   std::unique_ptr<TaskSource> input,
                                                   std::shared_ptr<const StreamOperator> op,
                                                   OperatorCounters* counters);

/// Wraps every task of a source so the time spent producing its batches (reading,
/// decompressing, decoding) and the rows produced land in `counters`.
std::unique_ptr<TaskSource> MakeMeasuredSourceTaskSource(std::unique_ptr<TaskSource> input,
                                                         OperatorCounters* counters);

/// Runs the tasks of a TaskSource on a set of worker threads and returns their batches in
/// task order (and in order within a task), so results are deterministic.
///
/// Backpressure: while the memory budget is exhausted, workers producing batches for any
/// task but the oldest unfinished one wait. The oldest task always proceeds, so the
/// consumer can always make progress and buffered memory stays bounded.
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
  arrow::Status error_;
  bool cancelled_ = false;
  int live_workers_ = 0;
};

/// Pulls every batch of `stream` into a table with `schema` (used when the stream may be
/// empty and the schema is needed anyway).
arrow::Result<std::shared_ptr<arrow::Table>> DrainToTable(
    BatchStream* stream, const std::shared_ptr<arrow::Schema>& schema);

}  // namespace sluice::exec
