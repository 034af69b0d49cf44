// Tests of the file sources (Parquet, CSV, JSON lines, text) and the file listing and
// decompression under them, over real files written into a temporary directory. Results
// are checked against Arrow itself: the tables that were written, or Arrow compute
// applied to them.

#include <arrow/compute/api.h>
#include <arrow/filesystem/localfs.h>
#include <arrow/io/compressed.h>
#include <arrow/io/file.h>
#include <arrow/io/memory.h>
#include <arrow/util/compression.h>
#include <parquet/arrow/reader.h>
#include <parquet/arrow/writer.h>
#include <parquet/file_reader.h>

#include <filesystem>
#include <fstream>

#include "physical/executor.h"
#include "storage/compression.h"
#include "table/file_listing.h"
#include "storage/screened_input_stream.h"
#include "formats/file_sources.h"
#include "plan/logical_plan.h"
#include "sluice/config.h"
#include "sluice/dataset.h"
#include "sluice/expression.h"
#include "test_data.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;
using testing::TableFromJson;
using testing::TempDir;
using testing::WriteFile;

using SourcePtr = std::shared_ptr<const plan::SourceSpec>;

// ---- helpers ------------------------------------------------------------------------

arrow::Result<std::shared_ptr<arrow::Table>> TryRead(const SourcePtr& source,
                                                     plan::Pushdown pushdown = {}) {
  ARROW_ASSIGN_OR_RAISE(auto node, plan::SourceNode::Make(source, std::move(pushdown)));
  ARROW_ASSIGN_OR_RAISE(auto reader, exec::PlanReader::Open(node));
  return reader->ToTable();
}

std::shared_ptr<arrow::Table> Read(const SourcePtr& source, plan::Pushdown pushdown = {}) {
  auto table = TryRead(source, std::move(pushdown));
  EXPECT_TRUE(table.ok()) << table.status().ToString();
  if (!table.ok()) return nullptr;
  return (*table)->CombineChunks().ValueOrDie();
}

/// The error a read fails with; an OK status if it unexpectedly succeeds.
arrow::Status ReadError(const SourcePtr& source, plan::Pushdown pushdown = {}) {
  return TryRead(source, std::move(pushdown)).status();
}

/// Every batch of a read, to check batch sizes.
std::vector<std::shared_ptr<arrow::RecordBatch>> ReadBatches(const SourcePtr& source,
                                                             plan::Pushdown pushdown = {}) {
  auto reader = exec::PlanReader::Open(plan::SourceNode::Make(source, pushdown).ValueOrDie());
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  std::vector<std::shared_ptr<arrow::RecordBatch>> batches;
  if (!reader.ok()) return batches;
  while (true) {
    std::shared_ptr<arrow::RecordBatch> batch;
    auto status = (*reader)->ReadNext(&batch);
    EXPECT_TRUE(status.ok()) << status.ToString();
    if (!status.ok() || !batch) break;
    batches.push_back(batch);
  }
  return batches;
}

#define EXPECT_ERROR_MENTIONS(status, text)                                      \
  do {                                                                           \
    const arrow::Status& _st = (status);                                         \
    EXPECT_FALSE(_st.ok()) << "expected an error mentioning '" << (text) << "'"; \
    EXPECT_NE(_st.message().find(text), std::string::npos)                       \
        << "error does not mention '" << (text) << "': " << _st.ToString();      \
  } while (0)

void WriteParquet(const std::shared_ptr<arrow::Table>& table, const std::string& path,
                  int64_t row_group_rows = 1 << 20) {
  fs::create_directories(fs::path(path).parent_path());
  auto out = arrow::io::FileOutputStream::Open(path).ValueOrDie();
  ASSERT_OK(parquet::arrow::WriteTable(*table, arrow::default_memory_pool(), out, row_group_rows));
  ASSERT_OK(out->Close());
}

std::string Compress(arrow::Compression::type type, const std::string& data) {
  auto codec = arrow::util::Codec::Create(type).ValueOrDie();
  auto sink = arrow::io::BufferOutputStream::Create().ValueOrDie();
  auto stream = arrow::io::CompressedOutputStream::Make(codec.get(), sink).ValueOrDie();
  EXPECT_TRUE(stream->Write(data).ok());
  EXPECT_TRUE(stream->Close().ok());
  return sink->Finish().ValueOrDie()->ToString();
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// Overwrites bytes [begin, end) of a file with garbage, keeping its size.
void Scribble(const std::string& path, int64_t begin, int64_t end) {
  std::fstream file(path, std::ios::binary | std::ios::in | std::ios::out);
  file.seekp(begin);
  std::string garbage(end - begin, '\xA7');
  file.write(garbage.data(), garbage.size());
}

/// `table` filtered by `filter` and cut to `columns`, computed by Arrow alone.
std::shared_ptr<arrow::Table> FilterWithArrow(const std::shared_ptr<arrow::Table>& table,
                                              const Expression& filter,
                                              const std::vector<std::string>& columns) {
  auto batch = table->CombineChunksToBatch().ValueOrDie();
  auto bound = filter.Bind(*table->schema()).ValueOrDie();
  auto mask = arrow::compute::ExecuteScalarExpression(bound, *table->schema(), batch).ValueOrDie();
  auto filtered = arrow::compute::Filter(table, mask).ValueOrDie().table();
  std::vector<int> indices;
  for (const auto& c : columns) indices.push_back(table->schema()->GetFieldIndex(c));
  return filtered->SelectColumns(indices).ValueOrDie()->CombineChunks().ValueOrDie();
}

void ExpectTablesEqual(const std::shared_ptr<arrow::Table>& expected,
                       const std::shared_ptr<arrow::Table>& actual) {
  ASSERT_TRUE(actual);
  auto e = expected->CombineChunks().ValueOrDie();
  auto a = actual->CombineChunks().ValueOrDie();
  EXPECT_TRUE(e->Equals(*a)) << "expected:\n" << e->ToString() << "\nactual:\n" << a->ToString();
}

std::vector<std::string> Strings(const std::shared_ptr<arrow::Table>& table,
                                 const std::string& column) {
  std::vector<std::string> out;
  auto chunked = table->GetColumnByName(column);
  for (const auto& chunk : chunked->chunks()) {
    auto strings = std::static_pointer_cast<arrow::StringArray>(chunk);
    for (int64_t i = 0; i < strings->length(); ++i) out.push_back(strings->GetString(i));
  }
  return out;
}

class ReadersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EngineConfig config;
    config.batch_rows = 1000;
    config.num_threads = 4;
    config.progress = false;
    ASSERT_OK(Configure(config));
  }
  TempDir dir_;
};

// ---- file listing -------------------------------------------------------------------

std::vector<std::string> ListedPaths(const io::ListedFiles& listed) {
  std::vector<std::string> out;
  for (const auto& f : listed.files) out.push_back(f.path());
  return out;
}

TEST_F(ReadersTest, ListingWalksDirectoriesSkipsHiddenEntriesAndSorts) {
  for (const char* name : {"b.csv", "a.csv", "sub/c.csv", "sub/deeper/d.csv", "_SUCCESS",
                           ".a.csv.crc", "_temporary/0/x.csv", ".staging/y.csv"}) {
    WriteFile(dir_.Join(name), "x\n");
  }
  ASSERT_OK_AND_ASSIGN(auto listed, io::ListFiles({dir_.path().string()}));
  EXPECT_EQ(ListedPaths(listed),
            (std::vector<std::string>{dir_.Join("a.csv"), dir_.Join("b.csv"),
                                      dir_.Join("sub/c.csv"), dir_.Join("sub/deeper/d.csv")}));
  for (const auto& file : listed.files) EXPECT_EQ(file.base_dir, dir_.path().string());

  // A file named explicitly is taken whatever its name, and has no base directory.
  ASSERT_OK_AND_ASSIGN(auto single, io::ListFiles({dir_.Join("_SUCCESS"), dir_.Join("a.csv")}));
  EXPECT_EQ(ListedPaths(single),
            (std::vector<std::string>{dir_.Join("_SUCCESS"), dir_.Join("a.csv")}));
  EXPECT_EQ(single.files[0].base_dir, "");
}

