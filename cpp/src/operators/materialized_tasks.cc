#include "operators/materialized_tasks.h"

#include <arrow/buffer.h>
#include <arrow/compute/api_vector.h>
#include <arrow/record_batch.h>

#include <algorithm>
#include <vector>

#include "exec/pipeline.h"

namespace sluice::operators {

namespace {

/// A table's rows as batches with common boundaries, gatherable by global row index.
/// Arrow's take first concatenates chunked string columns into one array: a full copy of
/// the column for every call, and an error once a column passes 2 GB. Gathering per batch
/// instead takes from each batch only the rows it holds and puts them back in order.
class GatherableRows {
 public:
  static arrow::Result<std::shared_ptr<const GatherableRows>> Make(const arrow::Table& table) {
    auto rows = std::make_shared<GatherableRows>();
    arrow::TableBatchReader reader(table);
    while (true) {
      std::shared_ptr<arrow::RecordBatch> batch;
      ARROW_RETURN_NOT_OK(reader.ReadNext(&batch));
      if (!batch) break;
      if (batch->num_rows() == 0) continue;
      rows->starts_.push_back(rows->total_);
      rows->total_ += batch->num_rows();
      rows->batches_.push_back(std::move(batch));
    }
    rows->schema_ = table.schema();
    return rows;
  }

  /// The rows at `indices` (each < the table's row count), in that order.
  arrow::Result<exec::BatchPtr> Gather(const arrow::UInt64Array& indices,
                                       exec::ExecContext* ctx) const {
    namespace cp = arrow::compute;
    const int64_t n = indices.length();
    const uint64_t* wanted = indices.raw_values();
    const auto chunks = static_cast<int64_t>(batches_.size());
    // Which batch each wanted row is in, and how many rows come from each batch.
    std::vector<int32_t> chunk_of(n);
    std::vector<int64_t> first_slot(chunks + 1, 0);
    for (int64_t i = 0; i < n; ++i) {
      const auto row = static_cast<int64_t>(wanted[i]);
      const auto chunk = static_cast<int32_t>(
          std::upper_bound(starts_.begin(), starts_.end(), row) - starts_.begin() - 1);
      chunk_of[i] = chunk;
      ++first_slot[chunk + 1];
    }
    for (int64_t c = 0; c < chunks; ++c) first_slot[c + 1] += first_slot[c];
    // Rows grouped by batch (in request order within a batch), and where each requested
    // row lands in that grouping.
    ARROW_ASSIGN_OR_RAISE(auto local, arrow::AllocateBuffer(n * sizeof(uint32_t), ctx->pool()));
    ARROW_ASSIGN_OR_RAISE(auto slot, arrow::AllocateBuffer(n * sizeof(uint32_t), ctx->pool()));
    auto* local_rows = reinterpret_cast<uint32_t*>(local->mutable_data());
    auto* slot_of = reinterpret_cast<uint32_t*>(slot->mutable_data());
    std::vector<int64_t> cursor(first_slot.begin(), first_slot.end() - 1);
    bool in_order = true;
    for (int64_t i = 0; i < n; ++i) {
      const int32_t chunk = chunk_of[i];
      const int64_t at = cursor[chunk]++;
      local_rows[at] = static_cast<uint32_t>(static_cast<int64_t>(wanted[i]) - starts_[chunk]);
      slot_of[i] = static_cast<uint32_t>(at);
      in_order = in_order && at == i;
    }
    auto local_array = std::make_shared<arrow::UInt32Array>(n, std::move(local));
    std::vector<std::shared_ptr<arrow::RecordBatch>> parts;
    for (int64_t c = 0; c < chunks; ++c) {
      const int64_t count = first_slot[c + 1] - first_slot[c];
      if (count == 0) continue;
      ARROW_ASSIGN_OR_RAISE(arrow::Datum part,
                            cp::Take(batches_[c], local_array->Slice(first_slot[c], count),
                                     cp::TakeOptions::NoBoundsCheck(), ctx->compute_context()));
      parts.push_back(part.record_batch());
    }
    if (parts.empty()) return arrow::RecordBatch::MakeEmpty(schema_, ctx->pool());
    std::shared_ptr<arrow::RecordBatch> grouped = parts[0];
    if (parts.size() > 1) {
      ARROW_ASSIGN_OR_RAISE(grouped, arrow::ConcatenateRecordBatches(parts, ctx->pool()));
    }
    if (in_order) return grouped;
    ARROW_ASSIGN_OR_RAISE(
        arrow::Datum ordered,
        cp::Take(grouped, std::make_shared<arrow::UInt32Array>(n, std::move(slot)),
                 cp::TakeOptions::NoBoundsCheck(), ctx->compute_context()));
    return ordered.record_batch();
  }

 private:
  std::shared_ptr<arrow::Schema> schema_;
  std::vector<std::shared_ptr<arrow::RecordBatch>> batches_;
  std::vector<int64_t> starts_;
  int64_t total_ = 0;
};

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
        ARROW_ASSIGN_OR_RAISE(gatherable_, GatherableRows::Make(*rows_.table));
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
              auto batch = rows->Gather(*indices, ctx);
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
  std::shared_ptr<const GatherableRows> gatherable_;  // set when rows_ has an order
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

}  // namespace sluice::operators
