// Plans as bytes (plan/plan_serialization.h): every node type round-trips and runs to the
// same result; damaged bytes are errors, never crashes.

#include <gtest/gtest.h>

#include <arrow/api.h>

#include <arrow/json/from_string.h>

#include <map>

#include "runtime/stream_operator.h"
#include "api/engine_codecs.h"
#include "connectors/files/file_sink.h"
#include "connectors/memory/memory_sources.h"
#include "connectors/serialized_sources.h"
#include "physical/write_execution.h"
#include "optimizer/optimizer.h"
#include "plan/logical_plan.h"
#include "plan/plan_serialization.h"
#include "sluice/dataset.h"
#include "sluice/fragments.h"
#include "test_data.h"

namespace sluice {
namespace {

/// A C++ user function the test codec knows by name: doubles column "x".
BatchFunctionFactory DoubleX() {
  return []() -> arrow::Result<BatchFunction> {
    return [](const std::shared_ptr<arrow::RecordBatch>& batch)
               -> arrow::Result<std::shared_ptr<arrow::RecordBatch>> {
      const int x = batch->schema()->GetFieldIndex("x");
      ARROW_ASSIGN_OR_RAISE(auto doubled,
                            arrow::compute::CallFunction("multiply", {batch->column(x),
                                                                      arrow::Datum(int64_t{2})}));
      return batch->SetColumn(x, batch->schema()->field(x), doubled.make_array());
    };
  };
}

/// A sink that only exists to be serialized.
class NamedSink : public plan::SinkSpec {
 public:
  explicit NamedSink(std::string target) : target_(std::move(target)) {}
  std::string name() const override { return "WriteNowhere"; }
  std::string Describe() const override { return target_; }
  std::shared_ptr<arrow::Schema> result_schema() const override {
    return arrow::schema({arrow::field("rows", arrow::int64())});
  }
  arrow::Result<std::unique_ptr<plan::SinkWrite>> Begin(
      exec::ExecContext*, const std::shared_ptr<arrow::Schema>&) const override {
    return arrow::Status::NotImplemented("only serialized");
  }
  const std::string& target() const { return target_; }