TEST_F(ReadersTest, ListingExpandsGlobs) {
  for (const char* name : {"a.csv", "b.csv", "c.json", "_hidden.csv", "sub/d.csv",
                           "sub/deeper/e.csv", "year=2015/f.csv", "year=2016/g.csv"}) {
    WriteFile(dir_.Join(name), "x\n");
  }
  auto list = [&](const std::string& pattern) {
    auto listed = io::ListFiles({dir_.Join(pattern)});
    EXPECT_TRUE(listed.ok()) << pattern << ": " << listed.status().ToString();
    std::vector<std::string> relative;
    if (!listed.ok()) return relative;
    for (const auto& p : ListedPaths(*listed)) {
      relative.push_back(fs::relative(p, dir_.path()).string());
    }
    return relative;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(list("*.csv"), (V{"a.csv", "b.csv"}));
  EXPECT_EQ(list("?.csv"), (V{"a.csv", "b.csv"}));
  EXPECT_EQ(list("[ac].*"), (V{"a.csv", "c.json"}));
  EXPECT_EQ(list("_*.csv"), (V{"_hidden.csv"}));
  EXPECT_EQ(list("sub/*.csv"), (V{"sub/d.csv"}));
  EXPECT_EQ(list("*/*.csv"), (V{"sub/d.csv", "year=2015/f.csv", "year=2016/g.csv"}));
  EXPECT_EQ(list("**/*.csv"), (V{"a.csv", "b.csv", "sub/d.csv", "sub/deeper/e.csv",
                                 "year=2015/f.csv", "year=2016/g.csv"}));
  EXPECT_EQ(list("sub/**"), (V{"sub/d.csv", "sub/deeper/e.csv"}));
  // A matching directory stands for everything below it.
  EXPECT_EQ(list("year=*"), (V{"year=2015/f.csv", "year=2016/g.csv"}));

  ASSERT_OK_AND_ASSIGN(auto listed, io::ListFiles({dir_.Join("year=*/*.csv")}));
  for (const auto& file : listed.files) EXPECT_EQ(file.base_dir, dir_.path().string());
}

TEST_F(ReadersTest, ListingResolvesRelativePathsAndDeduplicates) {
  WriteFile(dir_.Join("data/a.csv"), "x\n");
  const auto previous = fs::current_path();
  fs::current_path(dir_.path());
  auto listed = io::ListFiles({"data", "data/a.csv", "./data/*.csv"});
  fs::current_path(previous);
  ASSERT_OK(listed.status());
  EXPECT_EQ(ListedPaths(*listed), (std::vector<std::string>{dir_.Join("data/a.csv")}));
}

TEST_F(ReadersTest, ListingErrorsNameThePath) {
  WriteFile(dir_.Join("a.csv"), "x\n");
  const std::string missing = dir_.Join("no/such/file.csv");
  auto status = io::ListFiles({dir_.Join("a.csv"), missing}).status();
  EXPECT_TRUE(status.IsIOError()) << status.ToString();
  EXPECT_ERROR_MENTIONS(status, "No such file or directory: " + missing);

  const std::string glob = dir_.Join("*.parquet");
  EXPECT_ERROR_MENTIONS(io::ListFiles({glob}).status(), "No files match " + glob);
  EXPECT_ERROR_MENTIONS(io::ListFiles({dir_.Join("nodir/*.csv")}).status(), "No files match");

  WriteFile(dir_.Join("empty/_SUCCESS"), "");
  EXPECT_ERROR_MENTIONS(io::ListFiles({dir_.Join("empty")}).status(), "No data files in");
  EXPECT_FALSE(io::ListFiles({}).ok());

  // The sources report the same error.
  EXPECT_ERROR_MENTIONS(io::MakeParquetSource({missing}, {}).status(), missing);
  EXPECT_ERROR_MENTIONS(io::MakeCsvSource({missing}, {}).status(), missing);
  EXPECT_ERROR_MENTIONS(io::MakeJsonSource({missing}, {}).status(), missing);
  EXPECT_ERROR_MENTIONS(io::MakeTextSource({missing}, {}).status(), missing);
}

// ---- compression --------------------------------------------------------------------

TEST_F(ReadersTest, CompressionFollowsTheFileName) {
  EXPECT_EQ(io::CompressionFromPath("a.csv.gz"), arrow::Compression::GZIP);
  EXPECT_EQ(io::CompressionFromPath("a.csv.GZIP"), arrow::Compression::GZIP);
  EXPECT_EQ(io::CompressionFromPath("a.json.zst"), arrow::Compression::ZSTD);
  EXPECT_EQ(io::CompressionFromPath("a.json.zstd"), arrow::Compression::ZSTD);
  EXPECT_EQ(io::CompressionFromPath("a.txt.bz2"), arrow::Compression::BZ2);
  EXPECT_EQ(io::CompressionFromPath("a.txt.lz4"), arrow::Compression::LZ4_FRAME);
  EXPECT_EQ(io::CompressionFromPath("a.csv"), arrow::Compression::UNCOMPRESSED);
  EXPECT_EQ(io::CompressionFromPath("gz"), arrow::Compression::UNCOMPRESSED);
}

TEST_F(ReadersTest, EveryCodecRoundTripsThroughTheTextReader) {
  std::string text;
  for (int i = 0; i < 5000; ++i) text += "line " + std::to_string(i) + "\n";
  for (auto [codec, suffix] :
       {std::pair{arrow::Compression::GZIP, ".gz"}, std::pair{arrow::Compression::ZSTD, ".zst"},
        std::pair{arrow::Compression::BZ2, ".bz2"},
        std::pair{arrow::Compression::LZ4_FRAME, ".lz4"}}) {
    if (!arrow::util::Codec::IsAvailable(codec)) continue;
    const std::string path = dir_.Join(std::string("lines.txt") + suffix);
    WriteFile(path, Compress(codec, text));
    ASSERT_OK_AND_ASSIGN(auto source, io::MakeTextSource({path}, {}));
    auto table = Read(source);
    ASSERT_TRUE(table) << suffix;
    ASSERT_EQ(table->num_rows(), 5000) << suffix;
    EXPECT_EQ(Strings(table, "text")[4999], "line 4999") << suffix;
  }
}

TEST_F(ReadersTest, GzipMembersCorruptionAndEmptyFiles) {
  // Several concatenated members (cat a.gz b.gz, bgzip), each larger than a read chunk.
  std::string first, second;
  for (int i = 0; i < 150000; ++i) first += "first " + std::to_string(i) + "\n";
  for (int i = 0; i < 1000; ++i) second += "second " + std::to_string(i) + "\n";
  const std::string path = dir_.Join("members.txt.gz");
  WriteFile(path,
            Compress(arrow::Compression::GZIP, first) + Compress(arrow::Compression::GZIP, second));
  ASSERT_OK_AND_ASSIGN(auto members, io::MakeTextSource({path}, {}));
  auto table = Read(members);
  ASSERT_TRUE(table);
  ASSERT_EQ(table->num_rows(), 151000);
  EXPECT_EQ(Strings(table, "text")[149999], "first 149999");
  EXPECT_EQ(Strings(table, "text")[150999], "second 999");

  // A flipped byte in the data: the CRC (or the deflate decoder) catches it.
  const std::string whole = Compress(arrow::Compression::GZIP, second);
  std::string corrupt = whole;
  corrupt[corrupt.size() / 2] = static_cast<char>(corrupt[corrupt.size() / 2] ^ 0x55);
  const std::string bad = dir_.Join("corrupt.txt.gz");
  WriteFile(bad, corrupt);
  ASSERT_OK_AND_ASSIGN(auto corrupt_source, io::MakeTextSource({bad}, {}));
  EXPECT_ERROR_MENTIONS(ReadError(corrupt_source), bad + ": gzip decompression failed");

  // Not gzip at all.
  const std::string plain = dir_.Join("plain.txt.gz");
  WriteFile(plain, "just text\n");
  ASSERT_OK_AND_ASSIGN(auto plain_source, io::MakeTextSource({plain}, {}));
  EXPECT_ERROR_MENTIONS(ReadError(plain_source), "not a gzip stream");

  // An empty file reads as no rows.
  const std::string empty = dir_.Join("empty.txt.gz");
  WriteFile(empty, "");
  ASSERT_OK_AND_ASSIGN(auto empty_source, io::MakeTextSource({empty}, {}));
  auto empty_table = Read(empty_source);
  ASSERT_TRUE(empty_table);
  EXPECT_EQ(empty_table->num_rows(), 0);
}

TEST_F(ReadersTest, TruncatedGzipIsAnErrorNamingTheFile) {
  std::string csv = "id,name\n";
  for (int i = 0; i < 20000; ++i) csv += std::to_string(i) + ",name" + std::to_string(i) + "\n";
  const std::string whole = Compress(arrow::Compression::GZIP, csv);
  const std::string path = dir_.Join("cut.csv.gz");
  // Cut inside the deflate data, and just before the end (only the trailer missing).
  for (size_t keep : {whole.size() / 2, whole.size() - 4}) {
    WriteFile(path, whole.substr(0, keep));
    ASSERT_OK_AND_ASSIGN(auto text, io::MakeTextSource({path}, {}));
    auto status = ReadError(text);
    EXPECT_ERROR_MENTIONS(status, path + ": truncated gzip stream");

    // The CSV reader reports it too, at planning or at reading.
    auto csv_source = io::MakeCsvSource({path}, {});
    auto csv_status = csv_source.ok() ? ReadError(*csv_source) : csv_source.status();
    EXPECT_ERROR_MENTIONS(csv_status, "truncated gzip stream");
    EXPECT_ERROR_MENTIONS(csv_status, path);
  }

  // The stream itself, read to the end, fails rather than returning what it had.
  WriteFile(path, whole.substr(0, whole.size() / 2));
  auto local = std::make_shared<arrow::fs::LocalFileSystem>();
  ASSERT_OK_AND_ASSIGN(auto info, local->GetFileInfo(path));
  ASSERT_OK_AND_ASSIGN(auto stream,
                       io::OpenDecompressedInputStream(local, info, arrow::default_memory_pool()));
  arrow::Status status;
  while (true) {
    auto chunk = stream->Read(1 << 16);
    if (!chunk.ok()) {
      status = chunk.status();
      break;
    }
    if ((*chunk)->size() == 0) break;
  }
  EXPECT_TRUE(status.IsIOError()) << status.ToString();
  EXPECT_ERROR_MENTIONS(status, path);
}

// ---- Parquet ------------------------------------------------------------------------

std::shared_ptr<arrow::Schema> SalesSchema() {
  return arrow::schema({arrow::field("id", arrow::int64()), arrow::field("item", arrow::utf8()),
                        arrow::field("price", arrow::float64())});
}

/// Rows id = first..first+n-1 with a price that is not monotonic in id.
std::shared_ptr<arrow::Table> Sales(int64_t first, int64_t n) {
  arrow::Int64Builder ids;
  arrow::StringBuilder items;
  arrow::DoubleBuilder prices;
  for (int64_t i = first; i < first + n; ++i) {
    EXPECT_TRUE(ids.Append(i).ok());
    EXPECT_TRUE(items.Append("item" + std::to_string(i % 7)).ok());
    if (i % 11 == 0) {
      EXPECT_TRUE(prices.AppendNull().ok());
    } else {
      EXPECT_TRUE(prices.Append(static_cast<double>((i * 37) % 100)).ok());
    }
  }
  return arrow::Table::Make(SalesSchema(), {ids.Finish().ValueOrDie(), items.Finish().ValueOrDie(),
                                            prices.Finish().ValueOrDie()});
}

/// year=2015/marketplace=US, ... : four partitions of 100 rows each, two files in one.
struct HiveDataset {
  std::string root;
  std::shared_ptr<arrow::Table> expected;  // all rows, path order, with partition columns
  std::map<std::string, std::string> file_by_partition;
};

HiveDataset WriteHiveDataset(const TempDir& dir) {
  HiveDataset out;
  out.root = dir.Join("sales");
  struct Part {
    int year;
    std::string marketplace;
    int64_t first;
  };
  const std::vector<Part> parts = {
      {2015, "DE", 0}, {2015, "US", 100}, {2016, "DE", 200}, {2016, "US", 300}};
  std::vector<std::shared_ptr<arrow::Table>> pieces;
  for (const auto& part : parts) {
    const std::string partition =
        "year=" + std::to_string(part.year) + "/marketplace=" + part.marketplace;
    auto table = Sales(part.first, 100);
    const std::string file = out.root + "/" + partition + "/part-0.parquet";
    WriteParquet(table, file, /*row_group_rows=*/25);
    out.file_by_partition[partition] = file;
    auto year = arrow::MakeArrayFromScalar(arrow::Int32Scalar(part.year), 100).ValueOrDie();
    auto market =
        arrow::MakeArrayFromScalar(arrow::StringScalar(part.marketplace), 100).ValueOrDie();
    auto with_year = table
                         ->AddColumn(3, arrow::field("year", arrow::int32()),
                                     std::make_shared<arrow::ChunkedArray>(year))
                         .ValueOrDie();
    pieces.push_back(with_year
                         ->AddColumn(4, arrow::field("marketplace", arrow::utf8()),
                                     std::make_shared<arrow::ChunkedArray>(market))
                         .ValueOrDie());
  }
  WriteFile(out.root + "/_SUCCESS", "");
  out.expected = arrow::ConcatenateTables(pieces).ValueOrDie()->CombineChunks().ValueOrDie();
  return out;
}

TEST_F(ReadersTest, ParquetReadsFilesInPathOrder) {
  WriteParquet(Sales(0, 1500), dir_.Join("b/part-1.parquet"), 400);
  WriteParquet(Sales(1500, 700), dir_.Join("b/part-2.parquet"), 400);
  WriteParquet(Sales(2200, 10), dir_.Join("a.parquet"));
  ASSERT_OK_AND_ASSIGN(auto source,
                       io::MakeParquetSource({dir_.Join("b"), dir_.Join("a.parquet")}, {}));
  EXPECT_EQ(source->name(), "ReadParquet");
  EXPECT_TRUE(source->SupportsFilterPushdown());
  EXPECT_TRUE(source->schema()->Equals(*SalesSchema())) << source->schema()->ToString();
  auto table = Read(source);
  auto expected =
      arrow::ConcatenateTables({Sales(2200, 10), Sales(0, 1500), Sales(1500, 700)}).ValueOrDie();
  ExpectTablesEqual(expected, table);

  // Batches hold at most batch_rows rows, even where files were split into tasks.
  for (const auto& batch : ReadBatches(source)) EXPECT_LE(batch->num_rows(), 1000);
}

TEST_F(ReadersTest, ParquetReadsManyFiles) {
  // More files than any thread pool has threads: footers are read concurrently.
  std::vector<std::shared_ptr<arrow::Table>> pieces;
  for (int i = 0; i < 60; ++i) {
    pieces.push_back(Sales(i * 10, 10));
    char name[32];
    std::snprintf(name, sizeof(name), "many/part-%03d.parquet", i);
    WriteParquet(pieces.back(), dir_.Join(name));
  }
  ASSERT_OK_AND_ASSIGN(auto source, io::MakeParquetSource({dir_.Join("many")}, {}));
  ExpectTablesEqual(arrow::ConcatenateTables(pieces).ValueOrDie(), Read(source));
  EXPECT_EQ(source->CountRowsFromMetadata({}).ValueOrDie(), 600);
}

TEST_F(ReadersTest, ParquetSplitsFewLargeFilesIntoRowGroupTasks) {
  // One file of 20 row groups with 4 threads: several tasks, same rows in the same order.
  auto table = Sales(0, 20000);
  WriteParquet(table, dir_.Join("big.parquet"), 1000);
  ASSERT_OK_AND_ASSIGN(auto source, io::MakeParquetSource({dir_.Join("big.parquet")}, {}));
  ExpectTablesEqual(table, Read(source));

  plan::Pushdown limited;
  limited.limit = 4321;
  ExpectTablesEqual(table->Slice(0, 4321), Read(source, limited));
}

TEST_F(ReadersTest, ParquetHivePartitionsBecomeColumns) {
  auto data = WriteHiveDataset(dir_);
  ASSERT_OK_AND_ASSIGN(auto source, io::MakeParquetSource({data.root}, {}));
  EXPECT_TRUE(source->schema()->Equals(*data.expected->schema())) << source->schema()->ToString();
  EXPECT_EQ(source->schema()->GetFieldByName("year")->type()->id(), arrow::Type::INT32);
  EXPECT_EQ(source->schema()->GetFieldByName("marketplace")->type()->id(), arrow::Type::STRING);
  ExpectTablesEqual(data.expected, Read(source));

  // Without hive partitioning the directories are just directories.
  ReadParquetOptions plain;
  plain.hive_partitioning = false;
  ASSERT_OK_AND_ASSIGN(auto unpartitioned, io::MakeParquetSource({data.root}, plain));
  EXPECT_TRUE(unpartitioned->schema()->Equals(*SalesSchema()));

  // Partition columns come from directories below the directory given: reading one
  // year's directory has only the marketplace column.
  ASSERT_OK_AND_ASSIGN(auto one_year, io::MakeParquetSource({data.root + "/year=2016"}, {}));
  EXPECT_EQ(one_year->schema()->field_names(),
            (std::vector<std::string>{"id", "item", "price", "marketplace"}));
  // A glob's fixed part is the base.
  ASSERT_OK_AND_ASSIGN(auto globbed,
                       io::MakeParquetSource({data.root + "/year=*/marketplace=US"}, {}));
  EXPECT_EQ(globbed->schema()->field_names(),
            (std::vector<std::string>{"id", "item", "price", "year", "marketplace"}));
  EXPECT_EQ(Read(globbed)->num_rows(), 200);
}

TEST_F(ReadersTest, ParquetPartitionTypesAreInferredFromAllValues) {
  WriteParquet(Sales(0, 1), dir_.Join("t/day=20150101/big=1/code=007/part.parquet"));
  WriteParquet(Sales(1, 1), dir_.Join("t/day=20150102/big=9000000000/code=x%2Fy/part.parquet"));
  ASSERT_OK_AND_ASSIGN(auto source, io::MakeParquetSource({dir_.Join("t")}, {}));
  EXPECT_EQ(source->schema()->GetFieldByName("day")->type()->id(), arrow::Type::INT32);
  EXPECT_EQ(source->schema()->GetFieldByName("big")->type()->id(), arrow::Type::INT64);
  EXPECT_EQ(source->schema()->GetFieldByName("code")->type()->id(), arrow::Type::STRING);
  auto table = Read(source);
  EXPECT_EQ(Strings(table, "code"), (std::vector<std::string>{"007", "x/y"}));  // URL-decoded
}

TEST_F(ReadersTest, ParquetProjectionAndFilterMatchArrowCompute) {
  auto data = WriteHiveDataset(dir_);
  ASSERT_OK_AND_ASSIGN(auto source, io::MakeParquetSource({data.root}, {}));
  const std::vector<Expression> filters = {
      Greater(Col("price"), Lit(50.0)),
      And(Equal(Col("marketplace"), Lit("US")), Less(Col("id"), Lit(int64_t{320}))),
      Or(Equal(Col("year"), Lit(2015)), IsNull(Col("price"))),
      And(GreaterEqual(Col("id"), Lit(int64_t{150})), StrStartsWith(Col("item"), "item3")),
      Equal(Col("year"), Lit(1999)),
  };
  const std::vector<std::vector<std::string>> projections = {
      {"marketplace", "id"}, {"price"}, {"year", "item", "price", "id", "marketplace"}};
  for (const auto& filter : filters) {
    for (const auto& columns : projections) {
      plan::Pushdown pushdown;
      pushdown.filter = filter;
      pushdown.columns = columns;
      SCOPED_TRACE(filter.ToString());
      ExpectTablesEqual(FilterWithArrow(data.expected, filter, columns), Read(source, pushdown));
    }
  }
}

TEST_F(ReadersTest, ParquetPartitionPruningSkipsFiles) {
  auto data = WriteHiveDataset(dir_);
  ASSERT_OK_AND_ASSIGN(auto source, io::MakeParquetSource({data.root}, {}));
  // Footers are read when the source is made; corrupt a 2016 file's data afterwards.
  const std::string spoiled = data.file_by_partition["year=2016/marketplace=DE"];
  Scribble(spoiled, 4, fs::file_size(spoiled) - 8);

  // Reading everything reaches the spoiled file and says which it is.
  EXPECT_ERROR_MENTIONS(ReadError(source), spoiled);

  // A filter on the partition columns never opens it.
  plan::Pushdown pushdown;
  pushdown.filter = Or(Equal(Col("year"), Lit(2015)), Equal(Col("marketplace"), Lit("US")));
  ExpectTablesEqual(
      FilterWithArrow(data.expected, *pushdown.filter, data.expected->schema()->field_names()),
      Read(source, pushdown));
}

TEST_F(ReadersTest, ParquetRowGroupStatisticsSkipRowGroups) {
  const std::string path = dir_.Join("sorted.parquet");
  auto table = Sales(0, 100);
  WriteParquet(table, path, /*row_group_rows=*/25);
  ASSERT_OK_AND_ASSIGN(auto source, io::MakeParquetSource({path}, {}));

  plan::Pushdown last_group;
  last_group.filter = GreaterEqual(Col("id"), Lit(int64_t{80}));
  ASSERT_OK_AND_ASSIGN(auto all_bytes, source->SizeBytesFromMetadata({}));
  ASSERT_OK_AND_ASSIGN(auto kept_bytes, source->SizeBytesFromMetadata(last_group));
  ASSERT_TRUE(all_bytes && kept_bytes);
  EXPECT_GT(*kept_bytes, 0);
  EXPECT_LT(*kept_bytes * 3, *all_bytes);  // one row group of four

  // Spoil the first three row groups' data; the footer stays readable.
  auto reader = parquet::ParquetFileReader::OpenFile(path);
  auto group3 = reader->metadata()->RowGroup(3);
  int64_t group3_start = std::numeric_limits<int64_t>::max();
  for (int c = 0; c < group3->num_columns(); ++c) {
    auto chunk = group3->ColumnChunk(c);
    group3_start =
        std::min(group3_start, chunk->has_dictionary_page() ? chunk->dictionary_page_offset()
                                                            : chunk->data_page_offset());
  }
  reader.reset();
  Scribble(path, 4, group3_start);

  EXPECT_ERROR_MENTIONS(ReadError(source), path);
  ExpectTablesEqual(FilterWithArrow(table, *last_group.filter, table->schema()->field_names()),
                    Read(source, last_group));
}

TEST_F(ReadersTest, ParquetCountsRowsFromFooters) {
  auto data = WriteHiveDataset(dir_);
  ASSERT_OK_AND_ASSIGN(auto source, io::MakeParquetSource({data.root}, {}));
  auto count = [&](plan::Pushdown pushdown) {
    auto rows = source->CountRowsFromMetadata(pushdown);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? *rows : std::optional<int64_t>(-1);
  };
  EXPECT_EQ(count({}), 400);
  plan::Pushdown limited;
  limited.limit = 123;
  EXPECT_EQ(count(limited), 123);
  plan::Pushdown by_partition;
  by_partition.filter = And(Equal(Col("year"), Lit(2016)), NotEqual(Col("marketplace"), Lit("DE")));
  EXPECT_EQ(count(by_partition), 100);
  by_partition.columns = std::vector<std::string>{};
  EXPECT_EQ(count(by_partition), 100);
  plan::Pushdown by_data;
  by_data.filter = Greater(Col("price"), Lit(1.0));
  EXPECT_EQ(count(by_data), std::nullopt);

  ASSERT_OK_AND_ASSIGN(auto all_bytes, source->SizeBytesFromMetadata({}));
  plan::Pushdown one_column;
  one_column.columns = std::vector<std::string>{"id"};
  ASSERT_OK_AND_ASSIGN(auto id_bytes, source->SizeBytesFromMetadata(one_column));
  ASSERT_OK_AND_ASSIGN(auto partition_bytes, source->SizeBytesFromMetadata(by_partition));
  EXPECT_GT(*id_bytes, 0);
  EXPECT_LT(*id_bytes, *all_bytes);
  EXPECT_LT(*partition_bytes, *all_bytes);
}

TEST_F(ReadersTest, ParquetZeroColumnsStillCountRows) {
  auto data = WriteHiveDataset(dir_);
  ASSERT_OK_AND_ASSIGN(auto source, io::MakeParquetSource({data.root}, {}));
  plan::Pushdown pushdown;
  pushdown.columns = std::vector<std::string>{};
  auto table = Read(source, pushdown);
  ASSERT_TRUE(table);
  EXPECT_EQ(table->num_columns(), 0);
  EXPECT_EQ(table->num_rows(), 400);

  pushdown.filter = Greater(Col("price"), Lit(50.0));
  EXPECT_EQ(Read(source, pushdown)->num_rows(),
            FilterWithArrow(data.expected, *pushdown.filter, {})->num_rows());
}

TEST_F(ReadersTest, ParquetLimitReadsOnlyTheFirstRows) {
  auto data = WriteHiveDataset(dir_);
  ASSERT_OK_AND_ASSIGN(auto source, io::MakeParquetSource({data.root}, {}));
  // The last file in path order is never needed for 130 rows: spoil it.
  const std::string last = data.file_by_partition["year=2016/marketplace=US"];
  Scribble(last, 4, fs::file_size(last) - 8);

  for (int64_t limit : {0, 1, 25, 130, 250}) {
    plan::Pushdown pushdown;
    pushdown.limit = limit;
    SCOPED_TRACE(limit);
    ExpectTablesEqual(data.expected->Slice(0, limit), Read(source, pushdown));
  }

  // With a filter the rows are still the first that pass, in order.
  plan::Pushdown filtered;
  filtered.filter = Greater(Col("price"), Lit(60.0));
  filtered.limit = 40;
  filtered.columns = std::vector<std::string>{"id", "price"};
  ExpectTablesEqual(
      FilterWithArrow(data.expected, *filtered.filter, *filtered.columns)->Slice(0, 40),
      Read(source, filtered));
}

TEST_F(ReadersTest, ParquetUnifiesSchemasAcrossFiles) {
  auto first = TableFromJson(
      arrow::schema({arrow::field("a", arrow::int64()), arrow::field("b", arrow::utf8())}),
      R"([{"a": 1, "b": "x"}, {"a": 2, "b": "y"}])");
  auto second = TableFromJson(
      arrow::schema({arrow::field("c", arrow::float64()), arrow::field("a", arrow::int64())}),
      R"([{"c": 0.5, "a": 3}])");
  WriteParquet(first, dir_.Join("u/1.parquet"));
  WriteParquet(second, dir_.Join("u/2.parquet"));
  ASSERT_OK_AND_ASSIGN(auto source, io::MakeParquetSource({dir_.Join("u")}, {}));
  auto schema = arrow::schema({arrow::field("a", arrow::int64()), arrow::field("b", arrow::utf8()),
                               arrow::field("c", arrow::float64())});
  EXPECT_TRUE(source->schema()->Equals(*schema)) << source->schema()->ToString();
  ExpectTablesEqual(TableFromJson(schema, R"([{"a": 1, "b": "x", "c": null},
                                              {"a": 2, "b": "y", "c": null},
                                              {"a": 3, "b": null, "c": 0.5}])"),
                    Read(source));
}

