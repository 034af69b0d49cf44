#pragma once

#include <arrow/result.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/exec_context.h"
#include "runtime/memory_budget.h"
#include "runtime/spill_file.h"

namespace sluice::spill {

/// The rows of one hash partition: in memory, or in a spill file once the partitioner
/// spilled.
struct HashPartition {
  std::vector<exec::BatchPtr> batches;
  std::optional<SpillFile> file;
  int64_t rows = 0;
  /// Bytes the rows take in memory (what reading the partition back costs).
  int64_t memory_bytes = 0;

  /// The rows in the order they arrived. A spill file is deleted once read to the end.
  arrow::Result<std::unique_ptr<exec::BatchStream>> Open(arrow::MemoryPool* pool) const;
};

/// The partitions a HashPartitioner made, in partition order.
struct PartitionedRows {
  std::vector<HashPartition> partitions;
  /// The claim on the budget for partitions still in memory; keep it while they are read.
  std::unique_ptr<exec::MemoryReservation> reservation;
  bool spilled = false;
};

/// Splits rows by a hash of key columns (compute::HashRows) into partitions: rows with
/// equal keys always land in the same partition, so a group-by, a distinct or a join can
/// then work on one partition at a time. Partitions stay in memory while the operator's
/// reservation can grow; when it cannot, every partition's buffered rows go to its spill
/// file (one per partition, LZ4 Arrow IPC), and from then on the result is on disk.
class HashPartitioner {
 public:
  /// `seed` picks an independent hash: re-partitioning an oversized partition with a new
  /// seed splits it. `stem` names the spill files.
  static arrow::Result<std::unique_ptr<HashPartitioner>> Make(exec::ExecContext* ctx,
                                                              std::shared_ptr<arrow::Schema> schema,
                                                              const std::vector<std::string>& keys,
                                                              int num_partitions, uint64_t seed,
                                                              exec::OperatorCounters* counters,
                                                              std::string stem);
  ~HashPartitioner();

  arrow::Status Add(const exec::BatchPtr& batch);
  /// Call once, after the last Add(). When anything spilled, all rows are written out and
  /// the reservation is released, so the partitions can be read one at a time.
  arrow::Result<PartitionedRows> Finish();

  const std::shared_ptr<arrow::Schema>& schema() const { return schema_; }

 private:
  HashPartitioner() = default;
  arrow::Status SpillAll();

  exec::ExecContext* ctx_ = nullptr;
  std::shared_ptr<arrow::Schema> schema_;
  std::vector<int> key_columns_;
  uint64_t seed_ = 0;
  exec::OperatorCounters* counters_ = nullptr;
  std::string stem_;
  std::unique_ptr<exec::MemoryReservation> reservation_;
  std::vector<HashPartition> partitions_;
  std::vector<std::unique_ptr<SpillWriter>> writers_;
  bool spilled_ = false;
};

}  // namespace sluice::spill
