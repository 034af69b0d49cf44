#pragma once

#include <arrow/compute/exec.h>
#include <arrow/io/interfaces.h>
#include <arrow/memory_pool.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "exec/stream_operator.h"
#include "sluice/config.h"
#include "sluice/dataset.h"
#include "spill/spill_file.h"

namespace sluice::exec {

/// Everything one execution shares: the configuration snapshot, the memory pool, the
/// cancellation flag and the per-operator counters behind stats() and the progress line.
class ExecContext {
 public:
  explicit ExecContext(EngineConfig config);
  ~ExecContext();

  const EngineConfig& config() const { return config_; }
  arrow::MemoryPool* pool() const { return pool_; }
  arrow::compute::ExecContext* compute_context() { return &compute_context_; }
  arrow::io::IOContext io_context() const;

  /// Registers an operator's counters under a display name; order is plan order.
  OperatorCounters* AddCounters(const std::string& name);
  ExecutionStats Snapshot() const;

  /// Bad records the readers dropped (on_bad_lines "skip") and kept ("collect").
  void AddSkippedRecords(int64_t count) { bad_records_skipped_.fetch_add(count); }
  void AddRejects(std::shared_ptr<arrow::RecordBatch> rejects);

  /// Where this execution's operators spill; the directory is made at the first spill
  /// and removed with the context.
  spill::SpillDirectory* spill_directory();

  /// Set when the consumer stops early or a worker fails; long loops check it.
  void Cancel() { cancelled_.store(true); }
  bool cancelled() const { return cancelled_.load(); }

 private:
  EngineConfig config_;
  arrow::MemoryPool* pool_;
  arrow::compute::ExecContext compute_context_;
  std::atomic<bool> cancelled_{false};
  std::atomic<int64_t> bad_records_skipped_{0};
  std::chrono::steady_clock::time_point start_;
  int64_t peak_at_start_ = 0;
  mutable std::mutex mutex_;
  // deque: counters are referenced by pointer while more are added.
  std::deque<std::pair<std::string, OperatorCounters>> counters_;
  std::unique_ptr<spill::SpillDirectory> spill_directory_;
  std::vector<std::shared_ptr<arrow::RecordBatch>> rejects_;  // guarded by mutex_
  class ProgressLine;
  std::unique_ptr<ProgressLine> progress_;
};

}  // namespace sluice::exec