 private:
  std::string target_;
};

plan::PlanCodecs TestCodecs() {
  plan::PlanCodecs codecs;
  codecs.serialize_source = [](const plan::SourceSpec& spec) { return spec.Serialize(); };
  codecs.deserialize_source = [](const plan::SerializedPart& part) {
    return io::DeserializeSource(part);
  };
  codecs.serialize_function = [](const plan::MapBatchesNode& node)
      -> arrow::Result<plan::SerializedPart> {
    if (node.options().name != "double_x") return arrow::Status::NotImplemented("unknown");
    return plan::SerializedPart{"test_function", "double_x"};
  };
  codecs.deserialize_function =
      [](const plan::SerializedPart& part) -> arrow::Result<DeserializedFunction> {
    if (part.kind != "test_function" || part.payload != "double_x") {
      return arrow::Status::Invalid("unknown test function");
    }
    return DeserializedFunction{DoubleX(), nullptr};
  };
  codecs.serialize_sink = [](const plan::SinkSpec& sink) -> arrow::Result<plan::SerializedPart> {
    return plan::SerializedPart{"nowhere", static_cast<const NamedSink&>(sink).target()};
  };
  codecs.deserialize_sink =
      [](const plan::SerializedPart& part) -> arrow::Result<std::shared_ptr<const plan::SinkSpec>> {
    return std::make_shared<NamedSink>(part.payload);
  };
  return codecs;
}

std::shared_ptr<arrow::Table> People() {
  auto schema = arrow::schema({arrow::field("id", arrow::int64()), arrow::field("x", arrow::int64()),
                               arrow::field("name", arrow::utf8()),
                               arrow::field("at", arrow::timestamp(arrow::TimeUnit::MICRO, "UTC"))});
  return testing::TableFromJson(schema, R"([
      {"id": 1, "x": 10, "name": "ada", "at": "2024-01-01 00:00:00"},
      {"id": 2, "x": null, "name": null, "at": "2024-02-01 12:00:00"},
      {"id": 3, "x": -7, "name": "grace", "at": null},
      {"id": 4, "x": 5, "name": "ada", "at": "2024-03-01 08:30:00"}])");
}

/// Serializes `plan`, reads it back, and checks that both print, serialize and (unless
/// a write) run the same.
void ExpectRoundTrip(const plan::PlanNodePtr& plan) {
  const plan::PlanCodecs codecs = TestCodecs();
  ASSERT_OK_AND_ASSIGN(std::string bytes, plan::SerializePlan(plan, codecs));
  ASSERT_OK_AND_ASSIGN(plan::PlanNodePtr back, plan::DeserializePlan(bytes, codecs));
  EXPECT_EQ(plan::PlanToString(back), plan::PlanToString(plan));
  ASSERT_OK_AND_ASSIGN(std::string again, plan::SerializePlan(back, codecs));
  EXPECT_EQ(again, bytes);
  if (back->schema() && plan->schema()) {
    EXPECT_TRUE(back->schema()->Equals(*plan->schema(), /*check_metadata=*/true));
  }
  if (plan->kind() == plan::NodeKind::kWrite) return;
  Dataset original(plan, Session::Default());
  Dataset copy(back, Session::Default());
  ASSERT_OK_AND_ASSIGN(auto expected, original.ToTable());
  ASSERT_OK_AND_ASSIGN(auto actual, copy.ToTable());
  EXPECT_TRUE(actual->Equals(*expected)) << "expected:\n"
                                         << expected->ToString() << "\nactual:\n"
                                         << actual->ToString();
}

TEST(PlanSerializationTest, EveryNodeTypeRoundTripsAndRunsTheSame) {
  Dataset people = Dataset::FromTable(People()).ValueOrDie();
  Dataset numbers = Dataset::Range(1000).ValueOrDie();
  MapBatchesOptions double_x;
  double_x.name = "double_x";
  double_x.batch_size = 2;
  Dataset transformed =
      people.Filter(Or(IsNull(Col("x")), Greater(Col("x"), Lit(int64_t{0}))))
          .ValueOrDie()
          .WithColumn("m", Modulo(Col("id"), Lit(int64_t{-3})))
          .ValueOrDie()
          .MapBatches(DoubleX(), double_x)
          .ValueOrDie();
  Dataset grouped = numbers.WithColumn("k", Modulo(Col("id"), Lit(int64_t{7})))
                        .ValueOrDie()
                        .GroupByAggregate({"k"}, {Aggregate{"sum", "id", ""},
                                                  Aggregate{"mean", "id", "avg"},
                                                  Aggregate{"count_all", "", ""}})
                        .ValueOrDie()
                        .Sort({SortKey{"k", /*descending=*/true, /*nulls_first=*/true}})
                        .ValueOrDie();
  Dataset joined = people.Join(people.SelectColumns({"id", "name"}).ValueOrDie(),
                               JoinOptions::On({"id"}, JoinType::kLeft))
                       .ValueOrDie()
                       .Sort({SortKey{"id"}})
                       .ValueOrDie();
  Dataset unioned = numbers.Limit(5)
                        .ValueOrDie()
                        .Union({numbers.Filter(Greater(Col("id"), Lit(int64_t{995}))).ValueOrDie()})
                        .ValueOrDie();
  Dataset repartitioned = numbers.Repartition(3, {"id"}).ValueOrDie().Sort({SortKey{"id"}}).ValueOrDie();
  for (const Dataset* ds : {&people, &transformed, &grouped, &joined, &unioned, &repartitioned}) {
    SCOPED_TRACE(plan::PlanToString(ds->plan()));
    ExpectRoundTrip(ds->plan());
    // Optimized plans too: pushed-down filters, columns and limits in the sources.
    ASSERT_OK_AND_ASSIGN(auto optimized, optimizer::Optimize(ds->plan()));
    ExpectRoundTrip(optimized);
  }
  ASSERT_OK_AND_ASSIGN(auto write, plan::WriteNode::Make(grouped.plan(),
                                                         std::make_shared<NamedSink>("/out")));
  ExpectRoundTrip(write);
}

TEST(PlanSerializationTest, DatasetsWithRegisteredFunctionsRoundTripFusedOrNot) {
  // What the Python layer does with cloudpickle, with a C++ function known by name.
  auto serialize = []() -> arrow::Result<SerializedFunction> {
    return SerializedFunction{"test_double_x", ""};
  };
  RegisterFunctionDeserializer("test_double_x", [serialize](const std::string&) {
    return arrow::Result<DeserializedFunction>(DeserializedFunction{DoubleX(), serialize});
  });
  MapBatchesOptions options;
  options.name = "double";
  options.serialize = serialize;
  Dataset ds = Dataset::FromTable(People())
                   .ValueOrDie()
                   .MapBatches(DoubleX(), options)
                   .ValueOrDie()
                   .MapBatches(DoubleX(), options)
                   .ValueOrDie();
  ASSERT_OK_AND_ASSIGN(auto expected, ds.ToTable());
  for (bool optimize : {false, true}) {
    SCOPED_TRACE(optimize ? "optimized (one fused function)" : "as built");
    ASSERT_OK_AND_ASSIGN(std::string bytes, ds.SerializePlan(optimize));
    EXPECT_EQ(bytes.find("\"chain\"") != std::string::npos, optimize);
    ASSERT_OK_AND_ASSIGN(Dataset back, Dataset::DeserializePlan(bytes));
    ASSERT_OK_AND_ASSIGN(auto actual, back.ToTable());
    EXPECT_TRUE(actual->Equals(*expected)) << actual->ToString();
    // And again from the copy: the read-back functions can be written once more.
    ASSERT_OK_AND_ASSIGN(std::string again, back.SerializePlan(optimize));
    EXPECT_EQ(again, bytes);
  }
  ASSERT_OK_AND_ASSIGN(auto quadrupled,
                       arrow::json::ArrayFromJSONString(arrow::int64(), "[40, null, -28, 20]"));
  EXPECT_TRUE(expected->GetColumnByName("x")->Equals(arrow::ChunkedArray(quadrupled)))
      << expected->GetColumnByName("x")->ToString();
  // A kind nobody registered is NotImplemented, naming it.
  ASSERT_OK_AND_ASSIGN(std::string bytes, ds.SerializePlan());
  const size_t at = bytes.find("test_double_x");
  bytes.replace(at, 13, "test_triple_x");
  auto unknown = Dataset::DeserializePlan(bytes);
  ASSERT_TRUE(unknown.status().IsNotImplemented());
  EXPECT_NE(unknown.status().message().find("test_triple_x"), std::string::npos);
}

TEST(PlanSerializationTest, WhatCannotLeaveTheProcessSaysSo) {
  const plan::PlanCodecs codecs = TestCodecs();
  MapBatchesOptions unnamed;
  unnamed.name = "lambda";
  auto with_lambda = Dataset::Range(3).ValueOrDie().MapBatches(DoubleX(), unnamed).ValueOrDie();
  EXPECT_TRUE(plan::SerializePlan(with_lambda.plan(), codecs).status().IsNotImplemented());
  EXPECT_TRUE(plan::SerializePlan(with_lambda.plan(), plan::PlanCodecs{}).status().IsNotImplemented());
}

TEST(PlanSerializationTest, TheFileSinkRoundTripsAndWritesTheSame) {
  testing::TempDir dir;
  WriteOptions options;
  options.mode = WriteMode::kOverwrite;
  options.compression = "gzip";
  options.delimiter = ';';
  options.max_rows_per_file = 40;
  ASSERT_OK_AND_ASSIGN(auto sink, io::MakeFileSink(dir.Join("out"), "csv", options));
  ASSERT_OK_AND_ASSIGN(auto range, io::MakeRangeSource(100));
  ASSERT_OK_AND_ASSIGN(auto source, plan::SourceNode::Make(range));
  ASSERT_OK_AND_ASSIGN(auto write, plan::WriteNode::Make(source, sink));
  const plan::PlanCodecs codecs = EngineCodecs(nullptr);
  ASSERT_OK_AND_ASSIGN(std::string bytes, plan::SerializePlan(write, codecs));
  ASSERT_OK_AND_ASSIGN(auto back, plan::DeserializePlan(bytes, codecs));
  ASSERT_OK_AND_ASSIGN(std::string again, plan::SerializePlan(back, codecs));
  EXPECT_EQ(bytes, again);
  EXPECT_EQ(plan::PlanToString(back), plan::PlanToString(write));
  ASSERT_OK_AND_ASSIGN(WriteResult written, exec::RunWrite(back, nullptr));
  EXPECT_EQ(written.rows, 100);
  EXPECT_GE(written.files.size(), 3u);  // at most 40 rows a file
  for (const auto& file : written.files) EXPECT_NE(file.find(".csv.gz"), std::string::npos);
  // A damaged sink is an error.
  plan::SerializedPart damaged{"file_sink", "{\"path\": 3}"};
  EXPECT_FALSE(io::DeserializeSink(damaged).ok());
}

TEST(PlanSerializationTest, DamagedBytesAreErrorsNotCrashes) {
  const plan::PlanCodecs codecs = TestCodecs();
  ASSERT_OK_AND_ASSIGN(std::string good,
                       plan::SerializePlan(Dataset::Range(10)
                                               .ValueOrDie()
                                               .Filter(Less(Col("id"), Lit(int64_t{5})))
                                               .ValueOrDie()
                                               .Limit(3)
                                               .ValueOrDie()
                                               .plan(),
                                           codecs));
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string text = good;
    const size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from << " in " << text;
    return text.replace(at, from.size(), to);
  };
  std::string deep = R"({"sluice_plan":1,"node":"limit","limit":1,"inputs":[)";
  for (int i = 0; i < 5000; ++i) deep += R"({"node":"limit","limit":1,"inputs":[)";
  for (int i = 0; i < 5001; ++i) deep += "]}";
  const std::vector<std::string> damaged = {
      "",
      "{",
      "[]",
      R"({"sluice_plan":2})",
      R"({"sluice_plan":"1","node":"union","inputs":[]})",
      R"({"sluice_plan":1})",
      R"({"sluice_plan":1,"node":"teleport","inputs":[]})",
      replaced(R"("limit":3)", R"("limit":1e300)"),
      replaced(R"("limit":3)", R"("limit":-3)"),
      replaced(R"("limit":3)", R"("limit":"3")"),
      replaced(R"("kind":"range")", R"("kind":"printer")"),
      replaced(R"("node":"filter")", R"("node":"filter","inputs":[]")"),
      replaced(R"("predicate":")", R"("predicate":"AAAA)"),
      deep,
  };
  for (const std::string& bytes : damaged) {
    SCOPED_TRACE(bytes.substr(0, 200));
    auto plan = plan::DeserializePlan(bytes, codecs);
    EXPECT_FALSE(plan.ok());
  }
  // Deep but within the limit (1000 levels) reads back, also under the sanitizers.
  std::string deep_enough = R"({"sluice_plan":1,"node":"limit","limit":1,"inputs":[)";
  for (int i = 0; i < 900; ++i) deep_enough += R"({"node":"limit","limit":1,"inputs":[)";
  deep_enough += R"({"node":"source","source":{"kind":"range","payload":"Mw=="},"inputs":[]})";
  for (int i = 0; i < 901; ++i) deep_enough += "]}";
  ASSERT_OK_AND_ASSIGN(auto deep_plan, plan::DeserializePlan(deep_enough, codecs));
  EXPECT_EQ(deep_plan->kind(), plan::NodeKind::kLimit);
}

