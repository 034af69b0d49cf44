// Tests of the file sink (connectors/files/file_sink.h, run by exec::RunWrite under a WriteNode): every
// format written from in-memory plans and read back with
// Arrow's own readers (not Sluice's), partitioning, rollover, compression, write modes and
// the staging/commit protocol, plus exact output of the JSON lines encoder.

#include "connectors/files/file_sink.h"

#include <arrow/compute/api.h>
#include <arrow/csv/api.h>
#include <arrow/io/api.h>
#include <arrow/json/api.h>
#include <arrow/json/from_string.h>
#include <arrow/util/compression.h>
#include <parquet/arrow/reader.h>
#include <parquet/file_reader.h>
#include <parquet/metadata.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "core/batch_stream.h"
#include "physical/write_execution.h"
#include "table/commit_lock.h"
#include "formats/json/json_lines_encoder.h"
#include "connectors/memory/memory_sources.h"
#include "formats/file_sources.h"
#include "operators/write_operator.h"
#include "plan/logical_plan.h"
#include "sluice/config.h"
#include "sluice/expression.h"
#include "test_data.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;
using testing::TableFromJson;

plan::PlanNodePtr Source(std::shared_ptr<arrow::Table> table) {
  return plan::SourceNode::Make(io::MakeTableSource(std::move(table)).ValueOrDie()).ValueOrDie();
}

/// Visible files below `dir`, relative and sorted; hidden names ('_', '.') are skipped at
/// every level, as readers do.
std::vector<std::string> DataFiles(const fs::path& dir) {
  std::vector<std::string> files;
  if (!fs::exists(dir)) return files;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
       ++it) {
    const std::string name = it->path().filename().string();
    if (name[0] == '_' || name[0] == '.') {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file()) files.push_back(fs::relative(it->path(), dir).string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

/// Every entry below `dir` (hidden ones included) with file sizes, to prove a directory
/// was left exactly as it was.
std::map<std::string, int64_t> Snapshot(const fs::path& dir) {
  std::map<std::string, int64_t> entries;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    entries[fs::relative(entry.path(), dir).string()] =
        entry.is_regular_file() ? static_cast<int64_t>(entry.file_size()) : -1;
  }
  return entries;
}

bool HasStagingLeftovers(const fs::path& dir) {
  if (!fs::exists(dir)) return false;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("_sluice_", 0) == 0 && name != io::kLocalLockFileName) return true;
  }
  return false;
}

std::string ReadRaw(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// An input stream over a file, decompressed according to its suffix.
std::shared_ptr<arrow::io::InputStream> OpenInput(const fs::path& path) {
  auto file = arrow::io::ReadableFile::Open(path.string()).ValueOrDie();
  const std::string name = path.filename().string();
  auto codec_for = [&]() -> std::optional<arrow::Compression::type> {
    if (name.ends_with(".gz")) return arrow::Compression::GZIP;
    if (name.ends_with(".zst")) return arrow::Compression::ZSTD;
    if (name.ends_with(".bz2")) return arrow::Compression::BZ2;
    return std::nullopt;
  }();
  if (!codec_for) return file;
  // The stream does not own the codec; keep it alive with the stream.
  static std::vector<std::unique_ptr<arrow::util::Codec>> codecs;
  codecs.push_back(arrow::util::Codec::Create(*codec_for).ValueOrDie());
  return arrow::io::CompressedInputStream::Make(codecs.back().get(), file).ValueOrDie();
}

std::string ReadText(const fs::path& path) {
  auto input = OpenInput(path);
  std::string text;
  while (true) {
    auto chunk = input->Read(1 << 16).ValueOrDie();
    if (chunk->size() == 0) break;
    text.append(reinterpret_cast<const char*>(chunk->data()), chunk->size());
  }
  return text;
}

std::shared_ptr<arrow::Table> ReadParquetFile(const fs::path& path) {
  auto input = arrow::io::ReadableFile::Open(path.string()).ValueOrDie();
  auto reader = parquet::arrow::OpenFile(input, arrow::default_memory_pool()).ValueOrDie();
  auto table = reader->ReadTable();
  EXPECT_TRUE(table.ok()) << path << ": " << table.status().ToString();
  return *table;
}

std::shared_ptr<arrow::Table> ReadCsvFile(const fs::path& path,
                                          const std::shared_ptr<arrow::Schema>& schema,
                                          char delimiter = ',', bool header = true) {
  auto read_options = arrow::csv::ReadOptions::Defaults();
  if (!header) {
    for (const auto& field : schema->fields()) read_options.column_names.push_back(field->name());
  }
  auto parse_options = arrow::csv::ParseOptions::Defaults();
  parse_options.delimiter = delimiter;
  parse_options.newlines_in_values = true;
  auto convert_options = arrow::csv::ConvertOptions::Defaults();
  for (const auto& field : schema->fields()) {
    convert_options.column_types[field->name()] = field->type();
  }
  convert_options.strings_can_be_null = true;
  auto reader = arrow::csv::TableReader::Make(arrow::io::default_io_context(), OpenInput(path),
                                              read_options, parse_options, convert_options)
                    .ValueOrDie();
  auto table = reader->Read();
  EXPECT_TRUE(table.ok()) << path << ": " << table.status().ToString();
  return *table;
}

std::shared_ptr<arrow::Table> ReadJsonFile(const fs::path& path,
                                           const std::shared_ptr<arrow::Schema>& schema) {
  auto parse_options = arrow::json::ParseOptions::Defaults();
  parse_options.explicit_schema = schema;
  parse_options.unexpected_field_behavior = arrow::json::UnexpectedFieldBehavior::Error;
  const std::string text = ReadText(path);
  auto input = std::make_shared<arrow::io::BufferReader>(arrow::Buffer::FromString(text));
  auto reader = arrow::json::TableReader::Make(arrow::default_memory_pool(), input,
                                               arrow::json::ReadOptions::Defaults(), parse_options)
                    .ValueOrDie();
  auto table = reader->Read();
  EXPECT_TRUE(table.ok()) << path << ": " << table.status().ToString();
  return *table;
}

/// Reads every data file of `dir` in name order and concatenates them.
std::shared_ptr<arrow::Table> ReadAll(
    const fs::path& dir,
    const std::function<std::shared_ptr<arrow::Table>(const fs::path&)>& read_file) {
  std::vector<std::shared_ptr<arrow::Table>> tables;
  for (const auto& file : DataFiles(dir)) tables.push_back(read_file(dir / file));
  EXPECT_FALSE(tables.empty()) << "no files in " << dir;
  if (tables.empty()) return nullptr;
  return arrow::ConcatenateTables(tables).ValueOrDie()->CombineChunks().ValueOrDie();
}

/// Rows 0..n-1: id, a category with awkward characters, a market, a value and a note.
std::shared_ptr<arrow::Table> SalesTable(int64_t n, int categories = 4, int markets = 3,
                                         bool shuffle = false) {
  std::vector<int64_t> order(n);
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  if (shuffle) std::shuffle(order.begin(), order.end(), std::mt19937(42));
  arrow::Int64Builder ids, market_builder;
  arrow::StringBuilder category_builder;
  arrow::DoubleBuilder values;
  for (int64_t i : order) {
    EXPECT_TRUE(ids.Append(i).ok());
    const int category = static_cast<int>(i % categories);
    if (category == 0) {
      EXPECT_TRUE(category_builder.AppendNull().ok());
    } else if (category == 1) {
      EXPECT_TRUE(category_builder.Append("a/b c").ok());
    } else {
      EXPECT_TRUE(category_builder.Append("cat" + std::to_string(category)).ok());
    }
    EXPECT_TRUE(market_builder.Append((i / categories) % markets).ok());
    EXPECT_TRUE(values.Append(i * 0.5).ok());
  }
  auto schema = arrow::schema(
      {arrow::field("id", arrow::int64()), arrow::field("category", arrow::utf8()),
       arrow::field("market", arrow::int64()), arrow::field("value", arrow::float64())});
  return arrow::Table::Make(schema,
                            {ids.Finish().ValueOrDie(), category_builder.Finish().ValueOrDie(),
                             market_builder.Finish().ValueOrDie(), values.Finish().ValueOrDie()});
}

/// Every type the Parquet round trip covers, with nulls in every column.
std::shared_ptr<arrow::Table> ManyTypesTable(int64_t repeats) {
  auto schema = arrow::schema({
      arrow::field("i8", arrow::int8()),
      arrow::field("i16", arrow::int16()),
      arrow::field("i32", arrow::int32()),
      arrow::field("i64", arrow::int64()),
      arrow::field("u8", arrow::uint8()),
      arrow::field("u32", arrow::uint32()),
      arrow::field("u64", arrow::uint64()),
      arrow::field("f32", arrow::float32()),
      arrow::field("f64", arrow::float64()),
      arrow::field("flag", arrow::boolean()),
      arrow::field("s", arrow::utf8()),
      arrow::field("ls", arrow::large_utf8()),
      arrow::field("bin", arrow::binary()),
      arrow::field("day", arrow::date32()),
      arrow::field("ts", arrow::timestamp(arrow::TimeUnit::MICRO, "UTC")),
      arrow::field("naive", arrow::timestamp(arrow::TimeUnit::MILLI)),
      arrow::field("dec", arrow::decimal128(10, 2)),
      arrow::field("ints", arrow::list(arrow::int32())),
      arrow::field("pair", arrow::struct_({arrow::field("x", arrow::int32()),
                                           arrow::field("y", arrow::utf8())})),
  });
  const std::string rows = R"([
    {"i8": -8, "i16": 300, "i32": -70000, "i64": 9007199254740993, "u8": 255, "u32": 4000000000,
     "u64": 18446744073709551615, "f32": 1.5, "f64": -2.25, "flag": true, "s": "héllo, \"world\"",
     "ls": "large", "bin": "bytes", "day": 19723, "ts": 1704067200123456, "naive": 1000,
     "dec": "123.45", "ints": [1, null, 3], "pair": {"x": 1, "y": "one"}},
    {"i8": null, "i16": null, "i32": null, "i64": null, "u8": null, "u32": null, "u64": null,
     "f32": null, "f64": null, "flag": null, "s": null, "ls": null, "bin": null, "day": null,
     "ts": null, "naive": null, "dec": null, "ints": null, "pair": null},
    {"i8": 0, "i16": -1, "i32": 2, "i64": -3, "u8": 4, "u32": 5, "u64": 6, "f32": -0.5,
     "f64": 1e300, "flag": false, "s": "line\nbreak", "ls": "", "bin": "", "day": -1,
     "ts": -1, "naive": -1, "dec": "-0.01", "ints": [], "pair": {"x": null, "y": null}}
  ])";
  auto one = TableFromJson(schema, rows);
  std::vector<std::shared_ptr<arrow::Table>> copies(repeats, one);
  return arrow::ConcatenateTables(copies).ValueOrDie()->CombineChunks().ValueOrDie();
}

class WritersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EngineConfig config;
    config.batch_rows = 100;  // many tasks, so ordering and parallel writers are exercised
    config.num_threads = 4;
    config.progress = false;
    ASSERT_OK(Configure(config));
  }

  /// Writes `plan` as `format` through a WriteNode over the file sink, as Dataset::Write.
  arrow::Result<WriteResult> Write(const plan::PlanNodePtr& plan, const fs::path& path,
                                   const std::string& format, const WriteOptions& options = {},
                                   std::shared_ptr<ExecutionStats> stats = nullptr) {
    ARROW_ASSIGN_OR_RAISE(auto sink, io::MakeFileSink(path.string(), format, options));
    ARROW_ASSIGN_OR_RAISE(auto write, plan::WriteNode::Make(plan, std::move(sink)));
    return exec::RunWrite(write, std::move(stats));
  }

  testing::TempDir temp_;
};

// ---- JSON lines encoder

TEST(JsonLinesEncoderTest, ScalarsStringsAndTimes) {
  auto schema = arrow::schema({
      arrow::field("i", arrow::int32()),
      arrow::field("f", arrow::float64()),
      arrow::field("s", arrow::utf8()),
      arrow::field("b", arrow::boolean()),
      arrow::field("d", arrow::date32()),
      arrow::field("ts", arrow::timestamp(arrow::TimeUnit::MILLI, "UTC")),
      arrow::field("ny", arrow::timestamp(arrow::TimeUnit::SECOND, "America/New_York")),
      arrow::field("ist", arrow::timestamp(arrow::TimeUnit::SECOND, "+05:30")),
      arrow::field("naive", arrow::timestamp(arrow::TimeUnit::MICRO)),
      arrow::field("t", arrow::time32(arrow::TimeUnit::MILLI)),
      arrow::field("dur", arrow::duration(arrow::TimeUnit::SECOND)),
      arrow::field("dec", arrow::decimal128(7, 3)),
      arrow::field("bin", arrow::binary()),
      arrow::field("d64", arrow::date64()),
  });
  auto table = TableFromJson(schema, R"([
    {"i": 1, "f": 1.0, "s": "a\"b\\c\nd\te\u0001\u00e9\ud83d\ude00", "b": true, "d": 19723,
     "ts": 1704067200123, "ny": 1704067200, "ist": 0, "naive": 1, "t": 3723004, "dur": 5,
     "dec": "-1.500", "bin": "hi", "d64": 86400000},
    {"i": null, "f": NaN, "s": null, "b": null, "d": null, "ts": null, "ny": null, "ist": null,
     "naive": null, "t": null, "dur": null, "dec": null, "bin": null, "d64": null},
    {"i": -2147483648, "f": 0.1, "s": "", "b": false, "d": -719162, "ts": -1, "ny": 1720000000,
     "ist": -1, "naive": -1, "t": 0, "dur": -7, "dec": "0.005", "bin": "abc", "d64": -86400000},
    {"i": 0, "f": 1e300, "s": "/", "b": true, "d": 0, "ts": 0, "ny": 0, "ist": 0, "naive": 0,
     "t": 86399999, "dur": 0, "dec": "1234.000", "bin": "abcd", "d64": 0},
    {"i": 0, "f": -0.0, "s": "x", "b": true, "d": 0, "ts": 0, "ny": 0, "ist": 0, "naive": 0,
     "t": 0, "dur": 0, "dec": "-0.000", "bin": "", "d64": 0},
    {"i": 0, "f": Inf, "s": "x", "b": true, "d": 0, "ts": 0, "ny": 0, "ist": 0, "naive": 0,
     "t": 0, "dur": 0, "dec": "0.000", "bin": "", "d64": 0}
  ])");
  auto batch = table->CombineChunksToBatch().ValueOrDie();
  ASSERT_OK_AND_ASSIGN(std::string text, io::EncodeJsonLines(*batch));
  const std::string expected =
      R"({"i":1,"f":1.0,"s":"a\"b\\c\nd\te\u0001)"
      "\xc3\xa9\xf0\x9f\x98\x80"
      R"(","b":true,)"
      R"("d":"2024-01-01","ts":"2024-01-01T00:00:00.123Z","ny":"2023-12-31T19:00:00-05:00",)"
      R"("ist":"1970-01-01T05:30:00+05:30","naive":"1970-01-01T00:00:00.000001",)"
      R"("t":"01:02:03.004","dur":5,"dec":-1.500,"bin":"aGk=","d64":"1970-01-02"})"
      "\n"
      R"({"i":null,"f":null,"s":null,"b":null,"d":null,"ts":null,"ny":null,"ist":null,)"
      R"("naive":null,"t":null,"dur":null,"dec":null,"bin":null,"d64":null})"
      "\n"
      R"({"i":-2147483648,"f":0.1,"s":"","b":false,"d":"0001-01-01",)"
      R"("ts":"1969-12-31T23:59:59.999Z","ny":"2024-07-03T05:46:40-04:00",)"
      R"("ist":"1970-01-01T05:29:59+05:30","naive":"1969-12-31T23:59:59.999999",)"
      R"("t":"00:00:00.000","dur":-7,"dec":0.005,"bin":"YWJj","d64":"1969-12-31"})"
      "\n"
      R"({"i":0,"f":1e+300,"s":"/","b":true,"d":"1970-01-01","ts":"1970-01-01T00:00:00.000Z",)"
      R"("ny":"1969-12-31T19:00:00-05:00","ist":"1970-01-01T05:30:00+05:30",)"
      R"("naive":"1970-01-01T00:00:00.000000","t":"23:59:59.999","dur":0,"dec":1234.000,)"
      R"("bin":"YWJjZA==","d64":"1970-01-01"})"
      "\n"
      R"({"i":0,"f":-0.0,"s":"x","b":true,"d":"1970-01-01","ts":"1970-01-01T00:00:00.000Z",)"
      R"("ny":"1969-12-31T19:00:00-05:00","ist":"1970-01-01T05:30:00+05:30",)"
      R"("naive":"1970-01-01T00:00:00.000000","t":"00:00:00.000","dur":0,"dec":0.000,)"
      R"("bin":"","d64":"1970-01-01"})"
      "\n"
      R"({"i":0,"f":null,"s":"x","b":true,"d":"1970-01-01","ts":"1970-01-01T00:00:00.000Z",)"
      R"("ny":"1969-12-31T19:00:00-05:00","ist":"1970-01-01T05:30:00+05:30",)"
      R"("naive":"1970-01-01T00:00:00.000000","t":"00:00:00.000","dur":0,"dec":0.000,)"
      R"("bin":"","d64":"1970-01-01"})"
      "\n";
  EXPECT_EQ(text, expected);
}

