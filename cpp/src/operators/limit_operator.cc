#include "operators/limit_operator.h"

#include "runtime/pipeline.h"

namespace sluice::operators {

namespace {

struct LimitTaskState : exec::OperatorState {
  int64_t emitted = 0;
};

/// One task that streams the globally limited output of the input pipeline.
class LimitTaskSource : public exec::TaskSource {
 public:
  LimitTaskSource(exec::ExecContext* ctx, std::unique_ptr<exec::TaskSource> input, int64_t limit)
      : ctx_(ctx), input_(std::move(input)), limit_(limit) {}

  arrow::Result<std::optional<exec::ScanTask>> NextTask() override {
    if (handed_out_) return std::nullopt;
    handed_out_ = true;
    exec::ScanTask task;
    task.label = "limit";
    task.open = [this]() -> arrow::Result<std::unique_ptr<exec::BatchStream>> {
      std::shared_ptr<exec::PipelineRunner> runner;
      if (limit_ > 0) {
        ARROW_ASSIGN_OR_RAISE(auto started, exec::PipelineRunner::Start(ctx_, std::move(input_)));
        runner = std::move(started);
      }
      auto remaining = std::make_shared<int64_t>(limit_);
      return std::make_unique<exec::FunctionBatchStream>(
          [runner, remaining]() -> arrow::Result<exec::BatchPtr> {
            if (*remaining <= 0) {
              if (runner) runner->Cancel();
              return nullptr;
            }
            ARROW_ASSIGN_OR_RAISE(exec::BatchPtr batch, runner->Next());
            if (!batch) return nullptr;
            if (batch->num_rows() > *remaining) batch = batch->Slice(0, *remaining);
            *remaining -= batch->num_rows();
            // Stop the input now rather than at the next call, which may come only after
            // this batch has waited its turn downstream.
            if (*remaining <= 0) runner->Cancel();
            return batch;
          });
    };
    return task;
  }

 private:
  exec::ExecContext* ctx_;
  std::unique_ptr<exec::TaskSource> input_;
  int64_t limit_;
  bool handed_out_ = false;
};

}  // namespace

arrow::Result<std::shared_ptr<TaskLimitOperator>> TaskLimitOperator::Make(int64_t limit) {
  if (limit < 0) return arrow::Status::Invalid("limit must be >= 0, got ", limit);
  return std::shared_ptr<TaskLimitOperator>(new TaskLimitOperator(limit));
}

std::string TaskLimitOperator::ToString() const {
  return "TaskLimit(" + std::to_string(limit_) + ")";
}

arrow::Result<std::unique_ptr<exec::OperatorState>> TaskLimitOperator::MakeTaskState(
    exec::ExecContext*, exec::OperatorState*) const {
  return std::make_unique<LimitTaskState>();
}

bool TaskLimitOperator::NeedsInput(exec::OperatorState*, exec::OperatorState* task) const {
  return static_cast<LimitTaskState*>(task)->emitted < limit_;
}

arrow::Status TaskLimitOperator::Push(exec::ExecContext*, exec::OperatorState*,
                                      exec::OperatorState* task, exec::BatchPtr batch,
                                      const exec::EmitFn& emit) const {
  auto* state = static_cast<LimitTaskState*>(task);
  const int64_t room = limit_ - state->emitted;
  if (room <= 0) return arrow::Status::OK();
  if (batch->num_rows() > room) batch = batch->Slice(0, room);
  state->emitted += batch->num_rows();
  return emit(std::move(batch));
}

arrow::Result<std::unique_ptr<exec::TaskSource>> MakeLimitTaskSource(
    exec::ExecContext* ctx, std::unique_ptr<exec::TaskSource> input, int64_t limit) {
  return std::make_unique<LimitTaskSource>(ctx, std::move(input), limit);
}

}  // namespace sluice::operators
