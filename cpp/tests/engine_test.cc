// End-to-end tests of the planner and executor over in-memory sources, checked against
// results computed directly with Arrow compute.

#include <arrow/compute/api.h>

#include "physical/executor.h"
#include "connectors/memory/memory_sources.h"
#include "formats/file_sources.h"
#include "optimizer/optimizer.h"
#include "plan/logical_plan.h"
#include "sluice/config.h"
#include "sluice/expression.h"
#include "test_data.h"

namespace sluice {
namespace {

using testing::TableFromJson;

std::shared_ptr<arrow::Table> RunPlan(const plan::PlanNodePtr& plan) {
  auto optimized = optimizer::Optimize(plan);
  EXPECT_TRUE(optimized.ok()) << optimized.status().ToString();
  auto reader = exec::PlanReader::Open(*optimized);
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  auto table = (*reader)->ToTable();
  EXPECT_TRUE(table.ok()) << table.status().ToString();
  return *table;
}

plan::PlanNodePtr Source(std::shared_ptr<arrow::Table> table) {
  return plan::SourceNode::Make(io::MakeTableSource(std::move(table)).ValueOrDie()).ValueOrDie();
}

plan::PlanNodePtr RangeNode(int64_t n) {
  return plan::SourceNode::Make(io::MakeRangeSource(n).ValueOrDie()).ValueOrDie();
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EngineConfig config;
    config.batch_rows = 1000;  // many tasks, so ordering and parallelism are exercised
    config.progress = false;
    ASSERT_OK(Configure(config));
  }
};

TEST_F(EngineTest, RangeKeepsOrderAcrossParallelTasks) {
  auto table = RunPlan(RangeNode(100000));
  ASSERT_EQ(table->num_rows(), 100000);
  auto ids = std::static_pointer_cast<arrow::Int64Array>(
      table->CombineChunks().ValueOrDie()->column(0)->chunk(0));
  for (int64_t i = 0; i < ids->length(); ++i) ASSERT_EQ(ids->Value(i), i);
}

TEST_F(EngineTest, FilterAndProjectMatchArrowCompute) {
  auto filtered =
      plan::FilterNode::Make(RangeNode(50000), Equal(Modulo(Col("id"), Lit(7)), Lit(0.0)))
          .ValueOrDie();
  auto projected = plan::ProjectNode::Make(
                       filtered, {Col("id"), Multiply(Col("id"), Lit(int64_t{2}))}, {"id", "twice"})
                       .ValueOrDie();
  auto table = RunPlan(projected);
  ASSERT_EQ(table->num_rows(), (50000 + 6) / 7);
  auto combined = table->CombineChunks().ValueOrDie();
  auto ids = std::static_pointer_cast<arrow::Int64Array>(combined->column(0)->chunk(0));
  auto twice = std::static_pointer_cast<arrow::Int64Array>(combined->column(1)->chunk(0));
  for (int64_t i = 0; i < ids->length(); ++i) {
    ASSERT_EQ(ids->Value(i), i * 7);
    ASSERT_EQ(twice->Value(i), i * 14);
  }
}

TEST_F(EngineTest, FilterRejectsNonBooleanPredicate) {
  auto result = plan::FilterNode::Make(RangeNode(10), Add(Col("id"), Lit(int64_t{1})));
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("expected boolean"), std::string::npos);
}

TEST_F(EngineTest, UnknownColumnNamesTheColumns) {
  auto result = plan::FilterNode::Make(RangeNode(10), Greater(Col("nope"), Lit(1)));
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("'nope'"), std::string::npos);
  EXPECT_NE(result.status().message().find("[id]"), std::string::npos);
}

TEST_F(EngineTest, LimitStopsEarlyAndKeepsOrder) {
  auto limited = plan::LimitNode::Make(RangeNode(1000000000), 2500).ValueOrDie();
  auto table = RunPlan(limited);
  ASSERT_EQ(table->num_rows(), 2500);
  auto last = table->column(0)->GetScalar(2499).ValueOrDie();
  EXPECT_EQ(last->ToString(), "2499");
}

