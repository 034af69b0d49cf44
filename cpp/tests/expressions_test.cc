// Expressions whose size the input controls: AND / OR chains of any length, nesting up to
// kMaxExpressionDepth, and predicate text, all without unbounded recursion. Run under
// ASan, where every frame is larger, on the engine's worker threads.

#include <arrow/api.h>
#include <arrow/compute/api.h>
#include <arrow/io/file.h>
#include <parquet/arrow/writer.h>

#include <random>
#include <string>
#include <vector>

#include "sluice/sluice.h"
#include "test_data.h"

namespace sluice {
namespace {

Dataset Numbers(int64_t n) {
  arrow::Int64Builder builder;
  for (int64_t i = 0; i < n; ++i) EXPECT_TRUE(builder.Append(i).ok());
  auto table = arrow::Table::Make(arrow::schema({arrow::field("a", arrow::int64())}),
                                  {builder.Finish().ValueOrDie()});
  return Dataset::FromTable(table).ValueOrDie();
}

int64_t CountWhere(const Dataset& ds, const Expression& filter) {
  auto filtered = ds.Filter(filter);
  EXPECT_TRUE(filtered.ok()) << filtered.status().ToString();
  if (!filtered.ok()) return -1;
  auto count = filtered->Count();
  EXPECT_TRUE(count.ok()) << count.status().ToString();
  return count.ok() ? *count : -1;
}

TEST(ExpressionDepthTest, CountsAsArrowRecursesOverIt) {
  EXPECT_EQ(ExpressionDepth(Col("a")), 1);
  EXPECT_EQ(ExpressionDepth(Not(Col("a"))), 2);
  // a + b + c + d: Arrow flattens the chain, three calls deep however it was built.
  EXPECT_EQ(ExpressionDepth(Add(Add(Col("a"), Col("b")), Add(Col("c"), Col("d")))), 4);
  std::vector<Expression> terms;
  for (int i = 0; i < 100000; ++i) terms.push_back(Greater(Col("a"), Lit(int64_t{i})));
  // 100,000 terms in n-ary calls of 16: five levels above the comparisons.
  EXPECT_EQ(ExpressionDepth(AnyOf(terms)), 2 + 5);
  // Equalities on one column become one set lookup in a filter over a column of the
  // literals' type (the plan knows the type; AnyOf itself does not).
  std::vector<Expression> equalities;
  for (int i = 0; i < 100000; ++i) equalities.push_back(Equal(Col("a"), Lit(int64_t{i})));
  ASSERT_OK_AND_ASSIGN(auto filtered, Numbers(10).Filter(AnyOf(equalities)));
  ASSERT_OK_AND_ASSIGN(auto plan, filtered.Explain());
  EXPECT_NE(plan.find("is_in"), std::string::npos) << plan.substr(0, 500);
  EXPECT_EQ(ExpressionDepth(AllOf({Col("a")})), 1);
  EXPECT_TRUE(AnyOf({}).Equals(Lit(false)));
  EXPECT_TRUE(AllOf({}).Equals(Lit(true)));
}

TEST(ExpressionDepthTest, LongChainsFilterLikeTheirBinaryForm) {
  // Every term of an n-ary chain is evaluated per batch, slowly under ASan: 10,000 terms
  // here (the Python tests evaluate 100,000).
  auto ds = Numbers(2000);
  std::vector<Expression> equal_terms;
  std::vector<Expression> unequal_terms;
  for (int64_t i = 0; i < 10000; ++i) {
    equal_terms.push_back(Equal(Col("a"), Lit(i * 7)));
    unequal_terms.push_back(NotEqual(Col("a"), Lit(i * 7)));
  }
  EXPECT_EQ(CountWhere(ds, AnyOf(equal_terms)), 286);  // 0, 7, ..., 1995: a set lookup
  std::vector<Expression> range_terms;  // stay comparisons: n-ary calls
  for (int64_t i = 0; i < 10000; ++i) {
    range_terms.push_back(AllOf({GreaterEqual(Col("a"), Lit(i * 100)), Less(Col("a"), Lit(i * 100 + 3))}));
  }
  EXPECT_EQ(CountWhere(ds, AnyOf(range_terms)), 60);
  EXPECT_EQ(CountWhere(ds, AllOf(unequal_terms)), 2000 - 286);
  // Two filters combine into one conjunction (the optimizer), still shallow.
  auto twice = ds.Filter(AllOf(unequal_terms)).ValueOrDie();
  EXPECT_EQ(CountWhere(twice, AnyOf(equal_terms)), 0);
}

TEST(ExpressionDepthTest, KleeneLogicOfNAryChains) {
  // Random booleans with nulls, 40 columns: the n-ary chain against Arrow's binary fold.
  std::mt19937 random(7);
  arrow::FieldVector fields;
  arrow::ArrayVector columns;
  for (int c = 0; c < 40; ++c) {
    arrow::BooleanBuilder builder;
    for (int r = 0; r < 500; ++r) {
      // Mostly true (or mostly false) so that all-true / all-false rows occur too.
      const int roll = static_cast<int>(random() % 100);
      if (roll < 2) {
        ASSERT_OK(builder.AppendNull());
      } else {
        ASSERT_OK(builder.Append(r % 2 == 0 ? roll < 99 : roll >= 99));
      }
    }
    fields.push_back(arrow::field("c" + std::to_string(c), arrow::boolean()));
    columns.push_back(builder.Finish().ValueOrDie());
  }
  auto table = arrow::Table::Make(arrow::schema(fields), columns);
  ASSERT_OK_AND_ASSIGN(auto ds, Dataset::FromTable(table));
  for (bool is_or : {true, false}) {
    SCOPED_TRACE(is_or ? "or" : "and");
    std::vector<Expression> terms;
    for (const auto& field : fields) terms.push_back(Col(field->name()));
    terms.push_back(arrow::compute::literal(std::make_shared<arrow::NullScalar>()));
    Expression chain = is_or ? AnyOf(terms) : AllOf(terms);
    ASSERT_OK_AND_ASSIGN(auto out, ds.WithColumn("r", chain));
    ASSERT_OK_AND_ASSIGN(auto got, out.ToTable());
    arrow::Datum expected = table->column(0);
    for (int c = 1; c < 40; ++c) {
      ASSERT_OK_AND_ASSIGN(expected, arrow::compute::CallFunction(is_or ? "or_kleene" : "and_kleene",
                                                                  {expected, table->column(c)}));
    }
    ASSERT_OK_AND_ASSIGN(expected, arrow::compute::CallFunction(
                                       is_or ? "or_kleene" : "and_kleene",
                                       {expected, arrow::MakeNullScalar(arrow::boolean())}));
    auto got_r = got->GetColumnByName("r");
    ASSERT_TRUE(got_r->Equals(*expected.chunked_array()))
        << got_r->ToString() << "\nexpected\n" << expected.chunked_array()->ToString();
  }
}

TEST(ExpressionDepthTest, AtTheLimitRunsOnWorkerThreadsAndPastItIsRefused) {
  testing::TempDir dir;
  // Through the Parquet reader too: its filter is bound, simplified against row-group
  // statistics and evaluated on worker threads.
  auto table = Numbers(10000).ToTable().ValueOrDie();
  const std::string path = dir.Join("numbers.parquet");
  {
    auto out = arrow::io::FileOutputStream::Open(path).ValueOrDie();
    ASSERT_OK(parquet::arrow::WriteTable(*table, arrow::default_memory_pool(), out, 2500));
  }
  Expression deep = Less(Col("a"), Lit(int64_t{100}));
  while (ExpressionDepth(deep) < kMaxExpressionDepth) deep = Not(std::move(deep));
  const int64_t nots = kMaxExpressionDepth - 2;
  const int64_t expected = nots % 2 == 0 ? 100 : 9900;
  EXPECT_EQ(CountWhere(Numbers(10000), deep), expected);
  ASSERT_OK_AND_ASSIGN(auto parquet, Dataset::ReadParquet({path}));
  EXPECT_EQ(CountWhere(parquet, deep), expected);

  Expression too_deep = Not(deep);
  auto refused = Numbers(10).Filter(too_deep);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.status().IsInvalid());
  EXPECT_NE(refused.status().message().find("levels deep; the limit is 1000"), std::string::npos)
      << refused.status().ToString();
}

TEST(ParsePredicateDepthTest, ChainsOfAnyLengthNestingUpToTheLimit) {
  std::string many = "a = 0";
  for (int i = 1; i < 100000; ++i) many += " OR a = " + std::to_string(i * 3);
  ASSERT_OK_AND_ASSIGN(Expression any, ParsePredicate(many));
  EXPECT_EQ(CountWhere(Numbers(300), any), 100);

  const std::string parens(kMaxPredicateNesting, '(');
  const std::string closing(kMaxPredicateNesting, ')');
  ASSERT_OK_AND_ASSIGN(Expression nested, ParsePredicate(parens.substr(1) + "a < 5" +
                                                         closing.substr(1)));
  EXPECT_EQ(CountWhere(Numbers(300), nested), 5);

  std::string nots;
  for (int i = 0; i < 10000; ++i) nots += "NOT ";
  std::string sum = "a";
  for (int i = 0; i < 10000; ++i) sum += " + 1";
  for (const std::string& hostile :
       {std::string(10000, '(') + "a" + std::string(10000, ')'), nots + "a = 1",
        "a = " + std::string(10000, '-') + "1", sum + " = 3",
        "a IN (" + std::string(100000, '-') + "1)"}) {
    auto parsed = ParsePredicate(hostile);
    ASSERT_FALSE(parsed.ok());
    EXPECT_TRUE(parsed.status().IsInvalid());
    EXPECT_TRUE(parsed.status().message().find("nests more than 1000 levels") != std::string::npos ||
                parsed.status().message().find("nest more than 256 levels") != std::string::npos)
        << parsed.status().message().substr(0, 300);
  }
  // BETWEEN uses its operand twice: 40 nested would write out 2^40 nodes.
  std::string betweens;
  for (int i = 0; i < 40; ++i) betweens += "(";
  betweens += "a";
  for (int i = 0; i < 40; ++i) betweens += " BETWEEN 0 AND 1)";
  auto parsed = ParsePredicate(betweens);
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("grows past 1000000"), std::string::npos)
      << parsed.status().ToString();
  // % is one call (python_modulo): a chain of them grows linearly.
  std::string modulos = "a";
  for (int i = 0; i < 400; ++i) modulos += " % 3";
  ASSERT_OK(ParsePredicate(modulos + " = 1").status());
  Expression doubled = Col("a");
  for (int i = 0; i < 40 && CheckExpressionDepth(doubled, "test").ok(); ++i) {
    doubled = Equal(doubled, doubled);
  }
  auto refused = Numbers(3).WithColumn("m", doubled);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("the limit is 1000000"), std::string::npos)
      << refused.status().ToString();
}

}  // namespace
}  // namespace sluice
