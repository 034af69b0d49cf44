#include "operators/filter_operator.h"

#include "compute/expression_depth.h"
#include "compute/select_rows.h"
#include "runtime/exec_context.h"
#include "operators/bound_expression.h"

namespace sluice::operators {

namespace {
struct FilterTaskState : exec::OperatorState {
  explicit FilterTaskState(const arrow::compute::Expression& predicate)
      : predicate(predicate, "filter") {}
  BoundExpression predicate;
};
}  // namespace

FilterOperator::FilterOperator(arrow::compute::Expression predicate)
    : predicate_(std::move(predicate)), description_(compute::DescribeExpression(predicate_)) {}

arrow::Result<std::shared_ptr<FilterOperator>> FilterOperator::Make(
    arrow::compute::Expression predicate) {
  return std::shared_ptr<FilterOperator>(new FilterOperator(std::move(predicate)));
}

std::string FilterOperator::ToString() const { return "Filter(" + description_ + ")"; }

arrow::Result<std::unique_ptr<exec::OperatorState>> FilterOperator::MakeTaskState(
    exec::ExecContext*, exec::OperatorState*) const {
  return std::make_unique<FilterTaskState>(predicate_);
}

arrow::Status FilterOperator::Push(exec::ExecContext* ctx, exec::OperatorState*,
                                   exec::OperatorState* task, exec::BatchPtr batch,
                                   const exec::EmitFn& emit) const {
  auto* state = static_cast<FilterTaskState*>(task);
  ARROW_ASSIGN_OR_RAISE(arrow::Datum mask,
                        state->predicate.Evaluate(*batch, ctx->compute_context()));
  ARROW_ASSIGN_OR_RAISE(
      exec::BatchPtr selected,
      compute::SelectRows(batch, mask, description_, ctx->compute_context()));
  return selected ? emit(std::move(selected)) : arrow::Status::OK();
}

}  // namespace sluice::operators
