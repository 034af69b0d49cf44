#include "runtime/json_lines_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>

#include <nlohmann/json.hpp>

namespace sluice::exec {

namespace {

constexpr const char kJsonPrefix[] = "json:";

std::string IsoTime(int64_t unix_micros) {
  const std::time_t seconds = static_cast<std::time_t>(unix_micros / 1000000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  const size_t n = std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + n, sizeof(text) - n, ".%06lldZ",
                static_cast<long long>(unix_micros % 1000000));
  return text;
}

nlohmann::json OperatorJson(const OperatorStats& op) {
  return {{"operator", op.name},          {"rows_in", op.rows_in},
          {"rows_out", op.rows_out},      {"batches_out", op.batches_out},
          {"bytes_out", op.bytes_out},    {"cpu_seconds", op.cpu_seconds},
          {"spilled_bytes", op.spilled_bytes}, {"peak_reserved_bytes", op.peak_reserved_bytes}};
}

class JsonLinesLog : public ExecutionListener {
 public:
  explicit JsonLinesLog(int fd) : fd_(fd) {}
  ~JsonLinesLog() override { ::close(fd_); }
  void OnEvent(const ExecutionEvent& event) override {
    const std::string line = sluice::ExecutionEventToJson(event) + "\n";
    // A failing log must not fail the job; there is nowhere else to report it.
    ARROW_UNUSED(::write(fd_, line.data(), line.size()));
  }

 private:
  const int fd_;
};

}  // namespace

}  // namespace sluice::exec

namespace sluice {

std::string ExecutionEventToJson(const ExecutionEvent& event) {
  nlohmann::json line = {{"event", ExecutionEventName(event.kind)},
                         {"time", exec::IsoTime(event.unix_micros)},
                         {"session", event.session_id},
                         {"execution", event.execution_id},
                         {"seconds", event.seconds}};
  switch (event.kind) {
    case ExecutionEventKind::kOperatorStarted:
      line["operator_index"] = event.operator_index;
      line["operator"] = event.op.name;
      break;
    case ExecutionEventKind::kOperatorFinished:
      line["operator_index"] = event.operator_index;
      line.update(exec::OperatorJson(event.op));
      break;
    case ExecutionEventKind::kProgress:
    case ExecutionEventKind::kExecutionFinished: {
      nlohmann::json operators = nlohmann::json::array();
      for (const auto& op : event.stats.operators) operators.push_back(exec::OperatorJson(op));
      line["operators"] = std::move(operators);
      line["rows_out"] = event.stats.rows_out;
      line["spilled_bytes"] = event.stats.spilled_bytes;
      line["peak_memory_bytes"] = event.stats.peak_memory_bytes;
      line["memory_bytes"] = event.memory_bytes;
      line["tasks_done"] = event.tasks_done;
      line["tasks_total"] = event.tasks_total;
      line["bad_records_skipped"] = event.stats.bad_records_skipped;
      line["bad_records_collected"] = event.stats.bad_records_collected;
      if (event.kind == ExecutionEventKind::kExecutionFinished) line["outcome"] = event.outcome;
      break;
    }
    case ExecutionEventKind::kExecutionStarted:
    case ExecutionEventKind::kWarning:
      break;
  }
  if (!event.message.empty()) line["message"] = event.message;
  // Invalid UTF-8 (a file name, an error quoting a bad record) is replaced, not thrown.
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace sluice

namespace sluice::exec {

arrow::Result<std::shared_ptr<ExecutionListener>> OpenJsonLinesLog(const std::string& setting) {
  if (setting.rfind(kJsonPrefix, 0) != 0 || setting.size() == sizeof(kJsonPrefix) - 1) {
    return arrow::Status::Invalid("log '", setting,
                                  "': expected json:PATH (a JSON lines file to append events to)");
  }
  const std::string path = setting.substr(sizeof(kJsonPrefix) - 1);
  std::error_code error;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, error);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    return arrow::Status::IOError("log '", path, "': cannot open it for appending: ",
                                  std::strerror(errno));
  }
  return std::make_shared<JsonLinesLog>(fd);
}

}  // namespace sluice::exec
