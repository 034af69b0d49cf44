#include "operators/sort_operator.h"

#include <arrow/compute/api_vector.h>

#include <algorithm>

#include "operators/materialized_tasks.h"

namespace sluice::operators {

namespace cp = arrow::compute;

arrow::Result<std::unique_ptr<exec::TaskSource>> MakeSortTaskSource(
    exec::ExecContext* ctx, std::unique_ptr<exec::TaskSource> input, std::vector<SortKey> keys,
    exec::OperatorCounters* counters) {
  if (keys.empty()) return arrow::Status::Invalid("sort: no keys given");
  auto shared_input = std::make_shared<std::unique_ptr<exec::TaskSource>>(std::move(input));
  auto produce = [ctx, shared_input, keys, counters]() -> arrow::Result<MaterializedRows> {
    ARROW_ASSIGN_OR_RAISE(auto table,
                          CollectInput(ctx, std::move(*shared_input), nullptr, counters));
    if (table->num_rows() == 0) return MaterializedRows{std::move(table), nullptr};
    std::vector<cp::SortKey> sort_keys;
    for (const auto& key : keys) {
      if (table->schema()->GetFieldIndex(key.column) < 0) {
        return arrow::Status::KeyError("sort: no column named '", key.column, "'");
      }
      sort_keys.emplace_back(
          arrow::FieldRef(key.column),
          key.descending ? cp::SortOrder::Descending : cp::SortOrder::Ascending,
          key.nulls_first ? cp::NullPlacement::AtStart : cp::NullPlacement::AtEnd);
    }
    cp::SortOptions options(sort_keys);
    std::shared_ptr<arrow::Array> indices;
    {
      exec::ScopedTimer timer(counters ? &counters->cpu_nanos : nullptr);
      ARROW_ASSIGN_OR_RAISE(indices,
                            cp::SortIndices(arrow::Datum(table), options, ctx->compute_context()));
    }
    // The rows are gathered in sorted order batch by batch, on the workers reading them.
    return MaterializedRows{std::move(table), std::move(indices)};
  };
  // A multiple of the worker count of tasks, so the gather and what follows (a writer's
  // encoding) keep every worker busy to the end; at most about a million rows per task,
  // so output files (one per task) stay a useful size.
  auto rows_per_task = [ctx](int64_t total) -> int64_t {
    const int64_t workers = std::max(1, ctx->config().num_threads);
    constexpr int64_t kMaxRowsPerTask = 1 << 20;
    const int64_t rounds = (total + workers * kMaxRowsPerTask - 1) / (workers * kMaxRowsPerTask);
    const int64_t tasks = workers * std::max<int64_t>(1, rounds);
    return std::max<int64_t>(ctx->config().batch_rows, (total + tasks - 1) / tasks);
  };
  return MakeMaterializedTaskSource(ctx, "sort", std::move(produce), rows_per_task, counters);
}

}  // namespace sluice::operators
