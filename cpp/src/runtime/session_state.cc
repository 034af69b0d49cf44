#include "runtime/session_state.h"

#include <arrow/util/logging.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "runtime/exec_context.h"
#include "runtime/json_lines_log.h"
#include "runtime/terminal_output.h"

namespace sluice::exec {

namespace {

int64_t PhysicalMemory() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_size <= 0) return int64_t{8} << 30;
  return static_cast<int64_t>(pages) * page_size;
}

constexpr uint64_t kDefaultSessionId = 1;

int64_t UnixMicrosNow() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
std::atomic<uint64_t> g_next_session_id{kDefaultSessionId + 1};

}  // namespace

arrow::Status ValidateConfig(const EngineConfig& config) {
  if (config.num_threads < 0) {
    return arrow::Status::Invalid("num_threads must be >= 0, got ", config.num_threads);
  }
  if (config.memory_limit_bytes < 0) {
    return arrow::Status::Invalid("memory_limit must be >= 0, got ", config.memory_limit_bytes);
  }
  if (config.batch_rows <= 0) {
    return arrow::Status::Invalid("batch_rows must be positive, got ", config.batch_rows);
  }
  if (!config.spill_dir.empty()) {
    // A missing directory is created at the first spill; one that cannot be a directory
    // is reported now rather than in the middle of a large job.
    struct stat info {};
    if (stat(config.spill_dir.c_str(), &info) == 0 && !S_ISDIR(info.st_mode)) {
      return arrow::Status::Invalid("spill_dir '", config.spill_dir, "' is not a directory");
    }
  }
  if (!config.log.empty() && (config.log.rfind("json:", 0) != 0 || config.log.size() == 5)) {
    return arrow::Status::Invalid("log '", config.log,
                                  "': expected json:PATH (a JSON lines file to append events to)");
  }
  if (!config.s3_scheme.empty() && config.s3_scheme != "http" && config.s3_scheme != "https") {
    return arrow::Status::Invalid("s3_scheme must be 'http' or 'https', got '", config.s3_scheme,
                                  "'");
  }
  if (const auto sep = config.s3_endpoint.find("://"); sep != std::string::npos) {
    const std::string scheme = config.s3_endpoint.substr(0, sep);
    if (scheme != "http" && scheme != "https") {
      return arrow::Status::Invalid("s3_endpoint '", config.s3_endpoint,
                                    "': the scheme must be http:// or https://");
    }
    if (!config.s3_scheme.empty() && config.s3_scheme != scheme) {
      return arrow::Status::Invalid("s3_endpoint '", config.s3_endpoint, "' says ", scheme,
                                    " but s3_scheme is '", config.s3_scheme, "'");
    }
  }
  return arrow::Status::OK();
}

EngineConfig ResolveConfig(EngineConfig c) {
  if (c.num_threads <= 0) c.num_threads = std::max(1u, std::thread::hardware_concurrency());
  // Half of RAM: room for an in-memory sort of a few GB on a laptop, while leaving the
  // rest to the OS page cache and the process around the engine (DuckDB takes 80%).
  if (c.memory_limit_bytes <= 0) c.memory_limit_bytes = PhysicalMemory() / 2;
  if (c.spill_dir.empty()) {
    const char* tmpdir = std::getenv("TMPDIR");
    c.spill_dir = (tmpdir != nullptr && *tmpdir != '\0') ? tmpdir : "/tmp";
  }
  if (c.catalog_path.empty()) {
    const char* home = std::getenv("HOME");
    c.catalog_path =
        std::string(home != nullptr && *home != '\0' ? home : ".") + "/.sluice/catalog.db";
  }
  return c;
}

SessionState::SessionState(uint64_t id)
    : id_(id),
      budget_(MemoryBudget::MakeUnder(MemoryBudget::Process())),
      listeners_{MakeStderrWarnings()} {}

// The budget is not released: filesystems and Arrow's IO threads hold it as a raw pool
// and may complete a read (a Parquet pre-buffer) after the session is gone. One small
// object per session stays behind.
SessionState::~SessionState() = default;

