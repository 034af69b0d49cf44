#include "plan/plan_serialization.h"

#include <arrow/buffer.h>
#include <arrow/io/memory.h>
#include <arrow/ipc/reader.h>
#include <arrow/ipc/writer.h>
#include <arrow/util/base64.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <map>

namespace sluice::plan {

namespace {

using nlohmann::json;
namespace cp = arrow::compute;

/// Deeper plans are refused when read back: each level is a few C++ frames (larger under
/// the sanitizers), and bytes from elsewhere must not overflow the stack. Optimized plans
/// of real jobs are a few dozen nodes deep.
constexpr int kMaxSerializedPlanDepth = 1000;

json PartToJson(const SerializedPart& part) {
  return {{"kind", part.kind}, {"payload", arrow::util::base64_encode(part.payload)}};
}

template <typename T>
arrow::Result<T> Field(const json& object, const char* name) {
  if (!object.is_object() || !object.contains(name)) {
    return arrow::Status::Invalid("serialized plan: missing field '", name, "'");
  }
  try {
    return object.at(name).get<T>();
  } catch (const json::exception& error) {
    return arrow::Status::Invalid("serialized plan: field '", name, "': ", error.what());
  }
}

/// An integer field: a float (1e300) or a value out of T's range is refused, never cast.
template <typename T>
arrow::Result<T> IntField(const json& object, const char* name) {
  if (!object.is_object() || !object.contains(name) || !object.at(name).is_number_integer()) {
    return arrow::Status::Invalid("serialized plan: field '", name, "' must be an integer");
  }
  const json& value = object.at(name);
  if (value.is_number_unsigned()) {
    const auto number = value.get<uint64_t>();
    if (number > static_cast<uint64_t>(std::numeric_limits<T>::max())) {
      return arrow::Status::Invalid("serialized plan: field '", name, "' is out of range");
    }
    return static_cast<T>(number);
  }
  const auto number = value.get<int64_t>();
  if (number < std::numeric_limits<T>::min() || number > std::numeric_limits<T>::max()) {
    return arrow::Status::Invalid("serialized plan: field '", name, "' is out of range");
  }
  return static_cast<T>(number);
}

arrow::Result<SerializedPart> PartFromJson(const json& object) {
  SerializedPart part;
  ARROW_ASSIGN_OR_RAISE(part.kind, Field<std::string>(object, "kind"));
  ARROW_ASSIGN_OR_RAISE(std::string payload, Field<std::string>(object, "payload"));
  ARROW_ASSIGN_OR_RAISE(part.payload, arrow::util::base64_decode(payload));
  return part;
}

/// `object[name]`, or null when absent (PartFromJson then names what is missing).
const json& Member(const json& object, const char* name) {
  static const json kNull;
  return object.is_object() && object.contains(name) ? object.at(name) : kNull;
}

arrow::Result<json> ExpressionsToJson(const std::vector<cp::Expression>& exprs) {
  json out = json::array();
  for (const auto& expr : exprs) {
    ARROW_ASSIGN_OR_RAISE(auto text, SerializeExpression(expr));
    out.push_back(std::move(text));
  }
  return out;
}

arrow::Result<std::vector<cp::Expression>> ExpressionsFromJson(const json& object,
                                                               const char* name) {
  ARROW_ASSIGN_OR_RAISE(auto texts, Field<std::vector<std::string>>(object, name));
  std::vector<cp::Expression> exprs;
  for (const auto& text : texts) {
    ARROW_ASSIGN_OR_RAISE(auto expr, DeserializeExpression(text));
    exprs.push_back(std::move(expr));
  }
  return exprs;
}

arrow::Result<json> NodeToJson(const PlanNodePtr& node, const PlanCodecs& codecs);

arrow::Result<json> InputsToJson(const PlanNode& node, const PlanCodecs& codecs) {
  json inputs = json::array();
  for (const auto& input : node.inputs()) {
    ARROW_ASSIGN_OR_RAISE(auto encoded, NodeToJson(input, codecs));
    inputs.push_back(std::move(encoded));
  }
  return inputs;
}

arrow::Result<json> NodeToJson(const PlanNodePtr& node, const PlanCodecs& codecs) {
  json out;
  ARROW_ASSIGN_OR_RAISE(out["inputs"], InputsToJson(*node, codecs));
  switch (node->kind()) {
    case NodeKind::kSource: {
      const auto& source = static_cast<const SourceNode&>(*node);
      if (!codecs.serialize_source) {
        return arrow::Status::NotImplemented("no codec serializes the source ", node->ToString());
      }
      ARROW_ASSIGN_OR_RAISE(auto part, codecs.serialize_source(*source.spec()));
      out["node"] = "source";
      out["source"] = PartToJson(part);
      const Pushdown& pushdown = source.pushdown();
      if (pushdown.columns) out["columns"] = *pushdown.columns;
      if (pushdown.filter) {
        ARROW_ASSIGN_OR_RAISE(out["filter"], SerializeExpression(*pushdown.filter));
      }
      if (pushdown.limit) out["limit"] = *pushdown.limit;
      break;
    }
    case NodeKind::kFilter: {
      out["node"] = "filter";
      ARROW_ASSIGN_OR_RAISE(
          out["predicate"],
          SerializeExpression(static_cast<const FilterNode&>(*node).predicate()));
      break;
    }
    case NodeKind::kProject: {
      const auto& project = static_cast<const ProjectNode&>(*node);
      out["node"] = "project";
      ARROW_ASSIGN_OR_RAISE(out["exprs"], ExpressionsToJson(project.exprs()));
      out["names"] = project.names();
      break;
    }
    case NodeKind::kMapBatches: {
      const auto& map = static_cast<const MapBatchesNode&>(*node);
      if (!codecs.serialize_function) {
        return arrow::Status::NotImplemented("no codec serializes the function of ",
                                             node->ToString());
      }
      ARROW_ASSIGN_OR_RAISE(auto part, codecs.serialize_function(map));
      const MapBatchesOptions& options = map.options();
      out["node"] = "map_batches";
      out["function"] = PartToJson(part);
      out["name"] = options.name;
      if (options.batch_size) out["batch_size"] = *options.batch_size;
      out["min_actors"] = options.min_actors;
      out["max_actors"] = options.max_actors;
      out["max_concurrency"] = options.max_concurrency;
      break;
    }
    case NodeKind::kLimit:
      out["node"] = "limit";
      out["limit"] = static_cast<const LimitNode&>(*node).limit();
      break;
    case NodeKind::kSort: {
      out["node"] = "sort";
      json keys = json::array();
      for (const auto& key : static_cast<const SortNode&>(*node).keys()) {
        keys.push_back({{"column", key.column},
                        {"descending", key.descending},
                        {"nulls_first", key.nulls_first}});
      }
      out["keys"] = std::move(keys);
      break;
    }
    case NodeKind::kAggregate: {
      const auto& aggregate = static_cast<const AggregateNode&>(*node);
      out["node"] = "aggregate";
      out["keys"] = aggregate.keys();
      json aggregates = json::array();
      for (const auto& a : aggregate.aggregates()) {
        aggregates.push_back(
            {{"function", a.function}, {"column", a.column}, {"output_name", a.output_name}});
      }
      out["aggregates"] = std::move(aggregates);
      break;
    }
    case NodeKind::kRepartition: {
      const auto& repartition = static_cast<const RepartitionNode&>(*node);
      out["node"] = "repartition";
      out["num_blocks"] = repartition.num_blocks();
      out["keys"] = repartition.keys();
      break;
    }
    case NodeKind::kUnion:
      out["node"] = "union";
      break;
    case NodeKind::kJoin: {
      const auto& join = static_cast<const JoinNode&>(*node);
      out["node"] = "join";
      out["left_keys"] = join.options().left_keys;
      out["right_keys"] = join.options().right_keys;
      out["how"] = JoinTypeName(join.options().how);
      out["right_suffix"] = join.options().right_suffix;
      out["right_names"] = join.right_names();
      break;
    }
    case NodeKind::kWrite: {
      const auto& write = static_cast<const WriteNode&>(*node);
      if (!codecs.serialize_sink) {
        return arrow::Status::NotImplemented("no codec serializes the sink ", node->ToString());
      }
      ARROW_ASSIGN_OR_RAISE(auto part, codecs.serialize_sink(*write.sink()));
      out["node"] = "write";
      out["sink"] = PartToJson(part);
      break;
    }
  }
  return out;
}

arrow::Result<PlanNodePtr> NodeFromJson(const json& object, const PlanCodecs& codecs, int depth);

arrow::Result<std::vector<PlanNodePtr>> InputsFromJson(const json& object, const PlanCodecs& codecs,
                                                       int depth, size_t expected) {
  if (!object.is_object() || !object.contains("inputs") || !object["inputs"].is_array()) {
    return arrow::Status::Invalid("serialized plan: a node without its inputs");
  }
  const json& inputs = object["inputs"];
  if (expected != SIZE_MAX && inputs.size() != expected) {
    return arrow::Status::Invalid("serialized plan: a node with ", inputs.size(),
                                  " inputs where ", expected, " belong");
  }
  std::vector<PlanNodePtr> nodes;
  for (const auto& input : inputs) {
    ARROW_ASSIGN_OR_RAISE(auto node, NodeFromJson(input, codecs, depth + 1));
    nodes.push_back(std::move(node));
  }
  return nodes;
}

/// What every node reader gets: the node's JSON, the codecs, and its depth.
struct NodeReading {
  const json& object;
  const PlanCodecs& codecs;
  int depth;

