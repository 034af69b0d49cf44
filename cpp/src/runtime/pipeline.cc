#include "runtime/pipeline.h"

#include <arrow/table.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "runtime/memory_budget.h"

namespace sluice::exec {

namespace {

/// The pipeline whose worker this thread is, if any: its execution and its stop flag.
struct WorkerOf {
  const ExecContext* ctx = nullptr;
  std::shared_ptr<const std::atomic<bool>> stopped;
};
thread_local WorkerOf t_worker_of;

/// The batches of one task after one operator.
class OperatorStream : public BatchStream {
 public:
  OperatorStream(ExecContext* ctx, std::unique_ptr<BatchStream> input,
                 std::shared_ptr<const StreamOperator> op, std::shared_ptr<OperatorState> global,
                 std::unique_ptr<OperatorState> task_state, OperatorCounters* counters)
      : ctx_(ctx),
        input_(std::move(input)),
        op_(std::move(op)),
        global_(std::move(global)),
        task_state_(std::move(task_state)),
        counters_(counters) {
    emit_ = [this](BatchPtr batch) {
      if (batch) {
        counters_->rows_out.fetch_add(batch->num_rows());
        counters_->batches_out.fetch_add(1);
        counters_->bytes_out.fetch_add(BatchBufferBytes(*batch));
        pending_.push_back(std::move(batch));
      }
      return arrow::Status::OK();
    };
  }

  arrow::Result<BatchPtr> Next() override {
    while (pending_.empty()) {
      if (finished_ || ctx_->cancelled()) return nullptr;
      BatchPtr batch;  // stays null, ending the task, once the operator needs no more input
      if (op_->NeedsInput(global_.get(), task_state_.get())) {
        ARROW_ASSIGN_OR_RAISE(batch, input_->Next());
      }
      ScopedTimer timer(&counters_->cpu_nanos);
      if (batch == nullptr) {
        finished_ = true;
        ARROW_RETURN_NOT_OK(op_->Finish(ctx_, global_.get(), task_state_.get(), emit_));
      } else {
        counters_->rows_in.fetch_add(batch->num_rows());
        ARROW_RETURN_NOT_OK(
            op_->Push(ctx_, global_.get(), task_state_.get(), std::move(batch), emit_));
      }
    }
    BatchPtr out = std::move(pending_.front());
    pending_.pop_front();
    return out;
  }

 private:
  ExecContext* ctx_;
  std::unique_ptr<BatchStream> input_;
  std::shared_ptr<const StreamOperator> op_;
  std::shared_ptr<OperatorState> global_;
  std::unique_ptr<OperatorState> task_state_;
  OperatorCounters* counters_;
  EmitFn emit_;
  std::deque<BatchPtr> pending_;
  bool finished_ = false;
};

class OperatorTaskSource : public TaskSource {
 public:
  OperatorTaskSource(ExecContext* ctx, std::unique_ptr<TaskSource> input,
                     std::shared_ptr<const StreamOperator> op, OperatorCounters* counters)
      : ctx_(ctx), input_(std::move(input)), op_(std::move(op)), counters_(counters) {}

  arrow::Result<std::optional<ScanTask>> NextTask() override {
    if (!global_initialized_) {
      ARROW_ASSIGN_OR_RAISE(global_, op_->MakeGlobalState(ctx_));
      global_initialized_ = true;
    }
    ARROW_ASSIGN_OR_RAISE(std::optional<ScanTask> task, input_->NextTask());
    if (!task) return std::nullopt;
    ScanTask wrapped;
    wrapped.label = task->label;
    wrapped.open = [ctx = ctx_, op = op_, global = global_, counters = counters_,
                    open = std::move(task->open)]() -> arrow::Result<std::unique_ptr<BatchStream>> {
      ARROW_ASSIGN_OR_RAISE(auto input, open());
      ARROW_ASSIGN_OR_RAISE(auto task_state, op->MakeTaskState(ctx, global.get()));
      return std::make_unique<OperatorStream>(ctx, std::move(input), op, global,
                                              std::move(task_state), counters);
    };
    return wrapped;
  }

