// Dataset::SerializePlan / DeserializePlan: the plan codecs of the engine (sources from
// io, user functions from the deserializers registered by kind) around
// plan/plan_serialization.cc.

#include <arrow/util/base64.h>

#include <map>
#include <mutex>

#include <nlohmann/json.hpp>

#include "api/engine_codecs.h"
#include "connectors/files/file_sink.h"
#include "connectors/serialized_sources.h"
#include "optimizer/optimizer.h"
#include "plan/plan_serialization.h"
#include "sluice/dataset.h"
#include "sluice/udf.h"

namespace sluice {

namespace {

struct FunctionDeserializers {
  std::mutex mutex;
  std::map<std::string, FunctionDeserializer> by_kind;
};

FunctionDeserializers& Deserializers() {
  static auto* registry = new FunctionDeserializers();  // process-wide, never destroyed
  return *registry;
}

arrow::Result<DeserializedFunction> DeserializeFunction(const SerializedFunction& part);

/// A fused map_batches: each function of the chain read back, called in order.
arrow::Result<DeserializedFunction> DeserializeChain(const std::string& payload) {
  nlohmann::json parts = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (!parts.is_array() || parts.empty()) {
    return arrow::Status::Invalid("serialized plan: a damaged chain of functions");
  }
  std::vector<DeserializedFunction> functions;
  for (const auto& part : parts) {
    if (!part.is_object() || !part.contains("kind") || !part["kind"].is_string() ||
        !part.contains("payload") || !part["payload"].is_string()) {
      return arrow::Status::Invalid("serialized plan: a damaged chain of functions");
    }
    ARROW_ASSIGN_OR_RAISE(auto bytes,
                          arrow::util::base64_decode(part["payload"].get<std::string>()));
    ARROW_ASSIGN_OR_RAISE(auto function,
                          DeserializeFunction({part["kind"].get<std::string>(), bytes}));
    functions.push_back(std::move(function));
  }
  DeserializedFunction chain;
  chain.factory = [functions]() -> arrow::Result<BatchFunction> {
    std::vector<BatchFunction> calls;
    for (const auto& function : functions) {
      ARROW_ASSIGN_OR_RAISE(auto call, function.factory());
      calls.push_back(std::move(call));
    }
    return BatchFunction([calls](const std::shared_ptr<arrow::RecordBatch>& batch)
                             -> arrow::Result<std::shared_ptr<arrow::RecordBatch>> {
      std::shared_ptr<arrow::RecordBatch> current = batch;
      for (const auto& call : calls) {
        ARROW_ASSIGN_OR_RAISE(current, call(current));
      }
      return current;
    });
  };
  std::vector<std::function<arrow::Result<SerializedFunction>()>> serializers;
  for (const auto& function : functions) serializers.push_back(function.serialize);
  chain.serialize = [serializers]() { return optimizer::ChainOfFunctions(serializers); };
  return chain;
}

arrow::Result<DeserializedFunction> DeserializeFunction(const SerializedFunction& part) {
  if (part.kind == optimizer::kChainedFunctionsKind) return DeserializeChain(part.payload);
  FunctionDeserializer deserializer;
  {
    std::lock_guard<std::mutex> lock(Deserializers().mutex);
    auto found = Deserializers().by_kind.find(part.kind);
    if (found == Deserializers().by_kind.end()) {
      return arrow::Status::NotImplemented("serialized plan: no deserializer for functions of "
                                           "kind '", part.kind, "' in this process");
    }
    deserializer = found->second;
  }
  return deserializer(part.payload);
}

}  // namespace

plan::PlanCodecs EngineCodecs(std::shared_ptr<exec::SessionState> session) {
  plan::PlanCodecs codecs;
  codecs.serialize_source = [](const plan::SourceSpec& spec) { return spec.Serialize(); };
  codecs.deserialize_source = [session](const plan::SerializedPart& part) {
    return io::DeserializeSource(part, session);
  };
  codecs.serialize_function =
      [](const plan::MapBatchesNode& node) -> arrow::Result<plan::SerializedPart> {
    if (!node.options().serialize) {
      return arrow::Status::NotImplemented(
          "the function of ", node.ToString(),
          " cannot leave this process (a C++ function; Python functions can)");
    }
    ARROW_ASSIGN_OR_RAISE(SerializedFunction function, node.options().serialize());
    return plan::SerializedPart{std::move(function.kind), std::move(function.payload)};
  };
  codecs.deserialize_function = [](const plan::SerializedPart& part) {
    return DeserializeFunction({part.kind, part.payload});
  };
  codecs.serialize_sink = [](const plan::SinkSpec& sink) { return sink.Serialize(); };
  codecs.deserialize_sink = io::DeserializeSink;
  return codecs;
}

void RegisterFunctionDeserializer(const std::string& kind, FunctionDeserializer deserializer) {
  std::lock_guard<std::mutex> lock(Deserializers().mutex);
  Deserializers().by_kind[kind] = std::move(deserializer);
}

arrow::Result<std::string> Dataset::SerializePlan(bool optimize) const {
  plan::PlanNodePtr plan = plan_;
  if (optimize) {
    ARROW_ASSIGN_OR_RAISE(plan, optimizer::Optimize(plan_));
  }
  return plan::SerializePlan(plan, EngineCodecs(session_.state()));
}

arrow::Result<Dataset> Dataset::DeserializePlan(const std::string& bytes, const Session& session) {
  ARROW_ASSIGN_OR_RAISE(auto plan, plan::DeserializePlan(bytes, EngineCodecs(session.state())));
  return Dataset(std::move(plan), session);
}

}  // namespace sluice
