// Operators that outgrow the memory budget spill to disk: their results must equal the
// in-memory ones (checked against Arrow compute), and spill files must be gone afterwards.

#include <arrow/acero/exec_plan.h>
#include <arrow/acero/options.h>
#include <arrow/compute/api.h>

#include <filesystem>
#include <map>
#include <random>

#include "compute/parallel_sort.h"
#include "compute/row_comparator.h"
#include "runtime/memory_budget.h"
#include "sluice/sluice.h"
#include "test_data.h"

namespace sluice {
namespace {

namespace cp = arrow::compute;

/// Random rows with duplicate keys, nulls and NaNs, so ties and null placement matter.
std::shared_ptr<arrow::Table> MakeRandomRows(int64_t rows, uint32_t seed) {
  std::mt19937_64 random(seed);
  arrow::Int64Builder id;
  arrow::Int32Builder group;
  arrow::StringBuilder name;
  arrow::DoubleBuilder score;
  for (int64_t i = 0; i < rows; ++i) {
    ARROW_UNUSED(id.Append(i));
    if (random() % 50 == 0) {
      ARROW_UNUSED(group.AppendNull());
    } else {
      ARROW_UNUSED(group.Append(static_cast<int32_t>(random() % 1000)));
    }
    if (random() % 40 == 0) {
      ARROW_UNUSED(name.AppendNull());
    } else {
      ARROW_UNUSED(name.Append("name-" + std::to_string(random() % 5000)));
    }
    const uint64_t pick = random() % 100;
    if (pick == 0) {
      ARROW_UNUSED(score.AppendNull());
    } else if (pick == 1) {
      ARROW_UNUSED(score.Append(std::nan("")));
    } else {
      ARROW_UNUSED(score.Append(static_cast<double>(random() % 2000) / 8.0 - 100));
    }
  }
  auto schema =
      arrow::schema({arrow::field("id", arrow::int64()), arrow::field("group", arrow::int32()),
                     arrow::field("name", arrow::utf8()), arrow::field("score", arrow::float64())});
  return arrow::Table::Make(schema, {id.Finish().ValueOrDie(), group.Finish().ValueOrDie(),
                                     name.Finish().ValueOrDie(), score.Finish().ValueOrDie()});
}

std::shared_ptr<arrow::Table> ArrowSorted(const std::shared_ptr<arrow::Table>& table,
                                          const std::vector<SortKey>& keys) {
  auto indices = cp::SortIndices(arrow::Datum(table), compute::ArrowSortOptions(keys)).ValueOrDie();
  return cp::Take(table, indices).ValueOrDie().table()->CombineChunks().ValueOrDie();
}

::testing::AssertionResult SameRows(const std::shared_ptr<arrow::Table>& expected,
                                    const std::shared_ptr<arrow::Table>& actual) {
  auto e = expected->CombineChunks().ValueOrDie();
  auto a = actual->CombineChunks().ValueOrDie();
  if (!e->schema()->Equals(*a->schema())) {
    return ::testing::AssertionFailure()
           << "schemas differ: " << e->schema()->ToString() << " vs " << a->schema()->ToString();
  }
  if (e->num_rows() != a->num_rows()) {
    return ::testing::AssertionFailure()
           << e->num_rows() << " rows expected, got " << a->num_rows();
  }
  for (int c = 0; c < e->num_columns(); ++c) {
    auto x = e->column(c)->chunk(0);
    auto y = a->column(c)->chunk(0);
    for (int64_t i = 0; i < x->length(); ++i) {
      auto xs = x->GetScalar(i).ValueOrDie();
      auto ys = y->GetScalar(i).ValueOrDie();
      if (!xs->Equals(*ys, arrow::EqualOptions::Defaults().nans_equal(true))) {
        return ::testing::AssertionFailure()
               << "column " << e->schema()->field(c)->name() << " row " << i << ": expected "
               << xs->ToString() << ", got " << ys->ToString();
      }
    }
  }
  return ::testing::AssertionSuccess();
}

int64_t FilesUnder(const std::filesystem::path& dir) {
  int64_t count = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    count += entry.is_regular_file() ? 1 : 0;
  }
  return count;
}

const OperatorStats* FindOperator(const ExecutionStats& stats, const std::string& prefix) {
  for (const auto& op : stats.operators) {
    if (op.name.rfind(prefix, 0) == 0) return &op;
  }
  return nullptr;
}

class SpillTest : public ::testing::Test {
 protected:
  void SetUp() override { Use(/*memory_limit=*/2 << 20, /*batch_rows=*/2048); }
  void TearDown() override {
    EngineConfig config;
    config.progress = false;
    ASSERT_OK(Configure(config));
  }
  void Use(int64_t memory_limit, int64_t batch_rows) {
    EngineConfig config;
    config.memory_limit_bytes = memory_limit;
    config.batch_rows = batch_rows;
    config.progress = false;
    config.spill_dir = spill_dir_.Join("spill");
    ASSERT_OK(Configure(config));
  }
  testing::TempDir spill_dir_;
};

TEST_F(SpillTest, RowComparatorAgreesWithSortIndices) {
  auto table = MakeRandomRows(5000, 7)->CombineChunks().ValueOrDie();
  for (bool descending : {false, true}) {
    for (bool nulls_first : {false, true}) {
      std::vector<SortKey> keys = {{"score", descending, nulls_first},
                                   {"name", !descending, nulls_first},
                                   {"group", descending, !nulls_first}};
      auto sorted = ArrowSorted(table, keys);
      auto batch = sorted->CombineChunksToBatch().ValueOrDie();
      ASSERT_OK_AND_ASSIGN(auto comparator, compute::RowComparator::Make(*batch->schema(), keys));
      auto columns = comparator.KeysOf(*batch);
      for (int64_t i = 1; i < batch->num_rows(); ++i) {
        ASSERT_LE(comparator.Compare(columns, i - 1, columns, i), 0)
            << "rows " << i - 1 << " and " << i << " descending=" << descending
            << " nulls_first=" << nulls_first;
        ASSERT_GE(comparator.Compare(columns, i, columns, i - 1), 0);
      }
    }
  }
}

TEST_F(SpillTest, SortThatSpillsMatchesArrowSortAndCleansUp) {
  auto table = MakeRandomRows(300000, 11);
  std::vector<SortKey> keys = {{"group", false, false}, {"score", true, true}};
  ASSERT_OK_AND_ASSIGN(auto ds, Dataset::FromTable(table));
  ASSERT_OK_AND_ASSIGN(ds, ds.Sort(keys));
  ASSERT_OK_AND_ASSIGN(auto result, ds.ToTable());
  // Stable: rows with equal keys keep input (id) order, as in Arrow's sort.
  auto expected = ArrowSorted(table, keys);
  ASSERT_TRUE(SameRows(expected, result));
  const ExecutionStats stats = ds.LastStats();
  const OperatorStats* sort = FindOperator(stats, "Sort");
  ASSERT_NE(sort, nullptr) << stats.ToString();
  EXPECT_GT(sort->spilled_bytes, 0) << stats.ToString();
  EXPECT_GT(sort->peak_reserved_bytes, 0);
  EXPECT_LE(sort->peak_reserved_bytes, 2 << 20);
  EXPECT_EQ(FilesUnder(spill_dir_.Join("spill")), 0);
}

TEST_F(SpillTest, SortMergesManyRunsInSeveralPasses) {
  // 128 KiB of budget and 256-row batches: hundreds of runs, more than one merge fan-in.
  Use(128 << 10, 256);
  auto table = MakeRandomRows(120000, 3);
  std::vector<SortKey> keys = {{"name", false, true}};
  ASSERT_OK_AND_ASSIGN(auto ds, Dataset::FromTable(table));
  ASSERT_OK_AND_ASSIGN(ds, ds.Sort(keys));
  ASSERT_OK_AND_ASSIGN(auto result, ds.ToTable());
  ASSERT_TRUE(SameRows(ArrowSorted(table, keys), result));
  EXPECT_GT(FindOperator(ds.LastStats(), "Sort")->spilled_bytes, 0);
  EXPECT_EQ(FilesUnder(spill_dir_.Join("spill")), 0);
}

TEST_F(SpillTest, SortInMemoryDoesNotSpill) {
  Use(256 << 20, 4096);
  auto table = MakeRandomRows(50000, 5);
  ASSERT_OK_AND_ASSIGN(auto ds, Dataset::FromTable(table));
  ASSERT_OK_AND_ASSIGN(ds, ds.Sort({{"name", false, false}}));
  ASSERT_OK_AND_ASSIGN(auto result, ds.ToTable());
  ASSERT_TRUE(SameRows(ArrowSorted(table, {{"name", false, false}}), result));
  EXPECT_EQ(FindOperator(ds.LastStats(), "Sort")->spilled_bytes, 0);
  EXPECT_FALSE(std::filesystem::exists(spill_dir_.Join("spill")) &&
               FilesUnder(spill_dir_.Join("spill")) > 0);
}

TEST_F(SpillTest, FailedSortLeavesNoSpillFiles) {
  auto table = MakeRandomRows(200000, 13);
  ASSERT_OK_AND_ASSIGN(auto ds, Dataset::FromTable(table));
  // Fails once 60 batches have passed, after the sort has spilled runs.
  auto seen = std::make_shared<std::atomic<int>>(0);
  BatchFunctionFactory fail_after = [seen]() -> arrow::Result<BatchFunction> {
    return BatchFunction([seen](const std::shared_ptr<arrow::RecordBatch>& batch)
                             -> arrow::Result<std::shared_ptr<arrow::RecordBatch>> {
      if (seen->fetch_add(1) >= 60) return arrow::Status::IOError("injected failure");
      return batch;
    });
  };
  ASSERT_OK_AND_ASSIGN(ds, ds.MapBatches(fail_after));
  ASSERT_OK_AND_ASSIGN(ds, ds.Sort({{"name", false, false}}));
  auto result = ds.ToTable();
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("injected failure"), std::string::npos)
      << result.status().ToString();
  EXPECT_EQ(FilesUnder(spill_dir_.Join("spill")), 0);
}

