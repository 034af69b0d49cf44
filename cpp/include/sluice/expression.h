#pragma once

// Native expressions are Arrow compute expressions: the same value drives evaluation,
// predicate pushdown into the Parquet reader and row-group statistics pruning.

#include <arrow/compute/expression.h>
#include <arrow/datum.h>
#include <arrow/result.h>

#include <memory>
#include <string>

namespace sluice {

using Expression = arrow::compute::Expression;

/// A reference to a column by name.
Expression Col(std::string name);
/// A constant: a C++ value (int64_t, double, bool, std::string, ...), a Scalar or a Datum.
template <typename T>
Expression Lit(T&& value) {
  return arrow::compute::literal(std::forward<T>(value));
}

Expression Add(Expression a, Expression b);
Expression Subtract(Expression a, Expression b);
Expression Multiply(Expression a, Expression b);
/// True division: integers are promoted to float64 first (as in Python and pandas).
Expression TrueDivide(Expression a, Expression b);
/// Floor division (Python's //) for integers and floats.
Expression FloorDivide(Expression a, Expression b);
Expression Modulo(Expression a, Expression b);
Expression Negate(Expression a);

Expression Equal(Expression a, Expression b);
Expression NotEqual(Expression a, Expression b);
Expression Less(Expression a, Expression b);
Expression LessEqual(Expression a, Expression b);
Expression Greater(Expression a, Expression b);
Expression GreaterEqual(Expression a, Expression b);

/// Kleene logic: null AND false is false, null OR true is true.
Expression And(Expression a, Expression b);
Expression Or(Expression a, Expression b);
Expression Not(Expression a);

Expression IsNull(Expression a);
Expression IsValid(Expression a);
/// True where the value is one of `values`; nulls in `values` match null inputs.
Expression IsIn(Expression a, std::shared_ptr<arrow::Array> values);
Expression Cast(Expression a, std::shared_ptr<arrow::DataType> to_type, bool safe = true);

Expression StrContains(Expression a, std::string pattern, bool ignore_case = false);
Expression StrStartsWith(Expression a, std::string prefix, bool ignore_case = false);
Expression StrEndsWith(Expression a, std::string suffix, bool ignore_case = false);
Expression StrLower(Expression a);
Expression StrUpper(Expression a);
/// Length in characters (UTF-8 code points) for strings, in bytes for binary.
Expression StrLength(Expression a);

/// Parses a SQL-style predicate such as "year = 2015 AND marketplace IN ('US', 'UK')".
/// Accepts comparisons (= == != <> < <= > >=), IN / NOT IN lists, BETWEEN, IS [NOT] NULL,
/// AND / OR / NOT (any case), + - * / %, parentheses, numbers, 'strings' ('' escapes a
/// quote), TRUE, FALSE, NULL, and column names (bare, "double-quoted" or `backticked`).
/// Errors are Status::Invalid and point at the offending position.
arrow::Result<Expression> ParsePredicate(const std::string& text);

}  // namespace sluice
