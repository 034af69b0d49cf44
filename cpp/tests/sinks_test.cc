// Writes as plan nodes: a WriteNode over a sink (plan/sink_spec.h) that exec::RunWrite
// begins, runs task by task and commits once, shown by explain(); a sink written here
// stands in for a new connector. Also the format registry (sluice/formats.h).

#include <gtest/gtest.h>

#include <arrow/array.h>
#include <arrow/builder.h>

#include <atomic>
#include <mutex>

#include "runtime/exec_context.h"
#include "runtime/stream_operator.h"
#include "physical/write_execution.h"
#include "connectors/files/file_sink.h"
#include "optimizer/optimizer.h"
#include "plan/logical_plan.h"
#include "sluice/dataset.h"
#include "sluice/formats.h"
#include "test_data.h"

namespace sluice {
namespace {

/// What the counting sink saw: rows per task, commits, aborts.
struct SinkLog {
  std::mutex mutex;
  int64_t rows_staged = 0;
  int commits = 0;
  int aborts = 0;
  std::vector<int64_t> committed_task_rows;
};

std::shared_ptr<arrow::Schema> TaskRowsSchema() {
  return arrow::schema({arrow::field("rows", arrow::int64())});
}

/// Counts each task's rows, fails on a row whose id is `fail_at`, emits the count.
class CountingWriter : public exec::StreamOperator {
 public:
  CountingWriter(std::shared_ptr<SinkLog> log, int64_t fail_at) : log_(log), fail_at_(fail_at) {}
  std::string ToString() const override { return "CountingWriter"; }
  struct TaskRows : exec::OperatorState {
    int64_t rows = 0;
  };
  arrow::Result<std::unique_ptr<exec::OperatorState>> MakeTaskState(
      exec::ExecContext*, exec::OperatorState*) const override {
    return std::make_unique<TaskRows>();
  }
  arrow::Status Push(exec::ExecContext*, exec::OperatorState*, exec::OperatorState* task,
                     exec::BatchPtr batch, const exec::EmitFn&) const override {
    const auto& ids = static_cast<const arrow::Int64Array&>(*batch->column(0));
    for (int64_t i = 0; i < ids.length(); ++i) {
      if (ids.Value(i) == fail_at_) return arrow::Status::IOError("the sink refused row ", fail_at_);
    }
    static_cast<TaskRows*>(task)->rows += batch->num_rows();
    std::lock_guard<std::mutex> lock(log_->mutex);
    log_->rows_staged += batch->num_rows();
    return arrow::Status::OK();
  }
  arrow::Status Finish(exec::ExecContext*, exec::OperatorState*, exec::OperatorState* task,
                       const exec::EmitFn& emit) const override {
    arrow::Int64Builder builder;
    ARROW_RETURN_NOT_OK(builder.Append(static_cast<TaskRows*>(task)->rows));
    ARROW_ASSIGN_OR_RAISE(auto rows, builder.Finish());
    return emit(arrow::RecordBatch::Make(TaskRowsSchema(), 1, {rows}));
  }

 private:
  std::shared_ptr<SinkLog> log_;
  int64_t fail_at_;
};

class CountingWrite : public plan::SinkWrite {
 public:
  CountingWrite(std::shared_ptr<SinkLog> log, int64_t fail_at)
      : log_(log), writer_(std::make_shared<CountingWriter>(log, fail_at)) {}
  ~CountingWrite() override {
    if (!committed_) ++log_->aborts;
  }
  std::shared_ptr<const exec::StreamOperator> task_writer() const override { return writer_; }
  arrow::Result<WriteResult> Commit(
      const std::vector<std::shared_ptr<arrow::RecordBatch>>& task_results) override {
    WriteResult result;
    for (const auto& batch : task_results) {
      const int64_t rows = static_cast<const arrow::Int64Array&>(*batch->column(0)).Value(0);
      log_->committed_task_rows.push_back(rows);
      result.rows += rows;
    }
    ++log_->commits;
    committed_ = true;
    return result;
  }

