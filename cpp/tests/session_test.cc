// Sessions side by side in one process: their own memory limits, spill directories and
// statistics, cancellation of one leaving the other running, and many short queries
// from several threads at once.

#include <arrow/array.h>
#include <arrow/scalar.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <thread>

#include "sluice/dataset.h"
#include "sluice/session.h"
#include "test_data.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

/// Runs `body` on another thread; a hang fails the run instead of blocking it.
void WithWatchdog(int seconds, const std::function<void()>& body) {
  auto done = std::async(std::launch::async, body);
  if (done.wait_for(std::chrono::seconds(seconds)) != std::future_status::ready) {
    std::fprintf(stderr, "\nstill running after %d s: deadlock\n", seconds);
    std::_Exit(3);
  }
  done.get();
}

Session MakeSession(int64_t memory_limit, const std::string& spill_dir) {
  EngineConfig config;
  config.memory_limit_bytes = memory_limit;
  config.spill_dir = spill_dir;
  config.num_threads = 2;
  config.progress = false;
  return Session::Make(config).ValueOrDie();
}

/// Whether anything appeared in `dir` while `running` was set.
std::future<bool> WatchForEntries(const std::string& dir, const std::atomic<bool>* running) {
  return std::async(std::launch::async, [dir, running] {
    while (running->load()) {
      std::error_code ec;
      if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return false;
  });
}

int64_t Int64At(const arrow::Table& table, int column, int64_t row) {
  auto scalar = table.column(column)->GetScalar(row).ValueOrDie();
  return std::static_pointer_cast<arrow::Int64Scalar>(scalar)->value;
}

TEST(SessionTest, TwoSessionsKeepTheirOwnLimitsSpillDirectoriesAndStatistics) {
  testing::TempDir dir;
  const std::string small_spill = dir.Join("small-spill");
  const std::string large_spill = dir.Join("large-spill");
  constexpr int64_t kSmallLimit = int64_t{32} << 20;
  constexpr int64_t kRows = 3'000'000;  // 24 MB of int64: more than half the small limit
  Session small = MakeSession(kSmallLimit, small_spill);
  Session large = MakeSession(int64_t{4} << 30, large_spill);
  EXPECT_NE(small.id(), large.id());
  EXPECT_NE(small.id(), Session::Default().id());

  auto sorted_in = [&](const Session& session) {
    Dataset ds = Dataset::Range(kRows, session).ValueOrDie();
    return ds.Sort({SortKey{"id", /*descending=*/true}}).ValueOrDie();
  };
  // Streamed, not collected: a collected result would count against the budget too.
  struct Streamed {
    int64_t rows = 0;
    int64_t first = -1;
    int64_t last = -1;
    bool descending = true;
  };
  auto stream = [](const Dataset& ds) {
    Streamed out;
    auto reader = ds.Execute().ValueOrDie();
    while (true) {
      std::shared_ptr<arrow::RecordBatch> batch;
      EXPECT_TRUE(reader->ReadNext(&batch).ok());
      if (!batch) break;
      auto ids = std::static_pointer_cast<arrow::Int64Array>(batch->column(0));
      for (int64_t i = 0; i < ids->length(); ++i) {
        if (out.last >= 0 && ids->Value(i) >= out.last) out.descending = false;
        if (out.first < 0) out.first = ids->Value(i);
        out.last = ids->Value(i);
      }
      out.rows += batch->num_rows();
    }
    return out;
  };
  std::atomic<bool> running{true};
  auto small_spilled_into = WatchForEntries(small_spill, &running);
  auto large_spilled_into = WatchForEntries(large_spill, &running);
  Streamed small_result, large_result;
  WithWatchdog(300, [&] {
    std::thread other([&] { large_result = stream(sorted_in(large)); });
    small_result = stream(sorted_in(small));
    other.join();
  });
  running = false;

  for (const Streamed& result : {small_result, large_result}) {
    EXPECT_EQ(result.rows, kRows);
    EXPECT_EQ(result.first, kRows - 1);
    EXPECT_EQ(result.last, 0);
    EXPECT_TRUE(result.descending);
  }
  const SessionStats small_stats = small.Stats();
  const SessionStats large_stats = large.Stats();
  // Only the small session outgrew its budget, and it spilled into its own directory.
  EXPECT_GT(small_stats.spilled_bytes, 0);
  EXPECT_EQ(large_stats.spilled_bytes, 0);
  EXPECT_TRUE(small_spilled_into.get());
  EXPECT_FALSE(large_spilled_into.get());
  // Each counts its own execution and its own memory.
  EXPECT_EQ(small_stats.executions_started, 1);
  EXPECT_EQ(large_stats.executions_started, 1);
  EXPECT_EQ(small_stats.executions_running, 0);
  EXPECT_EQ(small_stats.rows_out, kRows);
  EXPECT_EQ(large_stats.rows_out, kRows);
  EXPECT_EQ(small_stats.memory_limit_bytes, kSmallLimit);
  EXPECT_LE(small_stats.peak_memory_bytes, kSmallLimit);
  // The large session held every row at once; the small one never held that much.
  EXPECT_GT(large_stats.peak_memory_bytes, kRows * 8);
  EXPECT_LT(small_stats.peak_memory_bytes, large_stats.peak_memory_bytes);
  // Nothing is held once the executions ended.
  EXPECT_EQ(small.Stats().memory_bytes, 0);
  EXPECT_EQ(large.Stats().memory_bytes, 0);
}

TEST(SessionTest, ResultsOutliveTheirSession) {
  std::shared_ptr<arrow::Table> table;
  {
    Session session = MakeSession(int64_t{64} << 20, "");
    table = Dataset::Range(100'000, session).ValueOrDie().ToTable().ValueOrDie();
  }
  // The session and its budgets are gone; the buffers still free through them.
  EXPECT_EQ(table->num_rows(), 100'000);
  EXPECT_EQ(Int64At(*table, 0, 99'999), 99'999);
  table.reset();
}

TEST(SessionTest, CancellingOneSessionLeavesTheOtherRunning) {
  Session doomed = MakeSession(int64_t{256} << 20, "");
  Session survivor = MakeSession(int64_t{256} << 20, "");
  auto every_seventh = [](const Session& session, int64_t rows) {
    return Dataset::Range(rows, session)
        .ValueOrDie()
        .Filter(Equal(Modulo(Col("id"), Lit(int64_t{7})), Lit(int64_t{3})))
        .ValueOrDie();
  };
  WithWatchdog(120, [&] {
    // Far too many rows to finish: it only ends by being cancelled.
    auto long_count = std::async(std::launch::async, [&] {
      return every_seventh(doomed, int64_t{1} << 40).Count();
    });
    while (doomed.Stats().executions_running == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    auto short_count = std::async(std::launch::async, [&] {
      return every_seventh(survivor, 7'000'000).Count();
    });
    // Cancel while the survivor runs too.
    while (survivor.Stats().executions_running == 0 &&
           short_count.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    doomed.Cancel();
    auto cancelled = long_count.get();
    ASSERT_FALSE(cancelled.ok());
    EXPECT_TRUE(cancelled.status().IsCancelled()) << cancelled.status().ToString();
    auto counted = short_count.get();
    ASSERT_TRUE(counted.ok()) << counted.status().ToString();
    EXPECT_EQ(*counted, 1'000'000);
  });
  EXPECT_EQ(doomed.Stats().executions_failed, 1);
  EXPECT_EQ(survivor.Stats().executions_failed, 0);
  // Cancelling stops what runs, not what comes later.
  EXPECT_EQ(every_seventh(doomed, 700).Count().ValueOrDie(), 100);
}

TEST(SessionTest, ManyShortQueriesFromEightThreadsGiveExactResults) {
  Session first = MakeSession(int64_t{128} << 20, "");
  Session second = MakeSession(int64_t{64} << 20, "");
  const std::vector<Session> sessions = {Session::Default(), first, second};
  std::atomic<int> wrong{0};
  WithWatchdog(300, [&] {
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        for (int q = 0; q < 12; ++q) {
          const Session& session = sessions[(t + q) % sessions.size()];
          const int64_t n = 1000 + 7919 * (t * 12 + q);
          // Sum of the ids that are multiples of 3 below n, per remainder mod 2 of id/3.
          Dataset ds = Dataset::Range(n, session)
                           .ValueOrDie()
                           .Filter(Equal(Modulo(Col("id"), Lit(int64_t{3})), Lit(int64_t{0})))
                           .ValueOrDie()
                           .WithColumn("parity", Modulo(FloorDivide(Col("id"), Lit(int64_t{3})),
                                                        Lit(int64_t{2})))
                           .ValueOrDie()
                           .GroupByAggregate({"parity"}, {Aggregate{"sum", "id", "total"}})
                           .ValueOrDie()
                           .Sort({SortKey{"parity"}})
                           .ValueOrDie();
          auto table = ds.ToTable().ValueOrDie();
          int64_t expected[2] = {0, 0};
          for (int64_t id = 0; id < n; id += 3) expected[(id / 3) % 2] += id;
          if (table->num_rows() != 2 || Int64At(*table, 1, 0) != expected[0] ||
              Int64At(*table, 1, 1) != expected[1]) {
            ++wrong;
          }
        }
      });
    }
    for (auto& thread : threads) thread.join();
  });
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(first.Stats().executions_started + second.Stats().executions_started, 64);
  EXPECT_EQ(first.Stats().executions_running, 0);
}

TEST(SessionTest, InvalidSettingsAndMixedSessionsAreRefused) {
  EngineConfig bad;
  bad.num_threads = -1;
  EXPECT_TRUE(Session::Make(bad).status().IsInvalid());
  Session one = MakeSession(int64_t{64} << 20, "");
  Session two = MakeSession(int64_t{64} << 20, "");
  Dataset a = Dataset::Range(10, one).ValueOrDie();
  Dataset b = Dataset::Range(10, two).ValueOrDie();
  auto unioned = a.Union({b});
  ASSERT_FALSE(unioned.ok());
  EXPECT_NE(unioned.status().message().find("different sessions"), std::string::npos);
  JoinOptions join;
  join.left_keys = {"id"};
  join.right_keys = {"id"};
  EXPECT_FALSE(a.Join(b, join).ok());
  // Derived datasets stay in their session.
  EXPECT_EQ(a.Limit(3).ValueOrDie().session().id(), one.id());
  // Configure validates like Make and keeps running executions' settings.
  EXPECT_TRUE(one.Configure(bad).IsInvalid());
  EngineConfig smaller = one.config();
  smaller.memory_limit_bytes = int64_t{16} << 20;
  ASSERT_TRUE(one.Configure(smaller).ok());
  EXPECT_EQ(one.Stats().memory_limit_bytes, int64_t{16} << 20);
  EXPECT_NE(Session::Default().config().memory_limit_bytes, int64_t{16} << 20);
}

}  // namespace
}  // namespace sluice
