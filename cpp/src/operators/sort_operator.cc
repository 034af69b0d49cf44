#include "operators/sort_operator.h"

#include "runtime/pipeline.h"
#include "operators/external_sorter.h"

namespace sluice::operators {

arrow::Result<std::unique_ptr<exec::TaskSource>> MakeSortTaskSource(
    exec::ExecContext* ctx, std::unique_ptr<exec::TaskSource> input, std::vector<SortKey> keys,
    exec::OperatorCounters* counters) {
  if (keys.empty()) return arrow::Status::Invalid("sort: no keys given");
  auto shared_input = std::make_shared<std::unique_ptr<exec::TaskSource>>(std::move(input));
  auto produce = [ctx, shared_input, keys, counters]() -> arrow::Result<SortedOutput> {
    ARROW_ASSIGN_OR_RAISE(auto sorter, ExternalSorter::Make(ctx, nullptr, keys, counters));
    ARROW_ASSIGN_OR_RAISE(auto runner, exec::PipelineRunner::Start(ctx, std::move(*shared_input)));
    while (true) {
      ARROW_ASSIGN_OR_RAISE(exec::BatchPtr batch, runner->Next());
      if (!batch) break;
      if (counters) counters->rows_in.fetch_add(batch->num_rows());
      ARROW_RETURN_NOT_OK(sorter->Add(std::move(batch)));
    }
    runner.reset();
    return sorter->Finish();
  };
  return MakeSortedOutputTaskSource(ctx, "sort", std::move(produce), counters);
}

}  // namespace sluice::operators
