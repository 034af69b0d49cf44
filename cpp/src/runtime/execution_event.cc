#include "sluice/events.h"

namespace sluice {

const char* ExecutionEventName(ExecutionEventKind kind) {
  switch (kind) {
    case ExecutionEventKind::kExecutionStarted:
      return "execution_started";
    case ExecutionEventKind::kOperatorStarted:
      return "operator_started";
    case ExecutionEventKind::kProgress:
      return "progress";
    case ExecutionEventKind::kOperatorFinished:
      return "operator_finished";
    case ExecutionEventKind::kWarning:
      return "warning";
    case ExecutionEventKind::kExecutionFinished:
      return "execution_finished";
  }
  return "unknown";
}

}  // namespace sluice
