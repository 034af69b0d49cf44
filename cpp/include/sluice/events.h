#pragma once

// Execution events: what an execution reports while it runs. A session hands them to its
// listeners (Session::AddListener); the progress line, the JSON lines log
// (EngineConfig::log, SLUICE_LOG=json:PATH), warnings on stderr and Python callbacks
// (sl.Session.add_listener) are all listeners, and stats() and the session's totals are
// the figures of the kExecutionFinished event. The engine writes nothing to stderr except
// through a listener.

#include <cstdint>
#include <string>

#include "sluice/execution_stats.h"

namespace sluice {

enum class ExecutionEventKind {
  /// An execution (a count, a scan, a write...) started; `message` names the plan's root.
  kExecutionStarted,
  /// An operator did its first work (rows in or out, time inside it). Seen by the
  /// execution's ticker, so it arrives up to a tick (250 ms) after the fact, and at the
  /// latest just before the operator's kOperatorFinished.
  kOperatorStarted,
  /// Every tick while the execution runs (only when a listener wants progress): the
  /// figures so far in `stats`, the memory held in `memory_bytes`, and scan tasks in
  /// `tasks_done` / `tasks_total`.
  kProgress,
  /// An operator's final figures, in `op`; sent for each operator, in plan order, when
  /// the execution ends.
  kOperatorFinished,
  /// Something the user should know that is not an error (a write committed but its
  /// catalog registration failed, leftovers to vacuum...), in `message`.
  kWarning,
  /// The execution ended; `outcome` is "ok", "failed" or "cancelled" (`message` says why)
  /// and `stats` holds its final figures: the same ExecutionStats as Dataset::LastStats.
  kExecutionFinished,
};

/// "execution_started", "operator_started", "progress", "operator_finished", "warning",
/// "execution_finished": the names the JSON lines log and Python use.
const char* ExecutionEventName(ExecutionEventKind kind);

struct ExecutionEvent {
  ExecutionEventKind kind = ExecutionEventKind::kProgress;
  uint64_t session_id = 0;
  /// Unique in the process; 0 for a warning outside any execution.
  uint64_t execution_id = 0;
  /// Wall clock (microseconds since the Unix epoch) and seconds since the execution
  /// started.
  int64_t unix_micros = 0;
  double seconds = 0;
  /// kOperatorStarted, kOperatorFinished: the operator's position in plan order (sources
  /// first) and its figures (only the name for kOperatorStarted).
  int operator_index = -1;
  OperatorStats op;
  /// kProgress, kExecutionFinished: the execution's figures (without collected rejects).
  ExecutionStats stats;
  int64_t memory_bytes = 0;
  /// kProgress, kExecutionFinished: scan tasks finished, and all there are (-1 until the
  /// sources have listed them all).
  int64_t tasks_done = 0;
  int64_t tasks_total = -1;
  /// kExecutionFinished: "ok", "failed" or "cancelled".
  std::string outcome;
  /// kWarning: the warning; kExecutionFinished: the error, when it failed;
  /// kExecutionStarted: what runs.
  std::string message;
};

/// `event` as one line of JSON (no newline), as the JSON lines log writes it and Python
/// listeners receive it. Fields: "event" (ExecutionEventName), "time" (ISO 8601 UTC,
/// microseconds), "session", "execution", "seconds"; operator events: "operator_index",
/// "operator" and, when finished, its figures ("rows_in", "rows_out", "batches_out",
/// "bytes_out", "cpu_seconds", "spilled_bytes", "peak_reserved_bytes"); progress and
/// execution_finished: "operators" (the same per operator), "rows_out", "spilled_bytes",
/// "peak_memory_bytes", "memory_bytes", "tasks_done", "tasks_total",
/// "bad_records_skipped", "bad_records_collected", and "outcome" when finished;
/// "message" when there is one.
std::string ExecutionEventToJson(const ExecutionEvent& event);

/// Receives a session's events. OnEvent is called on engine threads, several at a time,
/// and while an execution waits for it: it must be thread-safe, quick, and must not run
/// anything in the engine itself (queue the event instead).
class ExecutionListener {
 public:
  virtual ~ExecutionListener() = default;
  virtual void OnEvent(const ExecutionEvent& event) = 0;
  /// Whether kProgress events are wanted: an execution runs a ticker thread only when one
  /// of its listeners wants them (kOperatorStarted comes with the ticks).
  virtual bool WantsProgress() const { return true; }
};

}  // namespace sluice
