// Hash joins end to end (plan, optimizer, executor), checked against a nested-loop join
// written here over rows of Arrow scalars, independently of Acero.

#include <arrow/compute/api.h>
#include <arrow/json/from_string.h>

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "physical/executor.h"
#include "connectors/memory/memory_sources.h"
#include "formats/file_sources.h"
#include "operators/join_operator.h"
#include "optimizer/optimizer.h"
#include "plan/logical_plan.h"
#include "sluice/sluice.h"
#include "test_data.h"

namespace sluice {
namespace {

using testing::TableFromJson;

constexpr JoinType kAllJoinTypes[] = {JoinType::kInner, JoinType::kLeft, JoinType::kRight,
                                      JoinType::kOuter, JoinType::kSemi, JoinType::kAnti};

plan::PlanNodePtr Source(std::shared_ptr<arrow::Table> table) {
  return plan::SourceNode::Make(io::MakeTableSource(std::move(table)).ValueOrDie()).ValueOrDie();
}

arrow::Result<std::shared_ptr<arrow::Table>> RunPlan(const plan::PlanNodePtr& plan) {
  ARROW_ASSIGN_OR_RAISE(auto optimized, optimizer::Optimize(plan));
  ARROW_ASSIGN_OR_RAISE(auto reader, exec::PlanReader::Open(optimized));
  return reader->ToTable();
}

JoinOptions Options(std::vector<std::string> left_keys, std::vector<std::string> right_keys,
                    JoinType how, std::string suffix = "_right") {
  JoinOptions options;
  options.left_keys = std::move(left_keys);
  options.right_keys = std::move(right_keys);
  options.how = how;
  options.right_suffix = std::move(suffix);
  return options;
}

// ---- the reference: column names and rows as strings, so that tables compare regardless
// of row order, chunking and the width of integer keys.

using Row = std::vector<std::string>;

std::string Cell(const std::shared_ptr<arrow::Scalar>& scalar) {
  if (!scalar->is_valid) return "null";
  if (scalar->type->id() == arrow::Type::DICTIONARY) {
    return static_cast<const arrow::DictionaryScalar&>(*scalar)
        .GetEncodedValue()
        .ValueOrDie()
        ->ToString();
  }
  return scalar->ToString();
}

std::vector<Row> RowsOf(const arrow::Table& table) {
  std::vector<Row> rows(table.num_rows());
  for (int c = 0; c < table.num_columns(); ++c) {
    for (int64_t r = 0; r < table.num_rows(); ++r) {
      rows[r].push_back(Cell(table.column(c)->GetScalar(r).ValueOrDie()));
    }
  }
  return rows;
}

struct Expected {
  std::vector<std::string> names;
  std::vector<Row> rows;
};

/// A nested-loop join with SQL semantics: null keys match nothing; a key pair named the
/// same on both sides is shown once (the right key where the left row is missing); a right
/// column named like a left one gets the suffix.
Expected NestedLoopJoin(const arrow::Table& left, const arrow::Table& right,
                        const JoinOptions& options) {
  const auto left_rows = RowsOf(left);
  const auto right_rows = RowsOf(right);
  std::vector<int> left_key;
  std::vector<int> right_key;
  std::map<int, int> merged_right_of_left;  // left key column -> right key column, same name
  std::set<int> merged_right;
  for (size_t i = 0; i < options.left_keys.size(); ++i) {
    left_key.push_back(left.schema()->GetFieldIndex(options.left_keys[i]));
    right_key.push_back(right.schema()->GetFieldIndex(options.right_keys[i]));
    if (options.left_keys[i] == options.right_keys[i]) {
      merged_right_of_left[left_key.back()] = right_key.back();
      merged_right.insert(right_key.back());
    }
  }
  const bool left_only = options.how == JoinType::kSemi || options.how == JoinType::kAnti;
  Expected out;
  std::vector<int> right_columns;
  for (const auto& f : left.schema()->fields()) out.names.push_back(f->name());
  if (!left_only) {
    for (int c = 0; c < right.num_columns(); ++c) {
      if (merged_right.count(c)) continue;
      std::string name = right.schema()->field(c)->name();
      if (left.schema()->GetFieldIndex(name) >= 0) name += options.right_suffix;
      out.names.push_back(name);
      right_columns.push_back(c);
    }
  }
  auto matches = [&](const Row& l, const Row& r) {
    for (size_t i = 0; i < left_key.size(); ++i) {
      if (l[left_key[i]] == "null" || r[right_key[i]] == "null") return false;
      if (l[left_key[i]] != r[right_key[i]]) return false;
    }
    return true;
  };
  auto emit = [&](const Row* l, const Row* r) {
    Row row;
    for (int c = 0; c < left.num_columns(); ++c) {
      if (l) {
        row.push_back((*l)[c]);
      } else {
        auto merged = merged_right_of_left.find(c);
        row.push_back(merged != merged_right_of_left.end() ? (*r)[merged->second] : "null");
      }
    }
    for (int c : right_columns) row.push_back(r ? (*r)[c] : "null");
    if (left_only) row.resize(left.num_columns());
    out.rows.push_back(std::move(row));
  };
  std::vector<bool> right_matched(right_rows.size(), false);
  for (const auto& l : left_rows) {
    bool matched = false;
    for (size_t j = 0; j < right_rows.size(); ++j) {
      if (!matches(l, right_rows[j])) continue;
      matched = true;
      right_matched[j] = true;
      if (!left_only) emit(&l, &right_rows[j]);
    }
    if (options.how == JoinType::kSemi && matched) emit(&l, nullptr);
    if ((options.how == JoinType::kAnti || options.how == JoinType::kLeft ||
         options.how == JoinType::kOuter) &&
        !matched) {
      emit(&l, nullptr);
    }
  }
  if (options.how == JoinType::kRight || options.how == JoinType::kOuter) {
    for (size_t j = 0; j < right_rows.size(); ++j) {
      if (!right_matched[j]) emit(nullptr, &right_rows[j]);
    }
  }
  return out;
}

void ExpectMatchesReference(const std::shared_ptr<arrow::Table>& left,
                            const std::shared_ptr<arrow::Table>& right,
                            const JoinOptions& options) {
  SCOPED_TRACE(JoinTypeName(options.how));
  auto join = plan::JoinNode::Make(Source(left), Source(right), options);
  ASSERT_TRUE(join.ok()) << join.status().ToString();
  auto result = RunPlan(*join);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  Expected expected = NestedLoopJoin(*left, *right, options);
  ASSERT_EQ((*result)->schema()->field_names(), expected.names);
  ASSERT_TRUE((*result)->schema()->Equals(*(*join)->schema())) << (*result)->schema()->ToString();
  auto actual = RowsOf(**result);
  std::sort(actual.begin(), actual.end());
  std::sort(expected.rows.begin(), expected.rows.end());
  EXPECT_EQ(actual, expected.rows);
}

class JoinTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EngineConfig config;
    config.batch_rows = 3;  // several tasks per side even for tiny tables
    config.progress = false;
    ASSERT_OK(Configure(config));
  }

