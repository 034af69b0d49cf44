#include "plan/fragments.h"

#include <arrow/compute/api_scalar.h>

#include <sstream>

#include <nlohmann/json.hpp>

#include "plan/plan_serialization.h"

namespace sluice::plan {

namespace cp = arrow::compute;
using json = nlohmann::json;

// ---- Exchange

std::string Exchange::KindName() const {
  switch (kind) {
    case Kind::kGather:
      return "gather";
    case Kind::kForward:
      return "forward";
    case Kind::kHash:
      return "hash";
    case Kind::kRange:
      return "range";
    case Kind::kBlocks:
      return "blocks";
  }
  return "?";
}

std::string Exchange::ToString() const {
  std::string out = KindName();
  if (kind == Kind::kGather || kind == Kind::kForward) return out;
  out += "(";
  for (const auto& key : keys) out += key + ", ";
  for (const auto& key : sort_keys) {
    out += key.column + (key.descending ? " DESC" : "") + (key.nulls_first ? " NULLS FIRST" : "") +
           ", ";
  }
  return out + std::to_string(partitions) + " partitions)";
}

// ---- FragmentInputSource

arrow::Result<std::unique_ptr<exec::TaskSource>> FragmentInputSource::MakeTaskSource(
    exec::ExecContext*, const Pushdown&) const {
  return arrow::Status::Invalid("fragment input ", index_,
                                " is not bound to data: run the fragment through RunFragment");
}

arrow::Result<SerializedPart> FragmentInputSource::Serialize() const {
  json payload{{"index", index_}, {"schema", nullptr}};
  if (schema_) {
    ARROW_ASSIGN_OR_RAISE(payload["schema"], SerializeSchema(schema_));
  }
  return SerializedPart{kFragmentInputKind, payload.dump()};
}

arrow::Result<std::shared_ptr<const SourceSpec>> FragmentInputSource::Deserialize(
    const std::string& text) {
  json payload = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!payload.is_object() || !payload.contains("index") || !payload["index"].is_number_integer() ||
      payload["index"].get<int64_t>() < 0 || payload["index"].get<int64_t>() > 1 << 20 ||
      !payload.contains("schema")) {
    return arrow::Status::Invalid("serialized fragment input: damaged");
  }
  std::shared_ptr<arrow::Schema> schema;
  if (payload["schema"].is_string()) {
    ARROW_ASSIGN_OR_RAISE(schema, DeserializeSchema(payload["schema"].get<std::string>()));
  } else if (!payload["schema"].is_null()) {
    return arrow::Status::Invalid("serialized fragment input: damaged schema");
  }
  return std::make_shared<const FragmentInputSource>(payload["index"].get<int>(), std::move(schema));
}

// ---- Aggregates in two phases

