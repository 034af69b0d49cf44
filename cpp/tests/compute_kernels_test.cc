// Sluice's replacement kernels (cpp/src/compute) must give exactly what Arrow's kernels of
// the same name give; Arrow's registry is the reference.

#include <arrow/array/builder_binary.h>
#include <arrow/array/builder_primitive.h>
#include <arrow/compute/api.h>
#include <arrow/json/from_string.h>

#include <cmath>
#include <random>
#include <string>

#include "compute/engine_functions.h"
#include "compute/gather_rows.h"
#include "compute/python_modulo.h"
#include "compute/parallel_sort.h"
#include "test_data.h"

namespace sluice {
namespace {

namespace cp = arrow::compute;

#define EXPECT_OK(expr)                                       \
  do {                                                        \
    auto _st = (expr);                                        \
    EXPECT_TRUE(_st.ok()) << #expr << ": " << _st.ToString(); \
  } while (0)

/// Short values over a three-letter alphabet, so matches often start in one value and end
/// in the next: the case a whole-buffer search has to reject.
std::shared_ptr<arrow::Array> RandomStrings(const std::shared_ptr<arrow::DataType>& type,
                                            int64_t rows, uint32_t seed) {
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> length(0, 6);
  std::uniform_int_distribution<int> letter(0, 2);
  std::bernoulli_distribution null(0.1);
  std::unique_ptr<arrow::ArrayBuilder> builder;
  EXPECT_OK(arrow::MakeBuilder(arrow::default_memory_pool(), type, &builder));
  for (int64_t i = 0; i < rows; ++i) {
    if (null(random)) {
      EXPECT_OK(builder->AppendNull());
      continue;
    }
    std::string value;
    for (int n = length(random); n > 0; --n) value.push_back("abA"[letter(random)]);
    if (type->id() == arrow::Type::STRING) {
      EXPECT_OK(static_cast<arrow::StringBuilder&>(*builder).Append(value));
    } else if (type->id() == arrow::Type::LARGE_STRING) {
      EXPECT_OK(static_cast<arrow::LargeStringBuilder&>(*builder).Append(value));
    } else if (type->id() == arrow::Type::BINARY) {
      EXPECT_OK(static_cast<arrow::BinaryBuilder&>(*builder).Append(value));
    } else {
      EXPECT_OK(static_cast<arrow::LargeBinaryBuilder&>(*builder).Append(value));
    }
  }
  return builder->Finish().ValueOrDie();
}

arrow::Datum Match(const arrow::Datum& input, const std::string& pattern, bool ignore_case,
                   cp::FunctionRegistry* registry) {
  cp::ExecContext context(arrow::default_memory_pool(), nullptr, registry);
  cp::MatchSubstringOptions options(pattern, ignore_case);
  auto result = cp::CallFunction("match_substring", {input}, &options, &context);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ValueOr(arrow::Datum());
}

void ExpectSameAsArrow(const arrow::Datum& input, const std::string& pattern, bool ignore_case) {
  const auto expected = Match(input, pattern, ignore_case, cp::GetFunctionRegistry());
  const auto actual = Match(input, pattern, ignore_case, compute::EngineFunctionRegistry());
  ASSERT_TRUE(actual.Equals(expected))
      << "pattern '" << pattern << "' ignore_case=" << ignore_case << "\nexpected "
      << expected.ToString() << "\nactual " << actual.ToString();
}

TEST(MatchSubstringKernel, ReplacesArrowsKernelInTheEngineRegistryOnly) {
  auto engine = compute::EngineFunctionRegistry()->GetFunction("match_substring").ValueOrDie();
  auto arrow_own = cp::GetFunctionRegistry()->GetFunction("match_substring").ValueOrDie();
  EXPECT_NE(engine.get(), arrow_own.get());
  // Every other function still comes from Arrow.
  EXPECT_EQ(compute::EngineFunctionRegistry()->GetFunction("add").ValueOrDie().get(),
            cp::GetFunctionRegistry()->GetFunction("add").ValueOrDie().get());
}

TEST(MatchSubstringKernel, CastStillBindsThroughTheEngineRegistry) {
  // Expression binding recognizes "cast" by identity with the registry's cast function.
  cp::ExecContext context(arrow::default_memory_pool(), nullptr, compute::EngineFunctionRegistry());
  auto schema = arrow::schema({arrow::field("n", arrow::int32())});
  auto expr = cp::call(
      "divide", {cp::call("cast", {cp::field_ref("n")}, cp::CastOptions::Safe(arrow::float64())),
                 cp::literal(2.0)});
  auto bound = expr.Bind(*schema, &context);
  ASSERT_TRUE(bound.ok()) << bound.status().ToString();
  EXPECT_TRUE(bound->type()->Equals(arrow::float64()));
}

TEST(MatchSubstringKernel, AgreesWithArrowOnEveryStringType) {
  for (const auto& type :
       {arrow::utf8(), arrow::large_utf8(), arrow::binary(), arrow::large_binary()}) {
    SCOPED_TRACE(type->ToString());
    const auto values = RandomStrings(type, 5000, 7);
    for (const std::string pattern : {"", "a", "b", "ab", "ba", "aab", "abAb", "bbbbbbbb"}) {
      ExpectSameAsArrow(values, pattern, /*ignore_case=*/false);
    }
  }
}

TEST(MatchSubstringKernel, SlicesChunksAndIgnoreCase) {
  const auto values = RandomStrings(arrow::utf8(), 3000, 11);
  for (const int64_t offset : {0, 1, 7, 1000}) {
    ExpectSameAsArrow(values->Slice(offset, 1500), "ab", false);
    ExpectSameAsArrow(values->Slice(offset, 1500), "aA", true);
  }
  auto chunked = std::make_shared<arrow::ChunkedArray>(
      arrow::ArrayVector{values->Slice(0, 10), values->Slice(10, 0), values->Slice(10, 2990)});
  ExpectSameAsArrow(chunked, "ba", false);
  ExpectSameAsArrow(RandomStrings(arrow::utf8(), 0, 1), "a", false);
}

TEST(MatchSubstringKernel, HitsThatStraddleValuesAreNotMatches) {
  ASSERT_OK_AND_ASSIGN(auto values,
                       arrow::json::ArrayFromJSONString(
                           arrow::utf8(), R"(["xxab", "cdyy", null, "", "abcd", "a", "bcd"])"));
  const auto actual = Match(values, "abcd", false, compute::EngineFunctionRegistry());
  ASSERT_OK_AND_ASSIGN(auto expected,
                       arrow::json::ArrayFromJSONString(
                           arrow::boolean(), "[false, false, null, false, true, false, false]"));
  EXPECT_TRUE(actual.make_array()->Equals(*expected)) << actual.make_array()->ToString();
}

/// Random int64 values in [0, range), a tenth of them null when `nulls`.
std::shared_ptr<arrow::Array> RandomInts(int64_t rows, int64_t range, bool nulls, uint32_t seed) {
  std::mt19937 random(seed);
  std::uniform_int_distribution<int64_t> value(0, range - 1);
  std::bernoulli_distribution null(nulls ? 0.1 : 0.0);
  arrow::Int64Builder builder;
  for (int64_t i = 0; i < rows; ++i) {
    if (null(random)) {
      EXPECT_OK(builder.AppendNull());
    } else {
      EXPECT_OK(builder.Append(value(random)));
    }
  }
  return builder.Finish().ValueOrDie();
}

std::shared_ptr<arrow::Array> CastTo(const std::shared_ptr<arrow::Array>& values,
                                     const std::shared_ptr<arrow::DataType>& type) {
  return cp::Cast(*values, type).ValueOrDie();
}

/// A batch with a column of every kind GatherRows handles: copied directly (numbers,
/// booleans, dates, timestamps, decimals, strings of both offset widths) and through Take (lists,
/// dictionaries).
std::shared_ptr<arrow::RecordBatch> EveryKindBatch(int64_t rows, bool nulls, uint32_t seed) {
  auto ints = RandomInts(rows, 1000, nulls, seed);
  auto small = CastTo(RandomInts(rows, 100, nulls, seed + 1), arrow::int32());
  auto booleans = cp::CallFunction("greater", {ints, arrow::Datum(int64_t{500})}).ValueOrDie();
  // Offsets 0, 1, 2, ...: each list holds one value.
  arrow::Int32Builder offsets;
  for (int64_t i = 0; i <= rows; ++i) EXPECT_OK(offsets.Append(static_cast<int32_t>(i)));
  auto lists = arrow::ListArray::FromArrays(*offsets.Finish().ValueOrDie(), *small).ValueOrDie();
  auto strings = RandomStrings(arrow::utf8(), rows, seed + 3);
  auto dictionary = cp::DictionaryEncode(strings).ValueOrDie().make_array();
  auto schema = arrow::schema({
      arrow::field("i64", arrow::int64()),
      arrow::field("i32", arrow::int32()),
      arrow::field("f64", arrow::float64()),
      arrow::field("b", arrow::boolean()),
      arrow::field("d", arrow::date32()),
      arrow::field("ts", arrow::timestamp(arrow::TimeUnit::MICRO)),
      arrow::field("dec", arrow::decimal128(12, 2)),
      arrow::field("s", arrow::utf8()),
      arrow::field("ls", arrow::large_binary()),
      arrow::field("list", arrow::list(arrow::int32())),
      arrow::field("dict", dictionary->type()),
  });
  return arrow::RecordBatch::Make(
      schema, rows,
      {ints, small, CastTo(ints, arrow::float64()), booleans.make_array(),
       CastTo(small, arrow::date32()), CastTo(ints, arrow::timestamp(arrow::TimeUnit::MICRO)),
       CastTo(small, arrow::decimal128(12, 2)), strings,
       CastTo(RandomStrings(arrow::utf8(), rows, seed + 4), arrow::large_binary()), lists,
       dictionary});
}

/// The batch with dictionary columns decoded: sources' dictionaries differ, so equal rows
/// can carry different dictionaries.
std::shared_ptr<arrow::RecordBatch> Decoded(const std::shared_ptr<arrow::RecordBatch>& batch) {
  arrow::ArrayVector columns;
  arrow::FieldVector fields;
  for (int c = 0; c < batch->num_columns(); ++c) {
    auto column = batch->column(c);
    if (column->type_id() == arrow::Type::DICTIONARY) {
      column = CastTo(column, arrow::utf8());
    }
    fields.push_back(arrow::field(batch->schema()->field(c)->name(), column->type()));
    columns.push_back(column);
  }
  return arrow::RecordBatch::Make(arrow::schema(fields), batch->num_rows(), columns);
}

TEST(PythonModuloKernel, GivesPythonsRemainderForArraysScalarsAndNulls) {
  cp::ExecContext context(arrow::default_memory_pool(), nullptr, compute::EngineFunctionRegistry());
  // Expected values are what CPython prints for float(a) % float(b).
  ASSERT_OK_AND_ASSIGN(auto dividends, arrow::json::ArrayFromJSONString(
                                           arrow::float64(),
                                           "[7, -7, 7, -7, 6, -0.0, 5.5, -5, 5, 1, null, 3]"));
  ASSERT_OK_AND_ASSIGN(auto divisors, arrow::json::ArrayFromJSONString(
                                          arrow::float64(),
                                          "[3, 3, -3, -3, -3, 5, 2, Inf, Inf, 0, 2, null]"));
  ASSERT_OK_AND_ASSIGN(auto result, cp::CallFunction(compute::kPythonModuloFunction,
                                                     {dividends, divisors}, &context));
  const auto array = std::static_pointer_cast<arrow::DoubleArray>(result.make_array());
  const arrow::DoubleArray& values = *array;
  const std::vector<double> expected = {1, 2, -2, -1, -0.0, 0.0, 1.5, INFINITY, 5};
  ASSERT_EQ(values.length(), 12);
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(values.Value(i), expected[i]) << "row " << i;
    EXPECT_EQ(std::signbit(values.Value(i)), std::signbit(expected[i])) << "row " << i;
  }
  EXPECT_TRUE(std::isnan(values.Value(9)));  // x % 0 is NaN, as in pandas
  EXPECT_TRUE(values.IsNull(10) && values.IsNull(11));