  // Duplicate keys on both sides (many-to-many), null keys, keys found on one side only,
  // and a payload column named "v" on both sides.
  std::shared_ptr<arrow::Table> Left() {
    return TableFromJson(
        arrow::schema({arrow::field("k", arrow::int64()), arrow::field("v", arrow::utf8()),
                       arrow::field("a", arrow::float64())}),
        R"([{"k": 1, "v": "l1", "a": 0.5}, {"k": 2, "v": "l2", "a": 1.5},
            {"k": 2, "v": "l2b", "a": null}, {"k": null, "v": "lnull", "a": 2.5},
            {"k": 4, "v": "l4", "a": 3.5}, {"k": 1, "v": null, "a": 4.5},
            {"k": 7, "v": "l7", "a": 5.5}])");
  }
  std::shared_ptr<arrow::Table> Right() {
    return TableFromJson(
        arrow::schema({arrow::field("v", arrow::utf8()), arrow::field("k", arrow::int64()),
                       arrow::field("b", arrow::int32())}),
        R"([{"v": "r2", "k": 2, "b": 20}, {"v": "r1", "k": 1, "b": 10},
            {"v": "r2b", "k": 2, "b": 21}, {"v": "rnull", "k": null, "b": 0},
            {"v": "r5", "k": 5, "b": 50}, {"v": "r1b", "k": 1, "b": null}])");
  }
};

TEST_F(JoinTest, EveryJoinTypeMatchesNestedLoops) {
  for (JoinType how : kAllJoinTypes) {
    ExpectMatchesReference(Left(), Right(), JoinOptions::On({"k"}, how));
  }
}

TEST_F(JoinTest, OutputColumnsFollowSqlUsing) {
  auto join = plan::JoinNode::Make(Source(Left()), Source(Right()),
                                   JoinOptions::On({"k"}, JoinType::kOuter))
                  .ValueOrDie();
  EXPECT_EQ(join->schema()->field_names(),
            (std::vector<std::string>{"k", "v", "a", "v_right", "b"}));
  EXPECT_EQ(join->ToString(), "Join(outer, on=[k])");
  auto semi =
      plan::JoinNode::Make(Source(Left()), Source(Right()), JoinOptions::On({"k"}, JoinType::kSemi))
          .ValueOrDie();
  EXPECT_EQ(semi->schema()->field_names(), (std::vector<std::string>{"k", "v", "a"}));
  // Outer joins make every column nullable; inner joins keep each side's nullability.
  auto ranged =
      plan::JoinNode::Make(Source(Left()),
                           plan::SourceNode::Make(io::MakeRangeSource(3).ValueOrDie()).ValueOrDie(),
                           Options({"k"}, {"id"}, JoinType::kInner))
          .ValueOrDie();
  EXPECT_FALSE(ranged->schema()->GetFieldByName("id")->nullable());
  auto left_join =
      plan::JoinNode::Make(Source(Left()),
                           plan::SourceNode::Make(io::MakeRangeSource(3).ValueOrDie()).ValueOrDie(),
                           Options({"k"}, {"id"}, JoinType::kLeft))
          .ValueOrDie();
  EXPECT_TRUE(left_join->schema()->GetFieldByName("id")->nullable());
}

