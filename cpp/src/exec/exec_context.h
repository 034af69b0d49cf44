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

#include "exec/memory_budget.h"
#include "exec/session_state.h"
#include "exec/stream_operator.h"
#include "sluice/config.h"
#include "sluice/dataset.h"
#include "spill/spill_file.h"

namespace sluice::exec {

/// Everything one execution shares: its session, the session's settings as they were when
/// it started, its memory budget (under the session's), the cancellation flag and the
/// per-operator counters behind stats() and the progress line.
class ExecContext {
 public:
  explicit ExecContext(std::shared_ptr<SessionState> session);
  /// In `session` with other settings (tests that vary threads or limits).
  ExecContext(std::shared_ptr<SessionState> session, EngineConfig config);
  /// In the default session with `config`.
  explicit ExecContext(EngineConfig config);
  ~ExecContext();

  const EngineConfig& config() const { return config_; }
  const std::shared_ptr<SessionState>& session() const { return session_; }
  /// The execution's budget: HasRoom and claims check it and every budget above it.
  MemoryBudget* budget() { return budget_; }
  arrow::MemoryPool* pool() { return budget_; }
  arrow::compute::ExecContext* compute_context() { return &compute_context_; }
  arrow::io::IOContext io_context() const;

  /// Registers an operator's counters under a display name; order is plan order.
  OperatorCounters* AddCounters(const std::string& name);
  ExecutionStats Snapshot() const;

  /// Rows delivered to the caller.
  void AddRowsOut(int64_t rows) { rows_out_.fetch_add(rows); }
  /// The execution ended with an error (its session counts it as failed).
  void MarkFailed() { failed_.store(true); }
  /// The caller has all it will get (end of stream, error or close): the session stops
  /// counting the execution as running and adds its figures. Idempotent; the destructor
  /// calls it too.
  void Finish();

  /// Bad records the readers dropped (on_bad_lines "skip") and kept ("collect").
  void AddSkippedRecords(int64_t count) { bad_records_skipped_.fetch_add(count); }
  void AddRejects(std::shared_ptr<arrow::RecordBatch> rejects);

  /// Where this execution's operators spill; the directory is made at the first spill
  /// and removed with the context.
  spill::SpillDirectory* spill_directory();

  /// Set when the consumer stops early or a worker fails; long loops check it.
  void Cancel() { cancelled_.store(true); }
  bool cancelled() const { return cancelled_.load(); }
  /// Cancelled from outside (Session::Cancel): like Cancel(), and the execution's
  /// output then ends with Status::Cancelled instead of just stopping.
  void RequestCancel() {
    cancel_requested_.store(true);
    cancelled_.store(true);
  }
  bool cancel_requested() const { return cancel_requested_.load(); }

 private:
  std::shared_ptr<SessionState> session_;
  EngineConfig config_;
  MemoryBudget* const budget_;  // released, not deleted: results may outlive the execution
  arrow::compute::ExecContext compute_context_;
  std::atomic<bool> cancelled_{false};
  std::atomic<bool> cancel_requested_{false};
  std::atomic<bool> failed_{false};
  std::atomic<bool> finished_{false};
  std::atomic<int64_t> rows_out_{0};
  std::atomic<int64_t> bad_records_skipped_{0};
  std::chrono::steady_clock::time_point start_;
  mutable std::mutex mutex_;
  // deque: counters are referenced by pointer while more are added.
  std::deque<std::pair<std::string, OperatorCounters>> counters_;
  std::unique_ptr<spill::SpillDirectory> spill_directory_;
  std::vector<std::shared_ptr<arrow::RecordBatch>> rejects_;  // guarded by mutex_
  class ProgressLine;
  std::unique_ptr<ProgressLine> progress_;
};

}  // namespace sluice::exec
