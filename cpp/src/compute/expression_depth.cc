#include "compute/expression_depth.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>
#include <vector>

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

int64_t ExpressionDepth(const cp::Expression& expr) {
  // Subexpressions may be shared (a DAG), so depths are remembered per call.
  std::unordered_map<const cp::Expression::Call*, int64_t> depth_of;
  auto known_depth = [&](const cp::Expression& e) -> int64_t {
    const cp::Expression::Call* call = e.call();
    if (!call) return 1;  // a column or a literal
    auto found = depth_of.find(call);
    return found == depth_of.end() ? -1 : found->second;
  };
  struct Visit {
    const cp::Expression* expr;
    bool operands_pushed;
  };
  std::vector<Visit> stack{{&expr, false}};
  while (!stack.empty()) {
    Visit& visit = stack.back();
    const cp::Expression::Call* call = visit.expr->call();
    if (known_depth(*visit.expr) >= 0) {
      stack.pop_back();
      continue;
    }
    const std::vector<const cp::Expression*> operands = Operands(*call);
    if (!visit.operands_pushed) {
      visit.operands_pushed = true;
      for (const cp::Expression* operand : operands) {
        if (known_depth(*operand) < 0) stack.push_back({operand, false});
      }
      continue;
    }
    int64_t deepest = 0;
    for (const cp::Expression* operand : operands) deepest = std::max(deepest, known_depth(*operand));
    // A flattened chain of n terms is n - 1 calls deep; any other call one level.
    const int64_t levels =
        IsFlattenedByArrow(call->function_name) ? std::max<int64_t>(1, operands.size() - 1) : 1;
    depth_of[call] = deepest + levels;
    stack.pop_back();
  }
  return known_depth(expr);
}

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
  const int64_t depth = ExpressionDepth(expr);
  if (depth <= max_depth) return arrow::Status::OK();
  // Not expr.ToString(): it recurses as deep as the expression goes.
  const cp::Expression::Call* call = expr.call();
  return arrow::Status::Invalid(
      context, ": the expression (a call to '", call ? call->function_name : "", "') is nested ",
      depth, " levels deep; the limit is ", max_depth,
      " (a chain of + or * counts one level per term; build long AND / OR chains with & and | "
      "or AllOf / AnyOf, which keep them shallow)");
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
