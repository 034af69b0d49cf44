#pragma once

// Sessions: everything an execution needs that is not in its plan. Each session has its
// own settings, its own memory budget (under the process's), its own statistics and its
// own running executions, so jobs in one process (a job service, notebooks side by side,
// tests) never see each other's limits, figures or cancellations.

#include <arrow/result.h>
#include <arrow/status.h>

#include <cstdint>
#include <memory>
#include <string>

#include "sluice/config.h"
#include "sluice/events.h"

namespace sluice {

namespace exec {
class SessionState;
}

/// Totals of a session since it was made.
struct SessionStats {
  /// Executions started (each count, scan, write... is one), still running, and ended
  /// with an error or cancelled.
  int64_t executions_started = 0;
  int64_t executions_running = 0;
  int64_t executions_failed = 0;
  /// Time inside operators, summed over threads, of the executions that ended.
  double cpu_seconds = 0;
  /// Rows the executions that ended delivered to their caller.
  int64_t rows_out = 0;
  int64_t spilled_bytes = 0;
  int64_t bad_records_skipped = 0;
  int64_t bad_records_collected = 0;
  /// Bytes the session's executions hold now, the most they held at once, and the limit.
  int64_t memory_bytes = 0;
  int64_t peak_memory_bytes = 0;
  int64_t memory_limit_bytes = 0;
  std::string ToString() const;
};

/// A handle on a session; copies share it. Datasets made in a session run in it.
class Session {
 public:
  /// A new session with `config` (unset values take their defaults, as in Configure).
  static arrow::Result<Session> Make(const EngineConfig& config = {});
  /// The session of every call that names none; Configure() and CurrentConfig() act on it.
  static Session Default();

  /// Replaces the settings; executions already running keep the ones they started with.
  arrow::Status Configure(const EngineConfig& config);
  /// The settings in force, defaults resolved.
  EngineConfig config() const;
  SessionStats Stats() const;
  /// Cancels every execution running in this session (they fail with Status::Cancelled);
  /// other sessions and later executions are not affected.
  void Cancel();
  /// A number that tells sessions apart (the default session's is 1).
  uint64_t id() const;

  /// `listener` gets the events (sluice/events.h) of the executions that start from now
  /// on, and the session's warnings. Executions already running keep the listeners they
  /// started with, so a removed listener may still get their remaining events.
  void AddListener(std::shared_ptr<ExecutionListener> listener);
  void RemoveListener(const ExecutionListener* listener);

  const std::shared_ptr<exec::SessionState>& state() const { return state_; }
  explicit Session(std::shared_ptr<exec::SessionState> state) : state_(std::move(state)) {}

 private:
  std::shared_ptr<exec::SessionState> state_;
};

}  // namespace sluice