 private:
  ExecContext* ctx_;
  std::unique_ptr<TaskSource> input_;
  std::shared_ptr<const StreamOperator> op_;
  OperatorCounters* counters_;
  std::shared_ptr<OperatorState> global_;
  bool global_initialized_ = false;
};

/// The input tasks shared by the lanes of MakeLaneTaskSource.
struct LaneQueue {
  std::mutex mutex;
  std::unique_ptr<TaskSource> input;
  bool exhausted = false;

  /// The next input task, or nullopt when there are no more (or a lane failed).
  arrow::Result<std::optional<ScanTask>> Take() {
    std::lock_guard<std::mutex> lock(mutex);
    if (exhausted) return std::nullopt;
    auto task = input->NextTask();
    if (!task.ok() || !*task) exhausted = true;
    return task;
  }

  /// A lane failed: the other lanes finish the task they have and take no more, so the
  /// error reaches the caller without the rest of the input being processed first.
  void Stop() {
    std::lock_guard<std::mutex> lock(mutex);
    exhausted = true;
  }
};

/// One lane: the batches of the input tasks it takes, one task after another.
class LaneStream : public BatchStream {
 public:
  explicit LaneStream(std::shared_ptr<LaneQueue> queue) : queue_(std::move(queue)) {}

  arrow::Result<BatchPtr> Next() override {
    auto next = NextOfAnyTask();
    if (!next.ok()) queue_->Stop();
    return next;
  }

 private:
  arrow::Result<BatchPtr> NextOfAnyTask() {
    while (true) {
      if (!current_) {
        ARROW_ASSIGN_OR_RAISE(std::optional<ScanTask> task, queue_->Take());
        if (!task) return nullptr;
        ARROW_ASSIGN_OR_RAISE(current_, task->open());
      }
      ARROW_ASSIGN_OR_RAISE(BatchPtr batch, current_->Next());
      if (batch) return batch;
      current_.reset();
    }
  }

  std::shared_ptr<LaneQueue> queue_;
  std::unique_ptr<BatchStream> current_;
};

class LaneTaskSource : public TaskSource {
 public:
  LaneTaskSource(std::unique_ptr<TaskSource> input, int lanes)
      : queue_(std::make_shared<LaneQueue>()), lanes_(lanes) {
    queue_->input = std::move(input);
  }

  arrow::Result<std::optional<ScanTask>> NextTask() override {
    if (handed_out_ >= lanes_) return std::nullopt;
    ScanTask lane;
    lane.label = "lane " + std::to_string(handed_out_++);
    lane.open = [queue = queue_]() -> arrow::Result<std::unique_ptr<BatchStream>> {
      return std::make_unique<LaneStream>(queue);
    };
    return lane;
  }

 private:
  std::shared_ptr<LaneQueue> queue_;
  int lanes_;
  int handed_out_ = 0;
};

/// A source task's batches, timed and counted.
class MeasuredStream : public BatchStream {
 public:
  MeasuredStream(std::unique_ptr<BatchStream> input, OperatorCounters* counters,
                 ExecContext* ctx)
      : input_(std::move(input)), counters_(counters), ctx_(ctx) {}
  arrow::Result<BatchPtr> Next() override {
    ScopedTimer timer(&counters_->cpu_nanos);
    ARROW_ASSIGN_OR_RAISE(BatchPtr batch, input_->Next());
    if (batch) {
      counters_->rows_out.fetch_add(batch->num_rows());
      counters_->batches_out.fetch_add(1);
      counters_->bytes_out.fetch_add(BatchBufferBytes(*batch));
    } else if (!ended_) {
      ended_ = true;
      ctx_->NoteScanTaskDone();
    }
    return batch;
  }

 private:
  std::unique_ptr<BatchStream> input_;
  OperatorCounters* counters_;
  ExecContext* ctx_;
  bool ended_ = false;
};

class MeasuredSourceTaskSource : public TaskSource {
 public:
  MeasuredSourceTaskSource(ExecContext* ctx, std::unique_ptr<TaskSource> input,
                           OperatorCounters* counters)
      : ctx_(ctx), input_(std::move(input)), counters_(counters) {
    ctx_->NoteSource();
  }
  arrow::Result<std::optional<ScanTask>> NextTask() override {
    ARROW_ASSIGN_OR_RAISE(std::optional<ScanTask> task, input_->NextTask());
    if (!task) {
      if (!exhausted_) ctx_->NoteSourceListed();
      exhausted_ = true;
      return std::nullopt;
    }
    ctx_->NoteScanTask();
    auto open = std::move(task->open);
    task->open = [open = std::move(open), counters = counters_,
                  ctx = ctx_]() -> arrow::Result<std::unique_ptr<BatchStream>> {
      std::unique_ptr<BatchStream> stream;
      {
        ScopedTimer timer(&counters->cpu_nanos);
        ARROW_ASSIGN_OR_RAISE(stream, open());
      }
      return std::make_unique<MeasuredStream>(std::move(stream), counters, ctx);
    };
    return task;
  }