TEST_F(JoinTest, DifferentKeyNamesKeepBothKeyColumns) {
  auto right = TableFromJson(
      arrow::schema({arrow::field("id", arrow::int64()), arrow::field("k", arrow::utf8())}),
      R"([{"id": 1, "k": "one"}, {"id": 2, "k": "two"}, {"id": 9, "k": "nine"},
          {"id": null, "k": "none"}])");
  for (JoinType how : kAllJoinTypes) {
    ExpectMatchesReference(Left(), right, Options({"k"}, {"id"}, how));
  }
  auto join =
      plan::JoinNode::Make(Source(Left()), Source(right), Options({"k"}, {"id"}, JoinType::kInner))
          .ValueOrDie();
  EXPECT_EQ(join->schema()->field_names(),
            (std::vector<std::string>{"k", "v", "a", "id", "k_right"}));
  EXPECT_EQ(join->ToString(), "Join(inner, left_on=[k], right_on=[id])");
}

TEST_F(JoinTest, MultipleKeysWithStringsAndNulls) {
  auto schema = arrow::schema({arrow::field("s", arrow::utf8()), arrow::field("n", arrow::int32()),
                               arrow::field("x", arrow::int64())});
  auto left = TableFromJson(schema, R"([{"s": "a", "n": 1, "x": 1}, {"s": "a", "n": 2, "x": 2},
      {"s": "b", "n": 1, "x": 3}, {"s": null, "n": 1, "x": 4}, {"s": "a", "n": null, "x": 5},
      {"s": "a", "n": 1, "x": 6}, {"s": "", "n": 0, "x": 7}])");
  auto right = TableFromJson(schema, R"([{"s": "a", "n": 1, "x": 10}, {"s": "b", "n": 2, "x": 20},
      {"s": "a", "n": 1, "x": 30}, {"s": null, "n": 1, "x": 40}, {"s": "", "n": 0, "x": 50},
      {"s": "c", "n": 3, "x": 60}])");
  for (JoinType how : kAllJoinTypes) {
    ExpectMatchesReference(left, right, JoinOptions::On({"s", "n"}, how));
  }
  // Keys paired in another order than the columns.
  for (JoinType how : kAllJoinTypes) {
    ExpectMatchesReference(left, right, Options({"n", "s"}, {"n", "s"}, how));
  }
}

TEST_F(JoinTest, EmptySides) {
  auto empty_left = Left()->Slice(0, 0);
  auto empty_right = Right()->Slice(0, 0);
  for (JoinType how : kAllJoinTypes) {
    ExpectMatchesReference(empty_left, Right(), JoinOptions::On({"k"}, how));
    ExpectMatchesReference(Left(), empty_right, JoinOptions::On({"k"}, how));
    ExpectMatchesReference(empty_left, empty_right, JoinOptions::On({"k"}, how));
  }
}

TEST_F(JoinTest, IntegerKeysOfDifferentWidthsCompareAsInt64) {
  auto left = TableFromJson(
      arrow::schema({arrow::field("k", arrow::int32()), arrow::field("x", arrow::utf8())}),
      R"([{"k": 1, "x": "a"}, {"k": -2, "x": "b"}, {"k": null, "x": "c"}, {"k": 3, "x": "d"}])");
  auto right = TableFromJson(
      arrow::schema({arrow::field("k", arrow::uint8()), arrow::field("y", arrow::utf8())}),
      R"([{"k": 1, "y": "p"}, {"k": 254, "y": "q"}, {"k": 3, "y": "r"}, {"k": null, "y": "s"}])");
  for (JoinType how : kAllJoinTypes) {
    ExpectMatchesReference(left, right, JoinOptions::On({"k"}, how));
  }
  auto join =
      plan::JoinNode::Make(Source(left), Source(right), JoinOptions::On({"k"}, JoinType::kOuter))
          .ValueOrDie();
  EXPECT_TRUE(join->schema()->field(0)->type()->Equals(*arrow::int64()));
}