TEST_F(ReadersTest, ParquetConflictingTypesNameBothFiles) {
  WriteParquet(TableFromJson(arrow::schema({arrow::field("a", arrow::int64())}), R"([{"a": 1}])"),
               dir_.Join("c/1.parquet"));
  WriteParquet(TableFromJson(arrow::schema({arrow::field("a", arrow::utf8())}), R"([{"a": "x"}])"),
               dir_.Join("c/2.parquet"));
  auto status = io::MakeParquetSource({dir_.Join("c")}, {}).status();
  EXPECT_ERROR_MENTIONS(status, dir_.Join("c/1.parquet"));
  EXPECT_ERROR_MENTIONS(status, dir_.Join("c/2.parquet"));
  EXPECT_ERROR_MENTIONS(status, "'a'");
}

TEST_F(ReadersTest, ParquetCorruptOrTruncatedFilesNameTheFile) {
  const std::string garbage = dir_.Join("bad/garbage.parquet");
  WriteFile(garbage, std::string(5000, 'z'));
  EXPECT_ERROR_MENTIONS(io::MakeParquetSource({garbage}, {}).status(), garbage);

  const std::string good = dir_.Join("bad/good.parquet");
  WriteParquet(Sales(0, 1000), good);
  const std::string bytes = ReadWholeFile(good);
  const std::string half = dir_.Join("bad/half.parquet");
  WriteFile(half, bytes.substr(0, bytes.size() / 2));
  EXPECT_ERROR_MENTIONS(io::MakeParquetSource({half}, {}).status(), half);
  const std::string tiny = dir_.Join("bad/tiny.parquet");
  WriteFile(tiny, "PAR1");
  EXPECT_ERROR_MENTIONS(io::MakeParquetSource({tiny}, {}).status(), tiny);

  // Footer intact, data spoiled: the read fails, prefixed with the path.
  Scribble(good, 4, bytes.size() / 2);
  ASSERT_OK_AND_ASSIGN(auto source, io::MakeParquetSource({good}, {}));
  auto status = ReadError(source);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message().rfind(good, 0), 0u) << status.ToString();
}