 private:
  ExecContext* ctx_;
  std::unique_ptr<TaskSource> input_;
  OperatorCounters* counters_;
  bool exhausted_ = false;
};

}  // namespace

std::unique_ptr<TaskSource> MakeLaneTaskSource(std::unique_ptr<TaskSource> input, int lanes) {
  return std::make_unique<LaneTaskSource>(std::move(input), std::max(1, lanes));
}

std::unique_ptr<TaskSource> MakeMeasuredSourceTaskSource(ExecContext* ctx,
                                                         std::unique_ptr<TaskSource> input,
                                                         OperatorCounters* counters) {
  return std::make_unique<MeasuredSourceTaskSource>(ctx, std::move(input), counters);
}

std::unique_ptr<TaskSource> MakeOperatorTaskSource(ExecContext* ctx,
                                                   std::unique_ptr<TaskSource> input,
                                                   std::shared_ptr<const StreamOperator> op,
                                                   OperatorCounters* counters) {
  return std::make_unique<OperatorTaskSource>(ctx, std::move(input), std::move(op), counters);
}

PipelineRunner::PipelineRunner(ExecContext* ctx, std::unique_ptr<TaskSource> source)
    : ctx_(ctx), source_(std::move(source)) {}

arrow::Result<std::unique_ptr<PipelineRunner>> PipelineRunner::Start(
    ExecContext* ctx, std::unique_ptr<TaskSource> source, int num_workers) {
  std::unique_ptr<PipelineRunner> runner(new PipelineRunner(ctx, std::move(source)));
  const int workers = num_workers > 0 ? num_workers : ctx->config().num_threads;
  // Buffered output beyond what the consumer has taken: a share of the budget, so several
  // pipelines (a sort's input and its output, say) fit at once. The oldest task is always
  // admitted, so even a tiny share cannot stall the pipeline.
  runner->max_buffered_bytes_ = ctx->config().memory_limit_bytes / 8;
  runner->live_workers_ = workers;
  // Started by a worker of the same execution: an input that pipeline reads (a user
  // function that runs a job of its own starts it with another context).
  if (t_worker_of.ctx == ctx) runner->parent_stopped_ = t_worker_of.stopped;
  for (int i = 0; i < workers; ++i) {
    runner->workers_.emplace_back([r = runner.get()] { r->WorkerLoop(); });
  }
  return runner;
}

PipelineRunner::~PipelineRunner() {
  Cancel();
  for (auto& t : workers_) t.join();
}

void PipelineRunner::Cancel() {
  stopped_->store(true);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    cancelled_ = true;
    outputs_.clear();
    buffered_bytes_ = 0;
  }
  producer_cv_.notify_all();
  consumer_cv_.notify_all();
}

void PipelineRunner::WorkerLoop() {
  t_worker_of = WorkerOf{ctx_, stopped_};
  while (true) {
    int64_t index;
    std::optional<ScanTask> task;
    {
      std::lock_guard<std::mutex> source_lock(source_mutex_);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (cancelled_ || !error_.ok() || source_exhausted_) break;
      }
      auto next = source_->NextTask();
      std::lock_guard<std::mutex> lock(mutex_);
      if (!next.ok()) {
        // The tasks handed out so far still run: the error comes after their output.
        SetError(next_task_index_, next.status());
        break;
      }
      task = std::move(*next);
      if (!task) {
        source_exhausted_ = true;
        total_tasks_ = next_task_index_;
        break;
      }
      index = next_task_index_++;
      outputs_[index];
    }
    arrow::Status st = RunTask(index, *task);
    std::lock_guard<std::mutex> lock(mutex_);
    if (!st.ok()) {
      if (!cancelled_) SetError(index, std::move(st));
      break;
    }
    if (!cancelled_) outputs_[index].done = true;
    consumer_cv_.notify_all();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  --live_workers_;
  consumer_cv_.notify_all();
  producer_cv_.notify_all();
}