TEST(JsonLinesEncoderTest, NestedDictionaryAndSlices) {
  auto schema = arrow::schema({
      arrow::field("l", arrow::list(arrow::int32())),
      arrow::field("st", arrow::struct_({arrow::field("x", arrow::int8()),
                                         arrow::field("y\"q", arrow::utf8())})),
      arrow::field("m", arrow::map(arrow::utf8(), arrow::int32())),
      arrow::field("mi", arrow::map(arrow::int32(), arrow::utf8())),
      arrow::field("fl", arrow::fixed_size_list(arrow::float32(), 2)),
      arrow::field("ls", arrow::large_list(arrow::struct_({arrow::field("k", arrow::utf8())}))),
  });
  auto table = TableFromJson(schema, R"([
    {"l": [0], "st": {"x": 0, "y\"q": "skip"}, "m": [], "mi": [], "fl": [0, 0], "ls": []},
    {"l": [1, null, 3], "st": {"x": 1, "y\"q": "z"}, "m": [["k", 1], ["q\"", null]],
     "mi": [[7, "seven"]], "fl": [0.5, 2], "ls": [{"k": "a"}, null, {"k": null}]},
    {"l": [], "st": {"x": null, "y\"q": null}, "m": [], "mi": null, "fl": null, "ls": null},
    {"l": null, "st": null, "m": null, "mi": [], "fl": [1, 1], "ls": []}
  ])");
  // A slice starting at row 1 exercises offsets in every nested array.
  auto batch = table->CombineChunksToBatch().ValueOrDie()->Slice(1);
  ASSERT_OK_AND_ASSIGN(std::string text, io::EncodeJsonLines(*batch));
  const std::string expected =
      R"({"l":[1,null,3],"st":{"x":1,"y\"q":"z"},"m":{"k":1,"q\"":null},"mi":{"7":"seven"},)"
      R"("fl":[0.5,2.0],"ls":[{"k":"a"},null,{"k":null}]})"
      "\n"
      R"({"l":[],"st":{"x":null,"y\"q":null},"m":{},"mi":null,"fl":null,"ls":null})"
      "\n"
      R"({"l":null,"st":null,"m":null,"mi":{},"fl":[1.0,1.0],"ls":[]})"
      "\n";
  EXPECT_EQ(text, expected);

  // Dictionaries are decoded; nulls in the indices stay null.
  auto plain =
      arrow::json::ArrayFromJSONString(arrow::utf8(), R"(["b", null, "a", "b"])").ValueOrDie();
  auto encoded = arrow::compute::DictionaryEncode(plain).ValueOrDie().make_array();
  auto dict_batch =
      arrow::RecordBatch::Make(arrow::schema({arrow::field("d", encoded->type())}), 4, {encoded});
  ASSERT_OK_AND_ASSIGN(std::string dict_text, io::EncodeJsonLines(*dict_batch));
  EXPECT_EQ(dict_text, "{\"d\":\"b\"}\n{\"d\":null}\n{\"d\":\"a\"}\n{\"d\":\"b\"}\n");
}

TEST(JsonLinesEncoderTest, DecimalsAndWideIntegers) {
  auto schema = arrow::schema({arrow::field("d", arrow::decimal128(38, 10)),
                               arrow::field("big", arrow::decimal256(40, 2)),
                               arrow::field("u", arrow::uint64())});
  auto table = TableFromJson(schema, R"([
    {"d": "-1234567890123456789012345678.0123456789", "big": "12.34", "u": 18446744073709551615},
    {"d": "0.0000000001", "big": "-0.05", "u": 0}
  ])");
  // A negative scale multiplies: unscaled 123 at scale -2 is 12300.
  arrow::Decimal128Builder negative_scale(arrow::decimal128(5, -2));
  ASSERT_OK(negative_scale.Append(arrow::Decimal128(123)));
  ASSERT_OK(negative_scale.Append(arrow::Decimal128(0)));
  auto batch = table->CombineChunksToBatch()
                   .ValueOrDie()
                   ->AddColumn(3, arrow::field("neg_scale", arrow::decimal128(5, -2)),
                               negative_scale.Finish().ValueOrDie())
                   .ValueOrDie();
  ASSERT_OK_AND_ASSIGN(std::string text, io::EncodeJsonLines(*batch));
  EXPECT_EQ(text,
            "{\"d\":-1234567890123456789012345678.0123456789,\"big\":12.34,"
            "\"u\":18446744073709551615,\"neg_scale\":12300}\n"
            "{\"d\":0.0000000001,\"big\":-0.05,\"u\":0,\"neg_scale\":0}\n");
}

TEST(JsonLinesEncoderTest, EmptyBatchAndUnsupportedType) {
  auto schema = arrow::schema({arrow::field("a", arrow::int64())});
  auto empty = arrow::RecordBatch::MakeEmpty(schema).ValueOrDie();
  ASSERT_OK_AND_ASSIGN(std::string text, io::EncodeJsonLines(*empty));
  EXPECT_EQ(text, "");
  // A batch whose types differ from the encoder's schema is refused, naming the column.
  ASSERT_OK_AND_ASSIGN(auto encoder, io::JsonLinesEncoder::Make(schema));
  auto wrong =
      arrow::RecordBatch::MakeEmpty(arrow::schema({arrow::field("a", arrow::utf8())})).ValueOrDie();
  std::string out;
  auto status = encoder->Encode(*wrong, &out);
  EXPECT_TRUE(status.IsTypeError()) << status.ToString();
  EXPECT_NE(status.message().find("'a'"), std::string::npos) << status.ToString();
}

TEST(JsonLinesEncoderTest, UnionsWriteTheSelectedValue) {
  for (auto mode : {arrow::UnionMode::SPARSE, arrow::UnionMode::DENSE}) {
    auto fields = {arrow::field("i", arrow::int32()), arrow::field("s", arrow::utf8())};
    auto type = mode == arrow::UnionMode::SPARSE ? arrow::sparse_union(fields, {0, 1})
                                                 : arrow::dense_union(fields, {0, 1});
    auto values =
        arrow::json::ArrayFromJSONString(type, R"([[0, 1], [1, "x"], [0, null], [1, "y"]])")
            .ValueOrDie()
            ->Slice(1);
    auto batch = arrow::RecordBatch::Make(arrow::schema({arrow::field("u", type)}), 3, {values});
    ASSERT_OK_AND_ASSIGN(std::string text, io::EncodeJsonLines(*batch));
    EXPECT_EQ(text, "{\"u\":\"x\"}\n{\"u\":null}\n{\"u\":\"y\"}\n") << type->ToString();
  }
}

TEST(HivePathTest, EscapesLikePyarrow) {
  EXPECT_EQ(io::EscapeHivePathSegment("plain-Value_1.2~"), "plain-Value_1.2~");
  EXPECT_EQ(io::EscapeHivePathSegment("a/b c"), "a%2Fb%20c");
  EXPECT_EQ(io::EscapeHivePathSegment("x=y%z"), "x%3Dy%25z");
  EXPECT_EQ(io::EscapeHivePathSegment("\xc3\xa9"), "%C3%A9");
  EXPECT_EQ(io::EscapeHivePathSegment("2024-01-01 00:00:00"), "2024-01-01%2000%3A00%3A00");
}

// ---- Round trips