arrow::Result<std::shared_ptr<SessionState>> SessionState::Make(const EngineConfig& config) {
  std::shared_ptr<SessionState> session(new SessionState(g_next_session_id.fetch_add(1)));
  ARROW_RETURN_NOT_OK(session->Configure(config));
  return session;
}

const std::shared_ptr<SessionState>& SessionState::Default() {
  // Leaked on purpose: executions may still run in it while statics are destroyed.
  static auto* session = [] {
    auto* made = new std::shared_ptr<SessionState>(new SessionState(kDefaultSessionId));
    // An empty configuration always validates; Configure resolves the limit from the
    // environment as it does for every session.
    ARROW_CHECK_OK((*made)->Configure(EngineConfig{}));
    return made;
  }();
  return *session;
}

arrow::Status SessionState::Configure(const EngineConfig& config) {
  ARROW_RETURN_NOT_OK(ValidateConfig(config));
  // The log is opened before anything changes: a log that cannot be opened leaves the
  // session as it was.
  std::shared_ptr<ExecutionListener> log;
  bool log_changed;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    log_changed = config.log != log_setting_;
  }
  if (log_changed && !config.log.empty()) {
    ARROW_ASSIGN_OR_RAISE(log, OpenJsonLinesLog(config.log));
  }
  std::lock_guard<std::mutex> lock(mutex_);
  config_ = config;
  budget_->set_limit(ResolveConfig(config_).memory_limit_bytes);
  if (log_changed) {
    if (log_) {
      listeners_.erase(std::remove(listeners_.begin(), listeners_.end(), log_), listeners_.end());
    }
    log_ = std::move(log);
    log_setting_ = config.log;
    if (log_) listeners_.push_back(log_);
  }
  return arrow::Status::OK();
}

void SessionState::AddListener(std::shared_ptr<ExecutionListener> listener) {
  std::lock_guard<std::mutex> lock(mutex_);
  listeners_.push_back(std::move(listener));
}

void SessionState::RemoveListener(const ExecutionListener* listener) {
  std::lock_guard<std::mutex> lock(mutex_);
  listeners_.erase(std::remove_if(listeners_.begin(), listeners_.end(),
                                  [&](const auto& l) { return l.get() == listener; }),
                   listeners_.end());
}

std::vector<std::shared_ptr<ExecutionListener>> SessionState::listeners() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return listeners_;
}

void SessionState::Emit(ExecutionEvent event) const {
  event.session_id = id_;
  if (event.unix_micros == 0) event.unix_micros = UnixMicrosNow();
  // Outside the lock: a listener may be slow, and may add or remove listeners.
  for (const auto& listener : listeners()) listener->OnEvent(event);
}

void SessionState::Warn(std::string message, uint64_t execution_id) const {
  ExecutionEvent event;
  event.kind = ExecutionEventKind::kWarning;
  event.execution_id = execution_id;
  event.message = std::move(message);
  Emit(std::move(event));
}

EngineConfig SessionState::config() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return ResolveConfig(config_);
}

void SessionState::Started(ExecContext* ctx) {
  std::lock_guard<std::mutex> lock(mutex_);
  running_.insert(ctx);
  ++totals_.executions_started;
}

void SessionState::Finished(ExecContext* ctx, const ExecutionStats& stats, bool failed) {
  std::lock_guard<std::mutex> lock(mutex_);
  running_.erase(ctx);
  if (failed) ++totals_.executions_failed;
  for (const auto& op : stats.operators) totals_.cpu_seconds += op.cpu_seconds;
  totals_.rows_out += stats.rows_out;
  totals_.spilled_bytes += stats.spilled_bytes;
  totals_.bad_records_skipped += stats.bad_records_skipped;
  totals_.bad_records_collected += stats.bad_records_collected;
}

void SessionState::CancelRunning() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (ExecContext* ctx : running_) ctx->RequestCancel();
}

SessionStats SessionState::Stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  SessionStats stats = totals_;
  stats.executions_running = static_cast<int64_t>(running_.size());
  stats.memory_bytes = budget_->bytes_allocated();
  stats.peak_memory_bytes = budget_->max_memory();
  stats.memory_limit_bytes = budget_->limit();
  return stats;
}

}  // namespace sluice::exec