arrow::Status PipelineRunner::RunTask(int64_t index, const ScanTask& task) {
  ARROW_ASSIGN_OR_RAISE(std::unique_ptr<BatchStream> stream, task.open());
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (Stopped(index)) return arrow::Status::OK();
    }
    ARROW_ASSIGN_OR_RAISE(BatchPtr batch, stream->Next());
    if (!batch) return arrow::Status::OK();
    if (batch->num_rows() == 0) continue;
    ARROW_RETURN_NOT_OK(Deliver(index, std::move(batch)));
  }
}

arrow::Status PipelineRunner::Deliver(int64_t index, BatchPtr batch) {
  const int64_t bytes = BatchBufferBytes(*batch);
  std::unique_lock<std::mutex> lock(mutex_);
  // The oldest task may always hand the consumer its next batch, so the consumer can
  // always make progress; beyond that it waits like the others, or a single long task
  // (one large file) would fill memory faster than a slow consumer (a spilling sort)
  // drains it.
  producer_cv_.wait(lock, [&] {
    return Stopped(index) || (index == head_ && outputs_[index].batches.empty()) ||
           (buffered_bytes_ < max_buffered_bytes_ && ctx_->budget()->HasRoom());
  });
  if (Stopped(index)) return arrow::Status::OK();
  outputs_[index].batches.push_back(std::move(batch));
  buffered_bytes_ += bytes;
  consumer_cv_.notify_all();
  return arrow::Status::OK();
}

void PipelineRunner::SetError(int64_t index, arrow::Status status) {
  if (index >= error_index_) return;
  error_ = std::move(status);
  error_index_ = index;
}

arrow::Result<BatchPtr> PipelineRunner::Next() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    if (ctx_->cancel_requested()) {
      // Cut short from outside: what was made so far is not the result.
      if (!cancelled_) {
        lock.unlock();
        Cancel();
      }
      return arrow::Status::Cancelled("the execution was cancelled (Session.cancel)");
    }
    if (parent_stopped_ && parent_stopped_->load()) {
      // Whoever reads this pipeline's output is gone: stop rather than finish the work.
      if (!cancelled_) {
        lock.unlock();
        Cancel();
      }
      return arrow::Status::Cancelled("the pipeline reading this input was cancelled");
    }
    if (cancelled_) {
      if (!error_.ok()) return error_;
      return nullptr;
    }
    auto it = outputs_.find(head_);
    if (it != outputs_.end() && !it->second.batches.empty()) {
      BatchPtr batch = std::move(it->second.batches.front());
      it->second.batches.pop_front();
      buffered_bytes_ -= BatchBufferBytes(*batch);
      producer_cv_.notify_all();
      return batch;
    }
    // Every task before the failed one, and what it made before failing, was delivered.
    if (head_ >= error_index_) return error_;
    if (total_tasks_ >= 0 && head_ >= total_tasks_) return nullptr;
    if (it != outputs_.end() && it->second.done) {
      outputs_.erase(it);
      ++head_;
      producer_cv_.notify_all();
      continue;
    }
    if (live_workers_ == 0) {
      // Every worker has stopped: either all tasks were delivered (handled above) or
      // the source ended right at head_.
      if (!error_.ok()) return error_;
      if (total_tasks_ >= 0 && head_ >= total_tasks_) return nullptr;
      return arrow::Status::UnknownError("pipeline workers stopped before task ", head_,
                                         " finished");
    }
    // Periodic wake-ups keep a lost notification from turning into a hang.
    consumer_cv_.wait_for(lock, std::chrono::milliseconds(200));
  }
}

arrow::Result<std::shared_ptr<arrow::Table>> DrainToTable(
    BatchStream* stream, const std::shared_ptr<arrow::Schema>& schema) {
  std::vector<BatchPtr> batches;
  std::shared_ptr<arrow::Schema> out_schema = schema;
  while (true) {
    ARROW_ASSIGN_OR_RAISE(BatchPtr batch, stream->Next());
    if (!batch) break;
    if (!out_schema) out_schema = batch->schema();
    batches.push_back(std::move(batch));
  }
  if (!out_schema) out_schema = arrow::schema({});
  return arrow::Table::FromRecordBatches(out_schema, batches);
}

}  // namespace sluice::exec
