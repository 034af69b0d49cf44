#pragma once

#include "exec/batch_stream.h"
#include "exec/exec_context.h"
#include "sluice/dataset.h"

namespace sluice::operators {

/// Sorts the whole input by `keys` (stable; nulls placed per key). Holds its input in
/// memory; spilling is a later step.
arrow::Result<std::unique_ptr<exec::TaskSource>> MakeSortTaskSource(
    exec::ExecContext* ctx, std::unique_ptr<exec::TaskSource> input, std::vector<SortKey> keys,
    exec::OperatorCounters* counters);

}  // namespace sluice::operators
