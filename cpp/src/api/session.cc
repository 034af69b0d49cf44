#include "sluice/session.h"

#include <cstdio>
#include <sstream>

#include "runtime/session_state.h"

namespace sluice {

arrow::Result<Session> Session::Make(const EngineConfig& config) {
  ARROW_ASSIGN_OR_RAISE(auto state, exec::SessionState::Make(config));
  return Session(std::move(state));
}

Session Session::Default() { return Session(exec::SessionState::Default()); }

arrow::Status Session::Configure(const EngineConfig& config) { return state_->Configure(config); }

EngineConfig Session::config() const { return state_->config(); }

SessionStats Session::Stats() const { return state_->Stats(); }

void Session::Cancel() { state_->CancelRunning(); }

uint64_t Session::id() const { return state_->id(); }

void Session::AddListener(std::shared_ptr<ExecutionListener> listener) {
  state_->AddListener(std::move(listener));
}

void Session::RemoveListener(const ExecutionListener* listener) {
  state_->RemoveListener(listener);
}

std::string SessionStats::ToString() const {
  std::ostringstream out;
  out << "executions: " << executions_started << " started, " << executions_running
      << " running, " << executions_failed << " failed\n";
  char line[160];
  std::snprintf(line, sizeof(line), "operator time %.3f s, rows out %lld, spilled %s\n",
                cpu_seconds, static_cast<long long>(rows_out),
                FormatByteSize(spilled_bytes).c_str());
  out << line;
  out << "memory: " << FormatByteSize(memory_bytes) << " now, " << FormatByteSize(peak_memory_bytes)
      << " at most, limit " << FormatByteSize(memory_limit_bytes) << "\n";
  if (bad_records_skipped > 0 || bad_records_collected > 0) {
    out << "bad records: " << bad_records_skipped << " skipped, " << bad_records_collected
        << " collected\n";
  }
  return out.str();
}

}  // namespace sluice