TEST_F(WritersTest, ParquetRoundTripManyTypesKeepsOrder) {
  auto input = ManyTypesTable(400);  // 1200 rows, 12 tasks
  const fs::path out = temp_.path() / "out";
  auto stats = std::make_shared<ExecutionStats>();
  ASSERT_OK_AND_ASSIGN(auto result, Write(Source(input), out, "parquet", {}, stats));

  EXPECT_EQ(result.rows, input->num_rows());
  const auto files = DataFiles(out);
  ASSERT_EQ(files.size(), 12u);
  ASSERT_EQ(result.files.size(), files.size());
  int64_t bytes = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(result.files[i], (out / files[i]).string());
    EXPECT_TRUE(files[i].starts_with("part-" + std::string(i < 10 ? "0000" : "000") +
                                     std::to_string(i) + "-000-"))
        << files[i];
    EXPECT_TRUE(files[i].ends_with(".parquet")) << files[i];
    bytes += static_cast<int64_t>(fs::file_size(out / files[i]));
  }
  EXPECT_EQ(result.bytes, bytes);
  EXPECT_TRUE(fs::exists(out / "_SUCCESS"));
  EXPECT_FALSE(HasStagingLeftovers(out));

  auto actual = ReadAll(out, ReadParquetFile);
  ASSERT_TRUE(actual->Equals(*input)) << "expected:\n"
                                      << input->Slice(0, 3)->ToString() << "\nactual:\n"
                                      << actual->Slice(0, 3)->ToString();

  bool found_write_counters = false;
  for (const auto& op : stats->operators) {
    if (op.name.rfind("WriteParquet[", 0) == 0) {
      found_write_counters = true;
      EXPECT_EQ(op.rows_in, input->num_rows());
    }
  }
  EXPECT_TRUE(found_write_counters);
}

TEST_F(WritersTest, CsvRoundTripWithNullsAndQuoting) {
  auto schema =
      arrow::schema({arrow::field("id", arrow::int64()), arrow::field("x", arrow::float64()),
                     arrow::field("s", arrow::utf8()), arrow::field("flag", arrow::boolean()),
                     arrow::field("day", arrow::date32()),
                     arrow::field("ts", arrow::timestamp(arrow::TimeUnit::SECOND))});
  auto rows = TableFromJson(schema, R"([
    {"id": 1, "x": 0.1, "s": "comma, \"quote\"", "flag": true, "day": 19723, "ts": 1704067200},
    {"id": null, "x": null, "s": null, "flag": null, "day": null, "ts": null},
    {"id": -3, "x": 1e-300, "s": "line\nbreak", "flag": false, "day": -1, "ts": -1}
  ])");
  auto input =
      arrow::ConcatenateTables(std::vector<std::shared_ptr<arrow::Table>>(100, rows)).ValueOrDie();
  const fs::path out = temp_.path() / "csv";
  ASSERT_OK_AND_ASSIGN(auto result, Write(Source(input), out, "csv"));
  EXPECT_EQ(result.rows, 300);
  EXPECT_EQ(DataFiles(out).size(), 3u);
  auto actual = ReadAll(out, [&](const fs::path& p) { return ReadCsvFile(p, schema); });
  ASSERT_TRUE(actual->Equals(*input)) << actual->Slice(0, 3)->ToString();
}

TEST_F(WritersTest, CsvDelimiterAndNoHeader) {
  auto schema =
      arrow::schema({arrow::field("a", arrow::int64()), arrow::field("b", arrow::utf8())});
  auto input = TableFromJson(schema, R"([{"a": 1, "b": "x;y"}, {"a": 2, "b": "z"}])");
  const fs::path out = temp_.path() / "csv";
  WriteOptions options;
  options.delimiter = ';';
  options.header = false;
  ASSERT_OK_AND_ASSIGN(auto result, Write(Source(input), out, "csv", options));
  ASSERT_EQ(result.files.size(), 1u);
  EXPECT_EQ(ReadRaw(result.files[0]), "1;\"x;y\"\n2;\"z\"\n");
  auto actual = ReadCsvFile(result.files[0], schema, ';', /*header=*/false);
  ASSERT_TRUE(actual->Equals(*input)) << actual->ToString();
}

TEST_F(WritersTest, JsonRoundTripWithNestedValues) {
  auto schema = arrow::schema({
      arrow::field("id", arrow::int64()),
      arrow::field("x", arrow::float64()),
      arrow::field("s", arrow::utf8()),
      arrow::field("flag", arrow::boolean()),
      arrow::field("ts", arrow::timestamp(arrow::TimeUnit::SECOND)),
      arrow::field("utc", arrow::timestamp(arrow::TimeUnit::MILLI, "UTC")),
      arrow::field("ints", arrow::list(arrow::int64())),
      arrow::field("pair", arrow::struct_({arrow::field("k", arrow::utf8()),
                                           arrow::field("v", arrow::float64())})),
  });
  auto rows = TableFromJson(schema, R"([
    {"id": 1, "x": 2.0, "s": "tab\there \"q\" \u00fc \u0002", "flag": true, "ts": 1704067200,
     "utc": 1704067200123, "ints": [1, 2], "pair": {"k": "a", "v": 0.5}},
    {"id": null, "x": null, "s": null, "flag": null, "ts": null, "utc": null, "ints": null,
     "pair": null},
    {"id": -5, "x": -1e-7, "s": "", "flag": false, "ts": -86400, "utc": -1, "ints": [],
     "pair": {"k": null, "v": null}}
  ])");
  auto input =
      arrow::ConcatenateTables(std::vector<std::shared_ptr<arrow::Table>>(70, rows)).ValueOrDie();
  const fs::path out = temp_.path() / "json";
  ASSERT_OK_AND_ASSIGN(auto result, Write(Source(input), out, "json"));
  EXPECT_EQ(result.rows, 210);
  for (const auto& file : result.files) EXPECT_TRUE(file.ends_with(".json")) << file;
  auto actual = ReadAll(out, [&](const fs::path& p) { return ReadJsonFile(p, schema); });
  ASSERT_TRUE(actual->Equals(*input)) << actual->Slice(0, 3)->ToString();
}

// ---- Partitioning

TEST_F(WritersTest, PartitionedLayoutEscapesValuesAndDropsColumns) {
  auto input = SalesTable(240);
  const fs::path out = temp_.path() / "sales";
  WriteOptions options;
  options.partition_cols = {"category", "market"};
  ASSERT_OK_AND_ASSIGN(auto result, Write(Source(input), out, "parquet", options));
  EXPECT_EQ(result.rows, 240);

  std::set<std::string> dirs;
  for (const auto& file : DataFiles(out)) dirs.insert(fs::path(file).parent_path().string());
  std::set<std::string> expected_dirs;
  for (std::string category : {"category=__HIVE_DEFAULT_PARTITION__", "category=a%2Fb%20c",
                               "category=cat2", "category=cat3"}) {
    for (int market = 0; market < 3; ++market) {
      expected_dirs.insert(category + "/market=" + std::to_string(market));
    }
  }
  EXPECT_EQ(dirs, expected_dirs);

  // Each file holds only id and value, and only rows of its partition.
  auto file_schema =
      arrow::schema({arrow::field("id", arrow::int64()), arrow::field("value", arrow::float64())});
  int64_t rows = 0;
  for (const auto& file : DataFiles(out)) {
    auto table = ReadParquetFile(out / file);
    ASSERT_TRUE(table->schema()->Equals(*file_schema)) << table->schema()->ToString();
    auto ids = std::static_pointer_cast<arrow::Int64Array>(
        table->CombineChunks().ValueOrDie()->column(0)->chunk(0));
    const std::string dir = fs::path(file).parent_path().string();
    for (int64_t i = 0; i < ids->length(); ++i) {
      const int64_t id = ids->Value(i);
      const int category = static_cast<int>(id % 4);
      const std::string expected_category = category == 0   ? "__HIVE_DEFAULT_PARTITION__"
                                            : category == 1 ? "a%2Fb%20c"
                                                            : "cat" + std::to_string(category);
      ASSERT_EQ(dir, "category=" + expected_category + "/market=" + std::to_string((id / 4) % 3));
    }
    rows += table->num_rows();
  }
  EXPECT_EQ(rows, 240);
}

