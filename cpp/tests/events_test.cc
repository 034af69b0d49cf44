// Execution events (sluice/events.h): what a session's listeners see of an execution, the
// JSON lines log, warnings, and that stats() are the figures of the finished event.

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "runtime/session_state.h"
#include "sluice/dataset.h"
#include "sluice/events.h"
#include "sluice/session.h"
#include "test_data.h"

namespace sluice {
namespace {

class Recorder : public ExecutionListener {
 public:
  explicit Recorder(bool progress = true) : progress_(progress) {}
  void OnEvent(const ExecutionEvent& event) override {
    std::lock_guard<std::mutex> lock(mutex_);
    events_.push_back(event);
  }
  bool WantsProgress() const override { return progress_; }
  std::vector<ExecutionEvent> events() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return events_;
  }
  std::vector<ExecutionEvent> Of(ExecutionEventKind kind) const {
    std::vector<ExecutionEvent> out;
    for (const auto& event : events()) {
      if (event.kind == kind) out.push_back(event);
    }
    return out;
  }

 private:
  const bool progress_;
  mutable std::mutex mutex_;
  std::vector<ExecutionEvent> events_;
};

Session MakeSession(const std::string& log = "") {
  EngineConfig config;
  config.num_threads = 2;
  config.progress = false;
  config.batch_rows = 10'000;
  config.log = log;
  return Session::Make(config).ValueOrDie();
}

/// Range, filter, a user function that waits `pause` on its first batch, sort: long
/// enough for progress ticks, with an operator of each kind.
Dataset SlowPlan(const Session& session, std::chrono::milliseconds pause) {
  BatchFunctionFactory factory = [pause]() -> arrow::Result<BatchFunction> {
    auto first = std::make_shared<std::once_flag>();
    return [first, pause](const std::shared_ptr<arrow::RecordBatch>& batch)
               -> arrow::Result<std::shared_ptr<arrow::RecordBatch>> {
      std::call_once(*first, [&] { std::this_thread::sleep_for(pause); });
      return batch;
    };
  };
  MapBatchesOptions options;
  options.name = "Pause";
  return Dataset::Range(100'000, session)
      .ValueOrDie()
      .Filter(Equal(Modulo(Col("id"), Lit(int64_t{4})), Lit(int64_t{1})))
      .ValueOrDie()
      .MapBatches(factory, options)
      .ValueOrDie()
      .Sort({SortKey{"id", /*descending=*/true}})
      .ValueOrDie();
}

TEST(EventsTest, AnExecutionReportsEachOperatorOnceAndTheFiguresOfStats) {
  Session session = MakeSession();
  Session other = MakeSession();
  auto recorder = std::make_shared<Recorder>();
  auto bystander = std::make_shared<Recorder>();
  session.AddListener(recorder);
  other.AddListener(bystander);

  Dataset ds = SlowPlan(session, std::chrono::milliseconds(700));
  auto table = ds.ToTable().ValueOrDie();
  ASSERT_EQ(table->num_rows(), 25'000);
  const ExecutionStats stats = ds.LastStats();

  const auto events = recorder->events();
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events.front().kind, ExecutionEventKind::kExecutionStarted);
  EXPECT_EQ(events.back().kind, ExecutionEventKind::kExecutionFinished);
  for (const auto& event : events) {
    EXPECT_EQ(event.session_id, session.id());
    EXPECT_EQ(event.execution_id, events.front().execution_id);
    EXPECT_GT(event.unix_micros, 0);
  }
  // Each operator starts once, before it finishes once, in plan order at the end.
  const auto started = recorder->Of(ExecutionEventKind::kOperatorStarted);
  const auto finished = recorder->Of(ExecutionEventKind::kOperatorFinished);
  ASSERT_EQ(stats.operators.size(), 4u);  // Range, Filter, Pause, Sort
  ASSERT_EQ(started.size(), stats.operators.size());
  ASSERT_EQ(finished.size(), stats.operators.size());
  for (size_t i = 0; i < finished.size(); ++i) {
    EXPECT_EQ(finished[i].operator_index, static_cast<int>(i));
    EXPECT_EQ(finished[i].op.name, stats.operators[i].name);
    EXPECT_EQ(finished[i].op.rows_in, stats.operators[i].rows_in);
    EXPECT_EQ(finished[i].op.rows_out, stats.operators[i].rows_out);
    EXPECT_EQ(finished[i].op.bytes_out, stats.operators[i].bytes_out);
    EXPECT_LE(started[i].seconds, finished[i].seconds);
  }
  EXPECT_EQ(finished[0].op.rows_out, 100'000);
  EXPECT_EQ(finished[1].op.rows_out, 25'000);
  // The finished event carries stats() itself.
  const ExecutionEvent& end = events.back();
  EXPECT_EQ(end.outcome, "ok");
  EXPECT_TRUE(end.message.empty());
  EXPECT_EQ(end.stats.rows_out, 25'000);
  EXPECT_EQ(end.stats.rows_out, stats.rows_out);
  EXPECT_EQ(end.stats.peak_memory_bytes, stats.peak_memory_bytes);
  EXPECT_EQ(end.tasks_total, end.tasks_done);
  EXPECT_GT(end.tasks_done, 0);
  // The pause keeps it running for several ticks: progress with figures so far.
  const auto progress = recorder->Of(ExecutionEventKind::kProgress);
  ASSERT_FALSE(progress.empty());
  for (const auto& tick : progress) {
    EXPECT_EQ(tick.stats.operators.size(), 4u);
    EXPECT_LE(tick.stats.operators[0].rows_out, 100'000);
    EXPECT_TRUE(tick.tasks_total == -1 || tick.tasks_done <= tick.tasks_total);
    EXPECT_LT(tick.seconds, end.seconds);
  }
  // The session adds up the same figures; the other session saw nothing.
  EXPECT_EQ(session.Stats().rows_out, 25'000);
  EXPECT_TRUE(bystander->events().empty());
}

TEST(EventsTest, FailuresAndCancellationsSayHowTheExecutionEnded) {
  Session session = MakeSession();
  auto recorder = std::make_shared<Recorder>(/*progress=*/false);
  session.AddListener(recorder);
  BatchFunctionFactory failing = []() -> arrow::Result<BatchFunction> {
    return [](const std::shared_ptr<arrow::RecordBatch>&)
               -> arrow::Result<std::shared_ptr<arrow::RecordBatch>> {
      return arrow::Status::IOError("the model server went away");
    };
  };
  auto failed = Dataset::Range(1000, session).ValueOrDie().MapBatches(failing).ValueOrDie().Count();
  ASSERT_FALSE(failed.ok());
  auto ends = recorder->Of(ExecutionEventKind::kExecutionFinished);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(ends[0].outcome, "failed");
  EXPECT_NE(ends[0].message.find("the model server went away"), std::string::npos)
      << ends[0].message;
  // No ticker without a listener that wants progress.
  EXPECT_TRUE(recorder->Of(ExecutionEventKind::kProgress).empty());

  auto endless = std::async(std::launch::async, [&] {
    // Filtered: a bare range is counted without running anything.
    return Dataset::Range(int64_t{1} << 40, session)
        .ValueOrDie()
        .Filter(Equal(Modulo(Col("id"), Lit(int64_t{7})), Lit(int64_t{3})))
        .ValueOrDie()
        .Count();
  });
  while (session.Stats().executions_running == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  session.Cancel();
  EXPECT_TRUE(endless.get().status().IsCancelled());
  ends = recorder->Of(ExecutionEventKind::kExecutionFinished);
  ASSERT_EQ(ends.size(), 2u);
  EXPECT_EQ(ends[1].outcome, "cancelled");

  // A removed listener hears nothing of later executions.
  session.RemoveListener(recorder.get());
  const size_t seen = recorder->events().size();
  ASSERT_EQ(Dataset::Range(10, session).ValueOrDie().ToTable().ValueOrDie()->num_rows(), 10);
  EXPECT_EQ(recorder->events().size(), seen);
}

TEST(EventsTest, WarningsGoToListenersAndStderrThroughItsListener) {
  Session session = MakeSession();
  auto recorder = std::make_shared<Recorder>();
  session.AddListener(recorder);
  ::testing::internal::CaptureStderr();
  session.state()->Warn("the old files could not be deleted");
  const std::string printed = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(printed, "sluice: warning: the old files could not be deleted\n");
  auto warnings = recorder->Of(ExecutionEventKind::kWarning);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].message, "the old files could not be deleted");
  EXPECT_EQ(warnings[0].session_id, session.id());
  EXPECT_EQ(warnings[0].execution_id, 0u);
}

TEST(EventsTest, TheJsonLinesLogHasOneObjectPerEvent) {
  testing::TempDir dir;
  const std::string path = dir.Join("logs/events.jsonl");
  Session session = MakeSession("json:" + path);
  // ToTable, not Count: a range's count needs no execution, and so has no events.
  ASSERT_EQ(Dataset::Range(50'000, session).ValueOrDie().ToTable().ValueOrDie()->num_rows(),
            50'000);
  auto failed = Dataset::Range(10, session).ValueOrDie().Filter(Greater(Col("missing"), Lit(int64_t{1})));
  ASSERT_FALSE(failed.ok());  // refused when the plan is made: no execution, no event
  session.state()->Warn("a \"quoted\" \xff warning");

  std::ifstream in(path);
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(lines.front()["event"], "execution_started");
  EXPECT_EQ(lines.front()["session"], session.id());
  const auto& end = lines[lines.size() - 2];
  EXPECT_EQ(end["event"], "execution_finished");
  EXPECT_EQ(end["outcome"], "ok");
  EXPECT_EQ(end["tasks_done"], end["tasks_total"]);
  EXPECT_EQ(lines.back()["event"], "warning");
  // Invalid UTF-8 is replaced, never a line that does not parse.
  EXPECT_EQ(lines.back()["message"], "a \"quoted\" \xEF\xBF\xBD warning");
  EXPECT_EQ(lines.back()["time"].get<std::string>().size(), 27u);  // 2026-12-07T20:52:11.679163Z

  // Turning the log off stops it; a bad setting is refused and changes nothing.
  EngineConfig config = session.config();
  config.log = "";
  ASSERT_TRUE(session.Configure(config).ok());
  const size_t before = lines.size();
  ASSERT_EQ(Dataset::Range(5, session).ValueOrDie().ToTable().ValueOrDie()->num_rows(), 5);
  std::ifstream again(path);
  size_t now = 0;
  for (std::string line; std::getline(again, line);) ++now;
  EXPECT_EQ(now, before);
  config.log = "text:" + path;
  EXPECT_TRUE(session.Configure(config).IsInvalid());
  config.log = "json:" + dir.path().string();  // a directory
  auto refused = session.Configure(config);
  EXPECT_TRUE(refused.IsIOError()) << refused.ToString();
  EXPECT_EQ(session.config().log, "");
}

}  // namespace
}  // namespace sluice