/// Group-by computed by Acero over the whole table in one go, sorted by the keys: the
/// reference a spilling group-by must reproduce.
std::shared_ptr<arrow::Table> ReferenceGroupBy(const std::shared_ptr<arrow::Table>& table,
                                               const std::vector<std::string>& keys,
                                               std::vector<arrow::compute::Aggregate> aggs) {
  namespace ac = arrow::acero;
  std::vector<arrow::FieldRef> key_refs(keys.begin(), keys.end());
  ac::Declaration plan = ac::Declaration::Sequence(
      {{"table_source", ac::TableSourceNodeOptions(table)},
       {"aggregate", ac::AggregateNodeOptions(std::move(aggs), key_refs)}});
  ac::QueryOptions options;
  options.use_threads = false;
  auto result = ac::DeclarationToTable(std::move(plan), options).ValueOrDie();
  std::vector<cp::SortKey> sort_keys;
  for (const auto& k : keys) sort_keys.emplace_back(arrow::FieldRef(k));
  auto indices = cp::SortIndices(arrow::Datum(result), cp::SortOptions(sort_keys)).ValueOrDie();
  return cp::Take(result, indices).ValueOrDie().table()->CombineChunks().ValueOrDie();
}

/// Same keys in the same order, and values equal (doubles within a relative 1e-9, since
/// partial sums add up in another order).
::testing::AssertionResult SameGroups(const std::shared_ptr<arrow::Table>& expected,
                                      const std::shared_ptr<arrow::Table>& actual) {
  auto e = expected->CombineChunks().ValueOrDie();
  auto a = actual->CombineChunks().ValueOrDie();
  if (e->num_rows() != a->num_rows() || e->num_columns() != a->num_columns()) {
    return ::testing::AssertionFailure()
           << "shape " << e->num_rows() << "x" << e->num_columns() << " expected, got "
           << a->num_rows() << "x" << a->num_columns();
  }
  for (int c = 0; c < e->num_columns(); ++c) {
    auto x = e->column(c)->chunk(0);
    auto y = a->column(c)->chunk(0);
    if (!x->type()->Equals(y->type())) {
      auto cast = cp::Cast(*y, x->type());
      if (!cast.ok()) return ::testing::AssertionFailure() << cast.status().ToString();
      y = *cast;
    }
    const auto options = arrow::EqualOptions::Defaults().nans_equal(true).atol(0);
    if (x->type_id() == arrow::Type::DOUBLE) {
      auto xd = std::static_pointer_cast<arrow::DoubleArray>(x);
      auto yd = std::static_pointer_cast<arrow::DoubleArray>(y);
      for (int64_t i = 0; i < xd->length(); ++i) {
        if (xd->IsNull(i) != yd->IsNull(i) ||
            (xd->IsValid(i) && std::abs(xd->Value(i) - yd->Value(i)) >
                                   1e-9 * std::max(1.0, std::abs(xd->Value(i))))) {
          return ::testing::AssertionFailure() << "column " << c << " row " << i << ": "
                                               << x->GetScalar(i).ValueOrDie()->ToString() << " vs "
                                               << y->GetScalar(i).ValueOrDie()->ToString();
        }
      }
    } else if (!x->Equals(*y, options)) {
      return ::testing::AssertionFailure()
             << "column " << e->schema()->field(c)->name() << " differs:\n"
             << x->Diff(*y);
    }
  }
  return ::testing::AssertionSuccess();
}

