#pragma once

// Sources and sinks read back from the bytes their Serialize wrote, whatever connector or
// format made them: the engine's codec for plans that come from other processes
// (api/plan_bytes.cc).

#include <memory>

#include "plan/sink_spec.h"
#include "plan/source_spec.h"
#include "runtime/session_state.h"

namespace sluice::io {

/// A source that SourceSpec::Serialize wrote (file sources, memory sources, fragment
/// inputs; whole or restricted to splits), its files opened with the settings of
/// `session` (null: the default session). Damaged payloads are Invalid, never a crash.
arrow::Result<std::shared_ptr<const plan::SourceSpec>> DeserializeSource(
    const plan::SerializedPart& part, const std::shared_ptr<exec::SessionState>& session = nullptr);

}  // namespace sluice::io
