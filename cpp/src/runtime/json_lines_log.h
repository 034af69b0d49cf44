#pragma once

#include <arrow/result.h>

#include <memory>
#include <string>

#include "sluice/events.h"

namespace sluice::exec {

/// The structured log of EngineConfig::log ("json:PATH", SLUICE_LOG): every event as one
/// JSON object per line, appended to PATH (made if missing, with its directory). Each
/// line is written with one write() on a file opened O_APPEND, so several processes may
/// share a log and a reader that tails it never sees half a line.
///
/// Lines are ExecutionEventToJson's.
arrow::Result<std::shared_ptr<ExecutionListener>> OpenJsonLinesLog(const std::string& setting);

}  // namespace sluice::exec
