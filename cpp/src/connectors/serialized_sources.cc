#include "connectors/serialized_sources.h"

#include <nlohmann/json.hpp>

#include "connectors/memory/memory_sources.h"
#include "formats/file_sources.h"
#include "plan/fragments.h"

namespace sluice::io {

namespace {

arrow::Result<std::shared_ptr<const plan::SourceSpec>> DeserializeSourceOrThrow(
    const plan::SerializedPart& part, const std::shared_ptr<exec::SessionState>& session) {
  if (part.kind == "parquet") return DeserializeParquetSource(part.payload, session);
  if (part.kind == "csv") return DeserializeCsvSource(part.payload, session);
  if (part.kind == "json") return DeserializeJsonSource(part.payload, session);
  if (part.kind == "text") return DeserializeTextSource(part.payload, session);
  if (part.kind == plan::kFragmentInputKind) {
    return plan::FragmentInputSource::Deserialize(part.payload);
  }
  if (IsMemorySourceKind(part.kind)) return DeserializeMemorySource(part);
  return arrow::Status::NotImplemented("cannot read back a source of kind '", part.kind, "'");
}

}  // namespace

arrow::Result<std::shared_ptr<const plan::SourceSpec>> DeserializeSource(
    const plan::SerializedPart& part, const std::shared_ptr<exec::SessionState>& session) {
  // The payload readers use nlohmann's checked accessors, which throw on damaged input.
  try {
    return DeserializeSourceOrThrow(part, session);
  } catch (const nlohmann::json::exception& error) {
    return arrow::Status::Invalid("serialized ", part.kind, " source: ", error.what());
  }
}

}  // namespace sluice::io
