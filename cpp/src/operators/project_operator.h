#pragma once

#include <arrow/compute/expression.h>

#include <string>
#include <vector>

#include "runtime/stream_operator.h"

namespace sluice::operators {

/// Computes one output column per expression; select, drop, rename and add_column with a
/// native expression all become a projection.
class ProjectOperator : public exec::StreamOperator {
 public:
  static arrow::Result<std::shared_ptr<ProjectOperator>> Make(
      std::vector<arrow::compute::Expression> exprs, std::vector<std::string> names);

  std::string ToString() const override;
  arrow::Result<std::unique_ptr<exec::OperatorState>> MakeTaskState(
      exec::ExecContext* ctx, exec::OperatorState* global) const override;
  arrow::Status Push(exec::ExecContext* ctx, exec::OperatorState* global, exec::OperatorState* task,
                     exec::BatchPtr batch, const exec::EmitFn& emit) const override;

 private:
  ProjectOperator(std::vector<arrow::compute::Expression> exprs, std::vector<std::string> names);
  std::vector<arrow::compute::Expression> exprs_;
  std::vector<std::string> names_;
};

}  // namespace sluice::operators
