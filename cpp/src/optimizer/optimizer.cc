#include "optimizer/optimizer.h"

#include <arrow/compute/api_scalar.h>
#include <arrow/util/base64.h>

#include <nlohmann/json.hpp>

#include <map>
#include <set>

#include "compute/kleene_chains.h"

namespace sluice::optimizer {

namespace cp = arrow::compute;
using plan::NodeKind;
using plan::PlanNodePtr;

arrow::Result<cp::Expression> SubstituteColumns(
    const cp::Expression& expr, const std::map<std::string, cp::Expression>& bindings) {
  if (const auto* ref = expr.field_ref()) {
    if (ref->name()) {
      auto it = bindings.find(*ref->name());
      if (it != bindings.end()) return it->second;
    }
    return expr;
  }
  if (const auto* call = expr.call()) {
    std::vector<cp::Expression> args;
    for (const auto& arg : call->arguments) {
      ARROW_ASSIGN_OR_RAISE(auto replaced, SubstituteColumns(arg, bindings));
      args.push_back(std::move(replaced));
    }
    return cp::call(call->function_name, std::move(args), call->options);
  }
  return expr;
}

namespace {

/// The conjunction of `terms`, as shallow as it can be (compute/kleene_chains.h).
cp::Expression Conjunction(std::vector<cp::Expression> terms) {
  return compute::MakeKleeneChain(/*is_or=*/false, std::move(terms));
}

bool IsPlainRef(const cp::Expression& expr) {
  const auto* ref = expr.field_ref();
  return ref && ref->name();
}

// ---- 1. fold projections and filters

arrow::Result<PlanNodePtr> Fold(const PlanNodePtr& node) {
  std::vector<PlanNodePtr> inputs;
  for (const auto& input : node->inputs()) {
    ARROW_ASSIGN_OR_RAISE(auto folded, Fold(input));
    inputs.push_back(std::move(folded));
  }
  if (node->kind() == NodeKind::kProject && inputs[0]->kind() == NodeKind::kProject) {
    const auto& upper = static_cast<const plan::ProjectNode&>(*node);
    const auto& lower = static_cast<const plan::ProjectNode&>(*inputs[0]);
    std::map<std::string, cp::Expression> bindings;
    for (size_t i = 0; i < lower.names().size(); ++i) bindings[lower.names()[i]] = lower.exprs()[i];
    std::vector<cp::Expression> exprs;
    for (const auto& e : upper.exprs()) {
      ARROW_ASSIGN_OR_RAISE(auto replaced, SubstituteColumns(e, bindings));
      exprs.push_back(std::move(replaced));
    }
    return plan::ProjectNode::Make(lower.input(), std::move(exprs), upper.names());
  }
  if (node->kind() == NodeKind::kFilter && inputs[0]->kind() == NodeKind::kFilter) {
    const auto& upper = static_cast<const plan::FilterNode&>(*node);
    const auto& lower = static_cast<const plan::FilterNode&>(*inputs[0]);
    return plan::FilterNode::Make(lower.input(), Conjunction({lower.predicate(), upper.predicate()}));
  }
  return node->WithInputs(std::move(inputs));
}

// ---- 2. predicate pushdown

arrow::Result<PlanNodePtr> PushFilters(const PlanNodePtr& node);
arrow::Result<PlanNodePtr> PushInto(const PlanNodePtr& node, const cp::Expression& pred);

arrow::Result<PlanNodePtr> KeepFilterAbove(const PlanNodePtr& node, const cp::Expression& pred) {
  ARROW_ASSIGN_OR_RAISE(auto optimized, PushFilters(node));
  return plan::FilterNode::Make(optimized, pred);
}

/// The terms of a conjunction: a filter by `a and b` keeps the rows a filter by `a` and
/// then by `b` keeps, so each term may go its own way. Walked with an explicit stack: a
/// conjunction may have 100,000 terms.
void SplitConjunction(const cp::Expression& expr, std::vector<cp::Expression>* terms) {
  std::vector<const cp::Expression*> pending{&expr};
  while (!pending.empty()) {
    const cp::Expression* term = pending.back();
    pending.pop_back();
    const auto* call = term->call();
    const bool conjunction =
        call && (((call->function_name == "and_kleene" || call->function_name == "and") &&
                  call->arguments.size() == 2) ||
                 call->function_name == compute::kAndAllFunction);
    if (!conjunction) {
      terms->push_back(*term);
      continue;
    }
    for (auto it = call->arguments.rbegin(); it != call->arguments.rend(); ++it) {
      pending.push_back(&*it);
    }
  }
}

/// Pushes each term of `pred` below the join to the side(s) it can be decided on:
///  - a term on left columns only, below a join that passes left rows on unchanged or not
///    at all (inner, left, semi, anti): a left row the term rejects yields only output rows
///    the term rejects. Likewise right columns only below an inner or right join;
///  - a term on keys shown once for both sides (`on`) only, to both sides, whatever the
///    join type: matching rows have equal keys, so the term rejects both or neither, and
///    an unmatched row shows its own key (not for float keys: see below).
/// A column is decided on a side only where it has the same type there (keys may be cast
/// for the join). Other terms stay above the join.
arrow::Result<PlanNodePtr> PushIntoJoin(const PlanNodePtr& node, const cp::Expression& pred) {
  const auto& join = static_cast<const plan::JoinNode&>(*node);
  const plan::JoinSpec* spec = join.spec();
  if (!spec) return KeepFilterAbove(node, pred);
  const JoinType how = spec->how;
  const bool left_rows_unchanged = how == JoinType::kInner || how == JoinType::kLeft ||
                                   how == JoinType::kSemi || how == JoinType::kAnti;
  const bool right_rows_unchanged = how == JoinType::kInner || how == JoinType::kRight;
  std::vector<cp::Expression> terms;
  SplitConjunction(pred, &terms);
  std::vector<cp::Expression> to_left;
  std::vector<cp::Expression> to_right;
  std::vector<cp::Expression> above;
  for (const auto& term : terms) {
    const auto columns = plan::ReferencedColumns(term);
    bool on_left = !columns.empty() && left_rows_unchanged;
    bool on_right = !columns.empty() && right_rows_unchanged;
    bool on_both = !columns.empty();
    std::map<std::string, cp::Expression> left_names;
    std::map<std::string, cp::Expression> right_names;
    for (const auto& name : columns) {
      const int i = spec->output_schema->GetFieldIndex(name);
      if (i < 0) {
        on_left = on_right = on_both = false;
        break;
      }
      const auto& column = spec->columns[i];
      const auto& type = *spec->output_schema->field(i)->type();
      const bool left_same =
          column.left >= 0 && spec->left_schema->field(column.left)->type()->Equals(type);
      const bool right_same =
          column.right >= 0 && spec->right_schema->field(column.right)->type()->Equals(type);
      on_left &= left_same;
      on_right &= right_same;
      // Float keys 0.0 and -0.0 may match yet differ to a term (1 / k), so a float key's
      // terms are decided on one side only.
      on_both &= left_same && right_same && !arrow::is_floating(type.id());
      if (left_same) {
        left_names[name] = cp::field_ref(spec->left_schema->field(column.left)->name());
      }
      if (right_same) {
        right_names[name] = cp::field_ref(spec->right_schema->field(column.right)->name());
      }
    }
    if (on_both || on_left) {
      ARROW_ASSIGN_OR_RAISE(auto rewritten, SubstituteColumns(term, left_names));
      to_left.push_back(std::move(rewritten));
    }
    if (on_both || (on_right && !on_left)) {
      ARROW_ASSIGN_OR_RAISE(auto rewritten, SubstituteColumns(term, right_names));
      to_right.push_back(std::move(rewritten));
    }
    if (!on_both && !on_left && !on_right) above.push_back(term);
  }
  auto push = [](const PlanNodePtr& input, const std::vector<cp::Expression>& pushed) {
    return pushed.empty() ? PushFilters(input) : PushInto(input, Conjunction(pushed));
  };
  ARROW_ASSIGN_OR_RAISE(auto left, push(node->inputs().at(0), to_left));
  ARROW_ASSIGN_OR_RAISE(auto right, push(node->inputs().at(1), to_right));
  ARROW_ASSIGN_OR_RAISE(auto joined, node->WithInputs({std::move(left), std::move(right)}));
  if (above.empty()) return joined;
  return plan::FilterNode::Make(std::move(joined), Conjunction(std::move(above)));
}

/// Places `pred` as low under `node` as it can go.
arrow::Result<PlanNodePtr> PushInto(const PlanNodePtr& node, const cp::Expression& pred) {
  switch (node->kind()) {
    case NodeKind::kFilter: {
      const auto& filter = static_cast<const plan::FilterNode&>(*node);
      return PushInto(filter.input(), Conjunction({filter.predicate(), pred}));
    }
    case NodeKind::kProject: {
      const auto& project = static_cast<const plan::ProjectNode&>(*node);
      std::map<std::string, cp::Expression> bindings;
      for (size_t i = 0; i < project.names().size(); ++i) {
        bindings[project.names()[i]] = project.exprs()[i];
      }
      bool pushable = true;
      for (const auto& column : plan::ReferencedColumns(pred)) {
        auto it = bindings.find(column);
        if (it == bindings.end() || !IsPlainRef(it->second)) pushable = false;
      }
      if (!pushable) return KeepFilterAbove(node, pred);
      ARROW_ASSIGN_OR_RAISE(auto rewritten, SubstituteColumns(pred, bindings));
      ARROW_ASSIGN_OR_RAISE(auto input, PushInto(project.input(), rewritten));
      return node->WithInputs({input});
    }
    case NodeKind::kSort: {
      ARROW_ASSIGN_OR_RAISE(auto input, PushInto(node->input(), pred));
      return node->WithInputs({input});
    }
    case NodeKind::kUnion: {
      std::vector<PlanNodePtr> inputs;
      for (const auto& input : node->inputs()) {
        ARROW_ASSIGN_OR_RAISE(auto pushed, PushInto(input, pred));
        inputs.push_back(std::move(pushed));
      }
      return node->WithInputs(std::move(inputs));
    }
    case NodeKind::kJoin:
      return PushIntoJoin(node, pred);
    case NodeKind::kSource: {
      const auto& source = static_cast<const plan::SourceNode&>(*node);
      if (!source.spec()->SupportsFilterPushdown() || source.pushdown().limit) {
        return KeepFilterAbove(node, pred);
      }
      plan::Pushdown pushdown = source.pushdown();
      pushdown.filter = pushdown.filter ? Conjunction({*pushdown.filter, pred}) : pred;
      auto pushed = plan::SourceNode::Make(source.spec(), pushdown);
      if (!pushed.ok()) return KeepFilterAbove(node, pred);  // e.g. not bindable to the file schema
      return pushed;
    }
    default:
      return KeepFilterAbove(node, pred);
  }
}

arrow::Result<PlanNodePtr> PushFilters(const PlanNodePtr& node) {
  if (node->kind() == NodeKind::kFilter) {
    const auto& filter = static_cast<const plan::FilterNode&>(*node);
    return PushInto(filter.input(), filter.predicate());
  }
  std::vector<PlanNodePtr> inputs;
  for (const auto& input : node->inputs()) {
    ARROW_ASSIGN_OR_RAISE(auto pushed, PushFilters(input));
    inputs.push_back(std::move(pushed));
  }
  if (inputs.empty()) return node;
  return node->WithInputs(std::move(inputs));
}

// ---- 3. projection pushdown

using Required = std::optional<std::set<std::string>>;  // nullopt: every column

void AddAll(std::set<std::string>& to, const std::vector<std::string>& names) {
  to.insert(names.begin(), names.end());
}

arrow::Result<PlanNodePtr> Prune(const PlanNodePtr& node, const Required& required) {
  switch (node->kind()) {
    case NodeKind::kProject: {
      const auto& project = static_cast<const plan::ProjectNode&>(*node);
      std::vector<cp::Expression> exprs;
      std::vector<std::string> names;
      std::set<std::string> needed;
      for (size_t i = 0; i < project.names().size(); ++i) {
        if (required && !required->count(project.names()[i])) continue;
        exprs.push_back(project.exprs()[i]);
        names.push_back(project.names()[i]);
        AddAll(needed, plan::ReferencedColumns(project.exprs()[i]));
      }
      ARROW_ASSIGN_OR_RAISE(auto input, Prune(project.input(), needed));
      // A projection that now passes its input through unchanged is dropped.
      if (input->schema() && static_cast<int>(names.size()) == input->schema()->num_fields()) {
        bool identity = true;
        for (size_t i = 0; i < names.size(); ++i) {
          const auto* ref = exprs[i].field_ref();
          identity &= ref && ref->name() && *ref->name() == names[i] &&
                      input->schema()->field(static_cast<int>(i))->name() == names[i];
        }
        if (identity) return input;
      }
      return plan::ProjectNode::Make(input, std::move(exprs), std::move(names));
    }
    case NodeKind::kFilter: {
      const auto& filter = static_cast<const plan::FilterNode&>(*node);
      Required child = required;
      if (child) AddAll(*child, plan::ReferencedColumns(filter.predicate()));
      ARROW_ASSIGN_OR_RAISE(auto input, Prune(filter.input(), child));
      return node->WithInputs({input});
    }
    case NodeKind::kSort: {
      const auto& sort = static_cast<const plan::SortNode&>(*node);
      Required child = required;
      if (child) {
        for (const auto& k : sort.keys()) child->insert(k.column);
      }
      ARROW_ASSIGN_OR_RAISE(auto input, Prune(sort.input(), child));
      return node->WithInputs({input});
    }
    case NodeKind::kAggregate: {
      const auto& agg = static_cast<const plan::AggregateNode&>(*node);
      std::set<std::string> child(agg.keys().begin(), agg.keys().end());
      for (const auto& a : agg.aggregates()) {
        if (!a.column.empty()) child.insert(a.column);
      }
      ARROW_ASSIGN_OR_RAISE(auto input, Prune(agg.input(), child));
      return node->WithInputs({input});
    }
    case NodeKind::kLimit: {
      ARROW_ASSIGN_OR_RAISE(auto input, Prune(node->input(), required));
      return node->WithInputs({input});
    }
    case NodeKind::kRepartition: {
      const auto& repartition = static_cast<const plan::RepartitionNode&>(*node);
      Required child = required;
      if (child) AddAll(*child, repartition.keys());
      ARROW_ASSIGN_OR_RAISE(auto input, Prune(node->input(), child));
      return node->WithInputs({input});
    }
    case NodeKind::kUnion: {
      std::vector<PlanNodePtr> inputs;
      for (const auto& input : node->inputs()) {
        ARROW_ASSIGN_OR_RAISE(auto pruned, Prune(input, required));
        inputs.push_back(std::move(pruned));
      }
      // Every input must still produce the same columns.
      for (const auto& input : inputs) {
        if (!input->schema() || !inputs[0]->schema() ||
            !input->schema()->Equals(*inputs[0]->schema(), false)) {
          return node;
        }
      }
      return node->WithInputs(std::move(inputs));
    }
    case NodeKind::kMapBatches: {
      ARROW_ASSIGN_OR_RAISE(auto input, Prune(node->input(), std::nullopt));
      return node->WithInputs({input});
    }
    case NodeKind::kJoin: {
      // Each side keeps its keys and the columns behind the required output columns; the
      // join keeps the names it gave right columns, so none changes when a left column
      // that forced a suffix is pruned.
      const plan::JoinSpec* spec = static_cast<const plan::JoinNode&>(*node).spec();
      Required left;  // nullopt while the join is unresolved (an input schema is unknown)
      Required right;
      if (spec) {
        left.emplace(spec->left_keys.begin(), spec->left_keys.end());
        right.emplace(spec->right_keys.begin(), spec->right_keys.end());
        for (const auto& column : spec->columns) {
          if (required && !required->count(column.name)) continue;
          if (column.left >= 0) left->insert(spec->left_schema->field(column.left)->name());
          if (column.right >= 0) right->insert(spec->right_schema->field(column.right)->name());
        }
      }
      ARROW_ASSIGN_OR_RAISE(auto left_input, Prune(node->inputs().at(0), left));
      ARROW_ASSIGN_OR_RAISE(auto right_input, Prune(node->inputs().at(1), right));
      return node->WithInputs({left_input, right_input});
    }
    case NodeKind::kSource: {
      const auto& source = static_cast<const plan::SourceNode&>(*node);
      if (!required) return node;
      plan::Pushdown pushdown = source.pushdown();
      std::vector<std::string> columns;
      for (const auto& field : node->schema()->fields()) {
        if (required->count(field->name())) columns.push_back(field->name());
      }
      if (static_cast<int>(columns.size()) == node->schema()->num_fields()) return node;
      pushdown.columns = std::move(columns);
      return plan::SourceNode::Make(source.spec(), pushdown);
    }
  }
  return node;
}

// ---- 4. limit pushdown

arrow::Result<PlanNodePtr> PushLimits(const PlanNodePtr& node) {
  std::vector<PlanNodePtr> inputs;
  for (const auto& input : node->inputs()) {
    ARROW_ASSIGN_OR_RAISE(auto pushed, PushLimits(input));
    inputs.push_back(std::move(pushed));
  }
  if (node->kind() != NodeKind::kLimit) {
    return inputs.empty() ? node : node->WithInputs(std::move(inputs));
  }
  const int64_t limit = static_cast<const plan::LimitNode&>(*node).limit();
  PlanNodePtr input = inputs[0];
  switch (input->kind()) {
    case NodeKind::kLimit: {
      const auto& lower = static_cast<const plan::LimitNode&>(*input);
      return PushLimits(*plan::LimitNode::Make(lower.input(), std::min(limit, lower.limit())));
    }
    case NodeKind::kProject: {
      ARROW_ASSIGN_OR_RAISE(auto below, plan::LimitNode::Make(input->input(), limit));
      ARROW_ASSIGN_OR_RAISE(below, PushLimits(below));
      return input->WithInputs({below});
    }
    case NodeKind::kSource: {
      const auto& source = static_cast<const plan::SourceNode&>(*input);
      if (source.pushdown().filter || !source.spec()->SupportsLimitPushdown()) break;
      plan::Pushdown pushdown = source.pushdown();
      pushdown.limit = pushdown.limit ? std::min(*pushdown.limit, limit) : limit;
      ARROW_ASSIGN_OR_RAISE(auto limited, plan::SourceNode::Make(source.spec(), pushdown));
      return plan::LimitNode::Make(limited, limit);
    }
    default:
      break;
  }
  return plan::LimitNode::Make(input, limit);
}

// ---- 5. map fusion

arrow::Result<PlanNodePtr> FuseMaps(const PlanNodePtr& node) {
  std::vector<PlanNodePtr> inputs;
  for (const auto& input : node->inputs()) {
    ARROW_ASSIGN_OR_RAISE(auto fused, FuseMaps(input));
    inputs.push_back(std::move(fused));
  }
  if (node->kind() == NodeKind::kMapBatches && inputs[0]->kind() == NodeKind::kMapBatches) {
    const auto& upper = static_cast<const plan::MapBatchesNode&>(*node);
    const auto& lower = static_cast<const plan::MapBatchesNode&>(*inputs[0]);
    const auto& uo = upper.options();
    const auto& lo = lower.options();
    const bool stateless = uo.max_actors == 0 && lo.max_actors == 0;
    // The upper function must see the lower one's output batches as they are.
    if (stateless && !uo.batch_size && uo.max_concurrency == lo.max_concurrency) {
      BatchFunctionFactory first = lower.factory();
      BatchFunctionFactory second = upper.factory();
      BatchFunctionFactory fused = [first, second]() -> arrow::Result<BatchFunction> {
        ARROW_ASSIGN_OR_RAISE(BatchFunction f, first());
        ARROW_ASSIGN_OR_RAISE(BatchFunction g, second());
        return BatchFunction([f, g](const std::shared_ptr<arrow::RecordBatch>& batch)
                                 -> arrow::Result<std::shared_ptr<arrow::RecordBatch>> {
          ARROW_ASSIGN_OR_RAISE(auto middle, f(batch));
          return g(middle);
        });
      };
      MapBatchesOptions options = lo;
      options.name = lo.name + "->" + uo.name;
      // Both as bytes, or neither: the fused function is the pair.
      options.serialize = nullptr;
      if (lo.serialize && uo.serialize) {
        options.serialize = [first = lo.serialize, second = uo.serialize]() {
          return ChainOfFunctions({first, second});
        };
      }
      return plan::MapBatchesNode::Make(lower.input(), std::move(fused), std::move(options));
    }
  }
  return inputs.empty() ? node : node->WithInputs(std::move(inputs));
}

}  // namespace

arrow::Result<SerializedFunction> ChainOfFunctions(
    const std::vector<std::function<arrow::Result<SerializedFunction>()>>& functions) {
  nlohmann::json parts = nlohmann::json::array();
  for (const auto& serialize : functions) {
    ARROW_ASSIGN_OR_RAISE(SerializedFunction part, serialize());
    parts.push_back({{"kind", part.kind}, {"payload", arrow::util::base64_encode(part.payload)}});
  }
  return SerializedFunction{kChainedFunctionsKind, parts.dump()};
}

arrow::Result<PlanNodePtr> Optimize(const PlanNodePtr& root) {
  if (root->kind() == NodeKind::kWrite) {
    // A write takes every column of its input and keeps its order: the passes see only
    // what is below it.
    ARROW_ASSIGN_OR_RAISE(auto input, Optimize(root->input()));
    return root->WithInputs({std::move(input)});
  }
  ARROW_ASSIGN_OR_RAISE(auto plan, Fold(root));
  ARROW_ASSIGN_OR_RAISE(plan, PushFilters(plan));
  ARROW_ASSIGN_OR_RAISE(plan, Fold(plan));
  ARROW_ASSIGN_OR_RAISE(plan, Prune(plan, std::nullopt));
  ARROW_ASSIGN_OR_RAISE(plan, PushLimits(plan));
  ARROW_ASSIGN_OR_RAISE(plan, FuseMaps(plan));
  return plan;
}

}  // namespace sluice::optimizer