/// Many groups: ~1 in 3 rows starts a new (name, group) pair.
std::shared_ptr<arrow::Table> MakeManyGroups(int64_t rows) {
  auto table = MakeRandomRows(rows, 17);
  return table;
}

TEST_F(SpillTest, GroupByWithManyGroupsSpillsAndMatchesAcero) {
  auto table = MakeManyGroups(300000);
  ASSERT_OK_AND_ASSIGN(auto ds, Dataset::FromTable(table));
  ASSERT_OK_AND_ASSIGN(ds, ds.GroupByAggregate({"name", "group"}, {{"count", "", "n"},
                                                                   {"sum", "id", "sum_id"},
                                                                   {"mean", "score", "mean_score"},
                                                                   {"min", "id", "min_id"},
                                                                   {"max", "score", "max_score"},
                                                                   {"first", "id", "first_id"},
                                                                   {"last", "id", "last_id"}}));
  ASSERT_OK_AND_ASSIGN(auto result, ds.ToTable());
  auto skip_nulls = std::make_shared<cp::ScalarAggregateOptions>(true, 1);
  auto expected = ReferenceGroupBy(table, {"name", "group"},
                                   {{"hash_count_all", "n"},
                                    {"hash_sum", skip_nulls, "id", "sum_id"},
                                    {"hash_mean", skip_nulls, "score", "mean_score"},
                                    {"hash_min", skip_nulls, "id", "min_id"},
                                    {"hash_max", skip_nulls, "score", "max_score"},
                                    {"hash_first", skip_nulls, "id", "first_id"},
                                    {"hash_last", skip_nulls, "id", "last_id"}});
  ASSERT_GT(expected->num_rows(), 100000);
  ASSERT_TRUE(SameGroups(expected, result));
  const ExecutionStats stats = ds.LastStats();
  const OperatorStats* agg = FindOperator(stats, "Aggregate");
  ASSERT_NE(agg, nullptr);
  EXPECT_GT(agg->spilled_bytes, 0) << stats.ToString();
  EXPECT_EQ(FilesUnder(spill_dir_.Join("spill")), 0);
}