TEST_F(JoinTest, ColumnsAcerosJoinCannotHoldAreCarriedAround) {
  // Lists, structs, dictionaries and nulls are not join payload in Acero: they go around.
  auto left = TableFromJson(
      arrow::schema({arrow::field("k", arrow::int64()),
                     arrow::field("tags", arrow::list(arrow::utf8())),
                     arrow::field("point", arrow::struct_({arrow::field("x", arrow::int32())})),
                     arrow::field("nothing", arrow::null())}),
      R"([{"k": 1, "tags": ["a", "b"], "point": {"x": 1}}, {"k": 2, "tags": [], "point": null},
          {"k": 3, "tags": null, "point": {"x": 3}}, {"k": 1, "tags": ["c"], "point": {"x": 4}},
          {"k": null, "tags": ["n"], "point": {"x": 5}}])");
  auto right = TableFromJson(
      arrow::schema({arrow::field("k", arrow::int64()),
                     arrow::field("embedding", arrow::list(arrow::float32()))}),
      R"([{"k": 1, "embedding": [0.5, 1.5]}, {"k": 2, "embedding": null}, {"k": 4, "embedding": [4]},
          {"k": 1, "embedding": [2]}])");
  for (JoinType how : kAllJoinTypes) {
    ExpectMatchesReference(left, right, JoinOptions::On({"k"}, how));
  }
}

TEST_F(JoinTest, DictionaryKeysAndColumns) {
  auto dict = arrow::dictionary(arrow::int32(), arrow::utf8());
  auto left = arrow::Table::Make(
      arrow::schema({arrow::field("k", dict), arrow::field("c", dict)}),
      {arrow::json::DictArrayFromJSONString(dict, "[0, 1, 0, null, 2]", R"(["a", "b", "z"])")
           .ValueOrDie(),
       arrow::json::DictArrayFromJSONString(dict, "[1, 0, 0, 1, null]", R"(["red", "blue"])")
           .ValueOrDie()});
  auto right = TableFromJson(
      arrow::schema({arrow::field("k", arrow::utf8()), arrow::field("n", arrow::int64())}),
      R"([{"k": "a", "n": 1}, {"k": "b", "n": 2}, {"k": "c", "n": 3}])");
  for (JoinType how : kAllJoinTypes) {
    ExpectMatchesReference(left, right, JoinOptions::On({"k"}, how));
  }
  auto join =
      plan::JoinNode::Make(Source(left), Source(right), JoinOptions::On({"k"}, JoinType::kInner))
          .ValueOrDie();
  EXPECT_TRUE(join->schema()->GetFieldByName("k")->type()->Equals(*arrow::utf8()));
  EXPECT_TRUE(join->schema()->GetFieldByName("c")->type()->Equals(*dict));
}

TEST_F(JoinTest, StringViewKeysCompareAsStrings) {
  auto view_left = arrow::Table::Make(
      arrow::schema({arrow::field("k", arrow::utf8_view()), arrow::field("c", arrow::utf8_view())}),
      {arrow::json::ArrayFromJSONString(arrow::utf8_view(), R"(["a", "b", null, "a"])")
           .ValueOrDie(),
       arrow::json::ArrayFromJSONString(arrow::utf8_view(), R"(["x", "y", "z", "w"])")
           .ValueOrDie()});
  auto right = TableFromJson(
      arrow::schema({arrow::field("k", arrow::utf8()), arrow::field("n", arrow::int64())}),
      R"([{"k": "a", "n": 1}, {"k": "c", "n": 3}, {"k": null, "n": 4}])");
  for (JoinType how : kAllJoinTypes) {
    ExpectMatchesReference(view_left, right, JoinOptions::On({"k"}, how));
  }
}

TEST_F(JoinTest, BadKeysAreRejectedWithTheColumnsNamed) {
  auto missing = plan::JoinNode::Make(Source(Left()), Source(Right()),
                                      Options({"k"}, {"nope"}, JoinType::kInner));
  ASSERT_TRUE(missing.status().IsKeyError()) << missing.status().ToString();
  EXPECT_NE(missing.status().message().find("'nope'"), std::string::npos);
  EXPECT_NE(missing.status().message().find("[v, k, b]"), std::string::npos);

  auto types = plan::JoinNode::Make(Source(Left()), Source(Right()),
                                    Options({"k"}, {"v"}, JoinType::kInner));
  ASSERT_TRUE(types.status().IsTypeError()) << types.status().ToString();
  EXPECT_NE(types.status().message().find("'k' has type int64"), std::string::npos);
  EXPECT_NE(types.status().message().find("'v' has type string"), std::string::npos);

  auto count = plan::JoinNode::Make(Source(Left()), Source(Right()),
                                    Options({"k", "v"}, {"k"}, JoinType::kInner));
  ASSERT_TRUE(count.status().IsInvalid());
  EXPECT_NE(count.status().message().find("2 left key(s)"), std::string::npos);

  auto none = plan::JoinNode::Make(Source(Left()), Source(Right()), JoinOptions{});
  ASSERT_TRUE(none.status().IsInvalid());

  auto twice = plan::JoinNode::Make(Source(Left()), Source(Right()),
                                    Options({"k", "k"}, {"k", "b"}, JoinType::kInner));
  ASSERT_TRUE(twice.status().IsInvalid());
  EXPECT_NE(twice.status().message().find("'k' is given twice"), std::string::npos);

  auto floats = plan::JoinNode::Make(Source(Left()), Source(Right()),
                                     Options({"a"}, {"b"}, JoinType::kInner));
  ASSERT_TRUE(floats.status().IsTypeError()) << floats.status().ToString();

  auto lists = TableFromJson(arrow::schema({arrow::field("l", arrow::list(arrow::int64()))}),
                             R"([{"l": [1]}])");
  auto list_key = plan::JoinNode::Make(Source(lists), Source(lists), JoinOptions::On({"l"}));
  ASSERT_TRUE(list_key.status().IsTypeError());
  EXPECT_NE(list_key.status().message().find("cannot be a join key"), std::string::npos);
  auto nulls = TableFromJson(arrow::schema({arrow::field("n", arrow::null())}), R"([{"n": null}])");
  auto null_key = plan::JoinNode::Make(Source(nulls), Source(nulls), JoinOptions::On({"n"}));
  ASSERT_TRUE(null_key.status().IsTypeError()) << null_key.status().ToString();
}