// ---- Fragments (sluice/fragments.h): a plan cut at its pipeline breakers and run task
// by task, outputs passed along as the exchanges say, gives the one-process result.

/// The reference driver of sluice/fragments.py in C++: every task from its plan's bytes.
arrow::Result<std::vector<std::shared_ptr<arrow::Table>>> RunFragmentByFragment(
    const FragmentedPlan& plan, const FragmentedWrite* write) {
  std::map<int, std::vector<std::vector<std::shared_ptr<arrow::Table>>>> outputs;
  const auto& fragments = plan.fragments();
  for (const auto& fragment : fragments) {
    const bool root = &fragment == &fragments.back();
    std::vector<FragmentTaskSpec> tasks;
    if (fragment.inputs.empty()) {
      for (int scan = 0; scan < fragment.scans; ++scan) {
        ARROW_ASSIGN_OR_RAISE(auto splits, plan.ListSplits(fragment.id, scan, 4096));
        for (const auto& split : splits) {
          FragmentTaskSpec task;
          task.splits = std::vector<std::vector<ScanSplit>>(fragment.scans);
          (*task.splits)[scan].push_back(split);
          tasks.push_back(std::move(task));
        }
      }
      if (tasks.empty()) {
        tasks.emplace_back();
        tasks.back().splits = std::vector<std::vector<ScanSplit>>(fragment.scans);
      }
    } else {
      const FragmentExchange& exchange = fragments[fragment.inputs[0]].output;
      const int count = exchange.kind == "gather" ? 1 : exchange.partitions;
      if (exchange.kind != "gather" && exchange.kind != "hash" && exchange.kind != "range") {
        return arrow::Status::NotImplemented("test driver: ", exchange.kind);
      }
      for (int p = 0; p < count; ++p) {
        FragmentTaskSpec task;
        for (int input : fragment.inputs) {
          std::vector<std::shared_ptr<arrow::Table>> tables;
          for (const auto& out : outputs[input]) tables.push_back(out.at(exchange.kind == "gather" ? 0 : p));
          task.inputs.push_back(std::move(tables));
        }
        tasks.push_back(std::move(task));
      }
    }
    std::vector<std::vector<std::shared_ptr<arrow::Table>>> results;
    for (size_t t = 0; t < tasks.size(); ++t) {
      FragmentTaskSpec& task = tasks[t];
      task.plan = fragment.plan;
      if (fragment.output.kind == "hash") task.output = fragment.output;
      if (root && write) task.writer = write->writer();
      task.task_index = static_cast<int64_t>(t);
      ARROW_ASSIGN_OR_RAISE(auto result, RunFragmentTask(task));
      results.push_back(std::move(result));
    }
    if (fragment.output.kind == "range") {
      std::vector<std::shared_ptr<arrow::Table>> all;
      for (const auto& r : results) all.push_back(r.at(0));
      ARROW_ASSIGN_OR_RAISE(auto bounds, SampleRangeBoundaries(all, fragment.output.sort_keys,
                                                               fragment.output.partitions, 100));
      for (auto& r : results) {
        ARROW_ASSIGN_OR_RAISE(r, PartitionFragmentOutput(r.at(0), fragment.output, bounds));
      }
    }
    outputs[fragment.id] = std::move(results);
  }
  std::vector<std::shared_ptr<arrow::Table>> root;
  for (const auto& out : outputs[fragments.back().id]) root.push_back(out.at(0));
  return root;
}

