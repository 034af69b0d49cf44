#include "operators/materialized_tasks.h"

#include <arrow/buffer.h>
#include <arrow/compute/api_vector.h>
#include <arrow/record_batch.h>

#include <algorithm>
#include <vector>

#include "compute/gather_rows.h"
#include "runtime/pipeline.h"

namespace sluice::operators {

namespace {

class MaterializedTaskSource : public exec::TaskSource {
 public:
  MaterializedTaskSource(exec::ExecContext* ctx, std::string label,
                         std::function<arrow::Result<MaterializedRows>()> produce,
                         std::function<int64_t(int64_t)> rows_per_task,
                         exec::OperatorCounters* counters)
      : ctx_(ctx),
        label_(std::move(label)),
        produce_(std::move(produce)),
        rows_per_task_(std::move(rows_per_task)),
        counters_(counters) {}

  arrow::Result<std::optional<exec::ScanTask>> NextTask() override {
    if (!produced_) {
      ARROW_ASSIGN_OR_RAISE(rows_, produce_());
      produced_ = true;
      if (counters_) counters_->rows_out.fetch_add(rows_.num_rows());
      if (rows_.order) {
        if (rows_.order->type_id() != arrow::Type::UINT64 || rows_.order->null_count() > 0) {
          return arrow::Status::Invalid(label_, ": row order must be non-null uint64 indices");
        }
        ARROW_ASSIGN_OR_RAISE(gatherable_, compute::IndexedBatches::Make(*rows_.table));
      }
      step_ = std::max<int64_t>(1, rows_per_task_(rows_.num_rows()));
    }
    if (offset_ >= rows_.num_rows()) return std::nullopt;
    exec::ScanTask task;
    task.label = label_;
    const int64_t batch_rows = ctx_->config().batch_rows;
    if (!rows_.order) {
      std::shared_ptr<arrow::Table> slice = rows_.table->Slice(offset_, step_);
      task.open = [slice, batch_rows]() -> arrow::Result<std::unique_ptr<exec::BatchStream>> {
        auto reader = std::make_shared<arrow::TableBatchReader>(slice);
        reader->set_chunksize(batch_rows);
        return std::make_unique<exec::FunctionBatchStream>(
            [reader]() -> arrow::Result<exec::BatchPtr> { return reader->Next(); });
      };
    } else {
      task.open =
          [ctx = ctx_, rows = gatherable_, counters = counters_,
           order = std::static_pointer_cast<arrow::UInt64Array>(rows_.order->Slice(offset_, step_)),
           batch_rows]() -> arrow::Result<std::unique_ptr<exec::BatchStream>> {
        return std::make_unique<exec::FunctionBatchStream>(
            [ctx, rows, counters, order, batch_rows,
             position = int64_t{0}]() mutable -> arrow::Result<exec::BatchPtr> {
              if (position >= order->length()) return nullptr;
              auto indices =
                  std::static_pointer_cast<arrow::UInt64Array>(order->Slice(position, batch_rows));
              position += indices->length();
              // The gather is the breaker's own work, so it counts as its time.
              exec::ScopedTimer timer(counters ? &counters->cpu_nanos : nullptr);
              auto batch = rows->Gather(*indices, ctx->compute_context());
              return batch;
            });
      };
    }
    offset_ += step_;
    return task;
  }

 private:
  exec::ExecContext* ctx_;
  std::string label_;
  std::function<arrow::Result<MaterializedRows>()> produce_;
  std::function<int64_t(int64_t)> rows_per_task_;
  exec::OperatorCounters* counters_;
  bool produced_ = false;
  MaterializedRows rows_;
  std::shared_ptr<const compute::IndexedBatches> gatherable_;  // set when rows_ has an order
  int64_t step_ = 1;
  int64_t offset_ = 0;
};

}  // namespace

std::unique_ptr<exec::TaskSource> MakeMaterializedTaskSource(
    exec::ExecContext* ctx, std::string label,
    std::function<arrow::Result<MaterializedRows>()> produce,
    std::function<int64_t(int64_t)> rows_per_task, exec::OperatorCounters* counters) {
  return std::make_unique<MaterializedTaskSource>(ctx, std::move(label), std::move(produce),
                                                  std::move(rows_per_task), counters);
}

arrow::Result<std::shared_ptr<arrow::Table>> CollectInput(
    exec::ExecContext* ctx, std::unique_ptr<exec::TaskSource> input,
    const std::shared_ptr<arrow::Schema>& schema, exec::OperatorCounters* counters) {
  ARROW_ASSIGN_OR_RAISE(auto runner, exec::PipelineRunner::Start(ctx, std::move(input)));
  ARROW_ASSIGN_OR_RAISE(auto table, exec::DrainToTable(runner.get(), schema));
  if (counters) counters->rows_in.fetch_add(table->num_rows());
  return table;
}

int64_t BalancedRowsPerTask(const exec::ExecContext& ctx, int64_t total) {
  const int64_t workers = std::max(1, ctx.config().num_threads);
  constexpr int64_t kMaxRowsPerTask = 1 << 20;
  const int64_t rounds = (total + workers * kMaxRowsPerTask - 1) / (workers * kMaxRowsPerTask);
  const int64_t tasks = workers * std::max<int64_t>(1, rounds);
  return std::max<int64_t>(ctx.config().batch_rows, (total + tasks - 1) / tasks);
}

}  // namespace sluice::operators