TEST_F(JoinTest, SuffixThatStillClashesIsAnError) {
  auto left = TableFromJson(
      arrow::schema({arrow::field("k", arrow::int64()), arrow::field("x", arrow::int64()),
                     arrow::field("x_right", arrow::int64())}),
      R"([{"k": 1, "x": 2, "x_right": 3}])");
  auto right = TableFromJson(
      arrow::schema({arrow::field("k", arrow::int64()), arrow::field("x", arrow::int64())}),
      R"([{"k": 1, "x": 4}])");
  auto clash = plan::JoinNode::Make(Source(left), Source(right), JoinOptions::On({"k"}));
  ASSERT_TRUE(clash.status().IsInvalid()) << clash.status().ToString();
  EXPECT_NE(clash.status().message().find("two columns named 'x_right'"), std::string::npos);
  auto options = JoinOptions::On({"k"});
  options.right_suffix = "_r";
  ASSERT_OK_AND_ASSIGN(auto join, plan::JoinNode::Make(Source(left), Source(right), options));
  EXPECT_EQ(join->schema()->field_names(), (std::vector<std::string>{"k", "x", "x_right", "x_r"}));
}

TEST_F(JoinTest, ManyBatchesOnBothSides) {
  EngineConfig config;
  config.batch_rows = 4096;
  config.progress = false;
  ASSERT_OK(Configure(config));
  // 200k left rows over 70k keys, 50k right rows over 40k keys: many tasks per side,
  // duplicates on both sides, keys on one side only.
  const int64_t left_rows = 200000;
  const int64_t right_rows = 50000;
  arrow::Int64Builder lk, lid, rk, rid;
  for (int64_t i = 0; i < left_rows; ++i) {
    ASSERT_OK(lk.Append((i * 7) % 70000));
    ASSERT_OK(lid.Append(i));
  }
  for (int64_t j = 0; j < right_rows; ++j) {
    ASSERT_OK(rk.Append(10000 + (j * 3) % 40000 + (j % 5 == 0 ? 30000 : 0)));
    ASSERT_OK(rid.Append(j));
  }
  auto left = arrow::Table::Make(
      arrow::schema({arrow::field("k", arrow::int64()), arrow::field("lid", arrow::int64())}),
      {lk.Finish().ValueOrDie(), lid.Finish().ValueOrDie()});
  auto right = arrow::Table::Make(
      arrow::schema({arrow::field("k", arrow::int64()), arrow::field("rid", arrow::int64())}),
      {rk.Finish().ValueOrDie(), rid.Finish().ValueOrDie()});

  // The reference: a multimap from key to right row ids.
  auto left_keys = std::static_pointer_cast<arrow::Int64Array>(left->column(0)->chunk(0));
  auto right_keys = std::static_pointer_cast<arrow::Int64Array>(right->column(0)->chunk(0));
  std::unordered_map<int64_t, std::vector<int64_t>> right_by_key;
  for (int64_t j = 0; j < right_rows; ++j) right_by_key[right_keys->Value(j)].push_back(j);
  for (JoinType how : {JoinType::kInner, JoinType::kOuter, JoinType::kAnti}) {
    SCOPED_TRACE(JoinTypeName(how));
    std::vector<std::pair<int64_t, int64_t>> expected;  // (lid, rid), -1 for none
    std::vector<bool> right_matched(right_rows, false);
    for (int64_t i = 0; i < left_rows; ++i) {
      auto it = right_by_key.find(left_keys->Value(i));
      if (it == right_by_key.end()) {
        if (how != JoinType::kInner) expected.emplace_back(i, -1);
        continue;
      }
      if (how == JoinType::kAnti) continue;
      for (int64_t j : it->second) {
        expected.emplace_back(i, j);
        right_matched[j] = true;
      }
    }
    if (how == JoinType::kOuter) {
      for (int64_t j = 0; j < right_rows; ++j) {
        if (!right_matched[j]) expected.emplace_back(-1, j);
      }
    }
    ASSERT_OK_AND_ASSIGN(
        auto join, plan::JoinNode::Make(Source(left), Source(right), JoinOptions::On({"k"}, how)));
    ASSERT_OK_AND_ASSIGN(auto table, RunPlan(join));
    ASSERT_OK_AND_ASSIGN(table, table->CombineChunks());
    std::vector<std::pair<int64_t, int64_t>> actual;
    auto ids = [&](const char* name) -> std::shared_ptr<arrow::Int64Array> {
      auto column = table->GetColumnByName(name);
      return column ? std::static_pointer_cast<arrow::Int64Array>(column->chunk(0)) : nullptr;
    };
    auto lids = ids("lid");
    auto rids = ids("rid");
    for (int64_t r = 0; r < table->num_rows(); ++r) {
      actual.emplace_back(lids->IsNull(r) ? -1 : lids->Value(r),
                          !rids || rids->IsNull(r) ? -1 : rids->Value(r));
    }
    std::sort(expected.begin(), expected.end());
    std::sort(actual.begin(), actual.end());
    ASSERT_EQ(actual.size(), expected.size());
    EXPECT_TRUE(actual == expected);
  }
}

