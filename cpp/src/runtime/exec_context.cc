#include "runtime/exec_context.h"

#include <algorithm>
#include <condition_variable>
#include <thread>

#include "compute/engine_functions.h"
#include "runtime/memory_budget.h"
#include "runtime/terminal_output.h"

namespace sluice::exec {

namespace {

std::atomic<uint64_t> g_next_execution_id{1};

constexpr auto kTickInterval = std::chrono::milliseconds(250);

}  // namespace

/// Emits kProgress (and kOperatorStarted) every tick on a thread of its own while the
/// execution runs; made only when a listener wants progress.
class ExecContext::Ticker {
 public:
  explicit Ticker(ExecContext* ctx) : ctx_(ctx) {
    thread_ = std::thread([this] { Run(); });
  }
  ~Ticker() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!cv_.wait_for(lock, kTickInterval, [this] { return stop_; })) {
      lock.unlock();
      ExecutionStats stats = ctx_->Snapshot();
      ctx_->AnnounceStartedOperators(stats, /*all=*/false);
      ctx_->Emit(ctx_->ProgressEvent(ExecutionEventKind::kProgress, std::move(stats)));
      lock.lock();
    }
  }

  ExecContext* ctx_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

ExecContext::ExecContext(std::shared_ptr<SessionState> session)
    : ExecContext(session, session->config()) {}

ExecContext::ExecContext(EngineConfig config) : ExecContext(SessionState::Default(), config) {}

ExecContext::ExecContext(std::shared_ptr<SessionState> session, EngineConfig config)
    : id_(g_next_execution_id.fetch_add(1)),
      session_(std::move(session)),
      config_(ResolveConfig(std::move(config))),
      budget_(MemoryBudget::MakeUnder(session_->budget())),
      compute_context_(budget_, /*executor=*/nullptr, compute::EngineFunctionRegistry()),
      start_(std::chrono::steady_clock::now()),
      listeners_(session_->listeners()) {
  if (config_.progress) {
    if (auto line = MakeProgressLineOnTerminal()) listeners_.push_back(std::move(line));
  }
  ExecutionEvent started;
  started.kind = ExecutionEventKind::kExecutionStarted;
  Emit(std::move(started));
  if (std::any_of(listeners_.begin(), listeners_.end(),
                  [](const auto& listener) { return listener->WantsProgress(); })) {
    ticker_ = std::make_unique<Ticker>(this);
  }
  // Last: once registered, the session may cancel it, so it must be whole.
  session_->Started(this);
}

ExecContext::~ExecContext() {
  Finish();
  // Spill files go with the execution, whether it succeeded or not.
  spill_directory_.reset();
  budget_->Release();
}

void ExecContext::MarkFailed(const arrow::Status& error) {
  failed_.store(true);
  std::lock_guard<std::mutex> lock(mutex_);
  if (error_.empty() && !error.ok()) error_ = error.ToString();
}

void ExecContext::Warn(std::string message) const { session_->Warn(std::move(message), id_); }

void ExecContext::Emit(ExecutionEvent event) const {
  event.session_id = session_->id();
  event.execution_id = id_;
  event.unix_micros = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  event.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  for (const auto& listener : listeners_) listener->OnEvent(event);
}

ExecutionEvent ExecContext::ProgressEvent(ExecutionEventKind kind, ExecutionStats stats) const {
  ExecutionEvent event;
  event.kind = kind;
  stats.rejects.clear();  // rows, not figures: Dataset::LastRejects has them
  event.stats = std::move(stats);
  event.memory_bytes = budget_->bytes_allocated();
  event.tasks_done = tasks_done_.load();
  // Unknown (-1) until the sources exist and every one has listed its tasks.
  const int64_t sources = sources_.load();
  event.tasks_total =
      sources > 0 && sources_listed_.load() == sources ? tasks_listed_.load() : -1;
  return event;
}

void ExecContext::AnnounceStartedOperators(const ExecutionStats& stats, bool all) {
  announced_.resize(stats.operators.size(), false);
  for (size_t i = 0; i < stats.operators.size(); ++i) {
    const OperatorStats& op = stats.operators[i];
    const bool working = op.rows_in > 0 || op.rows_out > 0 || op.cpu_seconds > 0;
    if (announced_[i] || !(working || all)) continue;
    announced_[i] = true;
    ExecutionEvent event;
    event.kind = ExecutionEventKind::kOperatorStarted;
    event.operator_index = static_cast<int>(i);
    event.op.name = op.name;
    Emit(std::move(event));
  }
}

const ExecutionStats& ExecContext::Finish() {
  if (finished_.exchange(true)) return final_stats_;
  ticker_.reset();  // no progress after the end
  final_stats_ = Snapshot();
  AnnounceStartedOperators(final_stats_, /*all=*/true);
  for (size_t i = 0; i < final_stats_.operators.size(); ++i) {
    ExecutionEvent event;
    event.kind = ExecutionEventKind::kOperatorFinished;
    event.operator_index = static_cast<int>(i);
    event.op = final_stats_.operators[i];
    Emit(std::move(event));
  }
  ExecutionEvent finished = ProgressEvent(ExecutionEventKind::kExecutionFinished, final_stats_);
  finished.outcome = cancel_requested_.load() ? "cancelled" : failed_.load() ? "failed" : "ok";
  {
    std::lock_guard<std::mutex> lock(mutex_);
    finished.message = error_;
  }
  Emit(std::move(finished));
  session_->Finished(this, final_stats_, failed_.load());
  return final_stats_;
}

spill::SpillDirectory* ExecContext::spill_directory() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!spill_directory_) {
    spill_directory_ = std::make_unique<spill::SpillDirectory>(config_.spill_dir);
  }
  return spill_directory_.get();
}

arrow::io::IOContext ExecContext::io_context() const {
  // The session's budget, not the execution's: Arrow's IO threads may still complete a
  // read (a Parquet pre-buffer) after the execution that asked for it has ended.
  return arrow::io::IOContext(session_->budget());
}

OperatorCounters* ExecContext::AddCounters(const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex_);
  counters_.emplace_back(std::piecewise_construct, std::forward_as_tuple(name),
                         std::forward_as_tuple());
  return &counters_.back().second;
}

void ExecContext::AddRejects(std::shared_ptr<arrow::RecordBatch> rejects) {
  std::lock_guard<std::mutex> lock(mutex_);
  rejects_.push_back(std::move(rejects));
}

ExecutionStats ExecContext::Snapshot() const {
  ExecutionStats stats;
  stats.bad_records_skipped = bad_records_skipped_.load();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stats.rejects = rejects_;
    for (const auto& batch : rejects_) stats.bad_records_collected += batch->num_rows();
    for (const auto& [name, c] : counters_) {
      OperatorStats op;
      op.name = name;
      op.rows_in = c.rows_in.load();
      op.rows_out = c.rows_out.load();
      op.batches_out = c.batches_out.load();
      op.bytes_out = c.bytes_out.load();
      op.cpu_seconds = c.cpu_nanos.load() / 1e9;
      op.spilled_bytes = c.spilled_bytes.load();
      op.peak_reserved_bytes = c.peak_reserved_bytes.load();
      stats.spilled_bytes += op.spilled_bytes;
      stats.operators.push_back(op);
    }
  }
  stats.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  stats.peak_memory_bytes = budget_->max_memory();
  stats.rows_out = rows_out_.load();
  return stats;
}

}  // namespace sluice::exec
