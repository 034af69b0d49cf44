// sluice._sluice: expressions (sl.col, sl.lit, operators, functions) and the filter grammar.

#include <arrow/compute/initialize.h>
#include <arrow/table.h>
#include <nanobind/nanobind.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/unique_ptr.h>
#include <nanobind/stl/vector.h>

#include "arrow_capsules.h"
#include "display_text.h"
#include "python_udf.h"
#include "sluice/sluice.h"
#include "status_translation.h"

#include "module_areas.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace sluice::python {

namespace {

Expression ScalarLiteral(nb::handle schema_capsule, nb::handle array_capsule) {
  auto array = ImportArrayCapsules(schema_capsule, array_capsule);
  if (array->length() != 1)
    throw StatusError(arrow::Status::Invalid("literal must have one value"));
  return Lit(ValueOrThrow(array->GetScalar(0)));
}

/// `expr`, unless it nests deeper than the engine accepts (kMaxExpressionDepth): then
/// SluiceValueError now, while it is still shallow enough to be destroyed safely (Arrow's
/// expressions free their arguments recursively).
Expression WithinDepthLimit(Expression expr) {
  Check(CheckExpressionDepth(expr, "expression"));
  return expr;
}

Expression CallFunction(const std::string& name, const std::vector<Expression>& args) {
  if (name == "add") return Add(args.at(0), args.at(1));
  if (name == "subtract") return Subtract(args.at(0), args.at(1));
  if (name == "multiply") return Multiply(args.at(0), args.at(1));
  if (name == "truediv") return TrueDivide(args.at(0), args.at(1));
  if (name == "floordiv") return FloorDivide(args.at(0), args.at(1));
  if (name == "mod") return Modulo(args.at(0), args.at(1));
  if (name == "neg") return Negate(args.at(0));
  if (name == "eq") return Equal(args.at(0), args.at(1));
  if (name == "ne") return NotEqual(args.at(0), args.at(1));
  if (name == "lt") return Less(args.at(0), args.at(1));
  if (name == "le") return LessEqual(args.at(0), args.at(1));
  if (name == "gt") return Greater(args.at(0), args.at(1));
  if (name == "ge") return GreaterEqual(args.at(0), args.at(1));
  if (name == "and") return And(args.at(0), args.at(1));
  if (name == "or") return Or(args.at(0), args.at(1));
  if (name == "not") return Not(args.at(0));
  if (name == "is_null") return IsNull(args.at(0));
  if (name == "is_valid") return IsValid(args.at(0));
  if (name == "lower") return StrLower(args.at(0));
  if (name == "upper") return StrUpper(args.at(0));
  if (name == "length") return StrLength(args.at(0));
  // Any other Arrow compute function without options, e.g. "abs", "round", "year".
  return arrow::compute::call(name, args);
}

}  // namespace

void RegisterExpressions(nb::module_& m) {
  // ---- expressions
  nb::class_<Expression>(m, "Expr")
      .def("__repr__", [](const Expression& e) { return DisplayText(DescribeExpression(e, 2000)); })
      .def("depth", [](const Expression& e) { return ExpressionDepth(e); })
      .def("referenced_columns",
           [](const Expression& e) {
             std::vector<std::string> names;
             for (const auto& ref : arrow::compute::FieldsInExpression(e)) {
               if (ref.name()) names.push_back(*ref.name());
             }
             return names;
           })
      .def("equals", [](const Expression& a, const Expression& b) { return a.Equals(b); });
  m.def("expr_col", [](const std::string& name) { return Col(name); });
  m.def("expr_lit", &ScalarLiteral);
  // Python's bool, int, float and str as pa.array([value]) would type them (bool, int64,
  // double, string), without building an array: expressions may have 100,000 literals.
  m.def("expr_lit_bool", [](bool value) { return Lit(value); });
  m.def("expr_lit_int64", [](int64_t value) { return Lit(value); });
  m.def("expr_lit_double", [](double value) { return Lit(value); });
  m.def("expr_lit_string", [](const std::string& value) { return Lit(value); });
  m.attr("MAX_EXPRESSION_DEPTH") = kMaxExpressionDepth;
  m.def("expr_call", [](const std::string& name, const std::vector<Expression>& args) {
    return WithinDepthLimit(CallFunction(name, args));
  });
  m.def("expr_all_of", [](std::vector<Expression> terms) {
    return WithinDepthLimit(AllOf(std::move(terms)));
  });
  m.def("expr_any_of", [](std::vector<Expression> terms) {
    return WithinDepthLimit(AnyOf(std::move(terms)));
  });
  m.def("expr_is_in", [](const Expression& e, nb::handle schema, nb::handle array) {
    return WithinDepthLimit(IsIn(e, ImportArrayCapsules(schema, array)));
  });
  m.def("expr_cast", [](const Expression& e, nb::handle type_capsule, bool safe) {
    return WithinDepthLimit(Cast(e, ImportTypeCapsule(type_capsule), safe));
  });
  m.def("expr_match", [](const std::string& kind, const Expression& e, const std::string& pattern,
                         bool ignore_case) {
    if (kind == "contains") return WithinDepthLimit(StrContains(e, pattern, ignore_case));
    if (kind == "starts_with") return WithinDepthLimit(StrStartsWith(e, pattern, ignore_case));
    if (kind == "ends_with") return WithinDepthLimit(StrEndsWith(e, pattern, ignore_case));
    throw StatusError(arrow::Status::Invalid("unknown string match '", kind, "'"));
  });

  m.def("parse_predicate",
        [](const std::string& text) { return ValueOrThrow(ParsePredicate(text)); });
}

}  // namespace sluice::python
