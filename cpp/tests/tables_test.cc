// The pieces that make a directory a table: SQL-style filters, the manifest, staging
// ownership, clean-up of abandoned writes, the catalog store and partition pruning.

#include <arrow/api.h>
#include <arrow/filesystem/localfs.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "catalog/catalog_store.h"
#include "catalog/partition_pruning.h"
#include "catalog/table_commit.h"
#include "storage/filesystems.h"
#include "storage/local_tree_walk.h"
#include "formats/file_sources.h"
#include "table/table_manifest.h"
#include "table/table_vacuum.h"
#include "table/write_owner.h"
#include "plan/logical_plan.h"
#include "sluice/catalog.h"
#include "sluice/dataset.h"
#include "sluice/vacuum.h"
#include "test_data.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

arrow::Result<bool> Matches(const std::string& predicate, const std::string& rows_json,
                            const std::shared_ptr<arrow::Schema>& schema, int64_t* count) {
  ARROW_ASSIGN_OR_RAISE(Expression filter, ParsePredicate(predicate));
  ARROW_ASSIGN_OR_RAISE(auto ds, Dataset::FromTable(testing::TableFromJson(schema, rows_json)));
  ARROW_ASSIGN_OR_RAISE(ds, ds.Filter(filter));
  ARROW_ASSIGN_OR_RAISE(*count, ds.Count());
  return true;
}

TEST(ParsePredicateTest, EvaluatesLikeSql) {
  auto schema =
      arrow::schema({arrow::field("year", arrow::int32()), arrow::field("market", arrow::utf8()),
                     arrow::field("score", arrow::float64())});
  const std::string rows = R"([
    {"year": 2014, "market": "US", "score": 1.5},
    {"year": 2015, "market": "UK", "score": 2.5},
    {"year": 2015, "market": "US", "score": null},
    {"year": 2016, "market": "DE", "score": -3},
    {"year": null, "market": "it's", "score": 0}])";
  const std::vector<std::pair<std::string, int64_t>> cases = {
      {"year = 2015 AND market IN ('US','UK')", 2},
      {"year == 2015 and market in ('US')", 1},
      {"market NOT IN ('US', 'UK')", 2},
      {"NOT (year = 2015) OR market = 'UK'", 3},  // null year: NOT(null) drops the row
      {"year BETWEEN 2014 AND 2015", 3},
      {"year NOT BETWEEN 2014 AND 2015", 1},
      {"score IS NULL", 1},
      {"score IS NOT NULL AND score < 0", 1},
      {"score >= -3.0 AND score <> 0", 3},
      {"\"year\" % 2 = 0 AND `market` != 'DE'", 1},
      {"market = 'it''s'", 1},
      {"year + 1 > 2016", 1},
      {"year * 2 / 4 = 1007.5", 2},
      {"TRUE", 5},
      {"year IN (2014, 2016.0)", 2},
  };
  for (const auto& [predicate, expected] : cases) {
    SCOPED_TRACE(predicate);
    int64_t count = -1;
    ASSERT_OK(Matches(predicate, rows, schema, &count).status());
    EXPECT_EQ(count, expected);
  }
}

TEST(ParsePredicateTest, ErrorsPointAtThePosition) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "empty"},
      {"year = = 2015", "position 8"},
      {"year = 2015 AND", "unexpected end"},
      {"market IN ('US', 2)", "one kind"},
      {"market IN ()", "expected a value"},
      {"market = 'US", "unterminated quote"},
      {"year ! 2015", "'!' must be followed"},
      {"year = 2015 2016", "unexpected '2016'"},
      {"year IS 5", "expected NULL"},
      {"market IN ('US', NULL)", "NULL is not allowed"},
      {"year # 2", "unexpected character"},
  };
  for (const auto& [text, fragment] : cases) {
    SCOPED_TRACE(text);
    auto parsed = ParsePredicate(text);
    ASSERT_FALSE(parsed.ok());
    EXPECT_TRUE(parsed.status().IsInvalid());
    EXPECT_NE(parsed.status().message().find(fragment), std::string::npos)
        << parsed.status().ToString();
  }
}

