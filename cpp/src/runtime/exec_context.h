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

#include "runtime/memory_budget.h"
#include "runtime/session_state.h"
#include "runtime/stream_operator.h"
#include "sluice/config.h"
#include "sluice/dataset.h"
#include "runtime/spill_file.h"

namespace sluice::exec {

/// Everything one execution shares: its session, the session's settings as they were when
/// it started, its memory budget (under the session's), the cancellation flag, the
/// per-operator counters, and its events (sluice/events.h) for the listeners the session
/// had when it started (plus the progress line on a terminal). stats(), the session's
/// totals and the progress line all take their figures from those events.
class ExecContext {
 public:
  explicit ExecContext(std::shared_ptr<SessionState> session);
  /// In `session` with other settings (tests that vary threads or limits).
  ExecContext(std::shared_ptr<SessionState> session, EngineConfig config);
  /// In the default session with `config`.
  explicit ExecContext(EngineConfig config);
  ~ExecContext();

  const EngineConfig& config() const { return config_; }
  /// Unique in the process; the execution_id of its events.
  uint64_t id() const { return id_; }
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
  /// The execution ended with an error (its session counts it as failed; the
  /// kExecutionFinished event carries the first error's message).
  void MarkFailed(const arrow::Status& error = arrow::Status::OK());
  /// The caller has all it will get (end of stream, error or close): emits each
  /// operator's kOperatorFinished and the kExecutionFinished event, whose figures the
  /// session adds to its totals, and returns them. Idempotent (later calls return the
  /// same figures); the destructor calls it too.
  const ExecutionStats& Finish();

  /// Scan-task progress, from the measured source task sources (pipeline.h): a source
  /// was made, listed all its tasks, listed one task, finished one task.
  void NoteSource() { sources_.fetch_add(1); }
  void NoteSourceListed() { sources_listed_.fetch_add(1); }
  void NoteScanTask() { tasks_listed_.fetch_add(1); }
  void NoteScanTaskDone() { tasks_done_.fetch_add(1); }

  /// A kWarning event for the session's listeners.
  void Warn(std::string message) const;

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
  /// Fills in the execution's identity and times, and hands `event` to its listeners.
  void Emit(ExecutionEvent event) const;
  /// kOperatorStarted for each operator that has done work since the last call (with
  /// `all`: for every operator not yet announced). Only the ticker thread and Finish
  /// call it, never at once.
  void AnnounceStartedOperators(const ExecutionStats& stats, bool all);
  ExecutionEvent ProgressEvent(ExecutionEventKind kind, ExecutionStats stats) const;

  const uint64_t id_;
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
  std::atomic<int64_t> sources_{0};
  std::atomic<int64_t> sources_listed_{0};
  std::atomic<int64_t> tasks_listed_{0};
  std::atomic<int64_t> tasks_done_{0};
  std::chrono::steady_clock::time_point start_;
  mutable std::mutex mutex_;
  // deque: counters are referenced by pointer while more are added.
  std::deque<std::pair<std::string, OperatorCounters>> counters_;
  std::unique_ptr<spill::SpillDirectory> spill_directory_;
  std::vector<std::shared_ptr<arrow::RecordBatch>> rejects_;  // guarded by mutex_
  std::string error_;                                         // guarded by mutex_
  ExecutionStats final_stats_;  // set once by Finish()
  std::vector<std::shared_ptr<ExecutionListener>> listeners_;  // fixed at the start
  std::vector<bool> announced_;  // operators with a kOperatorStarted; see Announce...
  class Ticker;
  std::unique_ptr<Ticker> ticker_;
};

}  // namespace sluice::exec
