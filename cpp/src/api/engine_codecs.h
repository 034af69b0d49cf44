#pragma once

#include <memory>

#include "runtime/session_state.h"
#include "plan/plan_serialization.h"

namespace sluice {

/// The plan codecs of the engine: sources from io (read back with the settings of
/// `session`, null: the default one), user functions from the deserializers registered
/// by kind (RegisterFunctionDeserializer).
plan::PlanCodecs EngineCodecs(std::shared_ptr<exec::SessionState> session);

}  // namespace sluice
