#include "catalog/table_crawler.h"

#include <arrow/type.h>

#include <chrono>
#include <map>
#include <set>

#include "catalog/table_commit.h"
#include "table/file_listing.h"
#include "storage/filesystems.h"
#include "formats/file_sources.h"
#include "storage/storage_paths.h"
#include "table/table_manifest.h"
#include "sluice/dataset.h"

namespace sluice::catalog {

namespace {

using io::ParentOf;

std::string FormatFromName(const std::string& name) {
  auto ends_with = [&](const std::string& suffix) {
    return name.size() >= suffix.size() &&
           name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends_with(".parquet") || ends_with(".pq")) return "parquet";
  for (const char* ext : {".csv", ".csv.gz", ".csv.zst", ".csv.bz2", ".tsv", ".tsv.gz"}) {
    if (ends_with(ext)) return "csv";
  }
  for (const char* ext : {".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz"}) {
    if (ends_with(ext)) return "json";
  }
  return "";
}

/// The directory spec of a file below `base`, e.g. "year=2015/market=US".
std::string SpecOf(const std::string& file, const std::string& base) {
  std::string rest = file.substr(base.size());
  while (!rest.empty() && rest.front() == '/') rest.erase(0, 1);
  return ParentOf(rest);
}

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

arrow::Result<CrawlResult> CrawlTable(CatalogStore* store, const std::string& path,
                                      const std::string& table, const std::string& format_hint,
                                      bool follow_symlinks) {
  ARROW_ASSIGN_OR_RAISE(TableName name, ParseTableName(table));
  const std::string location = io::NormalizeUriOrPath(path);
  ARROW_ASSIGN_OR_RAISE(io::ListedFiles listed, io::ListFiles({location}, {follow_symlinks}));
  if (listed.files.front().base_dir.empty()) {
    return arrow::Status::Invalid("crawl: '", path, "' is a file; crawl the directory of a table");
  }
  const std::string base = listed.files.front().base_dir;
  std::string format = format_hint;
  if (format.empty()) format = FormatFromName(listed.files.front().path());
  if (format.empty()) {
    return arrow::Status::Invalid("crawl: cannot tell the format of '", listed.files.front().path(),
                                  "' from its name; pass the format");
  }
  ARROW_ASSIGN_OR_RAISE(auto existing, store->FindTable(name));
  if (existing && existing->info.location != location) {
    return arrow::Status::Invalid("crawl: table '", name.qualified(), "' is registered at '",
                                  existing->info.location, "', not '", location, "'");
  }
  if (existing && existing->info.format != format) {
    return arrow::Status::Invalid("crawl: table '", name.qualified(), "' holds ",
                                  existing->info.format, " files, '", path, "' holds ", format);
  }
  std::set<std::string> known_specs;
  if (existing) {
    ARROW_ASSIGN_OR_RAISE(auto partitions, store->ListPartitions(existing->id));
    for (const auto& partition : partitions) known_specs.insert(partition.spec);
  }

  // Only files of partitions the catalog does not know are inspected.
  io::ListedFiles fresh{listed.filesystem, {}};
  std::set<std::string> found_specs;
  for (const auto& file : listed.files) {
    const std::string spec = SpecOf(file.path(), base);
    found_specs.insert(spec);
    if (known_specs.count(spec) == 0) fresh.files.push_back(file);
  }

  CrawlResult result;
  result.table = name.qualified();
  for (const auto& spec : known_specs) {
    if (found_specs.count(spec) == 0) result.missing_partitions.push_back(spec);
  }
  result.unchanged_partitions =
      static_cast<int64_t>(known_specs.size() - result.missing_partitions.size());

  std::shared_ptr<arrow::Schema> schema;
  std::vector<std::string> partition_cols;
  std::map<std::string, PartitionInfo> partitions;
  if (!fresh.files.empty()) {
    if (format == "parquet") {
      ARROW_ASSIGN_OR_RAISE(io::ParquetInventory inventory, io::InspectParquetFiles(fresh));
      schema = inventory.schema;
      partition_cols = inventory.partition_cols;
      for (const auto& file : inventory.files) {
        AddFileToPartition(&partitions, file.partition_dir, location, file.rows, file.bytes, 0);
      }
    } else {
      // Text formats: the schema from the readers' inference; rows unknown without
      // reading every file.
      auto open = [&]() -> arrow::Result<Dataset> {
        if (format == "csv") {
          ReadCsvOptions options;
          options.follow_symlinks = follow_symlinks;
          return Dataset::ReadCsv({location}, options);
        }
        ReadJsonOptions options;
        options.follow_symlinks = follow_symlinks;
        return Dataset::ReadJson({location}, options);
      };
      ARROW_ASSIGN_OR_RAISE(Dataset dataset, open());
      ARROW_ASSIGN_OR_RAISE(schema, dataset.Schema());
      for (const auto& file : fresh.files) {
        AddFileToPartition(&partitions, SpecOf(file.path(), base), location, -1, file.info.size(),
                           0);
      }
      for (const auto& [column, value] :
           ParsePartitionSpec(SpecOf(fresh.files.front().path(), base))) {
        partition_cols.push_back(column);
      }
    }
  }

  ARROW_RETURN_NOT_OK(store->InTransaction([&]() -> arrow::Status {
    DatabaseInfo database;
    database.name = name.database;
    ARROW_RETURN_NOT_OK(store->CreateDatabase(database, /*if_not_exists=*/true));
    ARROW_ASSIGN_OR_RAISE(auto found, store->FindTable(name));
    TableRecord record;
    if (found) {
      record = std::move(*found);
      if (!partitions.empty() && !partition_cols.empty() && !record.info.partition_cols.empty() &&
          partition_cols != record.info.partition_cols) {
        return arrow::Status::Invalid("crawl: new partitions of '", name.qualified(),
                                      "' have other partition columns than the table");
      }
      ARROW_ASSIGN_OR_RAISE(
          record.info.schema,
          EvolveSchema(record.info.schema, schema, name.qualified(), &result.schema_change));
    } else {
      record.info.database = name.database;
      record.info.name = name.table;
      record.info.location = location;
      record.info.format = format;
      record.info.schema = schema;
      record.info.partition_cols = partition_cols;
      ARROW_RETURN_NOT_OK(store->InsertTable(&record));
      result.created = true;
    }
    if (partitions.empty() && !result.created) return arrow::Status::OK();
    const int64_t version = record.info.version + 1;
    std::vector<PartitionInfo> added;
    TableVersion entry;
    entry.version = version;
    entry.operation = result.created ? "create" : "crawl";
    entry.committed_at_ms = NowMillis();
    entry.schema_change = result.schema_change;
    for (auto& [spec, partition] : partitions) {
      partition.version = version;
      entry.files_added += partition.files;
      entry.rows_added += std::max<int64_t>(partition.rows, 0);
      entry.partitions.push_back(spec);
      result.added_partitions.push_back(spec);
      added.push_back(std::move(partition));
    }
    std::vector<std::string> specs = entry.partitions;
    ARROW_RETURN_NOT_OK(store->ReplacePartitions(record.id, added, &specs));
    ARROW_RETURN_NOT_OK(store->InsertVersion(record.id, entry));
    record.info.version = version;
    if (result.created) {
      // A new table starts in step with the manifest; an existing one keeps its snapshot,
      // so that a commit it missed is still repaired on the next read.
      std::string dir;
      ARROW_ASSIGN_OR_RAISE(auto filesystem, io::FileSystemFromUriOrPath(location, &dir));
      ARROW_ASSIGN_OR_RAISE(auto manifest, io::ReadManifest(filesystem.get(), dir));
      record.manifest_snapshot = manifest ? manifest->snapshot : -1;
    }
    return store->UpdateTable(record);
  }));
  return result;
}

}  // namespace sluice::catalog
