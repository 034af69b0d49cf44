#include "operators/project_operator.h"

#include <arrow/array/util.h>

#include "runtime/exec_context.h"
#include "operators/bound_expression.h"

namespace sluice::operators {

namespace {
struct ProjectTaskState : exec::OperatorState {
  std::vector<BoundExpression> exprs;
};
}  // namespace

ProjectOperator::ProjectOperator(std::vector<arrow::compute::Expression> exprs,
                                 std::vector<std::string> names)
    : exprs_(std::move(exprs)), names_(std::move(names)) {}

arrow::Result<std::shared_ptr<ProjectOperator>> ProjectOperator::Make(
    std::vector<arrow::compute::Expression> exprs, std::vector<std::string> names) {
  if (exprs.size() != names.size()) {
    return arrow::Status::Invalid("project: ", exprs.size(), " expressions but ", names.size(),
                                  " names");
  }
  return std::shared_ptr<ProjectOperator>(new ProjectOperator(std::move(exprs), std::move(names)));
}

std::string ProjectOperator::ToString() const {
  std::string out = "Project(";
  for (size_t i = 0; i < names_.size(); ++i) out += (i ? ", " : "") + names_[i];
  return out + ")";
}

arrow::Result<std::unique_ptr<exec::OperatorState>> ProjectOperator::MakeTaskState(
    exec::ExecContext*, exec::OperatorState*) const {
  auto state = std::make_unique<ProjectTaskState>();
  for (size_t i = 0; i < exprs_.size(); ++i) {
    state->exprs.emplace_back(exprs_[i], "column '" + names_[i] + "'");
  }
  return state;
}

arrow::Status ProjectOperator::Push(exec::ExecContext* ctx, exec::OperatorState*,
                                    exec::OperatorState* task, exec::BatchPtr batch,
                                    const exec::EmitFn& emit) const {
  auto* state = static_cast<ProjectTaskState*>(task);
  arrow::FieldVector fields;
  arrow::ArrayVector columns;
  for (size_t i = 0; i < exprs_.size(); ++i) {
    // A plain column reference passes the input array through untouched.
    const auto* ref = exprs_[i].field_ref();
    if (ref && ref->name()) {
      const int index = batch->schema()->GetFieldIndex(*ref->name());
      if (index >= 0) {
        fields.push_back(batch->schema()->field(index)->WithName(names_[i]));
        columns.push_back(batch->column(index));
        continue;
      }
    }
    ARROW_ASSIGN_OR_RAISE(arrow::Datum value,
                          state->exprs[i].Evaluate(*batch, ctx->compute_context()));
    std::shared_ptr<arrow::Array> array;
    if (value.is_scalar()) {
      ARROW_ASSIGN_OR_RAISE(
          array, arrow::MakeArrayFromScalar(*value.scalar(), batch->num_rows(), ctx->pool()));
    } else {
      array = value.make_array();
    }
    fields.push_back(arrow::field(names_[i], array->type()));
    columns.push_back(std::move(array));
  }
  return emit(arrow::RecordBatch::Make(arrow::schema(std::move(fields)), batch->num_rows(),
                                       std::move(columns)));
}

}  // namespace sluice::operators
