#include "operators/bound_expression.h"

#include <arrow/compute/exec.h>

#include "compute/expression_depth.h"
#include "plan/logical_plan.h"

namespace sluice::operators {

arrow::Result<arrow::Datum> BoundExpression::Evaluate(const arrow::RecordBatch& batch,
                                                      arrow::compute::ExecContext* exec_context) {
  if (!bound_schema_ || !bound_schema_->Equals(*batch.schema(), /*check_metadata=*/false)) {
    ARROW_ASSIGN_OR_RAISE(bound_,
                          plan::BindExpression(unbound_, *batch.schema(), context_, exec_context));
    bound_schema_ = batch.schema();
  }
  auto result = arrow::compute::ExecuteScalarExpression(bound_, arrow::compute::ExecBatch(batch),
                                                        exec_context);
  if (!result.ok()) {
    return result.status().WithMessage(context_, ": evaluating ", compute::DescribeExpression(unbound_), ": ",
                                       result.status().message());
  }
  return result;
}

}  // namespace sluice::operators
