#pragma once

#include <string>
#include <vector>

#include "core/batch_stream.h"
#include "runtime/exec_context.h"

namespace sluice::operators {

/// Without `keys`, splits the input, in order, into `num_blocks` tasks of nearly equal row
/// counts (held in memory). With keys, task i holds the rows whose keys hash to i, in
/// arrival order; the partitions spill to disk when they outgrow the operator's share of
/// the budget. A write after it produces a file per non-empty task.
arrow::Result<std::unique_ptr<exec::TaskSource>> MakeRepartitionTaskSource(
    exec::ExecContext* ctx, std::unique_ptr<exec::TaskSource> input, int num_blocks,
    std::vector<std::string> keys, exec::OperatorCounters* counters);

}  // namespace sluice::operators
