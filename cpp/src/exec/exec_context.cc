#include "exec/exec_context.h"

#include <condition_variable>
#include <cstdio>
#include <sstream>
#include <thread>
#include <unistd.h>

#include "compute/engine_functions.h"
#include "exec/memory_budget.h"

namespace sluice::exec {

namespace {

std::string HumanCount(double n) {
  const char* units[] = {"", "K", "M", "G", "T"};
  int u = 0;
  while (n >= 1000 && u < 4) {
    n /= 1000;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f%s" : "%.1f%s", n, units[u]);
  return buf;
}

}  // namespace

/// Redraws one status line on stderr (operators, rows, rows/s) while a job runs. Only
/// when stderr is a terminal and the job has run for a second, so tests, pipes and
/// short queries print nothing.
class ExecContext::ProgressLine {
 public:
  explicit ProgressLine(ExecContext* ctx) : ctx_(ctx) {
    thread_ = std::thread([this] { Run(); });
  }
  ~ProgressLine() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
    if (drawn_) std::fprintf(stderr, "\r\033[K");
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mutex_);
    if (cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_; })) return;
    while (!stop_) {
      Draw();
      cv_.wait_for(lock, std::chrono::milliseconds(250), [this] { return stop_; });
    }
  }
  void Draw() {
    const ExecutionStats stats = ctx_->Snapshot();
    std::ostringstream line;
    line << "sluice " << static_cast<int>(stats.wall_seconds) << "s";
    for (const auto& op : stats.operators) {
      std::string name = op.name.substr(0, op.name.find_first_of("(["));
      line << " | " << name << " " << HumanCount(static_cast<double>(op.rows_out)) << " rows";
      if (stats.wall_seconds > 0) {
        line << " " << HumanCount(op.rows_out / stats.wall_seconds) << "/s";
      }
      if (op.spilled_bytes > 0) line << " spilled " << FormatByteSize(op.spilled_bytes);
    }
    line << " | mem " << FormatByteSize(ctx_->budget()->bytes_allocated());
    std::string text = line.str();
    if (text.size() > 200) text = text.substr(0, 197) + "...";
    std::fprintf(stderr, "\r\033[K%s", text.c_str());
    std::fflush(stderr);
    drawn_ = true;
  }

  ExecContext* ctx_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool drawn_ = false;
  std::thread thread_;
};

ExecContext::ExecContext(std::shared_ptr<SessionState> session)
    : ExecContext(session, session->config()) {}

ExecContext::ExecContext(EngineConfig config) : ExecContext(SessionState::Default(), config) {}

ExecContext::ExecContext(std::shared_ptr<SessionState> session, EngineConfig config)
    : session_(std::move(session)),
      config_(ResolveConfig(std::move(config))),
      budget_(MemoryBudget::MakeUnder(session_->budget())),
      compute_context_(budget_, /*executor=*/nullptr, compute::EngineFunctionRegistry()),
      start_(std::chrono::steady_clock::now()) {
  if (config_.progress && isatty(STDERR_FILENO)) {
    progress_ = std::make_unique<ProgressLine>(this);
  }
  // Last: once registered, the session may cancel it, so it must be whole.
  session_->Started(this);
}

ExecContext::~ExecContext() {
  progress_.reset();
  // Spill files go with the execution, whether it succeeded or not.
  spill_directory_.reset();
  Finish();
  budget_->Release();
}

void ExecContext::Finish() {
  if (finished_.exchange(true)) return;
  session_->Finished(this, Snapshot(), failed_.load());
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
