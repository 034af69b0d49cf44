#pragma once

// Native expressions are Arrow compute expressions: the same value drives evaluation,
// predicate pushdown into the Parquet reader and row-group statistics pruning.

#include <arrow/compute/expression.h>
#include <arrow/datum.h>
#include <arrow/result.h>

#include <memory>
#include <string>
#include <vector>

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

/// Kleene AND / OR of any number of terms (true / false for none). Terms that are
/// themselves AND (OR) chains are merged in. The result stays shallow however many terms
/// there are: up to 16 terms form a balanced tree of and_kleene (or_kleene) calls; more
/// form a tree of n-ary "sluice_and_all" ("sluice_or_all") calls, 16 arguments each.
/// Arrow flattens chains of and_kleene into one long left-deep chain when it simplifies
/// them, so a long chain of And() / Or() calls ends up too deep to bind or evaluate
/// (kMaxExpressionDepth); build long conjunctions and disjunctions with these instead.
/// A filter (Dataset::Filter, a reader's filter, a partition filter) holds 16 or more
/// `column == literal` terms of an OR chain on one column as one is_in(column, values)
/// when the column has exactly the literals' integer or string type: the same rows (a null
/// column value still gives null), one hash lookup per row.
Expression AllOf(std::vector<Expression> terms);
Expression AnyOf(std::vector<Expression> terms);

/// The deepest expressions the engine accepts. Arrow binds, simplifies and evaluates
/// expressions recursively, so deeper ones are refused with Status::Invalid (see
/// CheckExpressionDepth) before anything recursive sees them. At this depth an expression
/// still needs well under 1 MiB of stack in every one of those passes.
constexpr int64_t kMaxExpressionDepth = 1000;

/// The most calls, columns and literals an expression may have with its shared parts
/// written out once per use: BETWEEN uses its operand twice, and so does `e + e` built in
/// code, so 30 levels of them would make every recursive pass over the expression visit a
/// billion nodes. 100,000 OR-ed comparisons are about 310,000.
constexpr int64_t kMaxExpressionSize = 1000000;

/// How deep parentheses, NOT and unary minus may nest in ParsePredicate's text. Each level
/// recurses through a dozen parser frames, so the parser's own stack use, not the
/// expression's depth, sets this limit: at 256 levels it stays under 2 MiB even in a
/// sanitizer build (1,000 levels overflowed an 8 MiB stack under AddressSanitizer).
/// Python's own parser stops at 200 nested parentheses.
constexpr int64_t kMaxPredicateNesting = 256;

/// How deep Arrow's recursive passes go over `expr`: 1 for a column or literal, 1 + the
/// deepest argument for a call, and a chain of the same associative call (a + b + c,
/// a and b and c) counts as Arrow flattens it: one level per term beyond the first.
/// Computed without recursion, so any expression can be measured.
int64_t ExpressionDepth(const Expression& expr);

/// OK, or Invalid("<context>: the expression ... is nested N levels deep; the limit is ...")
/// when ExpressionDepth(expr) exceeds kMaxExpressionDepth, or when its size with shared
/// parts written out exceeds kMaxExpressionSize.
arrow::Status CheckExpressionDepth(const Expression& expr, const std::string& context);

/// `expr.ToString()`, shortened to about `max_chars` characters (with "... (N characters)")
/// for error messages: an expression may have 100,000 terms.
std::string DescribeExpression(const Expression& expr, size_t max_chars = 300);

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
/// Errors are Status::Invalid and point at the offending position. AND / OR chains may
/// have any number of terms; parentheses, NOT and unary minus may nest up to
/// kMaxPredicateNesting levels, and the expression built up to kMaxExpressionDepth.
arrow::Result<Expression> ParsePredicate(const std::string& text);

}  // namespace sluice