TEST(TableManifestTest, RoundTripAndForeignMarkers) {
  testing::TempDir dir;
  arrow::fs::LocalFileSystem local;
  ASSERT_OK_AND_ASSIGN(auto missing, io::ReadManifest(&local, dir.path().string()));
  EXPECT_FALSE(missing.has_value());

  io::TableManifest manifest;
  manifest.snapshot = 7;
  manifest.write_id = "w";
  manifest.operation = "append";
  manifest.partition_cols = {"k"};
  manifest.files = {{"k=b/part-1.parquet", 5, 100}, {"k=a/part-2.parquet", -1, 7}};
  ASSERT_OK(io::WriteManifest(&local, dir.path().string(), manifest));
  ASSERT_OK_AND_ASSIGN(auto read, io::ReadManifest(&local, dir.path().string()));
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->snapshot, 7);
  EXPECT_EQ(read->partition_cols, std::vector<std::string>{"k"});
  ASSERT_EQ(read->files.size(), 2u);
  EXPECT_EQ(read->files[0].path, "k=a/part-2.parquet");  // sorted
  EXPECT_EQ(read->files[1].rows, 5);
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().filename(), "_SUCCESS");  // no temporary file left
  }

  // Markers of other tools are not manifests; a damaged Sluice manifest is an error.
  const std::string success = dir.Join("_SUCCESS");
  for (const std::string text : {"", "\n", "written by spark", "{\"other\": 1}"}) {
    std::ofstream(success, std::ios::trunc) << text;
    ASSERT_OK_AND_ASSIGN(auto marker, io::ReadManifest(&local, dir.path().string()));
    EXPECT_FALSE(marker.has_value()) << text;
  }
  std::ofstream(success, std::ios::trunc) << "{\"sluice_manifest\": 1, \"snapshot\": ";
  auto damaged = io::ReadManifest(&local, dir.path().string());
  ASSERT_FALSE(damaged.ok());
  EXPECT_NE(damaged.status().message().find("not valid JSON"), std::string::npos);
  std::ofstream(success, std::ios::trunc)
      << R"({"sluice_manifest": 1, "snapshot": 1, "files": [{"path": "../escape"}]})";
  EXPECT_FALSE(io::ReadManifest(&local, dir.path().string()).ok());
  std::ofstream(success, std::ios::trunc)
      << R"({"sluice_manifest": 9, "snapshot": 1, "files": []})";
  auto newer = io::ReadManifest(&local, dir.path().string());
  ASSERT_FALSE(newer.ok());
  EXPECT_TRUE(newer.status().IsNotImplemented());
}

TEST(WriteOwnerTest, StagingNamesAndLiveness) {
  io::WriteOwner me = io::CurrentWriteOwner(io::RandomUuid());
  const std::string name = io::StagingDirName(me);
  auto parsed = io::ParseStagingDirName(name);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->write_id, me.write_id);
  EXPECT_EQ(parsed->pid, me.pid);
  EXPECT_EQ(parsed->host, me.host);
  EXPECT_FALSE(io::IsAbandoned(*parsed, 3600));  // this very process

  io::WriteOwner dead = me;
  dead.pid = 999999999;  // beyond pid_max
  EXPECT_TRUE(io::IsAbandoned(dead, 3600));
  io::WriteOwner reused = me;
  reused.start_ticks += 1;  // same pid, another process
  EXPECT_TRUE(io::IsAbandoned(reused, 3600));
  io::WriteOwner remote = me;
  remote.host = "another-host";
  EXPECT_FALSE(io::IsAbandoned(remote, 3600));
  remote.started_unix -= 7200;
  EXPECT_TRUE(io::IsAbandoned(remote, 3600));

  EXPECT_FALSE(io::ParseStagingDirName("_sluice_staging_x").has_value());
  // Out of range numbers are not an owner (and must not throw).
  EXPECT_FALSE(
      io::ParseStagingDirName("_sluice_staging_x.99999999999999999999.1.1.host").has_value());
  EXPECT_FALSE(io::ParseStagingDirName("part-0.parquet").has_value());
  EXPECT_EQ(
      io::SluiceDataFileWriteId("part-00001-002-0f0e0d0c-0b0a-4908-8706-050403020100.parquet"),
      std::optional<std::string>("0f0e0d0c-0b0a-4908-8706-050403020100"));
  EXPECT_FALSE(io::SluiceDataFileWriteId("part-1-2-notauuid.parquet").has_value());
  EXPECT_FALSE(io::SluiceDataFileWriteId("notes.txt").has_value());
}

