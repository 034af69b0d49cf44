#pragma once

#include "runtime/stream_operator.h"
#include "sluice/udf.h"

namespace sluice::operators {

/// Runs a user batch function. Batches are re-cut to `batch_size` rows within each task.
/// Without an actor pool the function is built once per execution and shared; with one,
/// each actor builds its own and a call borrows an idle actor (creating one up to
/// max_actors), so per-actor set-up happens once per actor, never per batch.
class MapBatchesOperator : public exec::StreamOperator {
 public:
  static arrow::Result<std::shared_ptr<MapBatchesOperator>> Make(BatchFunctionFactory factory,
                                                                 MapBatchesOptions options);

  std::string ToString() const override { return options_.name; }
  arrow::Result<std::shared_ptr<exec::OperatorState>> MakeGlobalState(
      exec::ExecContext* ctx) const override;
  arrow::Result<std::unique_ptr<exec::OperatorState>> MakeTaskState(
      exec::ExecContext* ctx, exec::OperatorState* global) const override;
  arrow::Status Push(exec::ExecContext* ctx, exec::OperatorState* global, exec::OperatorState* task,
                     exec::BatchPtr batch, const exec::EmitFn& emit) const override;
  arrow::Status Finish(exec::ExecContext* ctx, exec::OperatorState* global,
                       exec::OperatorState* task, const exec::EmitFn& emit) const override;

 private:
  MapBatchesOperator(BatchFunctionFactory factory, MapBatchesOptions options)
      : factory_(std::move(factory)), options_(std::move(options)) {}
  arrow::Status Call(exec::ExecContext* ctx, exec::OperatorState* global, exec::BatchPtr batch,
                     const exec::EmitFn& emit) const;

  BatchFunctionFactory factory_;
  MapBatchesOptions options_;
};

}  // namespace sluice::operators
