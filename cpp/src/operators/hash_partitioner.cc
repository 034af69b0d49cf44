#include "operators/hash_partitioner.h"

#include <arrow/buffer.h>
#include <arrow/compute/api_vector.h>

#include "compute/row_hash.h"

namespace sluice::spill {

namespace {

/// The batches of a partition that stayed in memory, then nothing.
class BatchListStream : public exec::BatchStream {
 public:
  explicit BatchListStream(std::vector<exec::BatchPtr> batches) : batches_(std::move(batches)) {}
  arrow::Result<exec::BatchPtr> Next() override {
    if (next_ >= batches_.size()) return nullptr;
    return batches_[next_++];
  }

 private:
  std::vector<exec::BatchPtr> batches_;
  size_t next_ = 0;
};

}  // namespace

arrow::Result<std::unique_ptr<exec::BatchStream>> HashPartition::Open(
    arrow::MemoryPool* pool) const {
  if (file) return ReadSpillFile(*file, pool, /*remove_when_done=*/true);
  return std::make_unique<BatchListStream>(batches);
}

arrow::Result<std::unique_ptr<HashPartitioner>> HashPartitioner::Make(
    exec::ExecContext* ctx, std::shared_ptr<arrow::Schema> schema,
    const std::vector<std::string>& keys, int num_partitions, uint64_t seed,
    exec::OperatorCounters* counters, std::string stem) {
  if (num_partitions <= 0) {
    return arrow::Status::Invalid("hash partitioning needs at least one partition");
  }
  std::unique_ptr<HashPartitioner> partitioner(new HashPartitioner());
  for (const auto& key : keys) {
    const int index = schema->GetFieldIndex(key);
    if (index < 0) {
      return arrow::Status::KeyError("no column named '", key, "' to partition by in ",
                                     schema->ToString());
    }
    partitioner->key_columns_.push_back(index);
  }
  partitioner->ctx_ = ctx;
  partitioner->schema_ = std::move(schema);
  partitioner->seed_ = seed;
  partitioner->counters_ = counters;
  partitioner->stem_ = std::move(stem);
  partitioner->reservation_ = std::make_unique<exec::MemoryReservation>(
      ctx->budget(), counters ? &counters->peak_reserved_bytes : nullptr);
  partitioner->partitions_.resize(num_partitions);
  partitioner->writers_.resize(num_partitions);
  return partitioner;
}

HashPartitioner::~HashPartitioner() = default;

arrow::Status HashPartitioner::Add(const exec::BatchPtr& input) {
  ARROW_ASSIGN_OR_RAISE(exec::BatchPtr batch, exec::BatchUnderSchema(input, schema_));
  const int64_t n = batch->num_rows();
  if (n == 0) return arrow::Status::OK();
  const auto count = static_cast<int64_t>(partitions_.size());
  std::vector<exec::BatchPtr> parts(count);
  if (count == 1) {
    parts[0] = batch;
  } else {
    std::vector<std::shared_ptr<arrow::Array>> keys;
    for (int index : key_columns_) keys.push_back(batch->column(index));
    std::vector<uint64_t> hashes;
    ARROW_RETURN_NOT_OK(compute::HashRows(keys, seed_, &hashes));
    // A counting sort of the rows by partition, then one Take: each partition is a
    // zero-copy slice of the reordered batch.
    std::vector<int64_t> start(count + 1, 0);
    std::vector<uint32_t> partition_of(n);
    for (int64_t i = 0; i < n; ++i) {
      partition_of[i] = static_cast<uint32_t>(hashes[i] % static_cast<uint64_t>(count));
      ++start[partition_of[i] + 1];
    }
    for (int64_t p = 0; p < count; ++p) start[p + 1] += start[p];
    ARROW_ASSIGN_OR_RAISE(auto order, arrow::AllocateBuffer(n * sizeof(uint32_t), ctx_->pool()));
    auto* order_data = reinterpret_cast<uint32_t*>(order->mutable_data());
    std::vector<int64_t> cursor(start.begin(), start.end() - 1);
    for (int64_t i = 0; i < n; ++i)
      order_data[cursor[partition_of[i]]++] = static_cast<uint32_t>(i);
    ARROW_ASSIGN_OR_RAISE(
        arrow::Datum reordered,
        arrow::compute::Take(batch, std::make_shared<arrow::UInt32Array>(n, std::move(order)),
                             arrow::compute::TakeOptions::NoBoundsCheck(),
                             ctx_->compute_context()));
    const auto& rows = reordered.record_batch();
    for (int64_t p = 0; p < count; ++p) {
      if (start[p + 1] > start[p]) parts[p] = rows->Slice(start[p], start[p + 1] - start[p]);
    }
  }
  const int64_t bytes = exec::BatchReferencedBytes(*batch);
  if (!reservation_->TryGrow(bytes)) {
    ARROW_RETURN_NOT_OK(SpillAll());
    reservation_->TryGrow(bytes);  // an empty reservation is always granted
  }
  for (int64_t p = 0; p < count; ++p) {
    if (!parts[p]) continue;
    HashPartition& partition = partitions_[p];
    partition.rows += parts[p]->num_rows();
    partition.memory_bytes += exec::BatchReferencedBytes(*parts[p]);
    partition.batches.push_back(std::move(parts[p]));
  }
  return arrow::Status::OK();
}

arrow::Status HashPartitioner::SpillAll() {
  spilled_ = true;
  std::atomic<int64_t>* spilled = counters_ ? &counters_->spilled_bytes : nullptr;
  for (size_t p = 0; p < partitions_.size(); ++p) {
    HashPartition& partition = partitions_[p];
    if (partition.batches.empty()) continue;
    if (!writers_[p]) {
      ARROW_ASSIGN_OR_RAISE(
          writers_[p], SpillWriter::Open(ctx_->spill_directory(), stem_ + "-p" + std::to_string(p),
                                         schema_, ctx_->pool(), spilled));
    }
    // One write per partition: the slices of many input batches make one IPC batch.
    exec::BatchPtr rows = partition.batches[0];
    if (partition.batches.size() > 1) {
      ARROW_ASSIGN_OR_RAISE(rows, arrow::ConcatenateRecordBatches(partition.batches, ctx_->pool()));
    }
    ARROW_RETURN_NOT_OK(writers_[p]->Write(*rows));
    partition.batches.clear();
  }
  reservation_->Release();
  return arrow::Status::OK();
}

arrow::Result<PartitionedRows> HashPartitioner::Finish() {
  PartitionedRows result;
  if (spilled_) {
    ARROW_RETURN_NOT_OK(SpillAll());
    for (size_t p = 0; p < partitions_.size(); ++p) {
      if (writers_[p]) {
        ARROW_ASSIGN_OR_RAISE(partitions_[p].file, writers_[p]->Finish());
      }
    }
  }
  result.partitions = std::move(partitions_);
  result.reservation = std::move(reservation_);
  result.spilled = spilled_;
  return result;
}

}  // namespace sluice::spill
