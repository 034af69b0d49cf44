#include "compute/gather_rows.h"

#include <arrow/array.h>
#include <arrow/buffer.h>
#include <arrow/compute/api_vector.h>

#include <algorithm>

namespace sluice::compute {

arrow::Result<std::shared_ptr<arrow::RecordBatch>> GatherRows(
    const std::shared_ptr<arrow::Schema>& schema,
    const std::vector<std::shared_ptr<arrow::RecordBatch>>& sources, const uint32_t* source_of,
    const uint32_t* rows, int64_t n, arrow::compute::ExecContext* ctx) {
  namespace cp = arrow::compute;
  const auto count = static_cast<int64_t>(sources.size());
  // Where each source's rows start in the grouping by source.
  std::vector<int64_t> first_slot(count + 1, 0);
  for (int64_t i = 0; i < n; ++i) ++first_slot[source_of[i] + 1];
  for (int64_t s = 0; s < count; ++s) first_slot[s + 1] += first_slot[s];
  ARROW_ASSIGN_OR_RAISE(auto local,
                        arrow::AllocateBuffer(n * sizeof(uint32_t), ctx->memory_pool()));
  ARROW_ASSIGN_OR_RAISE(auto slot, arrow::AllocateBuffer(n * sizeof(uint32_t), ctx->memory_pool()));
  auto* local_rows = reinterpret_cast<uint32_t*>(local->mutable_data());
  auto* slot_of = reinterpret_cast<uint32_t*>(slot->mutable_data());
  std::vector<int64_t> cursor(first_slot.begin(), first_slot.end() - 1);
  bool in_order = true;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t at = cursor[source_of[i]]++;
    local_rows[at] = rows[i];
    slot_of[i] = static_cast<uint32_t>(at);
    in_order = in_order && at == i;
  }
  auto local_array = std::make_shared<arrow::UInt32Array>(n, std::move(local));
  std::vector<std::shared_ptr<arrow::RecordBatch>> parts;
  for (int64_t s = 0; s < count; ++s) {
    const int64_t rows_here = first_slot[s + 1] - first_slot[s];
    if (rows_here == 0) continue;
    if (rows_here == sources[s]->num_rows()) {
      // Every row of the source: a take only if they are not already in order.
      const uint32_t* wanted = local_rows + first_slot[s];
      bool identity = true;
      for (int64_t r = 0; r < rows_here && identity; ++r) identity = wanted[r] == r;
      if (identity) {
        parts.push_back(sources[s]);
        continue;
      }
    }
    ARROW_ASSIGN_OR_RAISE(arrow::Datum part,
                          cp::Take(sources[s], local_array->Slice(first_slot[s], rows_here),
                                   cp::TakeOptions::NoBoundsCheck(), ctx));
    parts.push_back(part.record_batch());
  }
  if (parts.empty()) return arrow::RecordBatch::MakeEmpty(schema, ctx->memory_pool());
  std::shared_ptr<arrow::RecordBatch> grouped = parts[0];
  if (parts.size() > 1) {
    ARROW_ASSIGN_OR_RAISE(grouped, arrow::ConcatenateRecordBatches(parts, ctx->memory_pool()));
  }
  if (in_order) return grouped;
  ARROW_ASSIGN_OR_RAISE(arrow::Datum ordered,
                        cp::Take(grouped, std::make_shared<arrow::UInt32Array>(n, std::move(slot)),
                                 cp::TakeOptions::NoBoundsCheck(), ctx));
  return ordered.record_batch();
}

arrow::Result<std::shared_ptr<const IndexedBatches>> IndexedBatches::Make(
    const arrow::Table& table) {
  auto rows = std::make_shared<IndexedBatches>();
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

arrow::Result<std::shared_ptr<arrow::RecordBatch>> IndexedBatches::Gather(
    const arrow::UInt64Array& indices, arrow::compute::ExecContext* ctx) const {
  const int64_t n = indices.length();
  const uint64_t* wanted = indices.raw_values();
  std::vector<uint32_t> batch_of(n);
  std::vector<uint32_t> row_in_batch(n);
  for (int64_t i = 0; i < n; ++i) {
    const auto row = static_cast<int64_t>(wanted[i]);
    const auto batch = static_cast<uint32_t>(std::upper_bound(starts_.begin(), starts_.end(), row) -
                                             starts_.begin() - 1);
    batch_of[i] = batch;
    row_in_batch[i] = static_cast<uint32_t>(row - starts_[batch]);
  }
  return GatherRows(schema_, batches_, batch_of.data(), row_in_batch.data(), n, ctx);
}

}  // namespace sluice::compute