TEST_F(EngineTest, LimitAfterFilter) {
  auto filtered = plan::FilterNode::Make(RangeNode(100000), Greater(Col("id"), Lit(int64_t{99990})))
                      .ValueOrDie();
  auto table = RunPlan(plan::LimitNode::Make(filtered, 5).ValueOrDie());
  ASSERT_EQ(table->num_rows(), 5);
  EXPECT_EQ(table->column(0)->GetScalar(0).ValueOrDie()->ToString(), "99991");
}

TEST_F(EngineTest, SortMultipleKeysWithNulls) {
  auto schema =
      arrow::schema({arrow::field("a", arrow::int64()), arrow::field("b", arrow::utf8())});
  auto input =
      TableFromJson(schema, R"([{"a": 2, "b": "x"}, {"a": null, "b": "y"}, {"a": 1, "b": "z"},
                                        {"a": 2, "b": "a"}, {"a": 1, "b": null}])");
  auto sorted =
      plan::SortNode::Make(Source(input), {{"a", false, false}, {"b", true, false}}).ValueOrDie();
  auto expected =
      TableFromJson(schema, R"([{"a": 1, "b": "z"}, {"a": 1, "b": null}, {"a": 2, "b": "x"},
                                           {"a": 2, "b": "a"}, {"a": null, "b": "y"}])");
  auto table = RunPlan(sorted);
  ASSERT_TRUE(table->CombineChunks().ValueOrDie()->Equals(*expected)) << table->ToString();
}

TEST_F(EngineTest, SortOfManyBatchesMatchesArrowSort) {
  // 50 input batches of strings with nulls: the sorted rows are gathered batch by batch
  // from all of them, in several parallel output tasks.
  arrow::Int64Builder keys;
  arrow::StringBuilder names;
  for (int64_t i = 0; i < 50000; ++i) {
    ASSERT_OK(keys.Append((i * 7919) % 1000));
    if (i % 13 == 0) {
      ASSERT_OK(names.AppendNull());
    } else {
      ASSERT_OK(names.Append("name-" + std::to_string((i * 104729) % 50000)));
    }
  }
  auto schema =
      arrow::schema({arrow::field("k", arrow::int64()), arrow::field("name", arrow::utf8())});
  auto whole =
      arrow::Table::Make(schema, {keys.Finish().ValueOrDie(), names.Finish().ValueOrDie()});
  auto input = whole->CombineChunksToBatch().ValueOrDie();
  arrow::RecordBatchVector batches;
  for (int64_t offset = 0; offset < input->num_rows(); offset += 1000) {
    batches.push_back(input->Slice(offset, 1000));
  }
  auto chunked = arrow::Table::FromRecordBatches(schema, batches).ValueOrDie();
  auto sorted = plan::SortNode::Make(Source(chunked), {{"k", true, false}, {"name", false, true}})
                    .ValueOrDie();
  auto table = RunPlan(sorted)->CombineChunks().ValueOrDie();

  namespace cp = arrow::compute;
  cp::SortOptions options(
      {cp::SortKey("k", cp::SortOrder::Descending, cp::NullPlacement::AtEnd),
       cp::SortKey("name", cp::SortOrder::Ascending, cp::NullPlacement::AtStart)});
  auto order = cp::SortIndices(arrow::Datum(whole), options).ValueOrDie();
  auto expected = cp::Take(whole, order).ValueOrDie().table()->CombineChunks().ValueOrDie();
  ASSERT_EQ(table->num_rows(), 50000);
  ASSERT_TRUE(table->Equals(*expected));
}