TEST_F(JoinTest, JoinStreamsJoinsOnePartitionAtATime) {
  // The way a spilling join will use it: hash partitions of both sides, joined one pair at
  // a time, together give the whole join.
  auto left = Left();
  auto right = Right();
  const JoinOptions options = JoinOptions::On({"k"}, JoinType::kOuter);
  ASSERT_OK_AND_ASSIGN(auto spec, plan::MakeJoinSpec(left->schema(), right->schema(), options));
  exec::ExecContext ctx(CurrentConfig());
  auto partition = [](const std::shared_ptr<arrow::Table>& table, int part) {
    namespace cp = arrow::compute;
    auto keys = table->GetColumnByName("k");
    // Partition by key parity; null keys go to partition 0.
    auto parity = cp::CallFunction("bit_wise_and", {keys, arrow::Datum(int64_t{1})}).ValueOrDie();
    auto filled = cp::CallFunction("coalesce", {parity, arrow::Datum(int64_t{0})}).ValueOrDie();
    auto mask = cp::CallFunction("equal", {filled, arrow::Datum(int64_t{part})}).ValueOrDie();
    return cp::Filter(table, mask).ValueOrDie().table();
  };
  std::vector<Row> actual;
  for (int part = 0; part < 2; ++part) {
    ASSERT_OK_AND_ASSIGN(
        auto joined, operators::JoinStreams(
                         &ctx, std::make_shared<arrow::TableBatchReader>(partition(left, part)),
                         std::make_shared<arrow::TableBatchReader>(partition(right, part)), spec));
    ASSERT_TRUE(joined->schema()->Equals(*spec.output_schema));
    for (auto& row : RowsOf(*joined)) actual.push_back(std::move(row));
  }
  Expected expected = NestedLoopJoin(*left, *right, options);
  std::sort(actual.begin(), actual.end());
  std::sort(expected.rows.begin(), expected.rows.end());
  EXPECT_EQ(actual, expected.rows);
}

TEST_F(JoinTest, OptimizerPushesFiltersToTheSidesThatDecideThem) {
  auto left = Source(Left());
  auto right = Source(Right());
  auto filtered = [&](JoinType how, Expression pred) {
    auto join = plan::JoinNode::Make(left, right, JoinOptions::On({"k"}, how)).ValueOrDie();
    auto filter = plan::FilterNode::Make(join, std::move(pred)).ValueOrDie();
    return std::make_pair(filter, plan::PlanToString(optimizer::Optimize(filter).ValueOrDie()));
  };
  // Left column, inner join: below the join on the left, nothing above.
  auto [inner_plan, inner] = filtered(JoinType::kInner, Greater(Col("a"), Lit(1.0)));
  EXPECT_EQ(inner.rfind("Join(inner, on=[k])", 0), 0u) << inner;
  EXPECT_NE(inner.find("  +- Filter((a > 1))"), std::string::npos) << inner;
  // A right column under its suffixed name, right join: below on the right, renamed back.
  auto [right_plan, right_text] =
      filtered(JoinType::kRight, Equal(Col("v_right"), Lit(std::string("r2"))));
  EXPECT_EQ(right_text.rfind("Join(right, on=[k])", 0), 0u) << right_text;
  EXPECT_NE(right_text.find("  +- Filter((v == \"r2\"))"), std::string::npos) << right_text;
  EXPECT_GT(right_text.find("Filter"), right_text.find("FromArrow[7 rows]")) << right_text;
  // A right column below a left join would drop the rows the join null-extends: it stays.
  auto [left_plan, left_text] = filtered(JoinType::kLeft, IsNull(Col("b")));
  EXPECT_EQ(left_text.rfind("Filter(is_null(b", 0), 0u) << left_text;
  // The key of `on`: both sides, whatever the join type; the rest stays above an outer join.
  auto [outer_plan, outer] =
      filtered(JoinType::kOuter, And(Greater(Col("k"), Lit(int64_t{1})), IsNull(Col("a"))));
  EXPECT_EQ(outer.rfind("Filter(is_null(a", 0), 0u) << outer;
  EXPECT_EQ(std::count(outer.begin(), outer.end(), '>'), 2) << outer;  // (k > 1) twice
  // Each rewrite gives the rows the unoptimized filter gives.
  for (const auto& plan : {inner_plan, right_plan, left_plan, outer_plan}) {
    ASSERT_OK_AND_ASSIGN(auto optimized, RunPlan(plan));
    auto reader = exec::PlanReader::Open(plan).ValueOrDie();  // run without optimizing
    auto unoptimized = reader->ToTable().ValueOrDie();
    auto a = RowsOf(*optimized);
    auto b = RowsOf(*unoptimized);
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    EXPECT_EQ(a, b) << plan::PlanToString(plan);
  }
}

