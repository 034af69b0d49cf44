#pragma once

// How deep an expression is as Arrow's recursive passes (bind, simplify, evaluate,
// ToString) see it, measured without recursion, and the check every plan runs on its
// expressions before anything recursive touches them.

#include <arrow/compute/expression.h>
#include <arrow/status.h>

#include <cstdint>
#include <string>

namespace sluice::compute {

/// How deep an expression goes (sluice::ExpressionDepth) and how many calls, columns and
/// literals it has with its shared subexpressions written out once per use (what every
/// recursive pass over it visits; saturates at 2^62).
struct ExpressionShape {
  int64_t depth;
  int64_t size;
};

/// Measured without recursion, each shared subexpression once: linear in the expression's
/// memory even when `size` is exponential in it.
ExpressionShape MeasureExpression(const arrow::compute::Expression& expr);

/// See sluice::ExpressionDepth (expression.h).
int64_t ExpressionDepth(const arrow::compute::Expression& expr);

/// Number of calls, columns and literals in `expr` (shared subexpressions counted each
/// time they appear), counted without recursion and up to `stop_at`.
int64_t ExpressionSize(const arrow::compute::Expression& expr, int64_t stop_at);

/// OK, or Invalid naming `context` when the expression is deeper than `max_depth` or its
/// written-out size passes sluice::kMaxExpressionSize.
arrow::Status CheckExpressionDepth(const arrow::compute::Expression& expr,
                                   const std::string& context, int64_t max_depth);

/// expr.ToString(), cut to about `max_chars` characters for messages.
std::string DescribeExpression(const arrow::compute::Expression& expr, size_t max_chars = 300);

}  // namespace sluice::compute