TEST_F(EngineTest, DeliberateOrderIsSeenThroughRepartitionAndUnion) {
  auto input = RangeNode(10);
  auto sorted = plan::SortNode::Make(input, {{"id", true, false}}).ValueOrDie();
  EXPECT_FALSE(plan::HasDeliberateOrder(input));
  EXPECT_TRUE(plan::HasDeliberateOrder(sorted));
  EXPECT_TRUE(plan::HasDeliberateOrder(plan::RepartitionNode::Make(input, 3).ValueOrDie()));
  EXPECT_TRUE(plan::HasDeliberateOrder(plan::LimitNode::Make(sorted, 5).ValueOrDie()));
  EXPECT_TRUE(plan::HasDeliberateOrder(plan::UnionNode::Make({input, sorted}).ValueOrDie()));
  EXPECT_FALSE(plan::HasDeliberateOrder(plan::UnionNode::Make({input, input}).ValueOrDie()));
}

TEST_F(EngineTest, GroupByAggregatesSortedByKey) {
  auto schema =
      arrow::schema({arrow::field("k", arrow::utf8()), arrow::field("v", arrow::int64())});
  auto input = TableFromJson(schema, R"([{"k": "b", "v": 1}, {"k": "a", "v": 2}, {"k": "b", "v": 3},
                                        {"k": "a", "v": null}, {"k": "c", "v": 5}])");
  auto agg = plan::AggregateNode::Make(Source(input), {"k"},
                                       {{"count", "", ""},
                                        {"sum", "v", ""},
                                        {"mean", "v", ""},
                                        {"min", "v", ""},
                                        {"max", "v", ""}})
                 .ValueOrDie();
  auto table = RunPlan(agg);
  auto expected_schema = arrow::schema(
      {arrow::field("k", arrow::utf8()), arrow::field("count()", arrow::int64(), false),
       arrow::field("sum(v)", arrow::int64()), arrow::field("mean(v)", arrow::float64()),
       arrow::field("min(v)", arrow::int64()), arrow::field("max(v)", arrow::int64())});
  auto expected = TableFromJson(expected_schema, R"json([
      {"k": "a", "count()": 2, "sum(v)": 2, "mean(v)": 2.0, "min(v)": 2, "max(v)": 2},
      {"k": "b", "count()": 2, "sum(v)": 4, "mean(v)": 2.0, "min(v)": 1, "max(v)": 3},
      {"k": "c", "count()": 1, "sum(v)": 5, "mean(v)": 5.0, "min(v)": 5, "max(v)": 5}])json");
  ASSERT_TRUE(table->CombineChunks().ValueOrDie()->Equals(*expected)) << table->ToString();
}

TEST_F(EngineTest, GlobalAggregate) {
  auto agg = plan::AggregateNode::Make(RangeNode(1001), {}, {{"sum", "id", ""}, {"count", "", ""}})
                 .ValueOrDie();
  auto table = RunPlan(agg);
  ASSERT_EQ(table->num_rows(), 1);
  EXPECT_EQ(table->column(0)->GetScalar(0).ValueOrDie()->ToString(), "500500");
  EXPECT_EQ(table->column(1)->GetScalar(0).ValueOrDie()->ToString(), "1001");
}

TEST_F(EngineTest, UnionAndRepartition) {
  auto u = plan::UnionNode::Make({RangeNode(10), RangeNode(5)}).ValueOrDie();
  auto r = plan::RepartitionNode::Make(u, 4).ValueOrDie();
  auto table = RunPlan(r);
  ASSERT_EQ(table->num_rows(), 15);
  EXPECT_EQ(table->column(0)->GetScalar(10).ValueOrDie()->ToString(), "0");
}

TEST_F(EngineTest, UnionRejectsDifferentSchemas) {
  auto projected = plan::ProjectNode::Make(RangeNode(3), {Col("id")}, {"x"}).ValueOrDie();
  auto result = plan::UnionNode::Make({RangeNode(10), projected});
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("schemas differ"), std::string::npos);
}

