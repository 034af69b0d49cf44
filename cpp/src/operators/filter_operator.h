#pragma once

#include <arrow/compute/expression.h>

#include <string>

#include "runtime/stream_operator.h"

namespace sluice::operators {

/// Keeps the rows where a boolean expression is true (null counts as false).
class FilterOperator : public exec::StreamOperator {
 public:
  static arrow::Result<std::shared_ptr<FilterOperator>> Make(arrow::compute::Expression predicate);

  std::string ToString() const override;
  arrow::Result<std::unique_ptr<exec::OperatorState>> MakeTaskState(
      exec::ExecContext* ctx, exec::OperatorState* global) const override;
  arrow::Status Push(exec::ExecContext* ctx, exec::OperatorState* global, exec::OperatorState* task,
                     exec::BatchPtr batch, const exec::EmitFn& emit) const override;

 private:
  explicit FilterOperator(arrow::compute::Expression predicate);
  arrow::compute::Expression predicate_;
  /// For operator names and errors, made once: the predicate may have 100,000 terms.
  std::string description_;
};

}  // namespace sluice::operators
