#include "runtime/terminal_output.h"

#include <unistd.h>

#include <cstdio>
#include <sstream>
#include <string>

#include "sluice/config.h"

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

class ProgressLine : public ExecutionListener {
 public:
  // Progress events come from the execution's one ticker thread and kExecutionFinished
  // after the ticker has stopped, so drawn_ needs no lock.
  void OnEvent(const ExecutionEvent& event) override {
    if (event.kind == ExecutionEventKind::kProgress && event.seconds >= 1) {
      Draw(event);
    } else if (event.kind == ExecutionEventKind::kExecutionFinished && drawn_) {
      std::fprintf(stderr, "\r\033[K");
      std::fflush(stderr);
    }
  }

 private:
  void Draw(const ExecutionEvent& event) {
    const ExecutionStats& stats = event.stats;
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
    if (event.tasks_total > 0) line << " | tasks " << event.tasks_done << "/" << event.tasks_total;
    line << " | mem " << FormatByteSize(event.memory_bytes);
    std::string text = line.str();
    if (text.size() > 200) text = text.substr(0, 197) + "...";
    std::fprintf(stderr, "\r\033[K%s", text.c_str());
    std::fflush(stderr);
    drawn_ = true;
  }

  bool drawn_ = false;
};

class StderrWarnings : public ExecutionListener {
 public:
  void OnEvent(const ExecutionEvent& event) override {
    if (event.kind != ExecutionEventKind::kWarning) return;
    // One fprintf per warning: lines from several threads do not interleave.
    std::fprintf(stderr, "sluice: warning: %s\n", event.message.c_str());
  }
  bool WantsProgress() const override { return false; }
};

}  // namespace

std::shared_ptr<ExecutionListener> MakeProgressLineOnTerminal() {
  if (!isatty(STDERR_FILENO)) return nullptr;
  return std::make_shared<ProgressLine>();
}

std::shared_ptr<ExecutionListener> MakeStderrWarnings() {
  return std::make_shared<StderrWarnings>();
}

}  // namespace sluice::exec
