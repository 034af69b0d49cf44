#pragma once

#include <arrow/compute/expression.h>
#include <arrow/record_batch.h>

#include <memory>
#include <string>

namespace sluice::operators {

/// An expression bound to the schema of the batches it last saw. Binding is per task and
/// redone only when the schema changes (user functions may emit varying schemas).
class BoundExpression {
 public:
  BoundExpression(arrow::compute::Expression expr, std::string context)
      : unbound_(std::move(expr)), context_(std::move(context)) {}

  /// Evaluates against `batch`, with errors naming the expression and context.
  arrow::Result<arrow::Datum> Evaluate(const arrow::RecordBatch& batch,
                                       arrow::compute::ExecContext* exec_context);

 private:
  arrow::compute::Expression unbound_;
  std::string context_;
  arrow::compute::Expression bound_;
  std::shared_ptr<arrow::Schema> bound_schema_;
};

}  // namespace sluice::operators
