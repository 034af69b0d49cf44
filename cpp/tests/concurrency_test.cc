// Concurrency of the executor: ordered delivery, errors, backpressure, cancellation,
// destruction while workers run, early stop by limit, the map_batches function pool and
// nested pipelines. Every test runs under a watchdog, so a hang fails instead of blocking.

#include <arrow/array.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <random>
#include <thread>

#include "physical/executor.h"
#include "runtime/pipeline.h"
#include "connectors/memory/memory_sources.h"
#include "formats/file_sources.h"
#include "optimizer/optimizer.h"
#include "plan/logical_plan.h"
#include "sluice/config.h"
#include "test_data.h"

namespace sluice {
namespace {

using std::chrono::milliseconds;

/// Runs `body` on another thread and kills the process if it does not finish in time: a
/// deadlock must fail the test run rather than hang it.
void WithWatchdog(int seconds, const std::function<void()>& body) {
  auto done = std::async(std::launch::async, body);
  if (done.wait_for(std::chrono::seconds(seconds)) != std::future_status::ready) {
    std::fprintf(stderr, "\n%s: still running after %d s: deadlock\n",
                 ::testing::UnitTest::GetInstance()->current_test_info()->name(), seconds);
    std::fflush(stderr);
    std::_Exit(3);
  }
  done.get();
}

exec::BatchPtr OneValueBatch(int64_t value) {
  arrow::Int64Builder builder;
  EXPECT_TRUE(builder.Append(value).ok());
  auto array = builder.Finish().ValueOrDie();
  return arrow::RecordBatch::Make(arrow::schema({arrow::field("v", arrow::int64())}), 1, {array});
}

/// What one scripted task does: `batches` batches of one row (value task * 1000 + i),
/// each after `delay`; batch `fail_at` is an error instead.
struct TaskScript {
  int batches = 1;
  milliseconds delay{0};
  int fail_at = -1;
  std::string message;
};

class ScriptedTaskSource : public exec::TaskSource {
 public:
  explicit ScriptedTaskSource(std::vector<TaskScript> tasks, int fail_next_task_at = -1)
      : tasks_(std::move(tasks)), fail_next_task_at_(fail_next_task_at) {}

  arrow::Result<std::optional<exec::ScanTask>> NextTask() override {
    if (static_cast<int>(next_) == fail_next_task_at_) {
      return arrow::Status::IOError("listing failed");
    }
    if (next_ >= tasks_.size()) return std::nullopt;
    const int64_t id = static_cast<int64_t>(next_);
    const TaskScript script = tasks_[next_++];
    exec::ScanTask task;
    task.label = "scripted";
    task.open = [id, script]() -> arrow::Result<std::unique_ptr<exec::BatchStream>> {
      auto produced = std::make_shared<int>(0);
      return std::make_unique<exec::FunctionBatchStream>(
          [id, script, produced]() -> arrow::Result<exec::BatchPtr> {
            if (*produced == script.batches) return nullptr;
            std::this_thread::sleep_for(script.delay);
            if (*produced == script.fail_at) return arrow::Status::Invalid(script.message);
            return OneValueBatch(id * 1000 + (*produced)++);
          });
    };
    return task;
  }

