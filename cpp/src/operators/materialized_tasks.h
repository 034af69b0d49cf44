#pragma once

#include <arrow/table.h>

#include <functional>
#include <memory>

#include "core/batch_stream.h"
#include "runtime/exec_context.h"

namespace sluice::operators {

/// What a pipeline breaker produced: a table, read either in its own order or through
/// `order` (row indices into the table, e.g. a sort's result).
struct MaterializedRows {
  std::shared_ptr<arrow::Table> table;
  /// Null: the table's own order.
  std::shared_ptr<arrow::Array> order;

  int64_t num_rows() const { return order ? order->length() : table->num_rows(); }
};

/// The task source of a pipeline breaker: on the first request it runs `produce` (which
/// drains the input pipeline and builds the rows), then hands out the rows in slices of
/// `rows_per_task`, each read as batches of the configured batch size. With an `order`,
/// each batch's rows are gathered from the table by the worker that reads the task, so
/// the gather runs in parallel and the reordered copy never exists in full.
std::unique_ptr<exec::TaskSource> MakeMaterializedTaskSource(
    exec::ExecContext* ctx, std::string label,
    std::function<arrow::Result<MaterializedRows>()> produce,
    std::function<int64_t(int64_t total_rows)> rows_per_task, exec::OperatorCounters* counters);

/// Rows per task for handing out `total` materialized rows: a multiple of the worker count
/// of tasks, so the gather and what follows (a writer's encoding) keep every worker busy
/// to the end, at most about a million rows each, so output files (one per task) stay a
/// useful size.
int64_t BalancedRowsPerTask(const exec::ExecContext& ctx, int64_t total);

/// Runs `input` to completion in order and returns its rows as one table (schema from the
/// first batch, or `schema` when there are none).
arrow::Result<std::shared_ptr<arrow::Table>> CollectInput(
    exec::ExecContext* ctx, std::unique_ptr<exec::TaskSource> input,
    const std::shared_ptr<arrow::Schema>& schema, exec::OperatorCounters* counters);

}  // namespace sluice::operators
