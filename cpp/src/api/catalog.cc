#include "sluice/catalog.h"

#include <arrow/scalar.h>
#include <arrow/table.h>
#include <arrow/type.h>

#include <set>

#include "catalog/catalog_store.h"
#include "catalog/partition_pruning.h"
#include "catalog/table_commit.h"
#include "catalog/table_crawler.h"
#include "table/file_listing.h"
#include "storage/filesystems.h"
#include "formats/file_sources.h"
#include "storage/storage_paths.h"
#include "table/table_manifest.h"
#include "plan/logical_plan.h"

namespace sluice {

struct Catalog::Impl {
  std::shared_ptr<catalog::CatalogStore> store;
};

namespace {

using io::ParentOf;

/// Totals of a table over its partitions.
void AddTotals(TableInfo* info, const std::vector<PartitionInfo>& partitions) {
  info->rows = 0;
  info->bytes = 0;
  info->files = 0;
  info->partitions = 0;
  for (const auto& partition : partitions) {
    info->rows = (info->rows < 0 || partition.rows < 0) ? -1 : info->rows + partition.rows;
    info->bytes = (info->bytes < 0 || partition.bytes < 0) ? -1 : info->bytes + partition.bytes;
    info->files += partition.files;
    if (!partition.spec.empty()) ++info->partitions;
  }
}

}  // namespace

Catalog::Catalog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Catalog::~Catalog() = default;

arrow::Result<std::shared_ptr<Catalog>> Catalog::Open(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  ARROW_ASSIGN_OR_RAISE(impl->store, catalog::OpenCatalogStore(path));
  return std::shared_ptr<Catalog>(new Catalog(std::move(impl)));
}

const std::string& Catalog::path() const { return impl_->store->path(); }

arrow::Status Catalog::CreateDatabase(const std::string& name, const std::string& description,
                                      const std::string& location, bool if_not_exists) {
  DatabaseInfo database;
  database.name = name;
  database.description = description;
  database.location = location.empty() ? "" : io::NormalizeUriOrPath(location);
  return impl_->store->InTransaction(
      [&] { return impl_->store->CreateDatabase(database, if_not_exists); });
}

arrow::Result<std::vector<DatabaseInfo>> Catalog::ListDatabases() {
  return impl_->store->ListDatabases();
}

arrow::Status Catalog::DropDatabase(const std::string& name, bool cascade, bool if_exists) {
  return impl_->store->DropDatabase(name, cascade, if_exists);
}

arrow::Status Catalog::CreateTable(const std::string& name, const CreateTableOptions& options) {
  ARROW_ASSIGN_OR_RAISE(catalog::TableName parsed, catalog::ParseTableName(name));
  if (options.location.empty()) {
    return arrow::Status::Invalid("create_table '", name, "': the location is required");
  }
  if (options.format != "parquet" && options.format != "csv" && options.format != "json") {
    return arrow::Status::Invalid("create_table '", name,
                                  "': format must be parquet, csv or "
                                  "json, got '",
                                  options.format, "'");
  }
  if (options.schema) {
    for (const auto& column : options.partition_cols) {
      if (!options.schema->GetFieldByName(column)) {
        return arrow::Status::KeyError("create_table '", name, "': partition column '", column,
                                       "' is not in the schema");
      }
    }
  }
  return impl_->store->InTransaction([&]() -> arrow::Status {
    ARROW_ASSIGN_OR_RAISE(auto existing, impl_->store->FindTable(parsed));
    if (existing) {
      if (options.if_not_exists) return arrow::Status::OK();
      return arrow::Status::Invalid("table '", parsed.qualified(), "' already exists");
    }
    ARROW_ASSIGN_OR_RAISE(auto database, impl_->store->FindDatabase(parsed.database));
    if (!database) {
      DatabaseInfo info;
      info.name = parsed.database;
      ARROW_RETURN_NOT_OK(impl_->store->CreateDatabase(info, true));
    }
    catalog::TableRecord record;
    record.info.database = parsed.database;
    record.info.name = parsed.table;
    record.info.location = io::NormalizeUriOrPath(options.location);
    record.info.format = options.format;
    record.info.schema = options.schema;
    record.info.partition_cols = options.partition_cols;
    record.info.parameters = options.parameters;
    record.info.version = 1;
    ARROW_RETURN_NOT_OK(impl_->store->InsertTable(&record));
    TableVersion entry;
    entry.version = 1;
    entry.operation = "create";
    entry.committed_at_ms = record.info.created_at_ms;
    return impl_->store->InsertVersion(record.id, entry);
  });
}

arrow::Result<std::vector<TableInfo>> Catalog::ListTables(const std::string& database) {
  ARROW_RETURN_NOT_OK(catalog::CheckIdentifier("database", database));
  ARROW_ASSIGN_OR_RAISE(auto found, impl_->store->FindDatabase(database));
  if (!found) return catalog::NotInCatalog("database", database, impl_->store->path());
  ARROW_ASSIGN_OR_RAISE(auto records, impl_->store->ListTables(database));
  std::vector<TableInfo> tables;
  for (auto& record : records) {
    ARROW_ASSIGN_OR_RAISE(auto partitions, impl_->store->ListPartitions(record.id));
    AddTotals(&record.info, partitions);
    tables.push_back(std::move(record.info));
  }
  return tables;
}

arrow::Result<TableInfo> Catalog::DescribeTable(const std::string& name) {
  ARROW_ASSIGN_OR_RAISE(catalog::TableName parsed, catalog::ParseTableName(name));
  ARROW_ASSIGN_OR_RAISE(catalog::TableRecord record, impl_->store->GetTable(parsed));
  ARROW_ASSIGN_OR_RAISE(auto partitions, impl_->store->ListPartitions(record.id));
  AddTotals(&record.info, partitions);
  return record.info;
}

arrow::Status Catalog::DropTable(const std::string& name, bool if_exists) {
  ARROW_ASSIGN_OR_RAISE(catalog::TableName parsed, catalog::ParseTableName(name));
  return impl_->store->InTransaction([&]() -> arrow::Status {
    ARROW_ASSIGN_OR_RAISE(auto record, impl_->store->FindTable(parsed));
    if (!record) {
      if (if_exists) return arrow::Status::OK();
      return catalog::NotInCatalog("table", parsed.qualified(), impl_->store->path());
    }
    return impl_->store->DeleteTable(record->id);
  });
}

arrow::Status Catalog::SetTableParameters(const std::string& name,
                                          const std::map<std::string, std::string>& parameters) {
  ARROW_ASSIGN_OR_RAISE(catalog::TableName parsed, catalog::ParseTableName(name));
  return impl_->store->InTransaction([&]() -> arrow::Status {
    ARROW_ASSIGN_OR_RAISE(catalog::TableRecord record, impl_->store->GetTable(parsed));
    for (const auto& [key, value] : parameters) {
      if (value.empty()) {
        record.info.parameters.erase(key);
      } else {
        record.info.parameters[key] = value;
      }
    }
    record.info.version += 1;
    TableVersion entry;
    entry.version = record.info.version;
    entry.operation = "set_parameters";
    entry.committed_at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
    ARROW_RETURN_NOT_OK(impl_->store->InsertVersion(record.id, entry));
    return impl_->store->UpdateTable(record);
  });
}

arrow::Result<std::vector<PartitionInfo>> Catalog::ListPartitions(
    const std::string& name, const std::optional<Expression>& filter) {
  ARROW_ASSIGN_OR_RAISE(catalog::TableName parsed, catalog::ParseTableName(name));
  ARROW_ASSIGN_OR_RAISE(catalog::TableRecord record, impl_->store->GetTable(parsed));
  ARROW_ASSIGN_OR_RAISE(auto partitions, impl_->store->ListPartitions(record.id));
  // An unpartitioned table keeps its totals in one row without a spec.
  std::erase_if(partitions, [](const PartitionInfo& p) { return p.spec.empty(); });
  if (!filter) return partitions;
  if (record.info.partition_cols.empty()) {
    return arrow::Status::Invalid("table '", parsed.qualified(),
                                  "' is not partitioned; a partition filter does not apply");
  }
  if (!record.info.schema) {
    return arrow::Status::Invalid("table '", parsed.qualified(), "' has no schema yet");
  }
  return catalog::PrunePartitions(std::move(partitions), *record.info.schema,
                                  record.info.partition_cols, *filter,
                                  /*partition_columns_only=*/true);
}

arrow::Result<std::vector<TableVersion>> Catalog::History(const std::string& name) {
  ARROW_ASSIGN_OR_RAISE(catalog::TableName parsed, catalog::ParseTableName(name));
  ARROW_ASSIGN_OR_RAISE(catalog::TableRecord record, impl_->store->GetTable(parsed));
  return impl_->store->ListVersions(record.id);
}

arrow::Result<CrawlResult> Catalog::Crawl(const std::string& path, const std::string& table,
                                          const std::string& format, bool follow_symlinks) {
  if (!format.empty() && format != "parquet" && format != "csv" && format != "json") {
    return arrow::Status::Invalid("crawl: format must be parquet, csv or json, got '", format, "'");
  }
  return catalog::CrawlTable(impl_->store.get(), path, table, format, follow_symlinks);
}

arrow::Result<Dataset> ReadTable(const std::string& name, const ReadTableOptions& options,
                                 const Session& session) {
  ARROW_ASSIGN_OR_RAISE(catalog::TableName parsed, catalog::ParseTableName(name));
  ARROW_ASSIGN_OR_RAISE(auto store,
                        catalog::OpenCatalogStore(options.catalog_path.empty()
                                                      ? session.config().catalog_path
                                                      : options.catalog_path));
  ARROW_ASSIGN_OR_RAISE(catalog::TableRecord record, store->GetTable(parsed));
  const TableInfo& table = record.info;
  if (!table.schema) {
    return arrow::Status::Invalid("table '", parsed.qualified(), "' has no data yet");
  }

  std::string dir;
  ARROW_ASSIGN_OR_RAISE(auto filesystem,
                        io::FileSystemFromUriOrPath(table.location, &dir, session.state()));
  ARROW_ASSIGN_OR_RAISE(auto manifest, io::ReadManifest(filesystem.get(), dir));
  if (manifest) ARROW_RETURN_NOT_OK(catalog::SyncWithManifest(store.get(), &record, *manifest));

  // With a manifest, its partitions: the same snapshot as the files read below (the
  // catalog's rows may already reflect a newer commit).
  std::vector<PartitionInfo> partitions;
  if (manifest) {
    ARROW_ASSIGN_OR_RAISE(partitions,
                          catalog::PartitionsFromManifest(*manifest, table.location, 0));
  } else {
    ARROW_ASSIGN_OR_RAISE(partitions, store->ListPartitions(record.id));
  }
  if (options.filter && !table.partition_cols.empty()) {
    ARROW_ASSIGN_OR_RAISE(partitions,
                          catalog::PrunePartitions(std::move(partitions), *table.schema,
                                                   table.partition_cols, *options.filter,
                                                   /*partition_columns_only=*/false));
  }
  std::set<std::string> kept;
  for (const auto& partition : partitions) kept.insert(partition.spec);

  // The committed files of the partitions left, from the manifest: no listing.
  io::ListedFiles listed{filesystem, {}};
  if (manifest) {
    for (const auto& file : manifest->files) {
      if (kept.count(ParentOf(file.path)) == 0) continue;
      arrow::fs::FileInfo info(dir + "/" + file.path, arrow::fs::FileType::File);
      if (file.bytes >= 0) info.set_size(file.bytes);
      listed.files.push_back({std::move(info), dir});
    }
  } else {
    // Data registered by a crawl without a manifest: list the partitions left.
    for (const auto& partition : partitions) {
      auto found = io::ListFiles({partition.location}, {false, session.state()});
      if (!found.ok()) {
        return found.status().WithMessage("table '", parsed.qualified(), "', partition '",
                                          partition.spec, "': ", found.status().message());
      }
      for (auto& file : found->files) {
        file.base_dir = dir;
        listed.files.push_back(std::move(file));
      }
    }
  }

  Dataset dataset(nullptr, session);
  const bool listed_empty = listed.files.empty();
  if (listed_empty) {
    ARROW_ASSIGN_OR_RAISE(auto empty, arrow::Table::MakeEmpty(table.schema));
    ARROW_ASSIGN_OR_RAISE(dataset, Dataset::FromTable(std::move(empty), session));
  } else if (table.format == "parquet") {
    arrow::FieldVector partition_fields;
    for (const auto& column : table.partition_cols) {
      auto field = table.schema->GetFieldByName(column);
      if (!field) {
        return arrow::Status::Invalid("table '", parsed.qualified(), "': partition column '",
                                      column, "' is missing from the schema");
      }
      partition_fields.push_back(field);
    }
    ReadParquetOptions read_options;
    ARROW_ASSIGN_OR_RAISE(
        auto source, io::MakeParquetSourceFromListing(std::move(listed), read_options,
                                                      arrow::schema(std::move(partition_fields))));
    ARROW_ASSIGN_OR_RAISE(auto node, plan::SourceNode::Make(std::move(source)));
    dataset = Dataset(std::move(node), session);
  } else {
    // Text tables are read whole; the filter below still drops the other partitions' rows.
    const std::vector<std::string> paths = {table.location};
    if (table.format == "csv") {
      ARROW_ASSIGN_OR_RAISE(dataset, Dataset::ReadCsv(paths, {}, session));
    } else {
      ARROW_ASSIGN_OR_RAISE(dataset, Dataset::ReadJson(paths, {}, session));
    }
  }
  if (table.format == "parquet" && !listed_empty) {
    // The table's columns in the catalog's order: files written before a column was added
    // (all the files of some partitions, possibly) read it as null.
    ARROW_ASSIGN_OR_RAISE(auto read_schema, dataset.Schema());
    std::vector<Expression> columns;
    std::vector<std::string> names;
    for (const auto& field : table.schema->fields()) {
      names.push_back(field->name());
      if (read_schema->GetFieldByName(field->name())) {
        columns.push_back(Col(field->name()));
      } else {
        columns.push_back(arrow::compute::literal(arrow::MakeNullScalar(field->type())));
      }
    }
    ARROW_ASSIGN_OR_RAISE(dataset, dataset.Project(std::move(columns), std::move(names)));
  }
  if (options.filter) {
    ARROW_ASSIGN_OR_RAISE(dataset, dataset.Filter(*options.filter));
  }
  if (!options.columns.empty()) {
    ARROW_ASSIGN_OR_RAISE(dataset, dataset.SelectColumns(options.columns));
  }
  return dataset;
}

}  // namespace sluice