 private:
  std::vector<TaskScript> tasks_;
  int fail_next_task_at_;
  size_t next_ = 0;
};

/// Every value the runner delivers, then its final status.
struct Drained {
  std::vector<int64_t> values;
  arrow::Status status;
};

Drained Drain(exec::BatchStream* stream) {
  Drained out;
  while (true) {
    auto next = stream->Next();
    if (!next.ok()) {
      out.status = next.status();
      return out;
    }
    if (*next == nullptr) return out;
    auto values = std::static_pointer_cast<arrow::Int64Array>((*next)->column(0));
    for (int64_t i = 0; i < values->length(); ++i) out.values.push_back(values->Value(i));
  }
}

std::vector<int64_t> ExpectedValues(int task, int batches) {
  std::vector<int64_t> values;
  for (int i = 0; i < batches; ++i) values.push_back(task * 1000 + i);
  return values;
}

plan::PlanNodePtr RangeNode(int64_t n) {
  return plan::SourceNode::Make(io::MakeRangeSource(n).ValueOrDie()).ValueOrDie();
}

std::shared_ptr<exec::PlanReader> OpenPlan(const plan::PlanNodePtr& plan) {
  auto optimized = optimizer::Optimize(plan).ValueOrDie();
  return exec::PlanReader::Open(optimized).ValueOrDie();
}

int64_t FirstId(const arrow::RecordBatch& batch) {
  return std::static_pointer_cast<arrow::Int64Array>(batch.column(0))->Value(0);
}

class ConcurrencyTest : public ::testing::Test {
 protected:
  void SetUp() override { Configure(/*num_threads=*/4, /*memory_limit_bytes=*/0); }
  void TearDown() override { Configure(0, 0); }