std::shared_ptr<arrow::Table> KeyedRows(int64_t rows, int64_t version) {
  arrow::Int64Builder ids, versions;
  arrow::StringBuilder keys;
  for (int64_t i = 0; i < rows; ++i) {
    EXPECT_TRUE(ids.Append(i).ok());
    EXPECT_TRUE(versions.Append(version).ok());
    EXPECT_TRUE(keys.Append(i % 2 ? "a" : "b").ok());
  }
  return arrow::Table::Make(
      arrow::schema({arrow::field("id", arrow::int64()), arrow::field("v", arrow::int64()),
                     arrow::field("k", arrow::utf8())}),
      {ids.Finish().ValueOrDie(), versions.Finish().ValueOrDie(), keys.Finish().ValueOrDie()});
}

arrow::Result<WriteResult> WriteRows(const std::shared_ptr<arrow::Table>& table,
                                     const std::string& path, WriteMode mode) {
  ARROW_ASSIGN_OR_RAISE(auto ds, Dataset::FromTable(table));
  WriteOptions options;
  options.mode = mode;
  options.partition_cols = {"k"};
  return ds.WriteParquet(path, options);
}

TEST(AbandonedWritesTest, NextWriteAndVacuumRemoveWhatDeadWritersLeft) {
  testing::TempDir dir;
  const std::string target = dir.Join("t");
  ASSERT_OK(WriteRows(KeyedRows(10, 1), target, WriteMode::kError).status());

  // What a writer killed while publishing leaves: its staging directory and a published
  // file the manifest does not list. A live writer's staging directory must survive.
  io::WriteOwner dead = io::CurrentWriteOwner("0f0e0d0c-0b0a-4908-8706-050403020100");
  dead.pid = 999999999;
  const fs::path dead_staging = fs::path(target) / io::StagingDirName(dead);
  fs::create_directories(dead_staging / "k=a");
  std::ofstream(dead_staging / "k=a" / "part-00000-000.parquet") << "partial";
  const fs::path orphan =
      fs::path(target) / "k=a" / ("part-00003-000-" + dead.write_id + ".parquet");
  fs::copy_file(*fs::directory_iterator(fs::path(target) / "k=b"), orphan);
  io::WriteOwner live = io::CurrentWriteOwner(io::RandomUuid());
  const fs::path live_staging = fs::path(target) / io::StagingDirName(live);
  fs::create_directories(live_staging);
  std::ofstream(fs::path(target) / "k=a" / "notes.txt") << "someone else's";

  ASSERT_OK_AND_ASSIGN(auto before, Dataset::ReadParquet({target}));
  ASSERT_OK_AND_ASSIGN(int64_t rows_before, before.Count());
  EXPECT_EQ(rows_before, 10);  // the manifest hides the orphan

  ASSERT_OK(WriteRows(KeyedRows(4, 2), target, WriteMode::kAppend).status());
  EXPECT_FALSE(fs::exists(dead_staging));
  EXPECT_FALSE(fs::exists(orphan));
  EXPECT_TRUE(fs::exists(live_staging));
  EXPECT_TRUE(fs::exists(fs::path(target) / "k=a" / "notes.txt"));
  ASSERT_OK_AND_ASSIGN(auto after, Dataset::ReadParquet({target}));
  ASSERT_OK_AND_ASSIGN(int64_t rows_after, after.Count());
  EXPECT_EQ(rows_after, 14);

  // Vacuum scans everything: an orphan without a staging directory goes too.
  fs::copy_file(*fs::directory_iterator(fs::path(target) / "k=b"), orphan);
  ASSERT_OK_AND_ASSIGN(VacuumResult vacuumed, Vacuum(target));
  EXPECT_EQ(vacuumed.removed_files, std::vector<std::string>{orphan.string()});
  EXPECT_TRUE(vacuumed.removed_staging_dirs.empty());
  EXPECT_TRUE(fs::exists(live_staging));
  EXPECT_FALSE(Vacuum(dir.Join("missing")).ok());
  EXPECT_FALSE(Vacuum(target, -1).ok());
}

