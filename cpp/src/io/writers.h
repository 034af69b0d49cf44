#pragma once

#include <memory>
#include <string>

#include "exec/session_state.h"
#include "plan/logical_plan.h"
#include "sluice/dataset.h"
#include "sluice/options.h"

namespace sluice::io {

enum class FileFormat { kParquet, kCsv, kJson };

/// Runs `plan` (already optimized) and writes its rows under `path` in `format`, one file
/// per scan task (rolled over at max_rows_per_file), under Hive `key=value/` directories
/// when partition columns are given. Files are staged in a hidden directory and published
/// only after every file is written; on failure the staging directory is removed and the
/// target is left as it was. `stats_out` receives the execution counters. Runs in
/// `session` (null: the default session).
arrow::Result<WriteResult> WritePlan(const plan::PlanNodePtr& plan, const std::string& path,
                                     FileFormat format, const WriteOptions& options,
                                     std::shared_ptr<ExecutionStats> stats_out,
                                     std::shared_ptr<exec::SessionState> session = nullptr);

}  // namespace sluice::io