arrow::Result<AggregatePhases> SplitAggregate(const AggregateNode& aggregate) {
  AggregatePhases phases;
  const std::vector<std::string> keys = aggregate.keys();
  const std::vector<Aggregate> aggs = aggregate.aggregates();
  const std::shared_ptr<arrow::Schema> output = aggregate.schema();
  // Without a known output schema (downstream of a user function) the final phase cannot
  // name and type its columns: exchange the rows and aggregate once.
  bool combines = output != nullptr;
  for (const auto& agg : aggs) combines &= CombinesFromPartials(agg);
  if (!combines) {
    phases.make_final = [keys, aggs](PlanNodePtr input) {
      return AggregateNode::Make(std::move(input), keys, aggs);
    };
    return phases;
  }
  std::vector<Aggregate> partial;
  std::vector<Aggregate> merge;
  for (size_t i = 0; i < aggs.size(); ++i) {
    const Aggregate& agg = aggs[i];
    const std::string name = PartialAggregateName(i, "");
    if (agg.function == "mean") {
      partial.push_back({"sum", agg.column, name + "_sum"});
      partial.push_back({"count", agg.column, name + "_count"});
      merge.push_back({"sum", name + "_sum", name + "_sum"});
      merge.push_back({"sum", name + "_count", name + "_count"});
      continue;
    }
    partial.push_back({agg.function, agg.column, name});
    // Counts add up; sums, minima, maxima, firsts and lasts of partials are the results.
    const bool count = agg.function == "count" || agg.function == "count_all";
    merge.push_back({count ? "sum" : agg.function, name, name});
  }
  phases.make_partial = [keys, partial](PlanNodePtr input) {
    return AggregateNode::Make(std::move(input), keys, partial);
  };
  phases.make_final = [keys, aggs, merge, output](PlanNodePtr input) -> arrow::Result<PlanNodePtr> {
    ARROW_ASSIGN_OR_RAISE(auto merged, AggregateNode::Make(std::move(input), keys, merge));
    // Keys, then each aggregate under its own name and type: a mean is its sum over its
    // count (as the one-process group-by computes it); a count over no partial at all
    // (a global count of nothing) is 0, not null.
    std::vector<cp::Expression> exprs;
    std::vector<std::string> names;
    for (const auto& key : keys) {
      exprs.push_back(cp::field_ref(key));
      names.push_back(key);
    }
    const auto& merged_schema = merged->schema();
    // A merged column as `type`, cast only where the merge changed its type.
    auto as_type = [&](const std::string& column,
                       const std::shared_ptr<arrow::DataType>& type) -> cp::Expression {
      const auto field = merged_schema ? merged_schema->GetFieldByName(column) : nullptr;
      if (field && field->type()->Equals(*type)) return cp::field_ref(column);
      return cp::call("cast", {cp::field_ref(column)}, cp::CastOptions::Safe(type));
    };
    for (size_t i = 0; i < aggs.size(); ++i) {
      const auto& field = output->field(static_cast<int>(keys.size() + i));
      const std::string name = PartialAggregateName(i, "");
      if (aggs[i].function == "mean") {
        exprs.push_back(cp::call("divide", {as_type(name + "_sum", arrow::float64()),
                                            as_type(name + "_count", arrow::float64())}));
      } else if (aggs[i].function == "count" || aggs[i].function == "count_all") {
        exprs.push_back(cp::call("coalesce", {as_type(name, arrow::int64()), cp::literal(int64_t{0})}));
      } else {
        exprs.push_back(as_type(name, field->type()));
      }
      names.push_back(field->name());
    }
    return ProjectNode::Make(std::move(merged), std::move(exprs), std::move(names));
  };
  return phases;
}

// ---- Cutting

namespace {

void CollectScans(const PlanNodePtr& node, std::vector<const SourceNode*>* scans) {
  if (node->kind() == NodeKind::kSource) {
    const auto& source = static_cast<const SourceNode&>(*node);
    if (!dynamic_cast<const FragmentInputSource*>(source.spec().get())) scans->push_back(&source);
    return;
  }
  for (const auto& input : node->inputs()) CollectScans(input, scans);
}

class Cutter {
 public:
  explicit Cutter(int hash_partitions) : hash_partitions_(hash_partitions) {}