TEST_F(WritersTest, ManyPartitionsPerTask) {
  // 40 categories x 5 markets, shuffled, so every task spreads over ~200 partitions.
  EngineConfig config = CurrentConfig();
  config.batch_rows = 2000;
  ASSERT_OK(Configure(config));
  auto input = SalesTable(20000, 40, 5, /*shuffle=*/true);
  const fs::path out = temp_.path() / "many";
  WriteOptions options;
  options.partition_cols = {"category", "market"};
  ASSERT_OK_AND_ASSIGN(auto result, Write(Source(input), out, "json", options));
  EXPECT_EQ(result.rows, 20000);

  // Read every file back, restore the partition columns from the path and compare.
  auto file_schema =
      arrow::schema({arrow::field("id", arrow::int64()), arrow::field("value", arrow::float64())});
  std::set<std::string> dirs;
  std::vector<std::shared_ptr<arrow::Table>> tables;
  for (const auto& file : DataFiles(out)) {
    const fs::path dir = fs::path(file).parent_path();
    dirs.insert(dir.string());
    auto table = ReadJsonFile(out / file, file_schema);
    std::string category = dir.parent_path().filename().string().substr(strlen("category="));
    const int64_t market = std::stoll(dir.filename().string().substr(strlen("market=")));
    std::shared_ptr<arrow::Scalar> category_value =
        category == "__HIVE_DEFAULT_PARTITION__" ? arrow::MakeNullScalar(arrow::utf8())
        : category == "a%2Fb%20c"                ? arrow::MakeScalar("a/b c")
                                                 : arrow::MakeScalar(category);
    auto categories = arrow::MakeArrayFromScalar(*category_value, table->num_rows()).ValueOrDie();
    auto markets =
        arrow::MakeArrayFromScalar(arrow::Int64Scalar(market), table->num_rows()).ValueOrDie();
    auto combined = table->CombineChunks().ValueOrDie();
    tables.push_back(arrow::Table::Make(
        input->schema(), {combined->column(0), std::make_shared<arrow::ChunkedArray>(categories),
                          std::make_shared<arrow::ChunkedArray>(markets), combined->column(1)}));
  }
  EXPECT_EQ(dirs.size(), 200u);
  auto actual = arrow::ConcatenateTables(tables).ValueOrDie();
  ASSERT_TABLES_EQUAL_UNORDERED(input, actual);
}

TEST_F(WritersTest, UnorderedPartitionedWriteKeepsOneFilePerPartitionPerWorker) {
  // Ten scan tasks, each spread over all 12 partitions: files are kept open across tasks,
  // so each partition gets at most one file per worker instead of one per task.
  EngineConfig config = CurrentConfig();
  config.batch_rows = 2000;
  ASSERT_OK(Configure(config));
  auto input = SalesTable(20000, 4, 3, /*shuffle=*/true);
  const fs::path out = temp_.path() / "lanes";
  WriteOptions options;
  options.partition_cols = {"category", "market"};
  ASSERT_OK_AND_ASSIGN(auto result, Write(Source(input), out, "parquet", options));
  EXPECT_EQ(result.rows, 20000);
  std::map<std::string, int> files_per_dir;
  int64_t rows = 0;
  for (const auto& file : DataFiles(out)) {
    ++files_per_dir[fs::path(file).parent_path().string()];
    rows += ReadParquetFile(out / file)->num_rows();
  }
  EXPECT_EQ(rows, 20000);
  EXPECT_EQ(files_per_dir.size(), 12u);
  for (const auto& [dir, files] : files_per_dir) {
    EXPECT_LE(files, CurrentConfig().num_threads) << dir;
  }
}

TEST_F(WritersTest, SortedPartitionedWriteKeepsOrderWithinEachPartition) {
  auto input = SalesTable(30000, 4, 3, /*shuffle=*/true);
  auto sorted = plan::SortNode::Make(Source(input), {{"id", false, false}}).ValueOrDie();
  const fs::path out = temp_.path() / "sorted-partitions";
  WriteOptions options;
  options.partition_cols = {"market"};
  options.max_rows_per_file = 1500;
  ASSERT_OK_AND_ASSIGN(auto result, Write(sorted, out, "parquet", options));
  EXPECT_EQ(result.rows, 30000);
  std::map<std::string, int64_t> last_id;  // DataFiles lists files in name order
  int64_t rows = 0;
  for (const auto& file : DataFiles(out)) {
    const std::string dir = fs::path(file).parent_path().string();
    auto ids = ReadParquetFile(out / file)->GetColumnByName("id");
    for (const auto& chunk : ids->chunks()) {
      const auto& values = static_cast<const arrow::Int64Array&>(*chunk);
      for (int64_t i = 0; i < values.length(); ++i, ++rows) {
        auto [it, first] = last_id.emplace(dir, values.Value(i));
        if (!first) {
          ASSERT_GT(values.Value(i), it->second) << file << " row " << i;
          it->second = values.Value(i);
        }
      }
    }
  }
  EXPECT_EQ(rows, 30000);
  EXPECT_EQ(last_id.size(), 3u);
}

TEST_F(WritersTest, PartitionByComputedColumnOfUserFunction) {
  // A map_batches output has no schema until it runs; the layout comes from the first batch.
  BatchFunctionFactory factory = []() -> arrow::Result<BatchFunction> {
    return BatchFunction([](const std::shared_ptr<arrow::RecordBatch>& batch)
                             -> arrow::Result<std::shared_ptr<arrow::RecordBatch>> {
      ARROW_ASSIGN_OR_RAISE(
          auto parity, arrow::compute::CallFunction("bit_wise_and",
                                                    {batch->column(0), arrow::Datum(int64_t{1})}));
      return batch->AddColumn(1, "parity", parity.make_array());
    });
  };
  auto range = plan::SourceNode::Make(io::MakeRangeSource(1000).ValueOrDie()).ValueOrDie();
  auto map = plan::MapBatchesNode::Make(range, factory, MapBatchesOptions{}).ValueOrDie();
  ASSERT_EQ(map->schema(), nullptr);
  const fs::path out = temp_.path() / "parity";
  WriteOptions options;
  options.partition_cols = {"parity"};
  ASSERT_OK_AND_ASSIGN(auto result, Write(map, out, "csv", options));
  EXPECT_EQ(result.rows, 1000);
  std::set<std::string> dirs;
  for (const auto& file : DataFiles(out)) dirs.insert(fs::path(file).parent_path().string());
  EXPECT_EQ(dirs, (std::set<std::string>{"parity=0", "parity=1"}));
  EXPECT_EQ(ReadRaw(out / DataFiles(out)[0]).substr(0, 7), "\"id\"\n0\n");

  // A partition column the function does not produce is reported when the batch arrives.
  options.partition_cols = {"nope"};
  auto missing = Write(map, temp_.path() / "missing", "csv", options);
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.status().IsKeyError()) << missing.status().ToString();
  EXPECT_FALSE(fs::exists(temp_.path() / "missing"));
}

TEST_F(WritersTest, PartitionValuesOfOtherTypes) {
  auto schema =
      arrow::schema({arrow::field("name", arrow::utf8()), arrow::field("flag", arrow::boolean()),
                     arrow::field("day", arrow::date32()), arrow::field("v", arrow::int64())});
  auto input = TableFromJson(schema, R"([
    {"name": "b", "flag": true, "day": 19723, "v": 1},
    {"name": "a", "flag": false, "day": null, "v": 2},
    {"name": "b", "flag": true, "day": 19723, "v": 3}
  ])");
  // Dictionary-encode the name column: partition values are decoded.
  auto names = arrow::compute::DictionaryEncode(input->column(0)).ValueOrDie().chunked_array();
  auto dict_input = input->SetColumn(0, arrow::field("name", names->type()), names).ValueOrDie();
  const fs::path out = temp_.path() / "typed";
  WriteOptions options;
  options.partition_cols = {"name", "flag", "day"};
  ASSERT_OK_AND_ASSIGN(auto result, Write(Source(dict_input), out, "json", options));
  std::vector<std::string> dirs;
  for (const auto& file : DataFiles(out)) dirs.push_back(fs::path(file).parent_path().string());
  EXPECT_EQ(dirs, (std::vector<std::string>{"name=a/flag=false/day=__HIVE_DEFAULT_PARTITION__",
                                            "name=b/flag=true/day=2024-01-01"}));
  EXPECT_EQ(ReadText(out / DataFiles(out)[1]), "{\"v\":1}\n{\"v\":3}\n");
}

