// The public C++ API end to end: read Parquet, transform with native expressions and a
// C++ batch function, aggregate, write, read back — checked against Arrow compute.

#include <arrow/compute/api.h>
#include <arrow/io/file.h>
#include <parquet/arrow/writer.h>

#include "sluice/sluice.h"
#include "test_data.h"

namespace sluice {
namespace {

namespace cp = arrow::compute;

std::shared_ptr<arrow::Table> MakeOrders(int64_t rows) {
  arrow::Int64Builder id;
  arrow::StringBuilder country;
  arrow::DoubleBuilder amount;
  const char* countries[] = {"US", "DE", "JP"};
  for (int64_t i = 0; i < rows; ++i) {
    ARROW_UNUSED(id.Append(i));
    ARROW_UNUSED(country.Append(countries[i % 3]));
    ARROW_UNUSED(amount.Append(static_cast<double>(i % 101)));
  }
  auto schema =
      arrow::schema({arrow::field("id", arrow::int64()), arrow::field("country", arrow::utf8()),
                     arrow::field("amount", arrow::float64())});
  return arrow::Table::Make(schema, {id.Finish().ValueOrDie(), country.Finish().ValueOrDie(),
                                     amount.Finish().ValueOrDie()});
}

class DatasetApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EngineConfig config;
    config.batch_rows = 4096;
    config.progress = false;
    ASSERT_OK(Configure(config));
    table_ = MakeOrders(50000);
    for (int part = 0; part < 4; ++part) {
      const int64_t rows = table_->num_rows() / 4;
      auto slice = table_->Slice(part * rows, rows);
      std::string path = dir_.Join("orders/part-" + std::to_string(part) + ".parquet");
      testing::WriteFile(path, "");
      auto out = arrow::io::FileOutputStream::Open(path).ValueOrDie();
      ASSERT_OK(parquet::arrow::WriteTable(*slice, arrow::default_memory_pool(), out, 5000));
    }
  }

  testing::TempDir dir_;
  std::shared_ptr<arrow::Table> table_;
};

TEST_F(DatasetApiTest, ReadTransformAggregateMatchesArrowCompute) {
  ASSERT_OK_AND_ASSIGN(Dataset ds, Dataset::ReadParquet({dir_.Join("orders")}));
  ASSERT_OK_AND_ASSIGN(int64_t rows, ds.Count());
  EXPECT_EQ(rows, 50000);
  ASSERT_OK_AND_ASSIGN(ds, ds.Filter(And(Greater(Col("amount"), Lit(50.0)),
                                         NotEqual(Col("country"), Lit(std::string("JP"))))));
  ASSERT_OK_AND_ASSIGN(ds, ds.WithColumn("taxed", Multiply(Col("amount"), Lit(1.5))));
  ASSERT_OK_AND_ASSIGN(ds,
                       ds.GroupByAggregate({"country"}, {{"count", "", ""}, {"sum", "taxed", ""}}));
  ASSERT_OK_AND_ASSIGN(auto result, ds.ToTable());

  // The same with Arrow compute directly.
  auto over = cp::CallFunction("greater", {table_->GetColumnByName("amount"), arrow::Datum(50.0)})
                  .ValueOrDie();
  auto not_jp = cp::CallFunction("not_equal", {table_->GetColumnByName("country"),
                                               arrow::Datum(std::string("JP"))})
                    .ValueOrDie();
  auto mask = cp::CallFunction("and", {over, not_jp}).ValueOrDie();
  auto filtered = cp::Filter(table_, mask).ValueOrDie().table();
  std::map<std::string, std::pair<int64_t, double>> expected;
  auto countries = filtered->GetColumnByName("country");
  auto amounts = filtered->GetColumnByName("amount");
  for (int64_t i = 0; i < filtered->num_rows(); ++i) {
    auto c = countries->GetScalar(i).ValueOrDie()->ToString();
    auto a =
        std::static_pointer_cast<arrow::DoubleScalar>(amounts->GetScalar(i).ValueOrDie())->value;
    expected[c].first += 1;
    expected[c].second += a * 1.5;
  }
  ASSERT_EQ(result->num_rows(), static_cast<int64_t>(expected.size()));
  for (int64_t i = 0; i < result->num_rows(); ++i) {
    auto c = result->GetColumnByName("country")->GetScalar(i).ValueOrDie()->ToString();
    auto n = std::static_pointer_cast<arrow::Int64Scalar>(
                 result->GetColumnByName("count()")->GetScalar(i).ValueOrDie())
                 ->value;
    auto s = std::static_pointer_cast<arrow::DoubleScalar>(
                 result->GetColumnByName("sum(taxed)")->GetScalar(i).ValueOrDie())
                 ->value;
    EXPECT_EQ(n, expected[c].first) << c;
    EXPECT_NEAR(s, expected[c].second, 1e-6) << c;
  }
}

