// Sluice's replacement kernels (cpp/src/compute) must give exactly what Arrow's kernels of
// the same name give; Arrow's registry is the reference.

#include <arrow/array/builder_binary.h>
#include <arrow/compute/api.h>
#include <arrow/json/from_string.h>

#include <random>
#include <string>

#include "compute/engine_functions.h"
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

}  // namespace
}  // namespace sluice
