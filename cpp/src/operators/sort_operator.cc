#include "operators/sort_operator.h"

#include <algorithm>

#include "exec/pipeline.h"
#include "operators/external_sorter.h"
#include "operators/materialized_tasks.h"

namespace sluice::operators {

namespace {

/// A multiple of the worker count of tasks, so the gather and what follows (a writer's
/// encoding) keep every worker busy to the end; at most about a million rows per task,
/// so output files (one per task) stay a useful size.
int64_t InMemoryRowsPerTask(const exec::ExecContext& ctx, int64_t total) {
  const int64_t workers = std::max(1, ctx.config().num_threads);
  constexpr int64_t kMaxRowsPerTask = 1 << 20;
  const int64_t rounds = (total + workers * kMaxRowsPerTask - 1) / (workers * kMaxRowsPerTask);
  const int64_t tasks = workers * std::max<int64_t>(1, rounds);
  return std::max<int64_t>(ctx.config().batch_rows, (total + tasks - 1) / tasks);
}

/// Drains the input into an ExternalSorter on the first request, then hands out the
/// sorted rows: slices gathered by the workers when they stayed in memory, or pieces of
/// the merge of the spilled runs, each merged while the workers process the pieces before.
class SortTaskSource : public exec::TaskSource {
 public:
  SortTaskSource(exec::ExecContext* ctx, std::unique_ptr<exec::TaskSource> input,
                 std::vector<SortKey> keys, exec::OperatorCounters* counters)
      : ctx_(ctx), input_(std::move(input)), keys_(std::move(keys)), counters_(counters) {}

  arrow::Result<std::optional<exec::ScanTask>> NextTask() override {
    if (!sorted_) ARROW_RETURN_NOT_OK(SortInput());
    if (in_memory_tasks_) return in_memory_tasks_->NextTask();
    ARROW_ASSIGN_OR_RAISE(exec::BatchPtr piece, [&]() -> arrow::Result<exec::BatchPtr> {
      exec::ScopedTimer timer(counters_ ? &counters_->cpu_nanos : nullptr);
      return output_.merged->Next(output_.merged_rows_per_piece);
    }());
    if (!piece) return std::nullopt;
    if (counters_) counters_->rows_out.fetch_add(piece->num_rows());
    exec::ScanTask task;
    task.label = "sort (merge of spilled runs)";
    const int64_t batch_rows = ctx_->config().batch_rows;
    task.open = [piece, batch_rows]() -> arrow::Result<std::unique_ptr<exec::BatchStream>> {
      return std::make_unique<exec::FunctionBatchStream>(
          [piece, batch_rows, offset = int64_t{0}]() mutable -> arrow::Result<exec::BatchPtr> {
            if (offset >= piece->num_rows()) return nullptr;
            exec::BatchPtr slice = piece->Slice(offset, batch_rows);
            offset += slice->num_rows();
            return slice;
          });
    };
    return task;
  }

 private:
  arrow::Status SortInput() {
    sorted_ = true;
    ARROW_ASSIGN_OR_RAISE(auto sorter, ExternalSorter::Make(ctx_, nullptr, keys_, counters_));
    ARROW_ASSIGN_OR_RAISE(auto runner, exec::PipelineRunner::Start(ctx_, std::move(input_)));
    while (true) {
      ARROW_ASSIGN_OR_RAISE(exec::BatchPtr batch, runner->Next());
      if (!batch) break;
      if (counters_) counters_->rows_in.fetch_add(batch->num_rows());
      ARROW_RETURN_NOT_OK(sorter->Add(std::move(batch)));
    }
    runner.reset();
    ARROW_ASSIGN_OR_RAISE(output_, sorter->Finish());
    if (!output_.merged) {
      auto rows = std::make_shared<MaterializedRows>(std::move(output_.in_memory));
      in_memory_tasks_ = MakeMaterializedTaskSource(
          ctx_, "sort", [rows]() -> arrow::Result<MaterializedRows> { return *rows; },
          [ctx = ctx_](int64_t total) { return InMemoryRowsPerTask(*ctx, total); }, counters_);
    }
    return arrow::Status::OK();
  }

  exec::ExecContext* ctx_;
  std::unique_ptr<exec::TaskSource> input_;
  std::vector<SortKey> keys_;
  exec::OperatorCounters* counters_;
  bool sorted_ = false;
  SortedOutput output_;
  std::unique_ptr<exec::TaskSource> in_memory_tasks_;
};

}  // namespace

arrow::Result<std::unique_ptr<exec::TaskSource>> MakeSortTaskSource(
    exec::ExecContext* ctx, std::unique_ptr<exec::TaskSource> input, std::vector<SortKey> keys,
    exec::OperatorCounters* counters) {
  if (keys.empty()) return arrow::Status::Invalid("sort: no keys given");
  return std::make_unique<SortTaskSource>(ctx, std::move(input), std::move(keys), counters);
}

}  // namespace sluice::operators