TEST_F(DatasetApiTest, CppBatchFunctionAndWriteRoundTrip) {
  ASSERT_OK_AND_ASSIGN(Dataset ds, Dataset::ReadParquet({dir_.Join("orders")}));
  // A C++ UDF: keep every other row of each batch and add a constant column.
  BatchFunctionFactory factory = []() -> arrow::Result<BatchFunction> {
    return BatchFunction([](const std::shared_ptr<arrow::RecordBatch>& batch)
                             -> arrow::Result<std::shared_ptr<arrow::RecordBatch>> {
      arrow::BooleanBuilder keep;
      for (int64_t i = 0; i < batch->num_rows(); ++i) ARROW_RETURN_NOT_OK(keep.Append(i % 2 == 0));
      ARROW_ASSIGN_OR_RAISE(auto mask, keep.Finish());
      ARROW_ASSIGN_OR_RAISE(arrow::Datum kept, cp::Filter(batch, mask));
      auto out = kept.record_batch();
      ARROW_ASSIGN_OR_RAISE(auto ones,
                            arrow::MakeArrayFromScalar(arrow::Int32Scalar(1), out->num_rows()));
      return out->AddColumn(out->num_columns(), "one", ones);
    });
  };
  MapBatchesOptions options;
  options.name = "MapBatches(every_other_row)";
  options.batch_size = 1000;
  ASSERT_OK_AND_ASSIGN(ds, ds.MapBatches(factory, options));
  WriteOptions write;
  write.partition_cols = {"country"};
  ASSERT_OK_AND_ASSIGN(WriteResult written, ds.WriteParquet(dir_.Join("out"), write));
  EXPECT_EQ(written.rows, 25000);
  ASSERT_OK_AND_ASSIGN(Dataset back, Dataset::ReadParquet({dir_.Join("out")}));
  ASSERT_OK_AND_ASSIGN(int64_t rows, back.Count());
  EXPECT_EQ(rows, 25000);
  ASSERT_OK_AND_ASSIGN(auto schema, back.Schema());
  EXPECT_GE(schema->GetFieldIndex("country"), 0);
  EXPECT_GE(schema->GetFieldIndex("one"), 0);
  ASSERT_OK_AND_ASSIGN(auto explained, ds.Explain());
  EXPECT_NE(explained.find("MapBatches(every_other_row)"), std::string::npos);
  ExecutionStats stats = ds.LastStats();
  ASSERT_FALSE(stats.operators.empty());
  EXPECT_EQ(stats.operators.front().rows_out, 50000);
}

TEST_F(DatasetApiTest, SortDescendingWithLimit) {
  ASSERT_OK_AND_ASSIGN(Dataset ds, Dataset::ReadParquet({dir_.Join("orders")}));
  ASSERT_OK_AND_ASSIGN(ds, ds.Sort({{"amount", true, false}, {"id", false, false}}));
  ASSERT_OK_AND_ASSIGN(ds, ds.Limit(3));
  ASSERT_OK_AND_ASSIGN(auto result, ds.ToTable());
  ASSERT_EQ(result->num_rows(), 3);
  // amount 100 first appears at id 100, then 201, 302.
  EXPECT_EQ(result->GetColumnByName("id")->GetScalar(0).ValueOrDie()->ToString(), "100");
  EXPECT_EQ(result->GetColumnByName("id")->GetScalar(2).ValueOrDie()->ToString(), "302");
}

TEST_F(DatasetApiTest, MissingPathIsAnIOErrorNamingIt) {
  auto result = Dataset::ReadParquet({dir_.Join("does-not-exist")});
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.status().IsIOError()) << result.status().ToString();
  EXPECT_NE(result.status().message().find("does-not-exist"), std::string::npos);
}

}  // namespace
}  // namespace sluice