TEST_F(WritersTest, ManyPartitionsWithSmallMemoryBudgetKeepsEveryRow) {
  // A tiny budget makes each task flush partitions early; with 100 partitions the task
  // exceeds its open-file limit, closes the least recently written files and continues
  // those partitions in new files (file_seq 1, 2, ...).
  EngineConfig config = CurrentConfig();
  config.batch_rows = 1250;  // a range task is 16 batches: 20000 rows in one task
  config.memory_limit_bytes = 16 << 20;
  ASSERT_OK(Configure(config));
  BatchFunctionFactory factory = []() -> arrow::Result<BatchFunction> {
    return BatchFunction([](const std::shared_ptr<arrow::RecordBatch>& batch)
                             -> arrow::Result<std::shared_ptr<arrow::RecordBatch>> {
      const auto& ids = static_cast<const arrow::Int64Array&>(*batch->column(0));
      arrow::Int64Builder keys;
      arrow::StringBuilder payloads;
      for (int64_t i = 0; i < ids.length(); ++i) {
        ARROW_RETURN_NOT_OK(keys.Append(ids.Value(i) % 100));
        ARROW_RETURN_NOT_OK(
            payloads.Append(std::string(1000, static_cast<char>('a' + ids.Value(i) % 26))));
      }
      ARROW_ASSIGN_OR_RAISE(auto key_array, keys.Finish());
      ARROW_ASSIGN_OR_RAISE(auto payload_array, payloads.Finish());
      return arrow::RecordBatch::Make(
          arrow::schema({arrow::field("id", arrow::int64()), arrow::field("key", arrow::int64()),
                         arrow::field("payload", arrow::utf8())}),
          ids.length(), {batch->column(0), key_array, payload_array});
    });
  };
  auto range = plan::SourceNode::Make(io::MakeRangeSource(20000).ValueOrDie()).ValueOrDie();
  auto map = plan::MapBatchesNode::Make(range, factory, MapBatchesOptions{}).ValueOrDie();
  const fs::path out = temp_.path() / "budget";
  WriteOptions options;
  options.partition_cols = {"key"};
  ASSERT_OK_AND_ASSIGN(auto result, Write(map, out, "parquet", options));
  EXPECT_EQ(result.rows, 20000);
  const auto files = DataFiles(out);
  EXPECT_GT(files.size(), 100u);  // some partitions continued in a second file

  int64_t rows = 0;
  std::map<int64_t, int64_t> last_id_of_key;
  for (const auto& file : files) {
    const int64_t key = std::stoll(fs::path(file).parent_path().string().substr(strlen("key=")));
    auto table = ReadParquetFile(out / file)->CombineChunks().ValueOrDie();
    auto ids = std::static_pointer_cast<arrow::Int64Array>(table->column(0)->chunk(0));
    auto payloads = std::static_pointer_cast<arrow::StringArray>(table->column(1)->chunk(0));
    for (int64_t i = 0; i < ids->length(); ++i) {
      ASSERT_EQ(ids->Value(i) % 100, key);
      ASSERT_EQ(payloads->GetView(i).size(), 1000u);
      // Within a partition, files in name order hold ascending ids.
      auto [last, first_seen] = last_id_of_key.emplace(key, ids->Value(i));
      if (!first_seen) ASSERT_LT(last->second, ids->Value(i)) << file;
      last->second = ids->Value(i);
    }
    rows += table->num_rows();
  }
  EXPECT_EQ(rows, 20000);
}

TEST_F(WritersTest, MissingOrInvalidPartitionColumns) {
  auto input = SalesTable(10);
  const fs::path out = temp_.path() / "bad";
  WriteOptions options;
  options.partition_cols = {"region"};
  auto missing = Write(Source(input), out, "parquet", options);
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.status().IsKeyError());
  EXPECT_NE(missing.status().message().find("'region'"), std::string::npos);
  EXPECT_NE(missing.status().message().find("[id, category, market, value]"), std::string::npos)
      << missing.status().ToString();
  EXPECT_FALSE(fs::exists(out));

  options.partition_cols = {"id", "category", "market", "value"};
  auto all = Write(Source(input), out, "parquet", options);
  ASSERT_FALSE(all.ok());
  EXPECT_NE(all.status().message().find("at least one column"), std::string::npos);

  options.partition_cols = {"market", "market"};
  EXPECT_FALSE(Write(Source(input), out, "parquet", options).ok());
  EXPECT_FALSE(fs::exists(out));
}

// ---- Files, rollover, order

TEST_F(WritersTest, MaxRowsPerFileRollsOver) {
  EngineConfig config = CurrentConfig();
  config.batch_rows = 100000;  // one task
  ASSERT_OK(Configure(config));
  auto input = SalesTable(2500);
  const fs::path out = temp_.path() / "rolled";
  WriteOptions options;
  options.max_rows_per_file = 1000;
  ASSERT_OK_AND_ASSIGN(auto result, Write(Source(input), out, "parquet", options));
  const auto files = DataFiles(out);
  ASSERT_EQ(files.size(), 3u);
  std::vector<int64_t> rows;
  for (size_t i = 0; i < files.size(); ++i) {
    EXPECT_TRUE(files[i].starts_with("part-00000-00" + std::to_string(i) + "-")) << files[i];
    rows.push_back(ReadParquetFile(out / files[i])->num_rows());
  }
  EXPECT_EQ(rows, (std::vector<int64_t>{1000, 1000, 500}));
  ASSERT_TRUE(ReadAll(out, ReadParquetFile)->Equals(*input));

  options.max_rows_per_file = 0;
  EXPECT_FALSE(Write(Source(input), temp_.path() / "zero", "parquet", options).ok());
}

TEST_F(WritersTest, FileNamesSortInTaskOrderForSortedOutput) {
  // A sort's output tasks run in parallel and finish in any order; names must still sort
  // in task order so reading files by name gives sorted rows.
  auto input = SalesTable(30000, 4, 3, /*shuffle=*/true);
  auto sorted = plan::SortNode::Make(Source(input), {{"id", false, false}}).ValueOrDie();
  const fs::path out = temp_.path() / "sorted";
  WriteOptions options;
  options.max_rows_per_file = 700;
  ASSERT_OK_AND_ASSIGN(auto result, Write(sorted, out, "csv", options));
  EXPECT_GT(result.files.size(), 40u);
  auto actual = ReadAll(out, [&](const fs::path& p) { return ReadCsvFile(p, input->schema()); });
  ASSERT_EQ(actual->num_rows(), 30000);
  auto ids = std::static_pointer_cast<arrow::Int64Array>(actual->column(0)->chunk(0));
  for (int64_t i = 0; i < ids->length(); ++i) ASSERT_EQ(ids->Value(i), i) << "row " << i;
}

/// Ids 0..n-1 in tasks of `rows_per_task`; opening the first task takes a while, so
/// later tasks start (and open their files) before it.
class SlowFirstTaskSource : public plan::SourceSpec {
 public:
  SlowFirstTaskSource(int64_t n, int64_t rows_per_task) : n_(n), rows_per_task_(rows_per_task) {}
  std::string name() const override { return "SlowFirstTask"; }
  std::string Describe() const override { return std::to_string(n_); }
  std::shared_ptr<arrow::Schema> schema() const override {
    return arrow::schema({arrow::field("id", arrow::int64())});
  }
  arrow::Result<std::unique_ptr<exec::TaskSource>> MakeTaskSource(
      exec::ExecContext*, const plan::Pushdown&) const override {
    class Tasks : public exec::TaskSource {
     public:
      Tasks(int64_t n, int64_t rows_per_task) : n_(n), rows_per_task_(rows_per_task) {}
      arrow::Result<std::optional<exec::ScanTask>> NextTask() override {
        if (next_ >= n_) return std::nullopt;
        const int64_t start = next_;
        const int64_t count = std::min(rows_per_task_, n_ - start);
        next_ += count;
        exec::ScanTask task;
        task.label = "slow-first";
        task.open = [start, count]() -> arrow::Result<std::unique_ptr<exec::BatchStream>> {
          if (start == 0) std::this_thread::sleep_for(std::chrono::milliseconds(300));
          arrow::Int64Builder ids;
          for (int64_t i = start; i < start + count; ++i) ARROW_RETURN_NOT_OK(ids.Append(i));
          ARROW_ASSIGN_OR_RAISE(auto array, ids.Finish());
          auto batch = arrow::RecordBatch::Make(arrow::schema({arrow::field("id", arrow::int64())}),
                                                count, {array});
          return exec::MakeSingleBatchStream(std::move(batch));
        };
        return task;
      }

     private:
      int64_t n_;
      int64_t rows_per_task_;
      int64_t next_ = 0;
    };
    return std::make_unique<Tasks>(n_, rows_per_task_);
  }