std::shared_ptr<arrow::Table> FragmentTestTable() {
  arrow::Int64Builder keys, values;
  arrow::StringBuilder names;
  for (int64_t i = 0; i < 3000; ++i) {
    if (i % 17 == 0) {
      EXPECT_TRUE(keys.AppendNull().ok());
    } else {
      EXPECT_TRUE(keys.Append(i % 23).ok());
    }
    EXPECT_TRUE(values.Append((i * 7919) % 1000).ok());
    EXPECT_TRUE(names.Append("n" + std::to_string(i % 5)).ok());
  }
  auto schema = arrow::schema({arrow::field("k", arrow::int64()), arrow::field("v", arrow::int64()),
                               arrow::field("s", arrow::utf8())});
  return arrow::Table::Make(schema, {keys.Finish().ValueOrDie(), values.Finish().ValueOrDie(),
                                     names.Finish().ValueOrDie()});
}

TEST(FragmentsTest, SortsGroupBysAndJoinsRunFragmentByFragmentLikeOneProcess) {
  ASSERT_OK_AND_ASSIGN(Dataset ds, Dataset::FromTable(FragmentTestTable()));
  ASSERT_OK_AND_ASSIGN(Dataset sorted, ds.Sort({{"v", true, false}, {"k", false, true}}));
  ASSERT_OK_AND_ASSIGN(Dataset grouped,
                       ds.GroupByAggregate({"k", "s"}, {{"count", "", ""}, {"mean", "v", ""},
                                                        {"max", "s", ""}, {"sum", "v", ""}}));
  ASSERT_OK_AND_ASSIGN(Dataset joined, ds.Join(ds, JoinOptions::On({"k", "s"})));
  for (const Dataset* query : {&sorted, &grouped}) {
    ASSERT_OK_AND_ASSIGN(auto expected, query->ToTable());
    ASSERT_OK_AND_ASSIGN(auto plan, FragmentedPlan::Cut(*query, 3));
    ASSERT_GE(plan.fragments().size(), 2u);
    ASSERT_OK_AND_ASSIGN(auto outputs, RunFragmentByFragment(plan, nullptr));
    ASSERT_OK_AND_ASSIGN(auto got, arrow::ConcatenateTables(outputs));
    ASSERT_OK_AND_ASSIGN(got, got->CombineChunks());
    ASSERT_OK_AND_ASSIGN(expected, expected->CombineChunks());
    // Same rows in the same order (names and types; nullability is the driver's to cast).
    ASSERT_EQ(got->num_rows(), expected->num_rows());
    for (int c = 0; c < expected->num_columns(); ++c) {
      EXPECT_TRUE(got->column(c)->Equals(*expected->column(c)))
          << plan.ToString() << "\ncolumn " << expected->field(c)->name();
    }
  }
  ASSERT_OK_AND_ASSIGN(auto expected, joined.ToTable());
  ASSERT_OK_AND_ASSIGN(auto plan, FragmentedPlan::Cut(joined, 4));
  ASSERT_OK_AND_ASSIGN(auto outputs, RunFragmentByFragment(plan, nullptr));
  ASSERT_OK_AND_ASSIGN(auto got, arrow::ConcatenateTables(outputs));
  ASSERT_TABLES_EQUAL_UNORDERED(expected, got->ReplaceSchemaMetadata(nullptr));
}

