#include "sluice/expression.h"

#include <arrow/compute/api_scalar.h>

#include "compute/expression_depth.h"
#include "compute/kleene_chains.h"
#include "compute/python_modulo.h"

namespace sluice {

namespace cp = arrow::compute;

namespace {

Expression ToDouble(Expression e) {
  return cp::call("cast", {std::move(e)}, cp::CastOptions::Safe(arrow::float64()));
}

}  // namespace

Expression Col(std::string name) { return cp::field_ref(std::move(name)); }

Expression Add(Expression a, Expression b) { return cp::call("add_checked", {a, b}); }
Expression Subtract(Expression a, Expression b) { return cp::call("subtract_checked", {a, b}); }
Expression Multiply(Expression a, Expression b) { return cp::call("multiply_checked", {a, b}); }
Expression TrueDivide(Expression a, Expression b) {
  return cp::call("divide", {ToDouble(std::move(a)), ToDouble(std::move(b))});
}
Expression FloorDivide(Expression a, Expression b) {
  // Computed in float64 (expressions are untyped until bound): 7 // 2 gives 3.0.
  return cp::call("floor", {TrueDivide(std::move(a), std::move(b))});
}
Expression Modulo(Expression a, Expression b) {
  // Python's a % b (sign of the divisor), in float64 as FloorDivide; one call that uses
  // each operand once (see compute/python_modulo.h).
  return cp::call(compute::kPythonModuloFunction,
                  {ToDouble(std::move(a)), ToDouble(std::move(b))});
}
Expression Negate(Expression a) { return cp::call("negate_checked", {std::move(a)}); }

Expression Equal(Expression a, Expression b) { return cp::equal(std::move(a), std::move(b)); }
Expression NotEqual(Expression a, Expression b) {
  return cp::not_equal(std::move(a), std::move(b));
}
Expression Less(Expression a, Expression b) { return cp::less(std::move(a), std::move(b)); }
Expression LessEqual(Expression a, Expression b) {
  return cp::less_equal(std::move(a), std::move(b));
}
Expression Greater(Expression a, Expression b) { return cp::greater(std::move(a), std::move(b)); }
Expression GreaterEqual(Expression a, Expression b) {
  return cp::greater_equal(std::move(a), std::move(b));
}

Expression And(Expression a, Expression b) { return cp::and_(std::move(a), std::move(b)); }
Expression Or(Expression a, Expression b) { return cp::or_(std::move(a), std::move(b)); }
Expression Not(Expression a) { return cp::not_(std::move(a)); }

Expression AllOf(std::vector<Expression> terms) {
  return compute::MakeKleeneChain(/*is_or=*/false, std::move(terms));
}
Expression AnyOf(std::vector<Expression> terms) {
  return compute::MakeKleeneChain(/*is_or=*/true, std::move(terms));
}

int64_t ExpressionDepth(const Expression& expr) { return compute::ExpressionDepth(expr); }

arrow::Status CheckExpressionDepth(const Expression& expr, const std::string& context) {
  return compute::CheckExpressionDepth(expr, context, kMaxExpressionDepth);
}

std::string DescribeExpression(const Expression& expr, size_t max_chars) {
  return compute::DescribeExpression(expr, max_chars);
}

Expression IsNull(Expression a) { return cp::is_null(std::move(a)); }
Expression IsValid(Expression a) { return cp::is_valid(std::move(a)); }
Expression IsIn(Expression a, std::shared_ptr<arrow::Array> values) {
  return cp::call(
      "is_in", {std::move(a)},
      cp::SetLookupOptions(arrow::Datum(std::move(values)), cp::SetLookupOptions::MATCH));
}
Expression Cast(Expression a, std::shared_ptr<arrow::DataType> to_type, bool safe) {
  return cp::call("cast", {std::move(a)},
                  safe ? cp::CastOptions::Safe(std::move(to_type))
                       : cp::CastOptions::Unsafe(std::move(to_type)));
}

Expression StrContains(Expression a, std::string pattern, bool ignore_case) {
  return cp::call("match_substring", {std::move(a)},
                  cp::MatchSubstringOptions(std::move(pattern), ignore_case));
}
Expression StrStartsWith(Expression a, std::string prefix, bool ignore_case) {
  return cp::call("starts_with", {std::move(a)},
                  cp::MatchSubstringOptions(std::move(prefix), ignore_case));
}
Expression StrEndsWith(Expression a, std::string suffix, bool ignore_case) {
  return cp::call("ends_with", {std::move(a)},
                  cp::MatchSubstringOptions(std::move(suffix), ignore_case));
}
Expression StrLower(Expression a) { return cp::call("utf8_lower", {std::move(a)}); }
Expression StrUpper(Expression a) { return cp::call("utf8_upper", {std::move(a)}); }
Expression StrLength(Expression a) { return cp::call("utf8_length", {std::move(a)}); }

}  // namespace sluice