  /// The plan of the still open fragment that computes `node`; `inputs` receives the
  /// fragments whose outputs its FragmentInputSources stand for.
  arrow::Result<PlanNodePtr> Open(const PlanNodePtr& node, std::vector<int>* inputs, int depth) {
    if (depth > kMaxDepth) return arrow::Status::Invalid("plan too deep to cut into fragments");
    switch (node->kind()) {
      case NodeKind::kSource: {
        const auto& source = static_cast<const SourceNode&>(*node);
        if (!source.pushdown().limit) return node;
        // Each task of the scan keeps its first rows; one task above keeps the first of all.
        ARROW_ASSIGN_OR_RAISE(auto input, Close(node, {}, Gather(), inputs));
        return LimitNode::Make(std::move(input), *source.pushdown().limit);
      }
      case NodeKind::kFilter:
      case NodeKind::kProject:
      case NodeKind::kMapBatches: {
        ARROW_ASSIGN_OR_RAISE(auto input, Open(node->input(), inputs, depth + 1));
        return node->WithInputs({std::move(input)});
      }
      case NodeKind::kLimit: {
        const int64_t limit = static_cast<const LimitNode&>(*node).limit();
        std::vector<int> below;
        ARROW_ASSIGN_OR_RAISE(auto input, Open(node->input(), &below, depth + 1));
        ARROW_ASSIGN_OR_RAISE(auto local, LimitNode::Make(std::move(input), limit));
        ARROW_ASSIGN_OR_RAISE(auto gathered, Close(local, below, Gather(), inputs));
        return LimitNode::Make(std::move(gathered), limit);
      }
      case NodeKind::kSort: {
        const auto& keys = static_cast<const SortNode&>(*node).keys();
        std::vector<int> below;
        ARROW_ASSIGN_OR_RAISE(auto input, Open(node->input(), &below, depth + 1));
        ARROW_ASSIGN_OR_RAISE(auto ranged, Close(input, below, Range(keys), inputs));
        return SortNode::Make(std::move(ranged), keys);
      }
      case NodeKind::kAggregate: {
        const auto& aggregate = static_cast<const AggregateNode&>(*node);
        ARROW_ASSIGN_OR_RAISE(AggregatePhases phases, SplitAggregate(aggregate));
        std::vector<int> below;
        ARROW_ASSIGN_OR_RAISE(auto input, Open(node->input(), &below, depth + 1));
        if (phases.make_partial) {
          ARROW_ASSIGN_OR_RAISE(input, phases.make_partial(std::move(input)));
        }
        // Groups come out sorted by key (ascending, nulls last): range partitions keep
        // that order across the reader's tasks.
        Exchange exchange = Gather();
        if (!aggregate.keys().empty()) {
          std::vector<SortKey> order;
          for (const auto& key : aggregate.keys()) order.push_back(SortKey{key, false, false});
          exchange = Range(std::move(order));
        }
        ARROW_ASSIGN_OR_RAISE(auto exchanged, Close(input, below, exchange, inputs));
        return phases.make_final(std::move(exchanged));
      }
      case NodeKind::kRepartition: {
        const auto& repartition = static_cast<const RepartitionNode&>(*node);
        std::vector<int> below;
        ARROW_ASSIGN_OR_RAISE(auto input, Open(node->input(), &below, depth + 1));
        Exchange exchange;
        exchange.kind = repartition.keys().empty() ? Exchange::Kind::kBlocks : Exchange::Kind::kHash;
        exchange.keys = repartition.keys();
        exchange.partitions = repartition.num_blocks();
        return Close(input, below, std::move(exchange), inputs);
      }
      case NodeKind::kJoin: {
        const auto& join = static_cast<const JoinNode&>(*node);
        std::vector<PlanNodePtr> sides;
        for (int side = 0; side < 2; ++side) {
          std::vector<int> below;
          ARROW_ASSIGN_OR_RAISE(auto input, Open(node->inputs()[side], &below, depth + 1));
          Exchange exchange;
          exchange.kind = Exchange::Kind::kHash;
          exchange.keys = side == 0 ? join.options().left_keys : join.options().right_keys;
          exchange.partitions = hash_partitions_;
          ARROW_ASSIGN_OR_RAISE(auto hashed, Close(input, below, std::move(exchange), inputs));
          sides.push_back(std::move(hashed));
        }
        return JoinNode::Make(sides[0], sides[1], join.options(), join.right_names());
      }
      case NodeKind::kUnion: {
        std::vector<PlanNodePtr> children;
        std::vector<std::vector<int>> child_inputs;
        bool all_scans = true;
        for (const auto& child : node->inputs()) {
          std::vector<int> below;
          ARROW_ASSIGN_OR_RAISE(auto input, Open(child, &below, depth + 1));
          all_scans &= below.empty();
          children.push_back(std::move(input));
          child_inputs.push_back(std::move(below));
        }
        if (!all_scans) {
          // Each input its own fragment, each of their outputs a task of the union's
          // fragment: the union's order (input by input) is the tasks' order.
          for (size_t i = 0; i < children.size(); ++i) {
            ARROW_ASSIGN_OR_RAISE(children[i],
                                  Close(children[i], child_inputs[i], Forward(), inputs));
          }
        }
        return node->WithInputs(std::move(children));
      }
      case NodeKind::kWrite:
        return arrow::Status::Invalid("a write can only be the root of a plan");
    }
    return arrow::Status::NotImplemented("cutting ", node->ToString());
  }

  /// Ends a fragment computing `plan` from `inputs`; the placeholder for its output
  /// becomes input `reader_inputs->size()` of the reader.
  arrow::Result<PlanNodePtr> Close(PlanNodePtr plan, std::vector<int> inputs, Exchange output,
                                   std::vector<int>* reader_inputs) {
    const int id = Add(plan, std::move(inputs), std::move(output));
    const int index = static_cast<int>(reader_inputs->size());
    reader_inputs->push_back(id);
    return SourceNode::Make(std::make_shared<const FragmentInputSource>(index, plan->schema()));
  }

  int Add(PlanNodePtr plan, std::vector<int> inputs, Exchange output) {
    Fragment fragment;
    fragment.id = static_cast<int>(fragments_.size());
    fragment.plan = std::move(plan);
    fragment.inputs = std::move(inputs);
    fragment.output = std::move(output);
    fragment.scans = ScansOf(fragment.plan);
    fragments_.push_back(std::move(fragment));
    return fragments_.back().id;
  }