TEST_F(JoinTest, OptimizerPrunesEachSideToItsKeysAndUsedColumns) {
  testing::TempDir dir;
  // Parquet sources show the columns they read in the plan.
  auto write = [&](const std::shared_ptr<arrow::Table>& table, const std::string& name) {
    ASSERT_OK_AND_ASSIGN(Dataset ds, Dataset::FromTable(table));
    ASSERT_OK(ds.WriteParquet(dir.Join(name)).status());
  };
  write(Left(), "left");
  write(Right(), "right");
  ASSERT_OK_AND_ASSIGN(Dataset left, Dataset::ReadParquet({dir.Join("left")}));
  ASSERT_OK_AND_ASSIGN(Dataset right, Dataset::ReadParquet({dir.Join("right")}));
  ASSERT_OK_AND_ASSIGN(Dataset joined, left.Join(right, JoinOptions::On({"k"}, JoinType::kLeft)));
  // Only the right "v" (renamed v_right): the left "v" goes, yet the name stays.
  ASSERT_OK_AND_ASSIGN(Dataset selected, joined.SelectColumns({"v_right"}));
  ASSERT_OK_AND_ASSIGN(std::string text, selected.Explain());
  const std::string optimized = text.substr(text.find("== Optimized plan =="));
  EXPECT_NE(optimized.find("columns=[k]"), std::string::npos) << optimized;
  EXPECT_NE(optimized.find("columns=[v, k]"), std::string::npos) << optimized;
  ASSERT_OK_AND_ASSIGN(auto table, selected.ToTable());
  EXPECT_EQ(table->schema()->field_names(), (std::vector<std::string>{"v_right"}));
  EXPECT_EQ(table->num_rows(), 11);  // 8 matches, 3 left rows without
  // A semi join reads nothing but the keys on the right.
  ASSERT_OK_AND_ASSIGN(Dataset semi, left.Join(right, JoinOptions::On({"k"}, JoinType::kSemi)));
  ASSERT_OK_AND_ASSIGN(text, semi.Explain());
  EXPECT_NE(text.substr(text.find("== Optimized plan ==")).find("columns=[k]"), std::string::npos)
      << text;
  ASSERT_OK_AND_ASSIGN(int64_t rows, semi.Count());
  EXPECT_EQ(rows, 4);  // 1, 2, 2, 1
}

TEST_F(JoinTest, InputOfUnknownSchemaIsResolvedWhenItRuns) {
  BatchFunctionFactory identity = []() -> arrow::Result<BatchFunction> {
    return BatchFunction([](const std::shared_ptr<arrow::RecordBatch>& batch) {
      return arrow::Result<std::shared_ptr<arrow::RecordBatch>>(batch);
    });
  };
  auto mapped = plan::MapBatchesNode::Make(Source(Right()), identity, {}).ValueOrDie();
  ASSERT_OK_AND_ASSIGN(auto join, plan::JoinNode::Make(Source(Left()), mapped,
                                                       JoinOptions::On({"k"}, JoinType::kLeft)));
  EXPECT_EQ(join->schema(), nullptr);
  ASSERT_OK_AND_ASSIGN(auto table, RunPlan(join));
  Expected expected = NestedLoopJoin(*Left(), *Right(), JoinOptions::On({"k"}, JoinType::kLeft));
  EXPECT_EQ(table->schema()->field_names(), expected.names);
  EXPECT_EQ(table->num_rows(), static_cast<int64_t>(expected.rows.size()));
}

