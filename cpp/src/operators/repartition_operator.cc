#include "operators/repartition_operator.h"

#include "operators/materialized_tasks.h"

namespace sluice::operators {

arrow::Result<std::unique_ptr<exec::TaskSource>> MakeRepartitionTaskSource(
    exec::ExecContext* ctx, std::unique_ptr<exec::TaskSource> input, int num_blocks,
    exec::OperatorCounters* counters) {
  if (num_blocks <= 0) return arrow::Status::Invalid("repartition: num_blocks must be positive");
  auto shared_input = std::make_shared<std::unique_ptr<exec::TaskSource>>(std::move(input));
  auto produce = [ctx, shared_input, counters]() -> arrow::Result<MaterializedRows> {
    ARROW_ASSIGN_OR_RAISE(auto table,
                          CollectInput(ctx, std::move(*shared_input), nullptr, counters));
    return MaterializedRows{std::move(table), nullptr};
  };
  auto rows_per_task = [num_blocks](int64_t total) {
    return (total + num_blocks - 1) / num_blocks;
  };
  return MakeMaterializedTaskSource(ctx, "repartition", std::move(produce), rows_per_task,
                                    counters);
}

}  // namespace sluice::operators