 private:
  int64_t n_;
  int64_t rows_per_task_;
};

TEST_F(WritersTest, FileNamesFollowTaskOrderNotOpenOrder) {
  auto source =
      plan::SourceNode::Make(std::make_shared<SlowFirstTaskSource>(800, 100)).ValueOrDie();
  const fs::path out = temp_.path() / "ordered";
  ASSERT_OK_AND_ASSIGN(auto result, Write(source, out, "json"));
  ASSERT_EQ(result.files.size(), 8u);
  auto actual = ReadAll(out, [](const fs::path& p) {
    return ReadJsonFile(p, arrow::schema({arrow::field("id", arrow::int64())}));
  });
  auto ids = std::static_pointer_cast<arrow::Int64Array>(actual->column(0)->chunk(0));
  ASSERT_EQ(ids->length(), 800);
  for (int64_t i = 0; i < ids->length(); ++i) ASSERT_EQ(ids->Value(i), i) << "row " << i;
}

TEST_F(WritersTest, TasksWithoutRowsWriteNoFiles) {
  auto input = SalesTable(1000);
  // Only ids 0..149 pass: tasks 2..9 write nothing; the two files are numbered 0 and 1.
  auto filtered =
      plan::FilterNode::Make(Source(input), Less(Col("id"), Lit(arrow::Datum(int64_t{150}))))
          .ValueOrDie();
  const fs::path out = temp_.path() / "filtered";
  ASSERT_OK_AND_ASSIGN(auto result, Write(filtered, out, "parquet"));
  const auto files = DataFiles(out);
  ASSERT_EQ(files.size(), 2u);
  EXPECT_TRUE(files[0].starts_with("part-00000-")) << files[0];
  EXPECT_TRUE(files[1].starts_with("part-00001-")) << files[1];
  EXPECT_EQ(result.rows, 150);

  // A write without any rows publishes nothing but the marker.
  auto none = plan::FilterNode::Make(Source(input), Less(Col("id"), Lit(arrow::Datum(int64_t{0}))))
                  .ValueOrDie();
  ASSERT_OK_AND_ASSIGN(auto empty, Write(none, temp_.path() / "empty", "csv"));
  EXPECT_TRUE(empty.files.empty());
  EXPECT_EQ(empty.rows, 0);
  EXPECT_TRUE(fs::exists(temp_.path() / "empty" / "_SUCCESS"));
}

// ---- Compression

TEST_F(WritersTest, ParquetCompressionCodecs) {
  auto input = SalesTable(500);
  const std::map<std::string, parquet::Compression::type> codecs = {
      {"", parquet::Compression::SNAPPY},       {"snappy", parquet::Compression::SNAPPY},
      {"zstd", parquet::Compression::ZSTD},     {"gzip", parquet::Compression::GZIP},
      {"brotli", parquet::Compression::BROTLI}, {"none", parquet::Compression::UNCOMPRESSED},
      {"lz4", parquet::Compression::LZ4}};
  for (const auto& [name, codec] : codecs) {
    SCOPED_TRACE("compression '" + name + "'");
    const fs::path out = temp_.path() / ("c_" + name);
    WriteOptions options;
    options.compression = name;
    ASSERT_OK_AND_ASSIGN(auto result, Write(Source(input), out, "parquet", options));
    auto reader = parquet::ParquetFileReader::OpenFile(result.files[0]);
    // lz4 is written as Parquet's LZ4_RAW codec; Arrow maps both to its LZ4 variants.
    const auto written = reader->metadata()->RowGroup(0)->ColumnChunk(0)->compression();
    if (name == "lz4") {
      EXPECT_TRUE(written == parquet::Compression::LZ4 ||
                  written == parquet::Compression::LZ4_HADOOP)
          << static_cast<int>(written);
    } else {
      EXPECT_EQ(written, codec);
    }
    ASSERT_TRUE(ReadAll(out, ReadParquetFile)->Equals(*input));
  }

  WriteOptions bad;
  bad.compression = "lzma";
  auto result = Write(Source(input), temp_.path() / "bad", "parquet", bad);
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.status().IsInvalid());
  EXPECT_NE(result.status().message().find("snappy, zstd, gzip, lz4, brotli, none"),
            std::string::npos)
      << result.status().ToString();
  EXPECT_FALSE(fs::exists(temp_.path() / "bad"));
}

TEST_F(WritersTest, CsvAndJsonCompression) {
  auto input = SalesTable(300);
  for (const auto& [name, suffix] : std::vector<std::pair<std::string, std::string>>{
           {"gzip", ".gz"}, {"zstd", ".zst"}, {"bz2", ".bz2"}, {"none", ""}}) {
    SCOPED_TRACE("compression '" + name + "'");
    WriteOptions options;
    options.compression = name;
    const fs::path csv_out = temp_.path() / ("csv_" + name);
    ASSERT_OK_AND_ASSIGN(auto csv, Write(Source(input), csv_out, "csv", options));
    for (const auto& file : csv.files) EXPECT_TRUE(file.ends_with(".csv" + suffix)) << file;
    auto csv_back =
        ReadAll(csv_out, [&](const fs::path& p) { return ReadCsvFile(p, input->schema()); });
    ASSERT_TRUE(csv_back->Equals(*input));

    const fs::path json_out = temp_.path() / ("json_" + name);
    ASSERT_OK_AND_ASSIGN(auto json, Write(Source(input), json_out, "json", options));
    for (const auto& file : json.files) EXPECT_TRUE(file.ends_with(".json" + suffix)) << file;
    auto json_back =
        ReadAll(json_out, [&](const fs::path& p) { return ReadJsonFile(p, input->schema()); });
    ASSERT_TRUE(json_back->Equals(*input));
    if (!suffix.empty()) {
      // Really compressed: the raw bytes are not the text.
      EXPECT_NE(ReadRaw(json.files[0]).substr(0, 1), "{");
    }
  }
  WriteOptions bad;
  bad.compression = "snappy";
  auto result = Write(Source(input), temp_.path() / "bad", "csv", bad);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("none, gzip, zstd, bz2"), std::string::npos)
      << result.status().ToString();
}

// ---- Modes and the commit protocol

TEST_F(WritersTest, ModeErrorRefusesNonEmptyTargetAndLeavesItUntouched) {
  auto input = SalesTable(200);
  const fs::path out = temp_.path() / "target";
  testing::WriteFile((out / "existing.txt").string(), "keep me");
  const auto before = Snapshot(out);
  auto result = Write(Source(input), out, "parquet");
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.status().IsIOError());
  EXPECT_NE(result.status().message().find("already exists and is not empty"), std::string::npos)
      << result.status().ToString();
  EXPECT_NE(result.status().message().find("mode='overwrite'"), std::string::npos);
  EXPECT_EQ(Snapshot(out), before);

  // Hidden entries do not count: an empty directory or one with only markers is fine.
  const fs::path hidden_only = temp_.path() / "hidden_only";
  testing::WriteFile((hidden_only / "_SUCCESS").string(), "");
  testing::WriteFile((hidden_only / ".hidden").string(), "");
  ASSERT_OK(Write(Source(input), hidden_only, "parquet").status());
  EXPECT_EQ(DataFiles(hidden_only).size(), 2u);

  // A file where the directory should be is refused in every mode.
  testing::WriteFile((temp_.path() / "plain_file").string(), "x");
  WriteOptions overwrite;
  overwrite.mode = WriteMode::kOverwrite;
  EXPECT_FALSE(
      Write(Source(input), temp_.path() / "plain_file", "csv", overwrite).ok());
  EXPECT_EQ(ReadRaw(temp_.path() / "plain_file"), "x");
}