std::vector<std::string> WalkedPaths(const std::vector<io::TreeEntry>& entries,
                                     const fs::path& base) {
  std::vector<std::string> out;
  for (const auto& entry : entries) {
    std::string path = fs::path(entry.info.path()).lexically_relative(base).string();
    if (entry.symlink) path += entry.escapes_root ? " (escapes)" : " (link)";
    out.push_back(path);
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(LocalTreeWalkTest, LoopsOnceLinksReportedOrFollowedInsideTheRoot) {
  testing::TempDir dir;
  const fs::path root = dir.path() / "root";
  fs::create_directories(root / "sub");
  fs::create_directories(dir.path() / "outside");
  std::ofstream(root / "a.csv") << "x";
  std::ofstream(root / "sub" / "b.csv") << "x";
  std::ofstream(dir.path() / "outside" / "c.csv") << "x";
  fs::create_directory_symlink(".", root / "loop1");
  fs::create_directory_symlink("..", root / "sub" / "loop2");
  fs::create_directory_symlink("sub", root / "alias");
  fs::create_symlink("a.csv", root / "same.csv");
  fs::create_directory_symlink("../outside", root / "out");
  using V = std::vector<std::string>;

  io::TreeWalkOptions report;  // what writers and vacuum see
  ASSERT_OK_AND_ASSIGN(auto reported, io::WalkLocalTree(root.string(), report));
  EXPECT_EQ(WalkedPaths(reported, root),
            (V{"a.csv", "alias (link)", "loop1 (link)", "out (link)", "same.csv (link)",
               "sub/b.csv", "sub/loop2 (link)"}));

  io::TreeWalkOptions inside;
  inside.symlinks = io::SymlinkPolicy::kFollowInsideRoot;
  ASSERT_OK_AND_ASSIGN(auto followed, io::WalkLocalTree(root.string(), inside));
  // Each file once, under its own path; the link out is reported, not entered.
  EXPECT_EQ(WalkedPaths(followed, root), (V{"a.csv", "out (escapes)", "sub/b.csv"}));

  io::TreeWalkOptions all;
  all.symlinks = io::SymlinkPolicy::kFollowAll;
  ASSERT_OK_AND_ASSIGN(auto everything, io::WalkLocalTree(root.string(), all));
  EXPECT_EQ(WalkedPaths(everything, root), (V{"a.csv", "out/c.csv", "sub/b.csv"}));
  for (const auto& entry : everything) {
    // The real path says where a file reached through a link really is.
    const std::string name = fs::path(entry.info.path()).filename().string();
    const fs::path real = name == "c.csv" ? dir.path() / "outside" / name
                          : name == "a.csv" ? root / name
                                            : root / "sub" / name;
    EXPECT_EQ(entry.real_path, fs::canonical(real).string());
  }
}

TEST(LocalTreeWalkTest, DeletesNeverGoThroughALink) {
  testing::TempDir dir;
  const fs::path target = dir.path() / "target";
  fs::create_directories(target);
  fs::create_directories(dir.path() / "outside");
  std::ofstream(dir.path() / "outside" / "keep.csv") << "x";
  fs::create_directory_symlink("../outside", target / "link");
  fs::create_symlink("../outside/keep.csv", target / "file_link");
  std::string fs_path;
  ASSERT_OK_AND_ASSIGN(auto filesystem, io::FileSystemFromUriOrPath(target.string(), &fs_path));

  const arrow::Status through_link = io::DeleteFilesInParallel(
      filesystem.get(), target.string(), {(target / "link" / "keep.csv").string()});
  EXPECT_NE(through_link.message().find("symbolic link"), std::string::npos)
      << through_link.ToString();
  const arrow::Status outside = io::DeleteFilesInParallel(
      filesystem.get(), target.string(), {(dir.path() / "outside" / "keep.csv").string()});
  EXPECT_NE(outside.message().find("not below"), std::string::npos) << outside.ToString();
  // A link itself goes, never what it points to.
  ASSERT_OK(io::DeleteFilesInParallel(filesystem.get(), target.string(),
                                      {(target / "file_link").string()}));
  EXPECT_FALSE(fs::is_symlink(target / "file_link"));
  ASSERT_OK_AND_ASSIGN(bool removed, io::RemoveDirIfEmpty(filesystem.get(),
                                                          (target / "link").string()));
  EXPECT_FALSE(removed);
  EXPECT_TRUE(fs::exists(dir.path() / "outside" / "keep.csv"));
  EXPECT_TRUE(fs::is_symlink(target / "link"));
}

TEST(CatalogStoreTest, TablesPartitionsVersionsAndLocks) {
  testing::TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto catalog, Catalog::Open(dir.Join("c/catalog.db")));
  ASSERT_OK(catalog->CreateDatabase("db", "test", ""));
  EXPECT_FALSE(catalog->CreateDatabase("db").ok());
  ASSERT_OK(catalog->CreateDatabase("db", "", "", /*if_not_exists=*/true));
  EXPECT_FALSE(catalog->CreateDatabase("bad name").ok());
  auto schema =
      arrow::schema({arrow::field("id", arrow::int64()), arrow::field("year", arrow::int32())});
  CreateTableOptions options;
  options.location = dir.Join("t");
  options.schema = schema;
  options.partition_cols = {"year"};
  options.parameters = {{"owner", "etl"}};
  ASSERT_OK(catalog->CreateTable("db.t", options));
  ASSERT_OK_AND_ASSIGN(TableInfo info, catalog->DescribeTable("db.t"));
  EXPECT_TRUE(info.schema->Equals(*schema));
  EXPECT_EQ(info.parameters.at("owner"), "etl");
  ASSERT_OK(catalog->SetTableParameters("db.t", {{"owner", ""}, {"tier", "gold"}}));
  ASSERT_OK_AND_ASSIGN(info, catalog->DescribeTable("db.t"));
  EXPECT_EQ(info.parameters, (std::map<std::string, std::string>{{"tier", "gold"}}));
  EXPECT_EQ(info.version, 2);

  auto missing = catalog->DescribeTable("db.nope");
  ASSERT_FALSE(missing.ok());
  ASSERT_NE(missing.status().detail(), nullptr);
  EXPECT_EQ(std::string(missing.status().detail()->type_id()), kNotInCatalogDetail);
  EXPECT_FALSE(catalog->DropDatabase("db").ok());  // has a table
  ASSERT_OK(catalog->DropDatabase("db", /*cascade=*/true));
  EXPECT_FALSE(catalog->DescribeTable("db.t").ok());

  // Lock rows: one owner at a time; a dead owner's lock is taken over.
  ASSERT_OK_AND_ASSIGN(auto store, catalog::CatalogStore::Open(dir.Join("c/catalog.db")));
  const std::string me = io::StagingDirName(io::CurrentWriteOwner("a"));
  ASSERT_OK_AND_ASSIGN(bool first, store->TryLock("db.t", me));
  EXPECT_TRUE(first);
  ASSERT_OK_AND_ASSIGN(bool second, store->TryLock("db.t", me + "x"));
  EXPECT_FALSE(second);
  ASSERT_OK(store->Unlock("db.t", me));
  io::WriteOwner dead = io::CurrentWriteOwner("b");
  dead.pid = 999999999;
  ASSERT_OK_AND_ASSIGN(bool dead_took, store->TryLock("db.u", io::StagingDirName(dead)));
  EXPECT_TRUE(dead_took);
  ASSERT_OK_AND_ASSIGN(bool taken_over, store->TryLock("db.u", me));
  EXPECT_TRUE(taken_over);

  // Not a catalog: a clear error.
  std::ofstream(dir.Join("junk.db")) << std::string(4096, 'x');
  auto junk = Catalog::Open(dir.Join("junk.db"));
  ASSERT_FALSE(junk.ok());
  EXPECT_NE(junk.status().message().find("junk.db"), std::string::npos) << junk.status().ToString();
}

TEST(PartitionPruningTest, KeepsPartitionsTheFilterCanMatch) {
  auto schema =
      arrow::schema({arrow::field("id", arrow::int64()), arrow::field("year", arrow::int32()),
                     arrow::field("market", arrow::utf8())});
  std::vector<PartitionInfo> partitions;
  for (const std::string spec :
       {"year=2014/market=US", "year=2015/market=US", "year=2015/market=UK",
        "year=2015/market=__HIVE_DEFAULT_PARTITION__", "year=2016/market=a%2Fb"}) {
    PartitionInfo partition;
    partition.spec = spec;
    partition.values = catalog::ParsePartitionSpec(spec);
    partitions.push_back(partition);
  }
  EXPECT_EQ(partitions[4].values[1].second, std::optional<std::string>("a/b"));
  EXPECT_FALSE(partitions[3].values[1].second.has_value());
  auto specs_for = [&](const std::string& text, bool partition_only) {
    std::vector<std::string> specs;
    auto filter = ParsePredicate(text).ValueOrDie();
    auto kept =
        catalog::PrunePartitions(partitions, *schema, {"year", "market"}, filter, partition_only);
    EXPECT_TRUE(kept.ok()) << kept.status().ToString();
    if (kept.ok()) {
      for (const auto& p : *kept) specs.push_back(p.spec);
    }
    return specs;
  };
  EXPECT_EQ(specs_for("year = 2015 AND market IN ('US','UK')", true),
            (std::vector<std::string>{"year=2015/market=US", "year=2015/market=UK"}));
  EXPECT_EQ(specs_for("market IS NULL", true),
            (std::vector<std::string>{"year=2015/market=__HIVE_DEFAULT_PARTITION__"}));
  EXPECT_EQ(specs_for("market = 'a/b'", true),
            (std::vector<std::string>{"year=2016/market=a%2Fb"}));
  EXPECT_EQ(specs_for("year > 2014 AND id = 3", false).size(), 4u);  // id is left to rows
  auto filter = ParsePredicate("id = 3").ValueOrDie();
  EXPECT_FALSE(
      catalog::PrunePartitions(partitions, *schema, {"year", "market"}, filter, true).ok());
  auto unknown = ParsePredicate("nope = 3").ValueOrDie();
  EXPECT_FALSE(catalog::PrunePartitions(partitions, *schema, {"year"}, unknown, false).ok());
}

TEST(EvolveSchemaTest, AddsNullableColumnsAndRefusesChangedTypes) {
  auto current = arrow::schema({arrow::field("id", arrow::int64(), false)});
  auto incoming = arrow::schema(
      {arrow::field("id", arrow::int64(), false), arrow::field("score", arrow::float64(), false)});
  std::string change;
  ASSERT_OK_AND_ASSIGN(auto evolved, catalog::EvolveSchema(current, incoming, "db.t", &change));
  EXPECT_EQ(evolved->num_fields(), 2);
  EXPECT_TRUE(evolved->field(1)->nullable());
  EXPECT_EQ(change, "added columns: score (double)");
  auto changed = arrow::schema({arrow::field("id", arrow::utf8())});
  auto refused = catalog::EvolveSchema(current, changed, "db.t", &change);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.status().IsTypeError());
  EXPECT_NE(refused.status().message().find("'id' of table 'db.t' is int64"), std::string::npos);
}

}  // namespace
}  // namespace sluice
