#pragma once

// The runtime side of a session (sluice::Session is the public handle): settings, the
// memory budget, the executions running and the totals of those that ended. Executions
// reach it through their ExecContext; nothing in the engine reaches it through a global
// except calls that name no session, which get the default one.

#include <arrow/result.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "runtime/memory_budget.h"
#include "sluice/config.h"
#include "sluice/dataset.h"
#include "sluice/events.h"
#include "sluice/session.h"

namespace sluice::exec {

class ExecContext;

/// Configure's checks: negative counts, a spill_dir that is a file, S3 scheme mix-ups.
arrow::Status ValidateConfig(const EngineConfig& config);

/// `config` with defaults filled in: num_threads and memory_limit_bytes are never 0,
/// spill_dir and catalog_path never empty.
EngineConfig ResolveConfig(EngineConfig config);

class SessionState {
 public:
  static arrow::Result<std::shared_ptr<SessionState>> Make(const EngineConfig& config);
  /// The default session, made on first use.
  static const std::shared_ptr<SessionState>& Default();
  ~SessionState();

  uint64_t id() const { return id_; }
  arrow::Status Configure(const EngineConfig& config);
  /// Resolved settings (ResolveConfig).
  EngineConfig config() const;
  /// The session's budget, under the process's; executions allocate from budgets under it.
  MemoryBudget* budget() { return budget_; }

  /// Called by every ExecContext of the session when it starts and when it ends.
  void Started(ExecContext* ctx);
  void Finished(ExecContext* ctx, const ExecutionStats& stats, bool failed);
  /// Cancels the executions running now.
  void CancelRunning();
  SessionStats Stats() const;

  /// Listeners get the events of executions that start after they were added, and
  /// warnings. Every session starts with one that prints warnings to stderr, plus the
  /// JSON lines log of config().log when set.
  void AddListener(std::shared_ptr<ExecutionListener> listener);
  void RemoveListener(const ExecutionListener* listener);
  std::vector<std::shared_ptr<ExecutionListener>> listeners() const;
  /// Sends `event` (session id and time filled in) to the listeners.
  void Emit(ExecutionEvent event) const;
  /// A kWarning event of execution `execution_id` (0: none).
  void Warn(std::string message, uint64_t execution_id = 0) const;

 private:
  explicit SessionState(uint64_t id);

  const uint64_t id_;
  MemoryBudget* const budget_;  // never deleted: IO threads may outlive the session
  mutable std::mutex mutex_;
  EngineConfig config_;      // as given; guarded by mutex_
  std::set<ExecContext*> running_;  // guarded by mutex_
  SessionStats totals_;      // of ended executions; guarded by mutex_
  // Guarded by mutex_; the log's listener is among them while config_.log is set.
  std::vector<std::shared_ptr<ExecutionListener>> listeners_;
  std::shared_ptr<ExecutionListener> log_;
  std::string log_setting_;
};

}  // namespace sluice::exec
