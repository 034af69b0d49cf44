#pragma once

#include <cstdint>
#include <memory>

#include "core/batch_stream.h"
#include "runtime/stream_operator.h"

namespace sluice::operators {

/// Truncates each task to `limit` rows. Combined with the ordered global cut in
/// MakeLimitTaskSource, no task produces rows that cannot reach the output.
class TaskLimitOperator : public exec::StreamOperator {
 public:
  static arrow::Result<std::shared_ptr<TaskLimitOperator>> Make(int64_t limit);
  std::string ToString() const override;
  arrow::Result<std::unique_ptr<exec::OperatorState>> MakeTaskState(
      exec::ExecContext* ctx, exec::OperatorState* global) const override;
  arrow::Status Push(exec::ExecContext* ctx, exec::OperatorState* global, exec::OperatorState* task,
                     exec::BatchPtr batch, const exec::EmitFn& emit) const override;
  bool NeedsInput(exec::OperatorState* global, exec::OperatorState* task) const override;

 private:
  explicit TaskLimitOperator(int64_t limit) : limit_(limit) {}
  int64_t limit_;
};

/// The first `limit` rows of `input` in order. The input pipeline runs on its own workers
/// and is cancelled as soon as enough rows have arrived.
arrow::Result<std::unique_ptr<exec::TaskSource>> MakeLimitTaskSource(
    exec::ExecContext* ctx, std::unique_ptr<exec::TaskSource> input, int64_t limit);

}  // namespace sluice::operators
