#include "compute/expression_depth.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sluice/expression.h"

namespace sluice::compute {

namespace {

namespace cp = arrow::compute;

/// The calls Arrow's simplification treats as associative and flattens into one
/// left-deep chain (arrow/compute/expression.cc, IsAssociative).
bool IsFlattenedByArrow(std::string_view function) {
  static constexpr std::string_view kAssociative[] = {
      "and", "or", "and_kleene", "or_kleene", "xor",
      "add", "add_checked", "multiply", "multiply_checked"};
  return std::find(std::begin(kAssociative), std::end(kAssociative), function) !=
         std::end(kAssociative);
}

/// The operands of `call`: its arguments, or for an associative call the terms of the
/// whole chain of that call below it (found with an explicit stack).
std::vector<const cp::Expression*> Operands(const cp::Expression::Call& call) {
  std::vector<const cp::Expression*> operands;
  if (!IsFlattenedByArrow(call.function_name)) {
    for (const auto& argument : call.arguments) operands.push_back(&argument);
    return operands;
  }
  std::vector<const cp::Expression*> pending;
  for (auto it = call.arguments.rbegin(); it != call.arguments.rend(); ++it) pending.push_back(&*it);
  while (!pending.empty()) {
    const cp::Expression* term = pending.back();
    pending.pop_back();
    const cp::Expression::Call* inner = term->call();
    if (inner && inner->function_name == call.function_name) {
      for (auto it = inner->arguments.rbegin(); it != inner->arguments.rend(); ++it) {
        pending.push_back(&*it);
      }
    } else {
      operands.push_back(term);
    }
  }
  return operands;
}

}  // namespace

ExpressionShape MeasureExpression(const cp::Expression& expr) {
  // Subexpressions may be shared (a DAG: BETWEEN uses its operand twice; e + e uses e twice), so each call is measured
  // once; the sizes still count a shared subexpression once per use, as every recursive
  // pass over the expression will, and saturate instead of overflowing.
  constexpr int64_t kSaturated = int64_t{1} << 62;
  std::unordered_map<const cp::Expression::Call*, ExpressionShape> shape_of;
  auto known = [&](const cp::Expression& e) -> const ExpressionShape* {
    static const ExpressionShape kLeaf{1, 1};  // a column or a literal
    const cp::Expression::Call* call = e.call();
    if (!call) return &kLeaf;
    auto found = shape_of.find(call);
    return found == shape_of.end() ? nullptr : &found->second;
  };
  struct Visit {
    const cp::Expression* expr;
    bool operands_pushed;
  };
  std::vector<Visit> stack{{&expr, false}};
  while (!stack.empty()) {
    Visit& visit = stack.back();
    const cp::Expression::Call* call = visit.expr->call();
    if (known(*visit.expr)) {
      stack.pop_back();
      continue;
    }
    const std::vector<const cp::Expression*> operands = Operands(*call);
    if (!visit.operands_pushed) {
      visit.operands_pushed = true;
      for (const cp::Expression* operand : operands) {
        if (!known(*operand)) stack.push_back({operand, false});
      }
      continue;
    }
    // A flattened chain of n terms is n - 1 calls deep; any other call one level.
    const int64_t levels =
        IsFlattenedByArrow(call->function_name) ? std::max<int64_t>(1, operands.size() - 1) : 1;
    ExpressionShape shape{0, levels};
    for (const cp::Expression* operand : operands) {
      const ExpressionShape& operand_shape = *known(*operand);
      shape.depth = std::max(shape.depth, operand_shape.depth);
      shape.size = std::min(kSaturated, shape.size + operand_shape.size);
    }
    shape.depth += levels;
    shape_of[call] = shape;
    stack.pop_back();
  }
  return *known(expr);
}

int64_t ExpressionDepth(const cp::Expression& expr) { return MeasureExpression(expr).depth; }

int64_t ExpressionSize(const cp::Expression& expr, int64_t stop_at) {
  int64_t size = 0;
  std::vector<const cp::Expression*> pending{&expr};
  while (!pending.empty() && size < stop_at) {
    const cp::Expression* current = pending.back();
    pending.pop_back();
    ++size;
    if (const cp::Expression::Call* call = current->call()) {
      for (const auto& argument : call->arguments) pending.push_back(&argument);
    }
  }
  return size;
}

arrow::Status CheckExpressionDepth(const cp::Expression& expr, const std::string& context,
                                   int64_t max_depth) {
  const ExpressionShape shape = MeasureExpression(expr);
  // Not expr.ToString(): it recurses as deep, and takes as long, as the expression goes.
  const cp::Expression::Call* call = expr.call();
  const std::string outermost =
      std::string("the expression (a call to '") + (call ? call->function_name : "") + "')";
  if (shape.depth > max_depth) {
    return arrow::Status::Invalid(
        context, ": ", outermost, " is nested ", shape.depth, " levels deep; the limit is ",
        max_depth,
        " (a chain of + or * counts one level per term; build long AND / OR chains with & and | "
        "or AllOf / AnyOf, which keep them shallow)");
  }
  if (shape.size > kMaxExpressionSize) {
    return arrow::Status::Invalid(
        context, ": ", outermost, " has ", shape.size, " calls, columns and literals once its "
        "shared parts are written out (an expression used twice, as e + e or BETWEEN's "
        "operand, counts twice, so each level of them doubles it); the limit is ", kMaxExpressionSize);
  }
  return arrow::Status::OK();
}

std::string DescribeExpression(const cp::Expression& expr, size_t max_chars) {
  // Callers describe expressions that passed CheckExpressionDepth, so ToString's recursion
  // is bounded; only the text may be long (100,000 terms).
  std::string text = expr.ToString();
  if (text.size() <= max_chars) return text;
  const size_t total = text.size();
  text.resize(max_chars);
  return text + "... (" + std::to_string(total) + " characters)";
}

}  // namespace sluice::compute
