#pragma once

// What the engine shows on a terminal, as execution listeners: the progress line and
// warnings. Nothing else in the engine writes to stderr.

#include <memory>

#include "sluice/events.h"

namespace sluice::exec {

/// Redraws one status line on stderr (operators, rows, rows/s, memory) while an
/// execution runs, from its kProgress events once it has run for a second, and clears it
/// at kExecutionFinished. One per execution; null when stderr is not a terminal (tests,
/// pipes and logs get nothing).
std::shared_ptr<ExecutionListener> MakeProgressLineOnTerminal();

/// Prints kWarning events to stderr as "sluice: warning: ...". Every session has one.
std::shared_ptr<ExecutionListener> MakeStderrWarnings();

}  // namespace sluice::exec
