#include "operators/filter_operator.h"

#include <arrow/compute/api_vector.h>

#include "exec/exec_context.h"
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
    : predicate_(std::move(predicate)) {}

arrow::Result<std::shared_ptr<FilterOperator>> FilterOperator::Make(
    arrow::compute::Expression predicate) {
  return std::shared_ptr<FilterOperator>(new FilterOperator(std::move(predicate)));
}

std::string FilterOperator::ToString() const { return "Filter(" + predicate_.ToString() + ")"; }

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
  if (mask.is_scalar()) {
    const auto& scalar = mask.scalar_as<arrow::BooleanScalar>();
    if (scalar.is_valid && scalar.value) return emit(std::move(batch));
    return arrow::Status::OK();
  }
  if (mask.type()->id() != arrow::Type::BOOL) {
    return arrow::Status::TypeError("filter: predicate ", predicate_.ToString(), " has type ",
                                    mask.type()->ToString(), ", expected boolean");
  }
  const std::shared_ptr<arrow::Array> array = mask.make_array();
  const int64_t selected = static_cast<const arrow::BooleanArray&>(*array).true_count();
  if (selected == batch->num_rows()) return emit(std::move(batch));
  if (selected == 0) return arrow::Status::OK();
  ARROW_ASSIGN_OR_RAISE(
      arrow::Datum filtered,
      arrow::compute::Filter(batch, mask, arrow::compute::FilterOptions::Defaults(),
                             ctx->compute_context()));
  return emit(filtered.record_batch());
}

}  // namespace sluice::operators