// ---- CSV ----------------------------------------------------------------------------

// ---- the screened stream under the CSV and JSON readers ----------------------------

/// Passes whole lines through unchanged.
class WholeLines : public io::RecordScreen {
 public:
  arrow::Result<Screened> Screen(std::string_view data, bool final) override {
    Screened screened;
    screened.consumed = final ? static_cast<int64_t>(data.size())
                              : static_cast<int64_t>(data.rfind('\n') + 1);
    lines_ += io::CountLineBreaks(data.substr(0, screened.consumed));
    return screened;
  }
  int64_t next_line() const override { return lines_ + 1; }

 private:
  int64_t lines_ = 0;
};

/// A stream that returns at most `max_read` bytes a read and counts its reads.
class CountedShortReads : public arrow::io::InputStream {
 public:
  CountedShortReads(std::string data, int64_t max_read)
      : input_(std::make_shared<arrow::io::BufferReader>(arrow::Buffer::FromString(std::move(data)))),
        max_read_(max_read) {}
  arrow::Status Close() override { return input_->Close(); }
  bool closed() const override { return input_->closed(); }
  arrow::Result<int64_t> Tell() const override { return input_->Tell(); }
  arrow::Result<int64_t> Read(int64_t nbytes, void* out) override {
    ++reads;
    return input_->Read(std::min(nbytes, max_read_), out);
  }
  arrow::Result<std::shared_ptr<arrow::Buffer>> Read(int64_t nbytes) override {
    ++reads;
    return input_->Read(std::min(nbytes, max_read_));
  }
  int64_t reads = 0;