TEST_F(SpillTest, GroupByCountDistinctAndStdPartitionRawRows) {
  auto table = MakeManyGroups(200000);
  ASSERT_OK_AND_ASSIGN(auto ds, Dataset::FromTable(table));
  ASSERT_OK_AND_ASSIGN(ds, ds.GroupByAggregate({"group"}, {{"count_distinct", "name", "names"},
                                                           {"std", "score", "sd"},
                                                           {"count", "", "n"}}));
  ASSERT_OK_AND_ASSIGN(auto result, ds.ToTable());
  auto expected = ReferenceGroupBy(
      table, {"group"},
      {{"hash_count_distinct", std::make_shared<cp::CountOptions>(cp::CountOptions::ONLY_VALID),
        "name", "names"},
       {"hash_stddev", std::make_shared<cp::VarianceOptions>(1), "score", "sd"},
       {"hash_count_all", "n"}});
  ASSERT_TRUE(SameGroups(expected, result));
  EXPECT_GT(FindOperator(ds.LastStats(), "Aggregate")->spilled_bytes, 0);
  EXPECT_EQ(FilesUnder(spill_dir_.Join("spill")), 0);
}

TEST_F(SpillTest, GroupByWithFewGroupsStaysInMemory) {
  Use(64 << 20, 4096);
  auto table = MakeRandomRows(200000, 19);
  ASSERT_OK_AND_ASSIGN(auto ds, Dataset::FromTable(table));
  ASSERT_OK_AND_ASSIGN(ds, ds.GroupByAggregate({"group"}, {{"mean", "score", "m"}}));
  ASSERT_OK_AND_ASSIGN(auto result, ds.ToTable());
  auto expected = ReferenceGroupBy(
      table, {"group"},
      {{"hash_mean", std::make_shared<cp::ScalarAggregateOptions>(true, 1), "score", "m"}});
  ASSERT_TRUE(SameGroups(expected, result));
  EXPECT_EQ(FindOperator(ds.LastStats(), "Aggregate")->spilled_bytes, 0);
}