TEST_F(JoinTest, AnInputsErrorReachesTheCallerUnchanged) {
  BatchFunctionFactory failing = []() -> arrow::Result<BatchFunction> {
    return BatchFunction([](const std::shared_ptr<arrow::RecordBatch>&)
                             -> arrow::Result<std::shared_ptr<arrow::RecordBatch>> {
      return arrow::Status::IOError("boom");
    });
  };
  MapBatchesOptions options;
  options.name = "MapBatches(explode)";
  for (int side = 0; side < 2; ++side) {
    auto mapped = plan::MapBatchesNode::Make(Source(Left()), failing, options).ValueOrDie();
    auto join = side == 0 ? plan::JoinNode::Make(mapped, Source(Left()), JoinOptions::On({"k"}))
                          : plan::JoinNode::Make(Source(Left()), mapped, JoinOptions::On({"k"}));
    ASSERT_TRUE(join.ok());
    auto result = RunPlan(*join);
    ASSERT_TRUE(result.status().IsIOError()) << result.status().ToString();
    EXPECT_NE(result.status().message().find("MapBatches(explode): boom"), std::string::npos)
        << result.status().ToString();
  }
}

TEST_F(JoinTest, KeyCastFailureNamesTheColumn) {
  auto left = TableFromJson(arrow::schema({arrow::field("k", arrow::uint64())}),
                            R"([{"k": 18446744073709551615}])");
  auto right = TableFromJson(arrow::schema({arrow::field("k", arrow::int8())}), R"([{"k": 1}])");
  auto result = RunPlan(
      plan::JoinNode::Make(Source(left), Source(right), JoinOptions::On({"k"})).ValueOrDie());
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("left column 'k' to int64"), std::string::npos)
      << result.status().ToString();
}

TEST_F(JoinTest, StatsCountBothInputsAndTheOutput) {
  ASSERT_OK_AND_ASSIGN(Dataset left, Dataset::FromTable(Left()));
  ASSERT_OK_AND_ASSIGN(Dataset right, Dataset::FromTable(Right()));
  ASSERT_OK_AND_ASSIGN(Dataset joined, left.Join(right, JoinOptions::On({"k"})));
  ASSERT_OK_AND_ASSIGN(auto table, joined.ToTable());
  EXPECT_EQ(table->num_rows(), 8);  // 1: 2x2, 2: 2x2
  const ExecutionStats stats = joined.LastStats();
  auto op = std::find_if(stats.operators.begin(), stats.operators.end(),
                         [](const OperatorStats& s) { return s.name == "Join(inner, on=[k])"; });
  ASSERT_NE(op, stats.operators.end()) << stats.ToString();
  EXPECT_EQ(op->rows_in, 7 + 6);
  EXPECT_EQ(op->rows_out, 8);
}

TEST_F(JoinTest, EmptyRightSideSkipsTheLeftInput) {
  ASSERT_OK_AND_ASSIGN(Dataset left, Dataset::FromTable(Left()));
  ASSERT_OK_AND_ASSIGN(Dataset right, Dataset::FromTable(Right()->Slice(0, 0)));
  ASSERT_OK_AND_ASSIGN(Dataset joined, left.Join(right, JoinOptions::On({"k"})));
  ASSERT_OK_AND_ASSIGN(auto table, joined.ToTable());
  EXPECT_EQ(table->num_rows(), 0);
  EXPECT_TRUE(table->schema()->Equals(*joined.Schema().ValueOrDie()));
  for (const auto& op : joined.LastStats().operators) {
    if (op.name.rfind("FromArrow[7 rows]", 0) == 0) EXPECT_EQ(op.rows_out, 0) << op.name;
  }
}

TEST_F(JoinTest, JoinHasNoDeliberateOrder) {
  auto sorted = plan::SortNode::Make(Source(Left()), {{"k", false, false}}).ValueOrDie();
  auto join = plan::JoinNode::Make(sorted, Source(Right()), JoinOptions::On({"k"})).ValueOrDie();
  EXPECT_TRUE(plan::HasDeliberateOrder(sorted));
  EXPECT_FALSE(plan::HasDeliberateOrder(join));
}

TEST_F(JoinTest, ParseJoinTypeTakesRayDataSpellings) {
  EXPECT_EQ(ParseJoinType("inner").ValueOrDie(), JoinType::kInner);
  EXPECT_EQ(ParseJoinType("left_outer").ValueOrDie(), JoinType::kLeft);
  EXPECT_EQ(ParseJoinType("RIGHT").ValueOrDie(), JoinType::kRight);
  EXPECT_EQ(ParseJoinType("full").ValueOrDie(), JoinType::kOuter);
  EXPECT_EQ(ParseJoinType("full_outer").ValueOrDie(), JoinType::kOuter);
  EXPECT_EQ(ParseJoinType("left_semi").ValueOrDie(), JoinType::kSemi);
  EXPECT_EQ(ParseJoinType("left_anti").ValueOrDie(), JoinType::kAnti);
  auto bad = ParseJoinType("cross");
  ASSERT_TRUE(bad.status().IsInvalid());
  EXPECT_NE(bad.status().message().find("'cross'"), std::string::npos);
}

}  // namespace
}  // namespace sluice
