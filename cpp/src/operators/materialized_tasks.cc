#include "operators/materialized_tasks.h"

#include "exec/pipeline.h"

namespace sluice::operators {

namespace {

class MaterializedTaskSource : public exec::TaskSource {
 public:
  MaterializedTaskSource(exec::ExecContext* ctx, std::string label,
                         std::function<arrow::Result<std::shared_ptr<arrow::Table>>()> produce,
                         std::function<int64_t(int64_t)> rows_per_task,
                         exec::OperatorCounters* counters)
      : ctx_(ctx),
        label_(std::move(label)),
        produce_(std::move(produce)),
        rows_per_task_(std::move(rows_per_task)),
        counters_(counters) {}

  arrow::Result<std::optional<exec::ScanTask>> NextTask() override {
    if (!table_) {
      ARROW_ASSIGN_OR_RAISE(table_, produce_());
      if (counters_) counters_->rows_out.fetch_add(table_->num_rows());
      step_ = std::max<int64_t>(1, rows_per_task_(table_->num_rows()));
    }
    if (offset_ >= table_->num_rows()) return std::nullopt;
    std::shared_ptr<arrow::Table> slice = table_->Slice(offset_, step_);
    offset_ += step_;
    exec::ScanTask task;
    task.label = label_;
    const int64_t batch_rows = ctx_->config().batch_rows;
    task.open = [slice, batch_rows]() -> arrow::Result<std::unique_ptr<exec::BatchStream>> {
      auto reader = std::make_shared<arrow::TableBatchReader>(slice);
      reader->set_chunksize(batch_rows);
      return std::make_unique<exec::FunctionBatchStream>(
          [reader]() -> arrow::Result<exec::BatchPtr> { return reader->Next(); });
    };
    return task;
  }

 private:
  exec::ExecContext* ctx_;
  std::string label_;
  std::function<arrow::Result<std::shared_ptr<arrow::Table>>()> produce_;
  std::function<int64_t(int64_t)> rows_per_task_;
  exec::OperatorCounters* counters_;
  std::shared_ptr<arrow::Table> table_;
  int64_t step_ = 1;
  int64_t offset_ = 0;
};

}  // namespace

std::unique_ptr<exec::TaskSource> MakeMaterializedTaskSource(
    exec::ExecContext* ctx, std::string label,
    std::function<arrow::Result<std::shared_ptr<arrow::Table>>()> produce,
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

}  // namespace sluice::operators
