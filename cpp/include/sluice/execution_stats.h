#pragma once

// The figures of one execution: what stats() shows, what the kProgress and
// kExecutionFinished events carry (sluice/events.h) and what a session adds up.

#include <arrow/record_batch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sluice {

/// Per-operator counters of the last execution of a Dataset.
struct OperatorStats {
  std::string name;
  int64_t rows_in = 0;
  int64_t rows_out = 0;
  int64_t batches_out = 0;
  int64_t bytes_out = 0;
  /// Time spent inside the operator (for a source: reading and decoding), summed over
  /// worker threads.
  double cpu_seconds = 0;
  /// Bytes written to spill files (compressed) because the operator outgrew its share of
  /// the memory budget; 0 when it ran in memory.
  int64_t spilled_bytes = 0;
  /// The most memory the operator had reserved from the budget at once.
  int64_t peak_reserved_bytes = 0;
};

struct ExecutionStats {
  std::vector<OperatorStats> operators;
  double wall_seconds = 0;
  /// The most memory the execution held at once.
  int64_t peak_memory_bytes = 0;
  /// Rows delivered to the caller.
  int64_t rows_out = 0;
  /// Spill bytes of all operators.
  int64_t spilled_bytes = 0;
  /// Bad records the CSV and JSON readers dropped (on_bad_lines "skip") and kept
  /// (on_bad_lines "collect"; see Dataset::LastRejects).
  int64_t bad_records_skipped = 0;
  int64_t bad_records_collected = 0;
  /// The collected bad records, in no particular order (Dataset::LastRejects sorts them).
  std::vector<std::shared_ptr<arrow::RecordBatch>> rejects;
  std::string ToString() const;
};

}  // namespace sluice