  void Configure(int num_threads, int64_t memory_limit_bytes) {
    EngineConfig config;
    config.num_threads = num_threads;
    config.memory_limit_bytes = memory_limit_bytes;
    config.batch_rows = 100;  // a range task is 16 batches of 100 rows
    config.progress = false;
    ASSERT_OK(sluice::Configure(config));
  }
};

// ---- ordered delivery of errors

TEST_F(ConcurrencyTest, ErrorInALaterTaskComesAfterTheOutputOfEarlierTasks) {
  WithWatchdog(60, [] {
    exec::ExecContext ctx(CurrentConfig());
    std::vector<TaskScript> tasks = {{5, milliseconds(20)}, {3, milliseconds(0), 0, "late"}};
    auto runner =
        exec::PipelineRunner::Start(&ctx, std::make_unique<ScriptedTaskSource>(std::move(tasks)), 2)
            .ValueOrDie();
    Drained drained = Drain(runner.get());
    EXPECT_EQ(drained.values, ExpectedValues(0, 5));
    ASSERT_FALSE(drained.status.ok());
    EXPECT_EQ(drained.status.message(), "late");
  });
}

TEST_F(ConcurrencyTest, FirstErrorInTaskOrderWins) {
  WithWatchdog(60, [] {
    for (int round = 0; round < 5; ++round) {
      exec::ExecContext ctx(CurrentConfig());
      std::vector<TaskScript> tasks = {{2, milliseconds(0)},
                                       {2, milliseconds(100), 0, "first"},
                                       {2, milliseconds(0), 0, "second"}};
      auto runner = exec::PipelineRunner::Start(
                        &ctx, std::make_unique<ScriptedTaskSource>(std::move(tasks)), 3)
                        .ValueOrDie();
      Drained drained = Drain(runner.get());
      EXPECT_EQ(drained.values, ExpectedValues(0, 2));
      ASSERT_FALSE(drained.status.ok());
      EXPECT_EQ(drained.status.message(), "first");
    }
  });
}

TEST_F(ConcurrencyTest, TaskSourceErrorComesAfterTheTasksBeforeIt) {
  WithWatchdog(60, [] {
    exec::ExecContext ctx(CurrentConfig());
    std::vector<TaskScript> tasks = {{4, milliseconds(20)}, {4, milliseconds(20)}};
    auto runner =
        exec::PipelineRunner::Start(
            &ctx, std::make_unique<ScriptedTaskSource>(std::move(tasks), /*fail_next_task_at=*/2),
            4)
            .ValueOrDie();
    Drained drained = Drain(runner.get());
    std::vector<int64_t> expected = ExpectedValues(0, 4);
    for (int64_t v : ExpectedValues(1, 4)) expected.push_back(v);
    EXPECT_EQ(drained.values, expected);
    ASSERT_FALSE(drained.status.ok());
    EXPECT_TRUE(drained.status.IsIOError()) << drained.status.ToString();
  });
}

TEST_F(ConcurrencyTest, PartialOutputOfTheFailingTaskPrecedesItsError) {
  WithWatchdog(60, [] {
    exec::ExecContext ctx(CurrentConfig());
    std::vector<TaskScript> tasks = {{5, milliseconds(0), 3, "third batch"}, {5, milliseconds(0)}};
    auto runner =
        exec::PipelineRunner::Start(&ctx, std::make_unique<ScriptedTaskSource>(std::move(tasks)), 2)
            .ValueOrDie();
    // Let the error happen before the consumer looks: the result must not depend on it.
    std::this_thread::sleep_for(milliseconds(50));
    Drained drained = Drain(runner.get());
    EXPECT_EQ(drained.values, ExpectedValues(0, 3));
    EXPECT_EQ(drained.status.message(), "third batch");
  });
}

// ---- backpressure, cancellation, destruction

TEST_F(ConcurrencyTest, ErrorWhileOtherWorkersWaitInBackpressure) {
  // A one-byte budget: every producer but the oldest task's waits for the consumer.
  Configure(4, 1);
  WithWatchdog(60, [] {
    exec::ExecContext ctx(CurrentConfig());
    std::vector<TaskScript> tasks = {{50, milliseconds(2), 10, "boom"}};
    for (int i = 0; i < 6; ++i) tasks.push_back({50, milliseconds(0)});
    auto runner =
        exec::PipelineRunner::Start(&ctx, std::make_unique<ScriptedTaskSource>(std::move(tasks)), 4)
            .ValueOrDie();
    Drained drained = Drain(runner.get());
    EXPECT_EQ(drained.values, ExpectedValues(0, 10));
    EXPECT_EQ(drained.status.message(), "boom");
  });
}

TEST_F(ConcurrencyTest, DestroyWhileProducersWaitInBackpressure) {
  Configure(4, 1);
  WithWatchdog(60, [] {
    for (int round = 0; round < 20; ++round) {
      exec::ExecContext ctx(CurrentConfig());
      std::vector<TaskScript> tasks(8, TaskScript{100, milliseconds(0)});
      auto runner = exec::PipelineRunner::Start(
                        &ctx, std::make_unique<ScriptedTaskSource>(std::move(tasks)), 4)
                        .ValueOrDie();
      for (int i = 0; i < round % 3; ++i) ASSERT_TRUE(runner->Next().ok());
      std::this_thread::sleep_for(milliseconds(2));
      runner.reset();  // joins workers blocked in Deliver
    }
  });
}

TEST_F(ConcurrencyTest, CancelFromAnotherThreadWakesTheConsumer) {
  WithWatchdog(60, [] {
    exec::ExecContext ctx(CurrentConfig());
    std::vector<TaskScript> tasks = {{1, milliseconds(0)}, {3, milliseconds(300)}};
    auto runner =
        exec::PipelineRunner::Start(&ctx, std::make_unique<ScriptedTaskSource>(std::move(tasks)), 2)
            .ValueOrDie();
    ASSERT_NE(runner->Next().ValueOrDie(), nullptr);
    std::thread canceller([&] {
      std::this_thread::sleep_for(milliseconds(50));
      runner->Cancel();
    });
    auto next = runner->Next();  // waits for task 1 until cancelled
    canceller.join();
    ASSERT_TRUE(next.ok());
    EXPECT_EQ(*next, nullptr);
  });
}

TEST_F(ConcurrencyTest, RandomScriptsKeepOrderAndReportTheFirstError) {
  WithWatchdog(300, [this] {
    std::mt19937 rng(1234);
    for (int round = 0; round < 150; ++round) {
      Configure(1 + round % 4, round % 3 == 0 ? 1 : 0);
      exec::ExecContext ctx(CurrentConfig());
      const int num_tasks = 1 + static_cast<int>(rng() % 10);
      std::vector<TaskScript> tasks;
      std::vector<int64_t> expected;
      std::string expected_error;
      for (int t = 0; t < num_tasks; ++t) {
        TaskScript script;
        script.batches = 1 + static_cast<int>(rng() % 6);
        script.delay = milliseconds(rng() % 3);
        if (rng() % 6 == 0) {
          script.fail_at = static_cast<int>(rng() % script.batches);
          script.message = "task " + std::to_string(t);
        }
        if (expected_error.empty()) {
          const int good = script.fail_at >= 0 ? script.fail_at : script.batches;
          for (int64_t v : ExpectedValues(t, good)) expected.push_back(v);
          expected_error = script.message;
        }
        tasks.push_back(script);
      }
      auto runner =
          exec::PipelineRunner::Start(&ctx, std::make_unique<ScriptedTaskSource>(std::move(tasks)))
              .ValueOrDie();
      if (round % 5 == 4) {
        ARROW_UNUSED(runner->Next());  // an early stop: destroyed while the workers run
        runner.reset();
        continue;
      }
      Drained drained = Drain(runner.get());
      ASSERT_EQ(drained.values, expected) << "round " << round;
      if (expected_error.empty()) {
        ASSERT_TRUE(drained.status.ok()) << drained.status.ToString();
      } else {
        ASSERT_EQ(drained.status.message(), expected_error) << "round " << round;
      }
    }
  });
}

// ---- limit: early stop

TEST_F(ConcurrencyTest, LimitStopsPullingATaskOnceItIsFull) {
  WithWatchdog(60, [] {
    std::atomic<int> calls_on_first_task{0};
    BatchFunctionFactory factory = [&]() -> arrow::Result<BatchFunction> {
      return BatchFunction([&](const std::shared_ptr<arrow::RecordBatch>& batch)
                               -> arrow::Result<std::shared_ptr<arrow::RecordBatch>> {
        if (FirstId(*batch) < 1600) calls_on_first_task.fetch_add(1);
        return batch;
      });
    };
    auto map = plan::MapBatchesNode::Make(RangeNode(1000000), factory, {}).ValueOrDie();
    auto limited = plan::LimitNode::Make(map, 5).ValueOrDie();
    auto table = OpenPlan(limited)->ToTable().ValueOrDie();
    EXPECT_EQ(table->num_rows(), 5);
    // The first task's first batch of 100 rows holds all 5; its other 15 batches must
    // not go through the function.
    EXPECT_EQ(calls_on_first_task.load(), 1);
  });
}

TEST_F(ConcurrencyTest, LimitSatisfiedBeforeAFailingTaskSucceeds) {
  WithWatchdog(60, [] {
    BatchFunctionFactory factory = []() -> arrow::Result<BatchFunction> {
      return BatchFunction([](const std::shared_ptr<arrow::RecordBatch>& batch)
                               -> arrow::Result<std::shared_ptr<arrow::RecordBatch>> {
        if (FirstId(*batch) >= 1600) return arrow::Status::Invalid("a later task failed");
        std::this_thread::sleep_for(milliseconds(100));  // the later tasks fail first
        return batch;
      });
    };
    for (int round = 0; round < 3; ++round) {
      auto map = plan::MapBatchesNode::Make(RangeNode(100000), factory, {}).ValueOrDie();
      auto limited = plan::LimitNode::Make(map, 5).ValueOrDie();
      auto optimized = optimizer::Optimize(limited).ValueOrDie();
      auto reader = exec::PlanReader::Open(optimized);
      ASSERT_TRUE(reader.ok()) << reader.status().ToString();
      auto table = (*reader)->ToTable();
      ASSERT_TRUE(table.ok()) << table.status().ToString();
      EXPECT_EQ((*table)->num_rows(), 5);
    }
  });
}

TEST_F(ConcurrencyTest, SatisfiedLimitStopsASortDrainingAnotherUnionBranch) {
  WithWatchdog(120, [] {
    std::atomic<int> slow_calls{0};
    BatchFunctionFactory identity = []() -> arrow::Result<BatchFunction> {
      return BatchFunction(
          [](const std::shared_ptr<arrow::RecordBatch>& batch)
              -> arrow::Result<std::shared_ptr<arrow::RecordBatch>> { return batch; });
    };
    BatchFunctionFactory slow = [&]() -> arrow::Result<BatchFunction> {
      return BatchFunction([&](const std::shared_ptr<arrow::RecordBatch>& batch)
                               -> arrow::Result<std::shared_ptr<arrow::RecordBatch>> {
        slow_calls.fetch_add(1);
        std::this_thread::sleep_for(milliseconds(5));
        return batch;
      });
    };
    // 1000 batches of 100 rows at 5 ms each: 1.25 s on 4 workers if the sort runs to
    // the end, although the 5 rows come from the small branch.
    auto small = plan::MapBatchesNode::Make(RangeNode(100), identity, {}).ValueOrDie();
    auto big = plan::MapBatchesNode::Make(RangeNode(100000), slow, {}).ValueOrDie();
    auto sorted = plan::SortNode::Make(big, {{"id", true, false}}).ValueOrDie();
    auto plan =
        plan::LimitNode::Make(plan::UnionNode::Make({small, sorted}).ValueOrDie(), 5).ValueOrDie();
    auto table = OpenPlan(plan)->ToTable().ValueOrDie();
    EXPECT_EQ(table->num_rows(), 5);
    EXPECT_LT(slow_calls.load(), 500);
  });
}

TEST_F(ConcurrencyTest, AJobStartedByAUserFunctionOutlivesTheCallingPipeline) {
  WithWatchdog(60, [] {
    // A user function may start a job of its own and keep reading it later; only the
    // engine's own nested pipelines stop with the pipeline that started them.
    std::shared_ptr<exec::PlanReader> kept;
    std::mutex kept_mutex;
    BatchFunctionFactory factory = [&]() -> arrow::Result<BatchFunction> {
      return BatchFunction([&](const std::shared_ptr<arrow::RecordBatch>& batch)
                               -> arrow::Result<std::shared_ptr<arrow::RecordBatch>> {
        std::lock_guard<std::mutex> lock(kept_mutex);
        if (!kept) kept = OpenPlan(RangeNode(1000));
        return batch;
      });
    };
    auto map = plan::MapBatchesNode::Make(RangeNode(100), factory, {}).ValueOrDie();
    ASSERT_EQ(OpenPlan(map)->ToTable().ValueOrDie()->num_rows(), 100);
    ASSERT_NE(kept, nullptr);
    auto table = kept->ToTable();
    ASSERT_TRUE(table.ok()) << table.status().ToString();
    EXPECT_EQ((*table)->num_rows(), 1000);
  });
}

// ---- map_batches: function pool

TEST_F(ConcurrencyTest, ActorPoolRespectsLimitsAndNeverSharesAnActor) {
  WithWatchdog(120, [] {
    for (int max_concurrency : {0, 1, 2}) {
      std::atomic<int> running{0};
      std::atomic<int> max_running{0};
      std::atomic<int> constructed{0};
      std::atomic<bool> shared_actor{false};
      BatchFunctionFactory factory = [&]() -> arrow::Result<BatchFunction> {
        constructed.fetch_add(1);
        auto busy = std::make_shared<std::atomic<bool>>(false);
        return BatchFunction([&, busy](const std::shared_ptr<arrow::RecordBatch>& batch)
                                 -> arrow::Result<std::shared_ptr<arrow::RecordBatch>> {
          if (busy->exchange(true)) shared_actor = true;
          const int now = running.fetch_add(1) + 1;
          int seen = max_running.load();
          while (now > seen && !max_running.compare_exchange_weak(seen, now)) {
          }
          std::this_thread::sleep_for(milliseconds(1));
          running.fetch_sub(1);
          busy->store(false);
          return batch;
        });
      };
      MapBatchesOptions options;
      options.min_actors = 1;
      options.max_actors = 3;
      options.max_concurrency = max_concurrency;
      auto map = plan::MapBatchesNode::Make(RangeNode(20000), factory, options).ValueOrDie();
      auto table = OpenPlan(map)->ToTable().ValueOrDie();
      EXPECT_EQ(table->num_rows(), 20000);
      EXPECT_FALSE(shared_actor.load());
      EXPECT_LE(constructed.load(), 3);
      EXPECT_LE(max_running.load(), max_concurrency > 0 ? max_concurrency : 3);
    }
  });
}

TEST_F(ConcurrencyTest, ActorFactoryErrorsNeverHang) {
  WithWatchdog(120, [] {
    for (int round = 0; round < 30; ++round) {
      std::atomic<int> attempts{0};
      const int fail_every = 1 + round % 3;  // 1: every construction fails
      BatchFunctionFactory factory = [&, fail_every]() -> arrow::Result<BatchFunction> {
        if (attempts.fetch_add(1) % fail_every == fail_every - 1) {
          return arrow::Status::Invalid("constructor failed");
        }
        return BatchFunction([](const std::shared_ptr<arrow::RecordBatch>& batch)
                                 -> arrow::Result<std::shared_ptr<arrow::RecordBatch>> {
          std::this_thread::sleep_for(milliseconds(1));
          return batch;
        });
      };
      MapBatchesOptions options;
      options.min_actors = round % 2;
      options.max_actors = 1 + round % 4;
      options.max_concurrency = round % 3;
      auto map = plan::MapBatchesNode::Make(RangeNode(5000), factory, options).ValueOrDie();
      auto optimized = optimizer::Optimize(map).ValueOrDie();
      auto reader = exec::PlanReader::Open(optimized);
      if (!reader.ok()) {
        EXPECT_NE(reader.status().message().find("constructor failed"), std::string::npos);
        continue;
      }
      auto table = (*reader)->ToTable();
      if (table.ok()) {
        EXPECT_EQ((*table)->num_rows(), 5000);
      } else {
        EXPECT_NE(table.status().message().find("constructor failed"), std::string::npos)
            << table.status().ToString();
      }
    }
  });
}

// ---- nested pipelines

TEST_F(ConcurrencyTest, NestedPipelinesFinishAndStopEarly) {
  WithWatchdog(300, [this] {
    BatchFunctionFactory factory = []() -> arrow::Result<BatchFunction> {
      return BatchFunction(
          [](const std::shared_ptr<arrow::RecordBatch>& batch)
              -> arrow::Result<std::shared_ptr<arrow::RecordBatch>> { return batch; });
    };
    auto map = plan::MapBatchesNode::Make(RangeNode(20000), factory, {}).ValueOrDie();
    auto sorted = plan::SortNode::Make(map, {{"id", true, false}}).ValueOrDie();
    auto plan = plan::UnionNode::Make(
                    {plan::LimitNode::Make(sorted, 50).ValueOrDie(),
                     plan::LimitNode::Make(map, 7).ValueOrDie(),
                     plan::LimitNode::Make(plan::UnionNode::Make({map, sorted}).ValueOrDie(), 30000)
                         .ValueOrDie(),
                     map})
                    .ValueOrDie();
    auto aggregated =
        plan::AggregateNode::Make(plan, {}, {{"count", "", "n"}, {"sum", "id", "total"}})
            .ValueOrDie();
    for (int round = 0; round < 12; ++round) {
      Configure(1 + round % 4, round % 2 ? 1 << 16 : 0);
      if (round % 3 == 0) {
        auto table = OpenPlan(plan)->ToTable().ValueOrDie();
        EXPECT_EQ(table->num_rows(), 50 + 7 + 30000 + 20000);
        auto totals = OpenPlan(aggregated)->ToTable().ValueOrDie();
        EXPECT_EQ(totals->column(0)->GetScalar(0).ValueOrDie()->ToString(), "50057");
      } else {
        auto reader = OpenPlan(round % 2 ? plan : aggregated);
        for (int i = 0; i < round % 4; ++i) {
          std::shared_ptr<arrow::RecordBatch> batch;
          ASSERT_OK(reader->ReadNext(&batch));
        }
        reader.reset();  // destroyed while nested pipelines run
      }
    }
  });
}

}  // namespace
}  // namespace sluice
