#pragma once

#include <arrow/table.h>

#include <functional>
#include <memory>

#include "exec/batch_stream.h"
#include "exec/exec_context.h"

namespace sluice::operators {

/// The task source of a pipeline breaker: on the first request it runs `produce` (which
/// drains the input pipeline and builds a table), then hands out the table in slices of
/// `rows_per_task` rows, each read as batches of the configured batch size.
std::unique_ptr<exec::TaskSource> MakeMaterializedTaskSource(
    exec::ExecContext* ctx, std::string label,
    std::function<arrow::Result<std::shared_ptr<arrow::Table>>()> produce,
    std::function<int64_t(int64_t total_rows)> rows_per_task, exec::OperatorCounters* counters);

/// Runs `input` to completion in order and returns its rows as one table (schema from the
/// first batch, or `schema` when there are none).
arrow::Result<std::shared_ptr<arrow::Table>> CollectInput(
    exec::ExecContext* ctx, std::unique_ptr<exec::TaskSource> input,
    const std::shared_ptr<arrow::Schema>& schema, exec::OperatorCounters* counters);

}  // namespace sluice::operators