 private:
  std::shared_ptr<arrow::io::BufferReader> input_;
  int64_t max_read_;
};

TEST(ScreenedInputStreamTest, EveryByteComesOutOnceInOrderWhateverTheReadSizes) {
  std::string text;
  for (int i = 0; text.size() < (3 << 20); ++i) text += "line " + std::to_string(i) + "\n";
  text += "last line without a break";
  for (int64_t max_read : {int64_t{1}, int64_t{7}, int64_t{4096}, int64_t{1} << 30}) {
    auto input = std::make_shared<CountedShortReads>(text, max_read);
    io::ScreenedInputStream screened(input, std::make_unique<WholeLines>(),
                                     /*max_record_bytes=*/1 << 20, arrow::default_memory_pool());
    std::string out;
    int64_t fills = 0;
    while (true) {
      ASSERT_OK_AND_ASSIGN(auto buffer, screened.ReadRecords(1 << 20));
      if (buffer->size() == 0) break;
      ++fills;
      // Whole lines only, except at the end of the file.
      ASSERT_TRUE(buffer->ToString().back() == '\n' || out.size() + buffer->size() == text.size());
      out += buffer->ToString();
    }
    EXPECT_EQ(out, text) << "reads of at most " << max_read << " bytes";
    // Short reads are gathered into full reads: about one fill per megabyte, not per read.
    EXPECT_LE(fills, 8) << "reads of at most " << max_read << " bytes";
    if (max_read > (int64_t{1} << 20)) {
      // A file read whole: the first fill grows from 64 KiB (5 reads up to 1 MiB), the
      // others read a megabyte each.
      EXPECT_LE(input->reads, 16);
    }
  }
}