TEST_F(SpillTest, DistinctSpillsAndMatchesAcero) {
  auto table = MakeRandomRows(300000, 23);
  ASSERT_OK_AND_ASSIGN(auto ds, Dataset::FromTable(table));
  ASSERT_OK_AND_ASSIGN(ds, ds.SelectColumns({"name", "group"}));
  ASSERT_OK_AND_ASSIGN(ds, ds.Distinct());
  ASSERT_OK_AND_ASSIGN(auto result, ds.ToTable());
  auto expected = ReferenceGroupBy(table, {"name", "group"}, {});
  ASSERT_GT(expected->num_rows(), 100000);
  ASSERT_TRUE(SameGroups(expected, result));
  EXPECT_GT(FindOperator(ds.LastStats(), "Aggregate")->spilled_bytes, 0);
}

TEST_F(SpillTest, DistinctOnSubsetKeepsFirstRowAndColumnOrder) {
  Use(64 << 20, 1000);
  auto table = MakeRandomRows(20000, 29);
  ASSERT_OK_AND_ASSIGN(auto ds, Dataset::FromTable(table));
  ASSERT_OK_AND_ASSIGN(ds, ds.Distinct({"group"}));
  ASSERT_OK_AND_ASSIGN(auto result, ds.ToTable());
  ASSERT_TRUE(result->schema()->Equals(*table->schema()));
  // The first row of each group has the smallest id, since ids count up.
  auto skip_nulls = std::make_shared<cp::ScalarAggregateOptions>(false, 1);
  auto expected = ReferenceGroupBy(table, {"group"}, {{"hash_min", skip_nulls, "id", "id"}});
  ASSERT_EQ(expected->num_rows(), result->num_rows());
  ASSERT_OK_AND_ASSIGN(auto ids, cp::Cast(result->GetColumnByName("id"), arrow::int64()));
  auto expected_ids = expected->GetColumnByName("id");
  ASSERT_TRUE(expected_ids->Equals(*ids.chunked_array()));
}

