#pragma once

#include <memory>

#include "runtime/session_state.h"
#include "plan/logical_plan.h"
#include "sluice/dataset.h"
#include "sluice/options.h"

namespace sluice::exec {

/// Runs a plan whose root is a WriteNode: begins the write on its sink, runs the input's
/// tasks through the sink's task writer on the workers, and commits once with the tasks'
/// results (in task order). On any failure or cancellation the write is aborted and the
/// target is left as it was. Optimizes nothing: pass an optimized plan. `stats_out`
/// receives the execution's figures; runs in `session` (null: the default session).
arrow::Result<WriteResult> RunWrite(const plan::PlanNodePtr& write_plan,
                                    std::shared_ptr<ExecutionStats> stats_out,
                                    std::shared_ptr<SessionState> session = nullptr);

}  // namespace sluice::exec