TEST(ScreenedInputStreamTest, ASmallFileTakesOneSmallRead) {
  auto input = std::make_shared<CountedShortReads>("a,b\n1,2\n", int64_t{1} << 30);
  io::ScreenedInputStream screened(input, std::make_unique<WholeLines>(), 1 << 20,
                                   arrow::default_memory_pool());
  ASSERT_OK_AND_ASSIGN(auto first, screened.Read(1 << 20));
  EXPECT_EQ(first->ToString(), "a,b\n1,2\n");
  ASSERT_OK_AND_ASSIGN(auto end, screened.Read(1 << 20));
  EXPECT_EQ(end->size(), 0);
  // One read for the data, one that finds the end.
  EXPECT_EQ(input->reads, 2);
}

TEST_F(ReadersTest, CsvInfersTypesFromTheFirstFileAndKeepsThem) {
  WriteFile(dir_.Join("csv/1.csv"), "id,name,score\n1,ann,1.5\n2,bob,\n");
  // In the second file alone, "score" would be an integer column and "name" numeric.
  WriteFile(dir_.Join("csv/2.csv"), "id,name,score\n3,4,7\n");
  ASSERT_OK_AND_ASSIGN(auto source, io::MakeCsvSource({dir_.Join("csv")}, {}));
  EXPECT_EQ(source->name(), "ReadCsv");
  auto schema =
      arrow::schema({arrow::field("id", arrow::int64()), arrow::field("name", arrow::utf8()),
                     arrow::field("score", arrow::float64())});
  EXPECT_TRUE(source->schema()->Equals(*schema)) << source->schema()->ToString();
  ExpectTablesEqual(TableFromJson(schema, R"([{"id": 1, "name": "ann", "score": 1.5},
                                              {"id": 2, "name": "bob", "score": null},
                                              {"id": 3, "name": "4", "score": 7.0}])"),
                    Read(source));
  EXPECT_EQ(source->CountRowsFromMetadata({}).ValueOrDie(), std::nullopt);
}

TEST_F(ReadersTest, CsvValueThatDoesNotFitNamesFileRowAndColumn) {
  std::string first = "id,name\n";
  for (int i = 0; i < 100; ++i) first += std::to_string(i) + ",n\n";
  WriteFile(dir_.Join("csv/1.csv"), first);
  WriteFile(dir_.Join("csv/2.csv"), "name,id\nx,1\ny,2\nz,oops\n");  // columns reordered
  ASSERT_OK_AND_ASSIGN(auto source, io::MakeCsvSource({dir_.Join("csv")}, {}));
  auto status = ReadError(source);
  EXPECT_ERROR_MENTIONS(status, dir_.Join("csv/2.csv"));
  EXPECT_ERROR_MENTIONS(status, "line 4, column 'id'");
  EXPECT_ERROR_MENTIONS(status, "'id'");
  EXPECT_ERROR_MENTIONS(status, "oops");
}

TEST_F(ReadersTest, CsvRaggedRowNamesFileAndRow) {
  WriteFile(dir_.Join("csv/1.csv"), "a,b,c\n1,2,3\n");
  WriteFile(dir_.Join("csv/2.csv"), "a,b,c\n1,2,3\n4,5\n");
  ASSERT_OK_AND_ASSIGN(auto source, io::MakeCsvSource({dir_.Join("csv")}, {}));
  auto status = ReadError(source);
  EXPECT_ERROR_MENTIONS(status, dir_.Join("csv/2.csv"));
  EXPECT_ERROR_MENTIONS(status, "line 3");
  EXPECT_ERROR_MENTIONS(status, "expected 3 fields, found 2");

  // The same with as many files as threads, where each file is parsed serially.
  for (int i = 0; i < 5; ++i) {
    WriteFile(dir_.Join("many/" + std::to_string(i) + ".csv"),
              i == 4 ? "a,b\n1,2\n3\n" : "a,b\n1,2\n");
  }
  ASSERT_OK_AND_ASSIGN(auto many, io::MakeCsvSource({dir_.Join("many")}, {}));
  status = ReadError(many);
  EXPECT_ERROR_MENTIONS(status, dir_.Join("many/4.csv"));
  EXPECT_ERROR_MENTIONS(status, "line 3");

  // In the first file the error comes when the source is made.
  WriteFile(dir_.Join("ragged.csv"), "a,b\n1\n");
  EXPECT_ERROR_MENTIONS(io::MakeCsvSource({dir_.Join("ragged.csv")}, {}).status(),
                        dir_.Join("ragged.csv"));
}

TEST_F(ReadersTest, CsvHonoursParseOptions) {
  WriteFile(dir_.Join("semi.csv"),
            "# comment line\nx;y;z\n1;'a;b';-\n2;'it''s';7\n3;'multi\nline';8\n");
  ReadCsvOptions options;
  options.delimiter = ';';
  options.quote_char = '\'';
  options.skip_rows = 1;
  options.null_values = {"-"};
  options.newlines_in_values = true;
  options.column_types["z"] = arrow::float32();
  ASSERT_OK_AND_ASSIGN(auto source, io::MakeCsvSource({dir_.Join("semi.csv")}, options));
  auto schema = arrow::schema({arrow::field("x", arrow::int64()), arrow::field("y", arrow::utf8()),
                               arrow::field("z", arrow::float32())});
  ExpectTablesEqual(TableFromJson(schema, R"([{"x": 1, "y": "a;b", "z": null},
                                              {"x": 2, "y": "it's", "z": 7},
                                              {"x": 3, "y": "multi\nline", "z": 8}])"),
                    Read(source));

  WriteFile(dir_.Join("noheader.csv"), "1,\\,x\n2,y\n");
  ReadCsvOptions no_header;
  no_header.header = false;
  no_header.escaping = true;
  no_header.quoting = false;
  ASSERT_OK_AND_ASSIGN(auto generated, io::MakeCsvSource({dir_.Join("noheader.csv")}, no_header));
  EXPECT_EQ(generated->schema()->field_names(), (std::vector<std::string>{"f0", "f1"}));
  EXPECT_EQ(Strings(Read(generated), "f1"), (std::vector<std::string>{",x", "y"}));

  no_header.column_names = {"n", "s"};
  ASSERT_OK_AND_ASSIGN(auto named, io::MakeCsvSource({dir_.Join("noheader.csv")}, no_header));
  EXPECT_EQ(named->schema()->field_names(), (std::vector<std::string>{"n", "s"}));
  EXPECT_EQ(Read(named)->num_rows(), 2);

  // Names given for a file with a header replace it.
  WriteFile(dir_.Join("header.csv"), "a,b\n1,2\n");
  ReadCsvOptions renamed;
  renamed.column_names = {"p", "q"};
  ASSERT_OK_AND_ASSIGN(auto replaced, io::MakeCsvSource({dir_.Join("header.csv")}, renamed));
  auto table = Read(replaced);
  EXPECT_EQ(table->schema()->field_names(), (std::vector<std::string>{"p", "q"}));
  EXPECT_EQ(table->num_rows(), 1);
}