  std::vector<Fragment> Take() { return std::move(fragments_); }

 private:
  static constexpr int kMaxDepth = 1000;

  static Exchange Gather() { return Exchange{}; }
  static Exchange Forward() {
    Exchange exchange;
    exchange.kind = Exchange::Kind::kForward;
    return exchange;
  }
  Exchange Range(std::vector<SortKey> keys) const {
    Exchange exchange;
    exchange.kind = Exchange::Kind::kRange;
    exchange.sort_keys = std::move(keys);
    exchange.partitions = hash_partitions_;
    return exchange;
  }

  int hash_partitions_;
  std::vector<Fragment> fragments_;
};

}  // namespace

std::vector<const SourceNode*> ScansOf(const PlanNodePtr& plan) {
  std::vector<const SourceNode*> scans;
  CollectScans(plan, &scans);
  return scans;
}

arrow::Result<FragmentPlan> CutIntoFragments(const PlanNodePtr& plan, int hash_partitions) {
  if (!plan) return arrow::Status::Invalid("cannot cut a null plan");
  if (hash_partitions <= 0) {
    return arrow::Status::Invalid("hash_partitions must be positive, got ", hash_partitions);
  }
  Cutter cutter(hash_partitions);
  FragmentPlan out;
  PlanNodePtr body = plan;
  if (plan->kind() == NodeKind::kWrite) {
    out.write = std::static_pointer_cast<const WriteNode>(plan);
    body = plan->input();
  }
  std::vector<int> inputs;
  ARROW_ASSIGN_OR_RAISE(auto root, cutter.Open(body, &inputs, 0));
  cutter.Add(std::move(root), std::move(inputs), Exchange{});
  out.fragments = cutter.Take();
  return out;
}

std::string FragmentPlan::ToString() const {
  std::ostringstream text;
  for (const auto& fragment : fragments) {
    text << "Fragment " << fragment.id;
    if (!fragment.inputs.empty()) {
      text << " reads";
      for (int input : fragment.inputs) text << " " << input;
    } else {
      text << " scans " << fragment.scans.size();
    }
    text << ", output " << fragment.output.ToString();
    if (write && &fragment == &fragments.back()) text << ", writes " << write->ToString();
    text << "\n" << PlanToString(fragment.plan);
  }
  return text.str();
}

// ---- Binding

namespace {

arrow::Result<PlanNodePtr> Rewrite(
    const PlanNodePtr& node,
    const std::function<arrow::Result<PlanNodePtr>(const SourceNode&, const PlanNodePtr&)>& leaf) {
  if (node->kind() == NodeKind::kSource) return leaf(static_cast<const SourceNode&>(*node), node);
  std::vector<PlanNodePtr> inputs;
  for (const auto& input : node->inputs()) {
    ARROW_ASSIGN_OR_RAISE(auto rewritten, Rewrite(input, leaf));
    inputs.push_back(std::move(rewritten));
  }
  return node->WithInputs(std::move(inputs));
}

}  // namespace

arrow::Result<PlanNodePtr> BindFragmentInputs(
    const PlanNodePtr& plan,
    const std::function<arrow::Result<std::shared_ptr<const SourceSpec>>(
        int index, const std::shared_ptr<arrow::Schema>& schema)>& bind) {
  return Rewrite(plan, [&](const SourceNode& source,
                           const PlanNodePtr& node) -> arrow::Result<PlanNodePtr> {
    const auto* input = dynamic_cast<const FragmentInputSource*>(source.spec().get());
    if (!input) return node;
    ARROW_ASSIGN_OR_RAISE(auto bound, bind(input->index(), input->schema()));
    return SourceNode::Make(std::move(bound), source.pushdown());
  });
}

arrow::Result<PlanNodePtr> RestrictScans(const PlanNodePtr& plan,
                                         const std::vector<std::vector<Split>>& splits) {
  size_t next = 0;
  return Rewrite(plan, [&](const SourceNode& source,
                           const PlanNodePtr& node) -> arrow::Result<PlanNodePtr> {
    if (dynamic_cast<const FragmentInputSource*>(source.spec().get())) return node;
    const size_t scan = next++;
    static const std::vector<Split> kNone;
    ARROW_ASSIGN_OR_RAISE(auto restricted,
                          source.spec()->WithSplits(scan < splits.size() ? splits[scan] : kNone));
    return SourceNode::Make(std::move(restricted), source.pushdown());
  });
}

}  // namespace sluice::plan
