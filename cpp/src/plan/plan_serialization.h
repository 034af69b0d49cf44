#pragma once

// Plans as bytes: what a runner sends to another process (a Ray task) and back. A plan is
// a JSON document; expressions inside it are Arrow's own serialization
// (arrow::compute::Serialize, base64), schemas Arrow IPC. The plan layer knows no source,
// sink or user function: whoever serializes passes codecs for them (PlanCodecs), so the
// bytes of a Parquet source or a pickled Python function are made by the layer that owns
// them.

#include <arrow/compute/expression.h>
#include <arrow/result.h>

#include <functional>
#include <memory>
#include <string>

#include "plan/logical_plan.h"

namespace sluice::plan {

struct PlanCodecs {
  std::function<arrow::Result<SerializedPart>(const SourceSpec&)> serialize_source;
  std::function<arrow::Result<std::shared_ptr<const SourceSpec>>(const SerializedPart&)>
      deserialize_source;
  std::function<arrow::Result<SerializedPart>(const SinkSpec&)> serialize_sink;
  std::function<arrow::Result<std::shared_ptr<const SinkSpec>>(const SerializedPart&)>
      deserialize_sink;
  /// A map_batches function: its factory and options (the options' name and sizes are
  /// serialized by the plan; the payload is the function itself).
  std::function<arrow::Result<SerializedPart>(const MapBatchesNode&)> serialize_function;
  std::function<arrow::Result<DeserializedFunction>(const SerializedPart&)> deserialize_function;
};

arrow::Result<std::string> SerializeExpression(const arrow::compute::Expression& expr);
arrow::Result<arrow::compute::Expression> DeserializeExpression(const std::string& text);

/// A schema as base64 Arrow IPC (metadata included), and back; damaged text is Invalid.
arrow::Result<std::string> SerializeSchema(const std::shared_ptr<arrow::Schema>& schema);
arrow::Result<std::shared_ptr<arrow::Schema>> DeserializeSchema(const std::string& text);

/// `root` and everything below it. A node the codecs cannot serialize (a source without a
/// codec, a C++ user function) is NotImplemented, naming it.
arrow::Result<std::string> SerializePlan(const PlanNodePtr& root, const PlanCodecs& codecs);
/// The plan SerializePlan wrote, every node re-made (and so re-validated) by its Make().
/// Malformed bytes are Invalid, never a crash.
arrow::Result<PlanNodePtr> DeserializePlan(const std::string& bytes, const PlanCodecs& codecs);

}  // namespace sluice::plan
