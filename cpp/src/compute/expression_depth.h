#pragma once

// How deep an expression is as Arrow's recursive passes (bind, simplify, evaluate,
// ToString) see it, measured without recursion, and the check every plan runs on its
// expressions before anything recursive touches them.

#include <arrow/compute/expression.h>
#include <arrow/status.h>

#include <cstdint>
#include <string>

namespace sluice::compute {

/// See sluice::ExpressionDepth (expression.h).
int64_t ExpressionDepth(const arrow::compute::Expression& expr);

/// Number of calls, columns and literals in `expr` (shared subexpressions counted each
/// time they appear), counted without recursion and up to `stop_at`.
int64_t ExpressionSize(const arrow::compute::Expression& expr, int64_t stop_at);

/// OK, or Invalid naming `context`, the depth and the limit.
arrow::Status CheckExpressionDepth(const arrow::compute::Expression& expr,
                                   const std::string& context, int64_t max_depth);

/// expr.ToString(), cut to about `max_chars` characters for messages.
std::string DescribeExpression(const arrow::compute::Expression& expr, size_t max_chars = 300);

}  // namespace sluice::compute