  arrow::Result<PlanNodePtr> OneInput() const {
    ARROW_ASSIGN_OR_RAISE(auto inputs, InputsFromJson(object, codecs, depth, 1));
    return inputs[0];
  }
};

arrow::Result<PlanNodePtr> SourceFromJson(const NodeReading& r) {
  ARROW_RETURN_NOT_OK(InputsFromJson(r.object, r.codecs, r.depth, 0).status());
  if (!r.codecs.deserialize_source) return arrow::Status::NotImplemented("no source codec");
  ARROW_ASSIGN_OR_RAISE(auto part, PartFromJson(Member(r.object, "source")));
  ARROW_ASSIGN_OR_RAISE(auto spec, r.codecs.deserialize_source(part));
  Pushdown pushdown;
  if (r.object.contains("columns")) {
    ARROW_ASSIGN_OR_RAISE(pushdown.columns, Field<std::vector<std::string>>(r.object, "columns"));
  }
  if (r.object.contains("filter")) {
    ARROW_ASSIGN_OR_RAISE(auto text, Field<std::string>(r.object, "filter"));
    ARROW_ASSIGN_OR_RAISE(pushdown.filter, DeserializeExpression(text));
  }
  if (r.object.contains("limit")) {
    ARROW_ASSIGN_OR_RAISE(pushdown.limit, IntField<int64_t>(r.object, "limit"));
  }
  return SourceNode::Make(std::move(spec), std::move(pushdown));
}

arrow::Result<PlanNodePtr> FilterFromJson(const NodeReading& r) {
  ARROW_ASSIGN_OR_RAISE(auto input, r.OneInput());
  ARROW_ASSIGN_OR_RAISE(auto text, Field<std::string>(r.object, "predicate"));
  ARROW_ASSIGN_OR_RAISE(auto predicate, DeserializeExpression(text));
  return FilterNode::Make(std::move(input), std::move(predicate));
}

arrow::Result<PlanNodePtr> ProjectFromJson(const NodeReading& r) {
  ARROW_ASSIGN_OR_RAISE(auto input, r.OneInput());
  ARROW_ASSIGN_OR_RAISE(auto exprs, ExpressionsFromJson(r.object, "exprs"));
  ARROW_ASSIGN_OR_RAISE(auto names, Field<std::vector<std::string>>(r.object, "names"));
  return ProjectNode::Make(std::move(input), std::move(exprs), std::move(names));
}

arrow::Result<PlanNodePtr> MapBatchesFromJson(const NodeReading& r) {
  ARROW_ASSIGN_OR_RAISE(auto input, r.OneInput());
  if (!r.codecs.deserialize_function) return arrow::Status::NotImplemented("no function codec");
  ARROW_ASSIGN_OR_RAISE(auto part, PartFromJson(Member(r.object, "function")));
  ARROW_ASSIGN_OR_RAISE(DeserializedFunction function, r.codecs.deserialize_function(part));
  MapBatchesOptions options;
  options.serialize = std::move(function.serialize);
  ARROW_ASSIGN_OR_RAISE(options.name, Field<std::string>(r.object, "name"));
  if (r.object.contains("batch_size")) {
    ARROW_ASSIGN_OR_RAISE(options.batch_size, IntField<int64_t>(r.object, "batch_size"));
  }
  ARROW_ASSIGN_OR_RAISE(options.min_actors, IntField<int>(r.object, "min_actors"));
  ARROW_ASSIGN_OR_RAISE(options.max_actors, IntField<int>(r.object, "max_actors"));
  ARROW_ASSIGN_OR_RAISE(options.max_concurrency, IntField<int>(r.object, "max_concurrency"));
  return MapBatchesNode::Make(std::move(input), std::move(function.factory), std::move(options));
}

arrow::Result<PlanNodePtr> LimitFromJson(const NodeReading& r) {
  ARROW_ASSIGN_OR_RAISE(auto input, r.OneInput());
  ARROW_ASSIGN_OR_RAISE(auto limit, IntField<int64_t>(r.object, "limit"));
  return LimitNode::Make(std::move(input), limit);
}

arrow::Result<PlanNodePtr> SortFromJson(const NodeReading& r) {
  ARROW_ASSIGN_OR_RAISE(auto input, r.OneInput());
  const json& keys_json = Member(r.object, "keys");
  if (!keys_json.is_array()) return arrow::Status::Invalid("serialized plan: sort keys");
  std::vector<SortKey> keys;
  for (const auto& key : keys_json) {
    SortKey sort_key;
    ARROW_ASSIGN_OR_RAISE(sort_key.column, Field<std::string>(key, "column"));
    ARROW_ASSIGN_OR_RAISE(sort_key.descending, Field<bool>(key, "descending"));
    ARROW_ASSIGN_OR_RAISE(sort_key.nulls_first, Field<bool>(key, "nulls_first"));
    keys.push_back(std::move(sort_key));
  }
  return SortNode::Make(std::move(input), std::move(keys));
}

arrow::Result<PlanNodePtr> AggregateFromJson(const NodeReading& r) {
  ARROW_ASSIGN_OR_RAISE(auto input, r.OneInput());
  ARROW_ASSIGN_OR_RAISE(auto keys, Field<std::vector<std::string>>(r.object, "keys"));
  const json& aggregates_json = Member(r.object, "aggregates");
  if (!aggregates_json.is_array()) return arrow::Status::Invalid("serialized plan: aggregates");
  std::vector<Aggregate> aggregates;
  for (const auto& a : aggregates_json) {
    Aggregate aggregate;
    ARROW_ASSIGN_OR_RAISE(aggregate.function, Field<std::string>(a, "function"));
    ARROW_ASSIGN_OR_RAISE(aggregate.column, Field<std::string>(a, "column"));
    ARROW_ASSIGN_OR_RAISE(aggregate.output_name, Field<std::string>(a, "output_name"));
    aggregates.push_back(std::move(aggregate));
  }
  return AggregateNode::Make(std::move(input), std::move(keys), std::move(aggregates));
}

arrow::Result<PlanNodePtr> RepartitionFromJson(const NodeReading& r) {
  ARROW_ASSIGN_OR_RAISE(auto input, r.OneInput());
  ARROW_ASSIGN_OR_RAISE(auto blocks, IntField<int>(r.object, "num_blocks"));
  ARROW_ASSIGN_OR_RAISE(auto keys, Field<std::vector<std::string>>(r.object, "keys"));
  return RepartitionNode::Make(std::move(input), blocks, std::move(keys));
}

arrow::Result<PlanNodePtr> UnionFromJson(const NodeReading& r) {
  ARROW_ASSIGN_OR_RAISE(auto inputs, InputsFromJson(r.object, r.codecs, r.depth, SIZE_MAX));
  return UnionNode::Make(std::move(inputs));
}

arrow::Result<PlanNodePtr> JoinFromJson(const NodeReading& r) {
  ARROW_ASSIGN_OR_RAISE(auto inputs, InputsFromJson(r.object, r.codecs, r.depth, 2));
  JoinOptions options;
  ARROW_ASSIGN_OR_RAISE(options.left_keys, Field<std::vector<std::string>>(r.object, "left_keys"));
  ARROW_ASSIGN_OR_RAISE(options.right_keys,
                        Field<std::vector<std::string>>(r.object, "right_keys"));
  ARROW_ASSIGN_OR_RAISE(auto how, Field<std::string>(r.object, "how"));
  ARROW_ASSIGN_OR_RAISE(options.how, ParseJoinType(how));
  ARROW_ASSIGN_OR_RAISE(options.right_suffix, Field<std::string>(r.object, "right_suffix"));
  using Names = std::map<std::string, std::string>;
  ARROW_ASSIGN_OR_RAISE(auto right_names, Field<Names>(r.object, "right_names"));
  return JoinNode::Make(std::move(inputs[0]), std::move(inputs[1]), std::move(options),
                        std::move(right_names));
}

arrow::Result<PlanNodePtr> WriteFromJson(const NodeReading& r) {
  ARROW_ASSIGN_OR_RAISE(auto input, r.OneInput());
  if (!r.codecs.deserialize_sink) return arrow::Status::NotImplemented("no sink codec");
  ARROW_ASSIGN_OR_RAISE(auto part, PartFromJson(Member(r.object, "sink")));
  ARROW_ASSIGN_OR_RAISE(auto sink, r.codecs.deserialize_sink(part));
  return WriteNode::Make(std::move(input), std::move(sink));
}

arrow::Result<PlanNodePtr> NodeFromJson(const json& object, const PlanCodecs& codecs, int depth) {
  // Kept small: it is on the stack once per level of the plan.
  using Reader = arrow::Result<PlanNodePtr> (*)(const NodeReading&);
  static const std::map<std::string, Reader> kReaders = {
      {"source", SourceFromJson},   {"filter", FilterFromJson},
      {"project", ProjectFromJson}, {"map_batches", MapBatchesFromJson},
      {"limit", LimitFromJson},     {"sort", SortFromJson},
      {"aggregate", AggregateFromJson}, {"repartition", RepartitionFromJson},
      {"union", UnionFromJson},     {"join", JoinFromJson},
      {"write", WriteFromJson}};
  if (depth > kMaxSerializedPlanDepth) {
    return arrow::Status::Invalid("serialized plan: nested more than ", kMaxSerializedPlanDepth,
                                  " nodes deep");
  }
  const json& kind = Member(object, "node");
  if (!kind.is_string()) return arrow::Status::Invalid("serialized plan: a node without a kind");
  const auto reader = kReaders.find(kind.get_ref<const std::string&>());
  if (reader == kReaders.end()) {
    return arrow::Status::Invalid("serialized plan: unknown node '",
                                  kind.get_ref<const std::string&>(), "'");
  }
  return reader->second(NodeReading{object, codecs, depth});
}

}  // namespace

arrow::Result<std::string> SerializeExpression(const cp::Expression& expr) {
  ARROW_ASSIGN_OR_RAISE(std::shared_ptr<arrow::Buffer> buffer, cp::Serialize(expr));
  return arrow::util::base64_encode(buffer->ToString());
}

arrow::Result<cp::Expression> DeserializeExpression(const std::string& text) {
  ARROW_ASSIGN_OR_RAISE(std::string bytes, arrow::util::base64_decode(text));
  auto expr = cp::Deserialize(arrow::Buffer::FromString(std::move(bytes)));
  if (!expr.ok()) {
    return expr.status().WithMessage("serialized plan: a damaged expression: ",
                                     expr.status().message());
  }
  return expr;
}

arrow::Result<std::string> SerializeSchema(const std::shared_ptr<arrow::Schema>& schema) {
  if (!schema) return arrow::Status::Invalid("cannot serialize a null schema");
  ARROW_ASSIGN_OR_RAISE(auto buffer, arrow::ipc::SerializeSchema(*schema));
  return arrow::util::base64_encode(buffer->ToString());
}

arrow::Result<std::shared_ptr<arrow::Schema>> DeserializeSchema(const std::string& text) {
  ARROW_ASSIGN_OR_RAISE(std::string bytes, arrow::util::base64_decode(text));
  arrow::io::BufferReader input(arrow::Buffer::FromString(std::move(bytes)));
  arrow::ipc::DictionaryMemo memo;
  auto schema = arrow::ipc::ReadSchema(&input, &memo);
  if (!schema.ok()) {
    return schema.status().WithMessage("serialized plan: a damaged schema: ",
                                       schema.status().message());
  }
  return schema;
}

arrow::Result<std::string> SerializePlan(const PlanNodePtr& root, const PlanCodecs& codecs) {
  if (!root) return arrow::Status::Invalid("cannot serialize a null plan");
  ARROW_ASSIGN_OR_RAISE(json document, NodeToJson(root, codecs));
  document["sluice_plan"] = 1;
  return document.dump();
}

arrow::Result<PlanNodePtr> DeserializePlan(const std::string& bytes, const PlanCodecs& codecs) {
  // Parsed without exceptions, and nlohmann's parser keeps its own stack.
  json document = json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) return arrow::Status::Invalid("serialized plan: not JSON");
  const bool versioned = document.is_object() && document.contains("sluice_plan") &&
                         document["sluice_plan"].is_number_integer() &&
                         document["sluice_plan"].get<int64_t>() == 1;
  if (!versioned) {
    return arrow::Status::Invalid("serialized plan: not a Sluice plan of version 1");
  }
  return NodeFromJson(document, codecs, 0);
}

}  // namespace sluice::plan
