#pragma once

#include <arrow/status.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/batch_stream.h"

namespace sluice::exec {

class ExecContext;

/// Run-time state of an operator. Operators themselves are immutable; what changes while
/// they run lives in a global state (one per execution, shared by all workers, must be
/// thread-safe) and a task state (one per scan task, owned by one worker).
class OperatorState {
 public:
  virtual ~OperatorState() = default;
};

/// Counters one operator accumulates during an execution.
struct OperatorCounters {
  std::atomic<int64_t> rows_in{0};
  std::atomic<int64_t> rows_out{0};
  std::atomic<int64_t> batches_out{0};
  std::atomic<int64_t> bytes_out{0};
  std::atomic<int64_t> cpu_nanos{0};
  /// Compressed bytes written to spill files.
  std::atomic<int64_t> spilled_bytes{0};
  /// The largest memory reservation the operator held.
  std::atomic<int64_t> peak_reserved_bytes{0};
};

/// Adds the time from construction to destruction to `sink` (nothing when it is null).
class ScopedTimer {
 public:
  explicit ScopedTimer(std::atomic<int64_t>* sink)
      : sink_(sink), start_(std::chrono::steady_clock::now()) {}
  ~ScopedTimer() {
    if (sink_ == nullptr) return;
    sink_->fetch_add(std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::steady_clock::now() - start_)
                         .count());
  }
  ScopedTimer(const ScopedTimer&) = delete;
  ScopedTimer& operator=(const ScopedTimer&) = delete;

 private:
  std::atomic<int64_t>* sink_;
  std::chrono::steady_clock::time_point start_;
};

using EmitFn = std::function<arrow::Status(BatchPtr)>;

/// A per-batch operator that runs inside a pipeline: filter, project, map_batches, a
/// per-task limit, a writer. Push() sees each batch of a task in order; Finish() runs once
/// at the end of the task and may emit buffered rows.
class StreamOperator {
 public:
  virtual ~StreamOperator() = default;
  /// One-line description for explain(), stats() and errors.
  virtual std::string ToString() const = 0;

  virtual arrow::Result<std::shared_ptr<OperatorState>> MakeGlobalState(ExecContext* ctx) const {
    return nullptr;
  }
  virtual arrow::Result<std::unique_ptr<OperatorState>> MakeTaskState(ExecContext* ctx,
                                                                      OperatorState* global) const {
    return nullptr;
  }
  virtual arrow::Status Push(ExecContext* ctx, OperatorState* global, OperatorState* task,
                             BatchPtr batch, const EmitFn& emit) const = 0;
  virtual arrow::Status Finish(ExecContext* ctx, OperatorState* global, OperatorState* task,
                               const EmitFn& emit) const {
    return arrow::Status::OK();
  }
  /// False once the task needs no more input (a per-task limit that is full): the rest of
  /// the task's input is then neither read nor run through the operators below, and
  /// Finish() follows at once.
  virtual bool NeedsInput(OperatorState* global, OperatorState* task) const { return true; }
};

}  // namespace sluice::exec