TEST(FragmentsTest, AWriteStagedByTasksIsCommittedOnceOrNotAtAll) {
  testing::TempDir dir;
  ASSERT_OK_AND_ASSIGN(Dataset ds, Dataset::FromTable(FragmentTestTable()));
  WriteOptions options;
  options.partition_cols = {"s"};
  ASSERT_OK_AND_ASSIGN(auto plan, FragmentedPlan::CutWrite(ds, "parquet", dir.Join("out"), options, 2));
  ASSERT_TRUE(plan.writes());
  {
    // Begun, staged, never committed: nothing is published.
    ASSERT_OK_AND_ASSIGN(auto write, plan.BeginWrite());
    ASSERT_OK(RunFragmentByFragment(plan, write.get()).status());
  }
  EXPECT_FALSE(Dataset::ReadParquet({dir.Join("out")}).ok());
  ASSERT_OK_AND_ASSIGN(auto write, plan.BeginWrite());
  ASSERT_OK_AND_ASSIGN(auto results, RunFragmentByFragment(plan, write.get()));
  ASSERT_OK_AND_ASSIGN(WriteResult written, write->Commit(results));
  EXPECT_EQ(written.rows, 3000);
  EXPECT_EQ(written.files.size(), results.size() * 5);  // a file per task and partition
  ASSERT_OK_AND_ASSIGN(Dataset back, Dataset::ReadParquet({dir.Join("out")}));
  ASSERT_OK_AND_ASSIGN(auto table, back.ToTable());
  EXPECT_EQ(table->num_rows(), 3000);
  EXPECT_FALSE(write->Commit(results).ok());  // once
}

}  // namespace
}  // namespace sluice
