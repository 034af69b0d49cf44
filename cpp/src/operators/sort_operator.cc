#include "operators/sort_operator.h"

#include <arrow/compute/api_vector.h>

#include "operators/materialized_tasks.h"

namespace sluice::operators {

namespace cp = arrow::compute;

arrow::Result<std::unique_ptr<exec::TaskSource>> MakeSortTaskSource(
    exec::ExecContext* ctx, std::unique_ptr<exec::TaskSource> input, std::vector<SortKey> keys,
    exec::OperatorCounters* counters) {
  if (keys.empty()) return arrow::Status::Invalid("sort: no keys given");
  auto shared_input = std::make_shared<std::unique_ptr<exec::TaskSource>>(std::move(input));
  auto produce = [ctx, shared_input, keys,
                  counters]() -> arrow::Result<std::shared_ptr<arrow::Table>> {
    ARROW_ASSIGN_OR_RAISE(auto table,
                          CollectInput(ctx, std::move(*shared_input), nullptr, counters));
    if (table->num_rows() == 0) return table;
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
    ARROW_ASSIGN_OR_RAISE(auto indices,
                          cp::SortIndices(arrow::Datum(table), options, ctx->compute_context()));
    ARROW_ASSIGN_OR_RAISE(
        arrow::Datum sorted,
        cp::Take(table, indices, cp::TakeOptions::NoBoundsCheck(), ctx->compute_context()));
    return sorted.table();
  };
  // Slices of about a million rows keep output files (one per task) a useful size.
  auto rows_per_task = [](int64_t) -> int64_t { return 1 << 20; };
  return MakeMaterializedTaskSource(ctx, "sort", std::move(produce), rows_per_task, counters);
}

}  // namespace sluice::operators