 private:
  std::shared_ptr<SinkLog> log_;
  std::shared_ptr<CountingWriter> writer_;
  bool committed_ = false;
};

class CountingSink : public plan::SinkSpec {
 public:
  CountingSink(std::shared_ptr<SinkLog> log, int64_t fail_at = -1) : log_(log), fail_at_(fail_at) {}
  std::string name() const override { return "WriteCount"; }
  std::string Describe() const override { return "nowhere"; }
  std::shared_ptr<arrow::Schema> result_schema() const override { return TaskRowsSchema(); }
  arrow::Result<std::unique_ptr<plan::SinkWrite>> Begin(
      exec::ExecContext*, const std::shared_ptr<arrow::Schema>& input_schema) const override {
    if (!input_schema || input_schema->GetFieldIndex("id") != 0) {
      return arrow::Status::Invalid("the counting sink needs an id column first");
    }
    return std::make_unique<CountingWrite>(log_, fail_at_);
  }

 private:
  std::shared_ptr<SinkLog> log_;
  int64_t fail_at_;
};

/// Ids 0..rows-1 in three parts (three sources: at least three tasks), under a filter the
/// optimizer can push.
plan::PlanNodePtr RangePlan(int64_t rows) {
  auto part = [&](int64_t from, int64_t to) {
    return Dataset::Range(to)
        .ValueOrDie()
        .Filter(GreaterEqual(Col("id"), Lit(from)))
        .ValueOrDie();
  };
  Dataset ds = part(0, rows / 3).Union({part(rows / 3, 2 * rows / 3), part(2 * rows / 3, rows)})
                   .ValueOrDie();
  return ds.plan();
}

TEST(SinksTest, AWriteRunsEveryTaskThroughTheSinkAndCommitsOnce) {
  EngineConfig config;
  config.num_threads = 3;
  config.batch_rows = 1000;
  config.progress = false;
  ASSERT_OK_AND_ASSIGN(Session session, Session::Make(config));
  auto log = std::make_shared<SinkLog>();
  ASSERT_OK_AND_ASSIGN(auto write,
                       plan::WriteNode::Make(RangePlan(10'000), std::make_shared<CountingSink>(log)));
  ASSERT_OK_AND_ASSIGN(auto optimized, optimizer::Optimize(write));
  ASSERT_EQ(optimized->kind(), plan::NodeKind::kWrite);  // the write stays at the root
  EXPECT_NE(plan::PlanToString(optimized).find("WriteCount[nowhere]"), std::string::npos);
  auto stats = std::make_shared<ExecutionStats>();
  ASSERT_OK_AND_ASSIGN(WriteResult result, exec::RunWrite(optimized, stats, session.state()));
  EXPECT_EQ(result.rows, 10'000);
  EXPECT_EQ(log->rows_staged, 10'000);
  EXPECT_EQ(log->commits, 1);
  EXPECT_EQ(log->aborts, 0);
  EXPECT_GE(log->committed_task_rows.size(), 3u);  // several tasks, one result each
  EXPECT_EQ(stats->operators.back().name, "WriteCount[nowhere]");
  EXPECT_EQ(stats->operators.back().rows_in, 10'000);
}

TEST(SinksTest, AFailingTaskAbortsTheWriteWithoutCommitting) {
  auto log = std::make_shared<SinkLog>();
  ASSERT_OK_AND_ASSIGN(auto write, plan::WriteNode::Make(
                                       RangePlan(10'000), std::make_shared<CountingSink>(log, 7777)));
  auto failed = exec::RunWrite(write, nullptr);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("the sink refused row 7777"), std::string::npos)
      << failed.status().ToString();
  EXPECT_EQ(log->commits, 0);
  EXPECT_EQ(log->aborts, 1);
  // Refused before anything starts: a bad input for the sink, a write over a write, a
  // plan without a write at its root.
  auto no_id = Dataset::Range(5).ValueOrDie().Project({Col("id")}, {"x"}).ValueOrDie();
  ASSERT_OK_AND_ASSIGN(auto bad, plan::WriteNode::Make(no_id.plan(), std::make_shared<CountingSink>(log)));
  EXPECT_TRUE(exec::RunWrite(bad, nullptr).status().IsInvalid());
  EXPECT_FALSE(plan::WriteNode::Make(write, std::make_shared<CountingSink>(log)).ok());
  EXPECT_FALSE(exec::RunWrite(RangePlan(5), nullptr).ok());
  EXPECT_EQ(log->commits, 0);
}

TEST(SinksTest, ExplainShowsTheFileSinkWithoutWriting) {
  testing::TempDir dir;
  WriteOptions options;
  options.mode = WriteMode::kOverwrite;
  options.partition_cols = {"p"};
  Dataset ds = Dataset::Range(100)
                   .ValueOrDie()
                   .WithColumn("p", Modulo(Col("id"), Lit(int64_t{3})))
                   .ValueOrDie()
                   .Filter(Greater(Col("id"), Lit(int64_t{10})))
                   .ValueOrDie();
  ASSERT_OK_AND_ASSIGN(std::string text, ds.ExplainWrite("pq", dir.Join("out"), options));
  const std::string optimized = text.substr(text.find("== Optimized plan =="));
  EXPECT_NE(optimized.find("WriteParquet[" + dir.Join("out") +
                           " mode=overwrite partition_cols=[p]]"),
            std::string::npos)
      << text;
  EXPECT_FALSE(std::filesystem::exists(dir.Join("out")));
  EXPECT_TRUE(ds.ExplainWrite("text", dir.Join("out")).status().IsNotImplemented());
  EXPECT_TRUE(ds.ExplainWrite("xlsx", dir.Join("out")).status().IsInvalid());
  // The same write, run: its operator in stats() carries the same name.
  ASSERT_OK_AND_ASSIGN(WriteResult written, ds.Write("parquet", dir.Join("out"), options));
  EXPECT_EQ(written.rows, 89);
  EXPECT_EQ(ds.LastStats().operators.back().name.rfind("WriteParquet[", 0), 0u);
}

TEST(FormatRegistryTest, NamesAliasesExtensionsAndOptions) {
  EXPECT_EQ(ResolveFileFormat("PQ").ValueOrDie(), "parquet");
  EXPECT_EQ(ResolveFileFormat("tsv").ValueOrDie(), "csv");
  EXPECT_EQ(ResolveFileFormat("ndjson").ValueOrDie(), "json");
  EXPECT_EQ(ResolveFileFormat("txt").ValueOrDie(), "text");
  auto unknown = ResolveFileFormat("xlsx");
  ASSERT_TRUE(unknown.status().IsInvalid());
  EXPECT_NE(unknown.status().message().find("parquet, csv, json or text"), std::string::npos);
  auto read_only = ResolveFileFormat("text", /*for_writing=*/true);
  ASSERT_TRUE(read_only.status().IsNotImplemented());
  EXPECT_NE(read_only.status().message().find("parquet, csv or json"), std::string::npos);

  EXPECT_EQ(FileFormatFromFileName("part-0.PARQUET"), "parquet");
  EXPECT_EQ(FileFormatFromFileName("votes.tsv.gz"), "csv");
  EXPECT_EQ(FileFormatFromFileName("log.jsonl.zst"), "json");
  EXPECT_EQ(FileFormatFromFileName("notes.txt"), "text");
  EXPECT_EQ(FileFormatFromFileName("image.png"), std::nullopt);
  EXPECT_EQ(FileFormatFromFileName("gz"), std::nullopt);
  EXPECT_EQ(CompressionFromFileName("a.csv.bz2"), "bz2");
  EXPECT_EQ(CompressionFromFileName("a.csv"), std::nullopt);
  EXPECT_TRUE(IsTabSeparatedFileName("votes.TSV.gz"));
  EXPECT_FALSE(IsTabSeparatedFileName("votes.csv"));
  EXPECT_EQ(KnownFileExtensions(), ".parquet, .pq, .csv, .tsv, .json, .jsonl, .ndjson, .txt");

  // Dataset::Read takes the format's own options, and no other's.
  testing::TempDir dir;
  testing::WriteFile(dir.Join("a.tsv"), "x\ty\n1\t2\n3\t4\n");
  ASSERT_OK_AND_ASSIGN(ReadOptions options, DefaultReadOptions("tsv"));
  ASSERT_TRUE(std::holds_alternative<ReadCsvOptions>(options));
  std::get<ReadCsvOptions>(options).delimiter = '\t';
  ASSERT_OK_AND_ASSIGN(Dataset tsv, Dataset::Read("csv", {dir.Join("a.tsv")}, options));
  ASSERT_OK_AND_ASSIGN(auto table, tsv.ToTable());
  EXPECT_EQ(table->num_rows(), 2);
  EXPECT_EQ(table->num_columns(), 2);
  EXPECT_TRUE(Dataset::Read("json", {dir.Join("a.tsv")}, options).status().IsInvalid());
}

}  // namespace
}  // namespace sluice