TEST_F(ReadersTest, CsvProjectionPathsLimitAndCompression) {
  std::string csv = "id,word,flag\n";
  for (int i = 0; i < 3000; ++i) csv += std::to_string(i) + ",w" + std::to_string(i) + ",true\n";
  WriteFile(dir_.Join("mixed/a.csv"), csv);
  WriteFile(dir_.Join("mixed/b.csv.gz"), Compress(arrow::Compression::GZIP, csv));
  WriteFile(dir_.Join("mixed/c.csv"), "");                // empty: no rows
  WriteFile(dir_.Join("mixed/d.csv"), "id,word,flag\n");  // header only: no rows
  ReadCsvOptions options;
  options.include_paths = true;
  ASSERT_OK_AND_ASSIGN(auto source, io::MakeCsvSource({dir_.Join("mixed")}, options));
  EXPECT_EQ(source->schema()->field_names(),
            (std::vector<std::string>{"id", "word", "flag", "path"}));

  auto all = Read(source);
  ASSERT_EQ(all->num_rows(), 6000);
  auto paths = Strings(all, "path");
  EXPECT_EQ(paths.front(), dir_.Join("mixed/a.csv"));
  EXPECT_EQ(paths.back(), dir_.Join("mixed/b.csv.gz"));
  EXPECT_EQ(Strings(all, "word")[5999], "w2999");

  plan::Pushdown projected;
  projected.columns = std::vector<std::string>{"path", "word"};
  auto table = Read(source, projected);
  EXPECT_EQ(table->schema()->field_names(), (std::vector<std::string>{"path", "word"}));
  EXPECT_EQ(Strings(table, "word"), Strings(all, "word"));
  for (const auto& batch : ReadBatches(source, projected)) EXPECT_LE(batch->num_rows(), 1000);

  plan::Pushdown count_only;
  count_only.columns = std::vector<std::string>{};
  EXPECT_EQ(Read(source, count_only)->num_rows(), 6000);

  plan::Pushdown limited;
  limited.limit = 3005;
  limited.columns = std::vector<std::string>{"id"};
  auto head = Read(source, limited);
  ASSERT_EQ(head->num_rows(), 3005);
  auto ids = std::static_pointer_cast<arrow::Int64Array>(head->column(0)->chunk(0));
  EXPECT_EQ(ids->Value(2999), 2999);
  EXPECT_EQ(ids->Value(3004), 4);
}

TEST_F(ReadersTest, CsvBadRecordsFailSkipOrGoToTheRejectsWithTheirPhysicalLine) {
  // Line 4 is empty, line 6 holds a value with a line break: Arrow's row count would be
  // off by one from line 5 on, and by two after the quoted value.
  WriteFile(dir_.Join("bad.csv"),
            "id,name\n1,ann\n2\n\nthree,bob\n4,\"two\nlines\"\n5,eve,extra\n6,\xff\n7,zed\n");
  ReadCsvOptions options;
  options.column_types["id"] = arrow::int64();
  options.newlines_in_values = true;
  // The first block of the first file is read for the types, so it fails at once.
  EXPECT_ERROR_MENTIONS(Dataset::ReadCsv({dir_.Join("bad.csv")}, options).status(),
                        dir_.Join("bad.csv") + ": line 3: expected 2 fields, found 1");

  options.on_bad_lines = BadLineAction::kCollect;
  ASSERT_OK_AND_ASSIGN(auto collecting, Dataset::ReadCsv({dir_.Join("bad.csv")}, options));
  ASSERT_OK_AND_ASSIGN(auto good, collecting.ToTable());
  auto schema = arrow::schema({arrow::field("id", arrow::int64()), arrow::field("name", arrow::utf8())});
  ExpectTablesEqual(TableFromJson(schema, R"([{"id": 1, "name": "ann"},
                                              {"id": 4, "name": "two\nlines"},
                                              {"id": 7, "name": "zed"}])"),
                    good);
  ASSERT_OK_AND_ASSIGN(auto rejects, collecting.LastRejects());
  auto lines = std::static_pointer_cast<arrow::Int64Array>(
      rejects->GetColumnByName("line")->chunk(0));
  ASSERT_EQ(lines->length(), 4);
  EXPECT_EQ(std::vector<int64_t>(lines->raw_values(), lines->raw_values() + 4),
            (std::vector<int64_t>{3, 5, 8, 9}));
  EXPECT_EQ(collecting.LastStats().bad_records_collected, 4);

  options.on_bad_lines = BadLineAction::kSkip;
  ASSERT_OK_AND_ASSIGN(auto skipping, Dataset::ReadCsv({dir_.Join("bad.csv")}, options));
  ASSERT_OK_AND_ASSIGN(auto count, skipping.Count());
  EXPECT_EQ(count, 3);
  EXPECT_EQ(skipping.LastStats().bad_records_skipped, 4);
}

// ---- JSON lines ---------------------------------------------------------------------
TEST_F(ReadersTest, JsonNestingBeyondTheLimitIsRefusedBeforeParsing) {
  const auto nested = [](int depth) {
    return "{\"deep\": " + std::string(depth - 1, '[') + std::string(depth - 1, ']') + "}\n";
  };
  auto schema = arrow::schema({arrow::field("a", arrow::int64())});
  ReadJsonOptions options;
  options.schema = schema;
  for (int depth : {18000, 100000}) {
    WriteFile(dir_.Join("deep.jsonl"), "{\"a\": 1}\n" + nested(depth));
    ASSERT_OK_AND_ASSIGN(auto source, io::MakeJsonSource({dir_.Join("deep.jsonl")}, options));
    auto status = ReadError(source);
    EXPECT_ERROR_MENTIONS(status, dir_.Join("deep.jsonl") + ": line 2:");
    EXPECT_ERROR_MENTIONS(status, "nested deeper than 1000");
    EXPECT_ERROR_MENTIONS(io::MakeJsonSource({dir_.Join("deep.jsonl")}, {}).status(), "line 2");
  }
  // At the limit (the object counts as a level) the line reads.
  WriteFile(dir_.Join("limit.jsonl"), "{\"a\": 1}\n" + nested(kMaxJsonNestingDepth));
  ASSERT_OK_AND_ASSIGN(auto at_limit, io::MakeJsonSource({dir_.Join("limit.jsonl")}, options));
  EXPECT_EQ(Read(at_limit)->num_rows(), 2);
}