TEST_F(EngineTest, MapBatchesActorPoolBuildsOncePerActor) {
  std::atomic<int> constructed{0};
  std::atomic<int64_t> calls{0};
  BatchFunctionFactory factory = [&]() -> arrow::Result<BatchFunction> {
    constructed.fetch_add(1);
    return BatchFunction([&](const std::shared_ptr<arrow::RecordBatch>& batch) {
      calls.fetch_add(1);
      return arrow::Result<std::shared_ptr<arrow::RecordBatch>>(batch);
    });
  };
  MapBatchesOptions options;
  options.min_actors = 2;
  options.max_actors = 2;
  options.batch_size = 500;
  auto map = plan::MapBatchesNode::Make(RangeNode(20000), factory, options).ValueOrDie();
  auto table = RunPlan(map);
  ASSERT_EQ(table->num_rows(), 20000);
  EXPECT_EQ(constructed.load(), 2);
  EXPECT_EQ(calls.load(), 40);
}

TEST_F(EngineTest, MapBatchesErrorNamesTheStep) {
  BatchFunctionFactory factory = []() -> arrow::Result<BatchFunction> {
    return BatchFunction([](const std::shared_ptr<arrow::RecordBatch>&)
                             -> arrow::Result<std::shared_ptr<arrow::RecordBatch>> {
      return arrow::Status::Invalid("boom");
    });
  };
  MapBatchesOptions options;
  options.name = "MapBatches(explode)";
  auto map = plan::MapBatchesNode::Make(RangeNode(100), factory, options).ValueOrDie();
  auto optimized = optimizer::Optimize(map).ValueOrDie();
  auto reader = exec::PlanReader::Open(optimized);
  ASSERT_FALSE(reader.ok());
  EXPECT_NE(reader.status().message().find("MapBatches(explode): boom"), std::string::npos)
      << reader.status().ToString();
}

TEST_F(EngineTest, OptimizerPushesFilterBelowProjectionAndPrunesColumns) {
  auto schema = arrow::schema({arrow::field("a", arrow::int64()), arrow::field("b", arrow::int64()),
                               arrow::field("c", arrow::int64())});
  auto input = TableFromJson(schema, R"([{"a": 1, "b": 2, "c": 3}, {"a": 4, "b": 5, "c": 6}])");
  auto project =
      plan::ProjectNode::Make(Source(input), {Col("a"), Col("b")}, {"x", "b"}).ValueOrDie();
  auto filter = plan::FilterNode::Make(project, Greater(Col("x"), Lit(int64_t{2}))).ValueOrDie();
  auto select = plan::ProjectNode::Make(filter, {Col("b")}, {"b"}).ValueOrDie();
  auto optimized = optimizer::Optimize(select).ValueOrDie();
  const std::string text = plan::PlanToString(optimized);
  EXPECT_NE(text.find("columns=[a, b]"), std::string::npos) << text;
  EXPECT_LT(text.find("Filter"), text.find("FromArrow")) << text;
  auto table = RunPlan(select);
  ASSERT_EQ(table->num_rows(), 1);
  EXPECT_EQ(table->column(0)->GetScalar(0).ValueOrDie()->ToString(), "5");
}

TEST_F(EngineTest, ByteSizesParse) {
  EXPECT_EQ(ParseByteSize("2GB").ValueOrDie(), int64_t{2} << 30);
  EXPECT_EQ(ParseByteSize("512 MiB").ValueOrDie(), int64_t{512} << 20);
  EXPECT_EQ(ParseByteSize("100").ValueOrDie(), 100);
  EXPECT_FALSE(ParseByteSize("12 parsecs").ok());
  EXPECT_FALSE(ParseByteSize(".").ok());
  EXPECT_FALSE(ParseByteSize("1.2.3 GB").ok());
  EXPECT_FALSE(ParseByteSize("99999999999 TB").ok());
}

}  // namespace
}  // namespace sluice