TEST_F(SpillTest, HashRepartitionPutsEqualKeysInOneBlock) {
  auto table = MakeRandomRows(200000, 31);
  ASSERT_OK_AND_ASSIGN(auto ds, Dataset::FromTable(table));
  ASSERT_OK_AND_ASSIGN(ds, ds.Repartition(8, {"name"}));
  testing::TempDir out;
  ASSERT_OK_AND_ASSIGN(WriteResult written, ds.WriteParquet(out.Join("blocks")));
  EXPECT_EQ(written.files.size(), 8u);
  EXPECT_EQ(written.rows, table->num_rows());
  EXPECT_GT(FindOperator(ds.LastStats(), "Repartition")->spilled_bytes, 0);
  std::map<std::string, size_t> block_of;
  int64_t rows = 0;
  for (size_t f = 0; f < written.files.size(); ++f) {
    ASSERT_OK_AND_ASSIGN(auto block, Dataset::ReadParquet({written.files[f]}));
    ASSERT_OK_AND_ASSIGN(auto block_rows, block.ToTable());
    rows += block_rows->num_rows();
    auto names = block_rows->GetColumnByName("name");
    for (const auto& chunk : names->chunks()) {
      auto strings = std::static_pointer_cast<arrow::StringArray>(chunk);
      for (int64_t i = 0; i < strings->length(); ++i) {
        const std::string key = strings->IsNull(i) ? "<null>" : strings->GetString(i);
        auto [it, inserted] = block_of.emplace(key, f);
        ASSERT_EQ(it->second, f) << "key " << key << " in two blocks";
      }
    }
  }
  EXPECT_EQ(rows, table->num_rows());
  EXPECT_EQ(FilesUnder(spill_dir_.Join("spill")), 0);
}

TEST_F(SpillTest, JoinThatSpillsMatchesTheInMemoryJoin) {
  auto left = MakeRandomRows(40000, 37);
  auto right = MakeRandomRows(60000, 41);
  for (JoinType how : {JoinType::kInner, JoinType::kLeft, JoinType::kRight, JoinType::kOuter,
                       JoinType::kSemi, JoinType::kAnti}) {
    auto run = [&](int64_t budget) -> std::pair<std::shared_ptr<arrow::Table>, ExecutionStats> {
      Use(budget, 2048);
      auto l = Dataset::FromTable(left).ValueOrDie();
      auto r = Dataset::FromTable(right).ValueOrDie().SelectColumns({"name", "group", "id"});
      auto joined = l.Join(*r, JoinOptions::On({"name", "group"}, how)).ValueOrDie();
      auto table = joined.ToTable().ValueOrDie();
      return {table, joined.LastStats()};
    };
    auto [in_memory, memory_stats] = run(int64_t{1} << 30);
    auto [spilled, spill_stats] = run(1 << 20);
    EXPECT_EQ(FindOperator(memory_stats, "Join")->spilled_bytes, 0) << JoinTypeName(how);
    EXPECT_GT(FindOperator(spill_stats, "Join")->spilled_bytes, 0) << JoinTypeName(how);
    ASSERT_GT(in_memory->num_rows(), 0) << JoinTypeName(how);
    // (score has NaNs, which Table::Equals never finds equal.)
    ASSERT_TRUE(
        SameRows(testing::SortedByAllColumns(in_memory), testing::SortedByAllColumns(spilled)))
        << JoinTypeName(how);
    EXPECT_EQ(FilesUnder(spill_dir_.Join("spill")), 0);
  }
}

}  // namespace
}  // namespace sluice