  // A scalar on either side stands for every row.
  ASSERT_OK_AND_ASSIGN(auto by_scalar, cp::CallFunction(compute::kPythonModuloFunction,
                                                        {dividends->Slice(0, 2), arrow::Datum(-4.0)},
                                                        &context));
  ASSERT_OK_AND_ASSIGN(auto expected_by_scalar,
                       arrow::json::ArrayFromJSONString(arrow::float64(), "[-1, -3]"));
  EXPECT_TRUE(by_scalar.make_array()->Equals(*expected_by_scalar)) << by_scalar.ToString();
  ASSERT_OK_AND_ASSIGN(auto of_scalar, cp::CallFunction(compute::kPythonModuloFunction,
                                                        {arrow::Datum(10.0), divisors->Slice(0, 3)},
                                                        &context));
  ASSERT_OK_AND_ASSIGN(auto expected_of_scalar,
                       arrow::json::ArrayFromJSONString(arrow::float64(), "[1, 1, -2]"));
  EXPECT_TRUE(of_scalar.make_array()->Equals(*expected_of_scalar)) << of_scalar.ToString();
  // Only Sluice's registry has it: pyarrow in the same process sees Arrow's untouched.
  EXPECT_FALSE(cp::GetFunctionRegistry()->GetFunction(compute::kPythonModuloFunction).ok());
}

TEST(GatherRows, MatchesTakeOverTheConcatenatedSources) {
  // Sources with and without nulls, sliced (non-zero offsets) and whole.
  std::vector<std::shared_ptr<arrow::RecordBatch>> sources = {
      EveryKindBatch(500, true, 1), EveryKindBatch(300, false, 2)->Slice(17, 200),
      EveryKindBatch(1000, true, 3)->Slice(333), EveryKindBatch(1, false, 4)};
  ASSERT_OK_AND_ASSIGN(auto all, arrow::Table::FromRecordBatches(sources));
  ASSERT_OK_AND_ASSIGN(auto combined, all->CombineChunksToBatch());
  std::vector<int64_t> starts = {0};
  for (const auto& source : sources) starts.push_back(starts.back() + source->num_rows());

  std::mt19937 random(5);
  for (const int64_t n : {1, 7, 2000}) {
    std::vector<uint32_t> source_of(n);
    std::vector<uint32_t> rows(n);
    arrow::UInt64Builder global;
    for (int64_t i = 0; i < n; ++i) {
      source_of[i] = std::uniform_int_distribution<uint32_t>(0, sources.size() - 1)(random);
      rows[i] =
          std::uniform_int_distribution<uint32_t>(0, sources[source_of[i]]->num_rows() - 1)(random);
      EXPECT_OK(global.Append(starts[source_of[i]] + rows[i]));
    }
    ASSERT_OK_AND_ASSIGN(auto indices, global.Finish());
    ASSERT_OK_AND_ASSIGN(auto expected, cp::Take(combined, indices));
    ASSERT_OK_AND_ASSIGN(auto actual,
                         compute::GatherRows(sources[0]->schema(), sources, source_of.data(),
                                             rows.data(), n, cp::default_exec_context()));
    ASSERT_OK(actual->ValidateFull());
    EXPECT_TRUE(Decoded(actual)->Equals(*Decoded(expected.record_batch()))) << "n=" << n;
  }
  // Consecutive rows of one source come back as a slice of it.
  std::vector<uint32_t> source_of(50, 2);
  std::vector<uint32_t> rows(50);
  for (uint32_t i = 0; i < 50; ++i) rows[i] = 100 + i;
  ASSERT_OK_AND_ASSIGN(
      auto run, compute::GatherRows(sources[0]->schema(), sources, source_of.data(), rows.data(),
                                    50, cp::default_exec_context()));
  EXPECT_TRUE(run->Equals(*sources[2]->Slice(100, 50)));
  EXPECT_EQ(run->column_data(7)->buffers[2], sources[2]->column_data(7)->buffers[2]);
}

std::shared_ptr<arrow::UInt64Array> ArrowSortIndices(
    const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches,
    const std::vector<SortKey>& keys) {
  auto table = arrow::Table::FromRecordBatches(batches).ValueOrDie();
  return std::static_pointer_cast<arrow::UInt64Array>(
      cp::SortIndices(arrow::Datum(table), compute::ArrowSortOptions(keys)).ValueOrDie());
}

TEST(SortIndicesInParallel, GivesArrowsStableOrderForAnyNumberOfParts) {
  // Enough rows for five parts of the minimum size; few distinct keys, so ties (and the
  // stability of the merge) are everywhere; NaN and nulls in the doubles.
  std::vector<std::shared_ptr<arrow::RecordBatch>> batches;
  for (uint32_t b = 0; b < 170; ++b) {
    const int64_t rows = 1000 + 997 * (b % 5);
    auto k = RandomInts(rows, 50, true, 100 + b);
    auto f = CastTo(RandomInts(rows, 20, true, 500 + b), arrow::float64());
    f = cp::CallFunction("if_else",
                         {cp::CallFunction("equal", {k, arrow::Datum(int64_t{7})}).ValueOrDie(),
                          arrow::Datum(std::nan("")), f})
            .ValueOrDie()
            .make_array();
    auto s = RandomStrings(arrow::utf8(), rows, 900 + b);
    batches.push_back(arrow::RecordBatch::Make(
        arrow::schema({arrow::field("k", arrow::int64()), arrow::field("f", arrow::float64()),
                       arrow::field("s", arrow::utf8())}),
        rows, {k, f, s}));
  }
  const auto schema = batches[0]->schema();
  const std::vector<std::vector<SortKey>> orders = {
      {{"k", false, false}},
      {{"k", true, true}, {"s", false, false}},
      {{"s", true, false}, {"f", false, true}},
      {{"f", true, false}},
  };
  for (const auto& keys : orders) {
    const auto expected = ArrowSortIndices(batches, keys);
    for (const int threads : {1, 2, 3, 5}) {
      SCOPED_TRACE("threads=" + std::to_string(threads) + " first key " + keys[0].column);
      ASSERT_OK_AND_ASSIGN(auto actual,
                           compute::SortIndicesInParallel(batches, schema, keys, threads,
                                                          cp::default_exec_context()));
      EXPECT_TRUE(actual->Equals(*expected));
    }
  }
  // Few rows: one part, and a single batch goes straight to Arrow.
  const std::vector<std::shared_ptr<arrow::RecordBatch>> one = {batches[0]};
  ASSERT_OK_AND_ASSIGN(auto small, compute::SortIndicesInParallel(one, schema, orders[1], 4,
                                                                  cp::default_exec_context()));
  EXPECT_TRUE(small->Equals(*ArrowSortIndices(one, orders[1])));
}

}  // namespace
}  // namespace sluice
