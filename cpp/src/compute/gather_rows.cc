#include "compute/gather_rows.h"

#include <arrow/array.h>
#include <arrow/buffer.h>
#include <arrow/compute/api_vector.h>
#include <arrow/util/bit_util.h>

#include <algorithm>
#include <cstring>
#include <limits>

namespace sluice::compute {

namespace {

namespace cp = arrow::compute;

/// One column's raw buffers in every source, offsets already applied, so the per-row loops
/// below touch no shared_ptr or virtual call.
struct SourceColumn {
  const uint8_t* validity = nullptr;  // null when the source column has no nulls
  int64_t validity_offset = 0;
  const uint8_t* values = nullptr;  // fixed-width values, or the variable-length data
  const void* offsets = nullptr;    // variable-length: int32 or int64 offsets
  int64_t bit_offset = 0;           // boolean values are bits
};

bool IsDirectlyGathered(const arrow::DataType& type) {
  switch (type.id()) {
    case arrow::Type::BOOL:
    case arrow::Type::STRING:
    case arrow::Type::BINARY:
    case arrow::Type::LARGE_STRING:
    case arrow::Type::LARGE_BINARY:
      return true;
    default:
      // Primitive fixed-width types (numbers, dates, times, timestamps, durations, decimals,
      // fixed-size binary) are copied byte-wise; nested and dictionary types are not.
      return arrow::is_fixed_width(type.id()) && type.id() != arrow::Type::DICTIONARY &&
             type.id() != arrow::Type::FIXED_SIZE_LIST && type.id() != arrow::Type::EXTENSION &&
             type.byte_width() > 0;
  }
}

template <int kWidth>
void CopyFixed(const std::vector<SourceColumn>& columns, const uint32_t* source_of,
               const uint32_t* rows, int64_t n, uint8_t* out) {
  for (int64_t i = 0; i < n; ++i) {
    std::memcpy(out + i * kWidth, columns[source_of[i]].values + int64_t{rows[i]} * kWidth, kWidth);
  }
}

void CopyFixedAnyWidth(const std::vector<SourceColumn>& columns, const uint32_t* source_of,
                       const uint32_t* rows, int64_t n, int width, uint8_t* out) {
  switch (width) {
    case 1:
      return CopyFixed<1>(columns, source_of, rows, n, out);
    case 2:
      return CopyFixed<2>(columns, source_of, rows, n, out);
    case 4:
      return CopyFixed<4>(columns, source_of, rows, n, out);
    case 8:
      return CopyFixed<8>(columns, source_of, rows, n, out);
    case 16:
      return CopyFixed<16>(columns, source_of, rows, n, out);
    default:
      for (int64_t i = 0; i < n; ++i) {
        std::memcpy(out + i * width, columns[source_of[i]].values + int64_t{rows[i]} * width,
                    width);
      }
  }
}

template <typename Offset>
arrow::Result<std::shared_ptr<arrow::ArrayData>> GatherVariableLength(
    const std::shared_ptr<arrow::DataType>& type, const std::vector<SourceColumn>& columns,
    const uint32_t* source_of, const uint32_t* rows, int64_t n,
    std::shared_ptr<arrow::Buffer> validity, int64_t null_count, arrow::MemoryPool* pool) {
  ARROW_ASSIGN_OR_RAISE(auto offsets_buffer, arrow::AllocateBuffer((n + 1) * sizeof(Offset), pool));
  auto* out_offsets = reinterpret_cast<Offset*>(offsets_buffer->mutable_data());
  int64_t total = 0;
  out_offsets[0] = 0;
  for (int64_t i = 0; i < n; ++i) {
    const auto* in = static_cast<const Offset*>(columns[source_of[i]].offsets);
    total += in[rows[i] + 1] - in[rows[i]];
    if (total > std::numeric_limits<Offset>::max()) {
      return arrow::Status::CapacityError("gathering rows: ", type->ToString(), " data of ", n,
                                          " rows passes the type's 2 GiB limit");
    }
    out_offsets[i + 1] = static_cast<Offset>(total);
  }
  ARROW_ASSIGN_OR_RAISE(auto data_buffer, arrow::AllocateBuffer(total, pool));
  uint8_t* out = data_buffer->mutable_data();
  for (int64_t i = 0; i < n; ++i) {
    const SourceColumn& column = columns[source_of[i]];
    const auto* in = static_cast<const Offset*>(column.offsets);
    const Offset begin = in[rows[i]];
    std::memcpy(out + out_offsets[i], column.values + begin, out_offsets[i + 1] - out_offsets[i]);
  }
  return arrow::ArrayData::Make(
      type, n, {std::move(validity), std::move(offsets_buffer), std::move(data_buffer)},
      null_count);
}

/// Gathers one column of a directly gathered type (IsDirectlyGathered).
arrow::Result<std::shared_ptr<arrow::ArrayData>> GatherColumn(
    const std::vector<std::shared_ptr<arrow::RecordBatch>>& sources, int column_index,
    const uint32_t* source_of, const uint32_t* rows, int64_t n, arrow::MemoryPool* pool) {
  const auto& type = sources[0]->schema()->field(column_index)->type();
  std::vector<SourceColumn> columns(sources.size());
  bool any_nulls = false;
  for (size_t s = 0; s < sources.size(); ++s) {
    const arrow::ArrayData& data = *sources[s]->column_data(column_index);
    SourceColumn& column = columns[s];
    if (data.buffers[0] && data.GetNullCount() > 0) {
      column.validity = data.buffers[0]->data();
      column.validity_offset = data.offset;
      any_nulls = true;
    }
    switch (type->id()) {
      case arrow::Type::BOOL:
        column.values = data.buffers[1]->data();
        column.bit_offset = data.offset;
        break;
      case arrow::Type::STRING:
      case arrow::Type::BINARY:
        column.offsets = data.GetValues<int32_t>(1);
        column.values = data.buffers[2] ? data.buffers[2]->data() : nullptr;
        break;
      case arrow::Type::LARGE_STRING:
      case arrow::Type::LARGE_BINARY:
        column.offsets = data.GetValues<int64_t>(1);
        column.values = data.buffers[2] ? data.buffers[2]->data() : nullptr;
        break;
      default:
        column.values = data.buffers[1]->data() + data.offset * type->byte_width();
    }
  }
  std::shared_ptr<arrow::Buffer> validity;
  int64_t null_count = 0;
  if (any_nulls) {
    ARROW_ASSIGN_OR_RAISE(auto bitmap, arrow::AllocateBitmap(n, pool));
    uint8_t* bits = bitmap->mutable_data();
    for (int64_t i = 0; i < n; ++i) {
      const SourceColumn& column = columns[source_of[i]];
      const bool valid = column.validity == nullptr ||
                         arrow::bit_util::GetBit(column.validity, column.validity_offset + rows[i]);
      arrow::bit_util::SetBitTo(bits, i, valid);
      null_count += valid ? 0 : 1;
    }
    validity = std::move(bitmap);
  }
  switch (type->id()) {
    case arrow::Type::BOOL: {
      ARROW_ASSIGN_OR_RAISE(auto values, arrow::AllocateBitmap(n, pool));
      uint8_t* bits = values->mutable_data();
      for (int64_t i = 0; i < n; ++i) {
        const SourceColumn& column = columns[source_of[i]];
        arrow::bit_util::SetBitTo(
            bits, i, arrow::bit_util::GetBit(column.values, column.bit_offset + rows[i]));
      }
      return arrow::ArrayData::Make(type, n, {std::move(validity), std::move(values)}, null_count);
    }
    case arrow::Type::STRING:
    case arrow::Type::BINARY:
      return GatherVariableLength<int32_t>(type, columns, source_of, rows, n, std::move(validity),
                                           null_count, pool);
    case arrow::Type::LARGE_STRING:
    case arrow::Type::LARGE_BINARY:
      return GatherVariableLength<int64_t>(type, columns, source_of, rows, n, std::move(validity),
                                           null_count, pool);
    default: {
      const int width = type->byte_width();
      ARROW_ASSIGN_OR_RAISE(auto values, arrow::AllocateBuffer(n * width, pool));
      CopyFixedAnyWidth(columns, source_of, rows, n, width, values->mutable_data());
      return arrow::ArrayData::Make(type, n, {std::move(validity), std::move(values)}, null_count);
    }
  }
}

/// The rows of the columns at `column_indices` through Arrow's Take: one Take per source
/// for its rows, the parts concatenated, then one more Take into the requested order
/// (skipped when the request is already grouped by source). Serves the types the direct
/// copy does not (nested, dictionary, view types).
arrow::Result<std::shared_ptr<arrow::RecordBatch>> GatherByTake(
    const std::vector<std::shared_ptr<arrow::RecordBatch>>& all_sources,
    const std::vector<int>& column_indices, const uint32_t* source_of, const uint32_t* rows,
    int64_t n, cp::ExecContext* ctx) {
  std::vector<std::shared_ptr<arrow::RecordBatch>> sources;
  sources.reserve(all_sources.size());
  for (const auto& source : all_sources) {
    ARROW_ASSIGN_OR_RAISE(auto selected, source->SelectColumns(column_indices));
    sources.push_back(std::move(selected));
  }
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
    ARROW_ASSIGN_OR_RAISE(arrow::Datum part,
                          cp::Take(sources[s], local_array->Slice(first_slot[s], rows_here),
                                   cp::TakeOptions::NoBoundsCheck(), ctx));
    parts.push_back(part.record_batch());
  }
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

}  // namespace

arrow::Result<std::shared_ptr<arrow::RecordBatch>> GatherRows(
    const std::shared_ptr<arrow::Schema>& schema,
    const std::vector<std::shared_ptr<arrow::RecordBatch>>& sources, const uint32_t* source_of,
    const uint32_t* rows, int64_t n, arrow::compute::ExecContext* ctx) {
  if (n == 0 || sources.empty()) return arrow::RecordBatch::MakeEmpty(schema, ctx->memory_pool());
  bool one_run = true;
  for (int64_t i = 1; i < n && one_run; ++i) {
    one_run = source_of[i] == source_of[0] && rows[i] == rows[0] + i;
  }
  if (one_run) {
    ARROW_ASSIGN_OR_RAISE(auto same_schema, sources[source_of[0]]->ReplaceSchema(schema));
    return same_schema->Slice(rows[0], n);
  }
  const int num_columns = schema->num_fields();
  std::vector<std::shared_ptr<arrow::ArrayData>> columns(num_columns);
  std::vector<int> by_take;
  for (int c = 0; c < num_columns; ++c) {
    if (IsDirectlyGathered(*schema->field(c)->type())) {
      ARROW_ASSIGN_OR_RAISE(columns[c],
                            GatherColumn(sources, c, source_of, rows, n, ctx->memory_pool()));
    } else {
      by_take.push_back(c);
    }
  }
  if (!by_take.empty()) {
    ARROW_ASSIGN_OR_RAISE(auto taken, GatherByTake(sources, by_take, source_of, rows, n, ctx));
    for (size_t k = 0; k < by_take.size(); ++k) columns[by_take[k]] = taken->column_data(k);
  }
  return arrow::RecordBatch::Make(schema, n, std::move(columns));
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