TEST_F(ReadersTest, JsonReadsLinesWithTheFirstFilesSchema) {
  WriteFile(dir_.Join("json/1.jsonl"),
            "{\"id\": 1, \"tags\": [\"a\"], \"user\": {\"name\": \"ann\"}, \"note\": null}\n"
            "{\"id\": 2, \"tags\": [], \"user\": {\"name\": \"bob\"}}\n");
  WriteFile(dir_.Join("json/2.jsonl.gz"),
            Compress(arrow::Compression::GZIP,
                     "{\"user\": {\"name\": \"cy\"}, \"id\": 3, \"note\": \"hi\"}\n"));
  ReadJsonOptions options;
  options.include_paths = true;
  ASSERT_OK_AND_ASSIGN(auto source, io::MakeJsonSource({dir_.Join("json")}, options));
  EXPECT_EQ(source->name(), "ReadJson");
  EXPECT_EQ(source->schema()->field_names(),
            (std::vector<std::string>{"id", "tags", "user", "note", "path"}));
  // "note" was null in every inferred row; it is read as a string.
  EXPECT_EQ(source->schema()->GetFieldByName("note")->type()->id(), arrow::Type::STRING);
  auto table = Read(source);
  ASSERT_EQ(table->num_rows(), 3);
  EXPECT_EQ(Strings(table, "path")[2], dir_.Join("json/2.jsonl.gz"));
  EXPECT_EQ(table->GetColumnByName("note")->GetScalar(2).ValueOrDie()->ToString(), "hi");

  plan::Pushdown pushdown;
  pushdown.columns = std::vector<std::string>{"note", "id"};
  pushdown.limit = 2;
  auto head = Read(source, pushdown);
  EXPECT_EQ(head->schema()->field_names(), (std::vector<std::string>{"note", "id"}));
  EXPECT_EQ(head->num_rows(), 2);
}

TEST_F(ReadersTest, JsonMalformedLineNamesFileAndLine) {
  std::string lines;
  for (int i = 0; i < 50; ++i) lines += "{\"a\": " + std::to_string(i) + "}\n";
  WriteFile(dir_.Join("json/1.jsonl"), lines);
  WriteFile(dir_.Join("json/2.jsonl"), "{\"a\": 1}\n{\"a\": 2}\n{\"a\": \n");
  ASSERT_OK_AND_ASSIGN(auto source, io::MakeJsonSource({dir_.Join("json")}, {}));
  auto status = ReadError(source);
  EXPECT_ERROR_MENTIONS(status, dir_.Join("json/2.jsonl"));
  EXPECT_ERROR_MENTIONS(status, "line 3");

  WriteFile(dir_.Join("types/1.jsonl"), "{\"a\": 1}\n");
  WriteFile(dir_.Join("types/2.jsonl"), "{\"a\": \"one\"}\n");
  ASSERT_OK_AND_ASSIGN(auto changed, io::MakeJsonSource({dir_.Join("types")}, {}));
  status = ReadError(changed);
  EXPECT_ERROR_MENTIONS(status, dir_.Join("types/2.jsonl"));
  EXPECT_ERROR_MENTIONS(status, "ReadJsonOptions::schema");

  WriteFile(dir_.Join("extra/1.jsonl"), "{\"a\": 1}\n");
  WriteFile(dir_.Join("extra/2.jsonl"), "{\"a\": 2, \"b\": 3}\n");
  ASSERT_OK_AND_ASSIGN(auto extra, io::MakeJsonSource({dir_.Join("extra")}, {}));
  EXPECT_ERROR_MENTIONS(ReadError(extra), dir_.Join("extra/2.jsonl"));

  // With a schema given, other fields are ignored and missing ones are null.
  ReadJsonOptions with_schema;
  with_schema.schema = arrow::schema({arrow::field("b", arrow::float64())});
  ASSERT_OK_AND_ASSIGN(auto chosen, io::MakeJsonSource({dir_.Join("extra")}, with_schema));
  auto table = Read(chosen);
  ExpectTablesEqual(TableFromJson(with_schema.schema, R"([{"b": null}, {"b": 3}])"), table);

  WriteFile(dir_.Join("bad.jsonl"), "not json\n");
  EXPECT_ERROR_MENTIONS(io::MakeJsonSource({dir_.Join("bad.jsonl")}, {}).status(),
                        dir_.Join("bad.jsonl"));
}

// ---- text ---------------------------------------------------------------------------

TEST_F(ReadersTest, TextSplitsLines) {
  WriteFile(dir_.Join("t/1.txt"), "first\r\nsecond\n\nfourth\n");
  WriteFile(dir_.Join("t/2.txt"), "no newline at end");
  WriteFile(dir_.Join("t/3.txt"), "");
  WriteFile(dir_.Join("t/4.txt"), "\n");
  ReadTextOptions options;
  options.include_paths = true;
  ASSERT_OK_AND_ASSIGN(auto source, io::MakeTextSource({dir_.Join("t")}, options));
  EXPECT_EQ(source->name(), "ReadText");
  EXPECT_EQ(source->schema()->field_names(), (std::vector<std::string>{"text", "path"}));
  auto table = Read(source);
  EXPECT_EQ(Strings(table, "text"),
            (std::vector<std::string>{"first", "second", "", "fourth", "no newline at end", ""}));
  EXPECT_EQ(
      Strings(table, "path"),
      (std::vector<std::string>{dir_.Join("t/1.txt"), dir_.Join("t/1.txt"), dir_.Join("t/1.txt"),
                                dir_.Join("t/1.txt"), dir_.Join("t/2.txt"), dir_.Join("t/4.txt")}));

  options.drop_empty_lines = true;
  options.include_paths = false;
  ASSERT_OK_AND_ASSIGN(auto dropping, io::MakeTextSource({dir_.Join("t")}, options));
  EXPECT_EQ(Strings(Read(dropping), "text"),
            (std::vector<std::string>{"first", "second", "fourth", "no newline at end"}));

  plan::Pushdown count_only;
  count_only.columns = std::vector<std::string>{};
  EXPECT_EQ(Read(source, count_only)->num_rows(), 6);
}

TEST_F(ReadersTest, TextCarriesLinesAcrossLargeReads) {
  // More than one 8 MiB read, with lines of many lengths crossing read boundaries.
  std::vector<std::string> lines;
  std::string contents;
  for (int i = 0; contents.size() < (20u << 20); ++i) {
    std::string line = std::to_string(i) + std::string(i % 997, 'x');
    if (i % 5000 == 0) line += std::string(3 << 20, 'y');  // longer than a batch's worth
    contents += line + (i % 3 == 0 ? "\r\n" : "\n");
    lines.push_back(std::move(line));
  }
  WriteFile(dir_.Join("big.txt"), contents);
  ASSERT_OK_AND_ASSIGN(auto source, io::MakeTextSource({dir_.Join("big.txt")}, {}));
  auto batches = ReadBatches(source);
  std::vector<std::string> read;
  for (const auto& batch : batches) {
    EXPECT_LE(batch->num_rows(), 1000);
    auto text = std::static_pointer_cast<arrow::StringArray>(batch->column(0));
    ASSERT_OK(text->ValidateFull());
    for (int64_t i = 0; i < text->length(); ++i) read.push_back(text->GetString(i));
  }
  ASSERT_EQ(read.size(), lines.size());
  for (size_t i = 0; i < lines.size(); ++i) ASSERT_EQ(read[i], lines[i]) << "line " << i;

  plan::Pushdown limited;
  limited.limit = 1234;
  auto head = Read(source, limited);
  ASSERT_EQ(head->num_rows(), 1234);
  EXPECT_EQ(Strings(head, "text")[1233], lines[1233]);
}

TEST_F(ReadersTest, TextRejectsInvalidUtf8NamingFileAndLine) {
  WriteFile(dir_.Join("bad.txt"), "fine\nalso fine\nbad \xff\xfe byte\n");
  ASSERT_OK_AND_ASSIGN(auto source, io::MakeTextSource({dir_.Join("bad.txt")}, {}));
  auto status = ReadError(source);
  EXPECT_ERROR_MENTIONS(status, dir_.Join("bad.txt"));
  EXPECT_ERROR_MENTIONS(status, "Line 3");
}

}  // namespace
}  // namespace sluice
