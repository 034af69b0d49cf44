#pragma once

#include <string>
#include <vector>

#include "core/batch_stream.h"
#include "runtime/exec_context.h"
#include "sluice/dataset.h"

namespace sluice::operators {

/// Hash group-by (or a global aggregate when `keys` is empty), streaming its input through
/// Arrow's Acero aggregate node. Output rows are sorted by the keys, as in Ray Data.
arrow::Result<std::unique_ptr<exec::TaskSource>> MakeAggregateTaskSource(
    exec::ExecContext* ctx, std::unique_ptr<exec::TaskSource> input,
    std::shared_ptr<arrow::Schema> input_schema, std::vector<std::string> keys,
    std::vector<Aggregate> aggregates, exec::OperatorCounters* counters);

}  // namespace sluice::operators
