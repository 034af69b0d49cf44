#pragma once

#include "core/batch_stream.h"
#include "runtime/exec_context.h"
#include "sluice/dataset.h"

namespace sluice::operators {

/// Sorts the whole input by `keys` (stable; nulls placed per key), in memory when it fits
/// the operator's share of the budget, otherwise as an external merge sort of runs
/// spilled to the execution's spill directory.
arrow::Result<std::unique_ptr<exec::TaskSource>> MakeSortTaskSource(
    exec::ExecContext* ctx, std::unique_ptr<exec::TaskSource> input, std::vector<SortKey> keys,
    exec::OperatorCounters* counters);

}  // namespace sluice::operators