TEST_F(WritersTest, ModeAppendAddsFiles) {
  auto input = SalesTable(200);
  const fs::path out = temp_.path() / "appended";
  ASSERT_OK_AND_ASSIGN(auto first, Write(Source(input), out, "parquet"));
  WriteOptions options;
  options.mode = WriteMode::kAppend;
  ASSERT_OK_AND_ASSIGN(auto second, Write(Source(input), out, "parquet", options));
  const auto files = DataFiles(out);
  EXPECT_EQ(files.size(), first.files.size() + second.files.size());
  auto all = ReadAll(out, ReadParquetFile);
  auto doubled = arrow::ConcatenateTables({input, input}).ValueOrDie();
  ASSERT_TABLES_EQUAL_UNORDERED(doubled, all);
  EXPECT_FALSE(HasStagingLeftovers(out));
}

TEST_F(WritersTest, ModeOverwriteReplacesVisibleContents) {
  const fs::path out = temp_.path() / "replaced";
  WriteOptions partitioned;
  partitioned.partition_cols = {"market"};
  ASSERT_OK(Write(Source(SalesTable(300)), out, "parquet", partitioned).status());
  testing::WriteFile((out / "notes.txt").string(), "old");
  testing::WriteFile((out / ".keep").string(), "hidden");

  auto replacement = SalesTable(50);
  WriteOptions options;
  options.mode = WriteMode::kOverwrite;
  // notes.txt is not Sluice's: replacing it takes the explicit option.
  auto refused = Write(Source(replacement), out, "parquet", options);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("notes.txt"), std::string::npos)
      << refused.status().ToString();
  EXPECT_TRUE(fs::exists(out / "notes.txt"));
  options.replace_foreign_files = true;
  ASSERT_OK_AND_ASSIGN(auto result,
                       Write(Source(replacement), out, "parquet", options));
  const auto files = DataFiles(out);
  for (const auto& file : files) EXPECT_TRUE(file.starts_with("part-")) << file;
  EXPECT_EQ(files.size(), result.files.size());
  ASSERT_TRUE(ReadAll(out, ReadParquetFile)->Equals(*replacement));
  EXPECT_FALSE(fs::exists(out / "market=0"));
  EXPECT_TRUE(fs::exists(out / ".keep"));
  EXPECT_TRUE(fs::exists(out / "_SUCCESS"));
  EXPECT_FALSE(HasStagingLeftovers(out));
}

TEST_F(WritersTest, ModeOverwritePartitionsReplacesOnlyWrittenPartitions) {
  auto schema =
      arrow::schema({arrow::field("k", arrow::utf8()), arrow::field("v", arrow::int64())});
  const fs::path out = temp_.path() / "dynamic";
  WriteOptions options;
  options.partition_cols = {"k"};
  auto first =
      TableFromJson(schema, R"([{"k": "a", "v": 1}, {"k": "b", "v": 2}, {"k": "b", "v": 3}])");
  ASSERT_OK(Write(Source(first), out, "parquet", options).status());
  const auto a_files = DataFiles(out / "k=a");

  options.mode = WriteMode::kOverwritePartitions;
  auto second = TableFromJson(schema, R"([{"k": "b", "v": 20}, {"k": "c", "v": 30}])");
  ASSERT_OK(Write(Source(second), out, "parquet", options).status());

  EXPECT_EQ(DataFiles(out / "k=a"), a_files);  // untouched
  auto values_in = [&](const std::string& dir) {
    auto table = ReadAll(out / dir, ReadParquetFile);
    std::vector<int64_t> values;
    if (!table) return values;
    auto column = std::static_pointer_cast<arrow::Int64Array>(table->column(0)->chunk(0));
    for (int64_t i = 0; i < column->length(); ++i) values.push_back(column->Value(i));
    return values;
  };
  EXPECT_EQ(values_in("k=a"), std::vector<int64_t>{1});
  EXPECT_EQ(values_in("k=b"), std::vector<int64_t>{20});
  EXPECT_EQ(values_in("k=c"), std::vector<int64_t>{30});
  EXPECT_FALSE(HasStagingLeftovers(out));
}

/// A map_batches step whose function fails on its third call.
plan::PlanNodePtr FailOnThirdBatch(plan::PlanNodePtr input) {
  auto calls = std::make_shared<std::atomic<int>>(0);
  BatchFunctionFactory factory = [calls]() -> arrow::Result<BatchFunction> {
    return BatchFunction([calls](const std::shared_ptr<arrow::RecordBatch>& batch)
                             -> arrow::Result<std::shared_ptr<arrow::RecordBatch>> {
      if (calls->fetch_add(1) == 2) return arrow::Status::Invalid("third batch is bad");
      return batch;
    });
  };
  MapBatchesOptions options;
  options.name = "MapBatches(flaky)";
  return plan::MapBatchesNode::Make(std::move(input), factory, options).ValueOrDie();
}

TEST_F(WritersTest, FailingPipelineLeavesTargetAsItWas) {
  const fs::path out = temp_.path() / "precious";
  WriteOptions partitioned;
  partitioned.partition_cols = {"market"};
  ASSERT_OK(Write(Source(SalesTable(300)), out, "parquet", partitioned).status());
  const auto before = Snapshot(out);

  for (WriteMode mode :
       {WriteMode::kOverwrite, WriteMode::kAppend, WriteMode::kOverwritePartitions}) {
    SCOPED_TRACE(static_cast<int>(mode));
    WriteOptions options = partitioned;
    options.mode = mode;
    auto stats = std::make_shared<ExecutionStats>();
    auto result = Write(FailOnThirdBatch(Source(SalesTable(2000))), out, "parquet",
                        options, stats);
    ASSERT_FALSE(result.ok());
    EXPECT_NE(result.status().message().find("third batch is bad"), std::string::npos)
        << result.status().ToString();
    EXPECT_EQ(Snapshot(out), before);
    EXPECT_FALSE(stats->operators.empty());  // published on failure too
  }

  // A failed write to a new directory does not leave the directory behind.
  const fs::path fresh = temp_.path() / "new" / "nested";
  auto result = Write(FailOnThirdBatch(Source(SalesTable(2000))), fresh, "json");
  ASSERT_FALSE(result.ok());
  EXPECT_FALSE(fs::exists(temp_.path() / "new"));
}

TEST_F(WritersTest, CommitFailureRestoresReplacedFiles) {
  auto schema =
      arrow::schema({arrow::field("k", arrow::utf8()), arrow::field("v", arrow::int64())});
  const fs::path out = temp_.path() / "rollback";
  WriteOptions options;
  options.partition_cols = {"k"};
  ASSERT_OK(Write(Source(TableFromJson(schema, R"([{"k": "a", "v": 1}])")), out,
                  "parquet", options)
                .status());
  // A plain file where the commit needs the directory k=b: publishing k=a succeeds, then
  // k=b fails and everything is undone, including the replaced k=a file and _SUCCESS.
  testing::WriteFile((out / "k=b").string(), "in the way");
  const auto before = Snapshot(out);
  options.mode = WriteMode::kOverwritePartitions;
  auto result = Write(Source(TableFromJson(schema, R"([{"k": "a", "v": 2}, {"k": "b", "v": 3}])")),
                      out, "parquet", options);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("a file with that name exists"), std::string::npos)
      << result.status().ToString();
  EXPECT_EQ(Snapshot(out), before);
  auto kept = ReadAll(out / "k=a", ReadParquetFile);
  EXPECT_EQ(kept->column(0)->chunk(0)->ToString(),
            arrow::json::ArrayFromJSONString(arrow::int64(), "[1]").ValueOrDie()->ToString());
}

TEST_F(WritersTest, FormatErrorNamesTheFile) {
  // CSV cannot hold lists; the error says which file was being written.
  auto schema = arrow::schema({arrow::field("l", arrow::list(arrow::int64()))});
  auto input = TableFromJson(schema, R"([{"l": [1]}])");
  const fs::path out = temp_.path() / "lists";
  auto result = Write(Source(input), out, "csv");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("writing '"), std::string::npos)
      << result.status().ToString();
  EXPECT_NE(result.status().message().find(".csv'"), std::string::npos)
      << result.status().ToString();
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(WritersTest, RelativeTargetPath) {
  const fs::path previous = fs::current_path();
  fs::current_path(temp_.path());
  auto result = Write(Source(SalesTable(10)), "relative/out", "json");
  fs::current_path(previous);
  ASSERT_OK(result.status());
  ASSERT_EQ(result->files.size(), 1u);
  EXPECT_TRUE(result->files[0].starts_with("relative/out/part-00000-000-")) << result->files[0];
  EXPECT_TRUE(fs::exists(temp_.path() / result->files[0]));
}

}  // namespace
}  // namespace sluice
