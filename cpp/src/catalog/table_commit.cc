#include "catalog/table_commit.h"

#include <arrow/dataset/file_parquet.h>
#include <arrow/type.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "storage/filesystems.h"
#include "storage/storage_paths.h"
#include "operators/write_operator.h"
#include "table/write_owner.h"
#include "sluice/config.h"

namespace sluice::catalog {

namespace {

using io::ParentOf;

std::string Unescape(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() &&
        std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out = "[";
  for (size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + names[i];
  return out + "]";
}

class CatalogCommitLock : public io::CommitLock {
 public:
  CatalogCommitLock(std::shared_ptr<CatalogStore> store, std::string key, double timeout_seconds)
      : store_(std::move(store)), key_(std::move(key)), timeout_seconds_(timeout_seconds) {}
  ~CatalogCommitLock() override { Release(); }

  arrow::Status Acquire() override {
    // The owner is this process as of now: a holder on another host counts as gone only
    // once it has held the lock longer than a commit can take.
    owner_ = io::StagingDirName(io::CurrentWriteOwner(io::RandomUuid()));
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds_);
    while (true) {
      ARROW_ASSIGN_OR_RAISE(bool taken, store_->TryLock(key_, owner_));
      if (taken) {
        held_ = true;
        return arrow::Status::OK();
      }
      if (std::chrono::steady_clock::now() > deadline) {
        return arrow::Status::IOError("another write has held the commit lock of table '", key_,
                                      "' in catalog '", store_->path(), "' for more than ",
                                      timeout_seconds_, " s");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  void Release() override {
    if (!held_) return;
    held_ = false;
    ARROW_UNUSED(store_->Unlock(key_, owner_));
  }

 private:
  std::shared_ptr<CatalogStore> store_;
  std::string key_;
  std::string owner_;
  double timeout_seconds_;
  bool held_ = false;
};

/// The files of `after` that `before` does not have: what one commit added.
std::vector<const io::ManifestFile*> FilesAddedBy(const std::optional<io::TableManifest>& before,
                                                  const io::TableManifest& after) {
  std::set<std::string> old_files;
  if (before) {
    for (const auto& file : before->files) old_files.insert(file.path);
  }
  std::vector<const io::ManifestFile*> added;
  for (const auto& file : after.files) {
    if (old_files.count(file.path) == 0) added.push_back(&file);
  }
  return added;
}

/// Records `after` as the table's state: partitions (keeping the version of those that
/// did not change), a version entry, the new snapshot and schema. Runs inside a
/// transaction.
arrow::Status ApplyManifest(CatalogStore* store, TableRecord* record,
                            const std::optional<io::TableManifest>& before,
                            const io::TableManifest& after, const std::string& operation,
                            const std::string& schema_change) {
  const int64_t version = record->info.version + 1;
  ARROW_ASSIGN_OR_RAISE(auto partitions,
                        PartitionsFromManifest(after, record->info.location, version));
  ARROW_ASSIGN_OR_RAISE(auto existing, store->ListPartitions(record->id));
  std::map<std::string, PartitionInfo> known;
  for (auto& partition : existing) known.emplace(partition.spec, std::move(partition));
  // A partition changed when its set of files did (new files always have new names);
  // without the previous manifest (a repair), when its totals did.
  std::map<std::string, std::set<std::string>> files_before;
  std::map<std::string, std::set<std::string>> files_after;
  if (before) {
    for (const auto& file : before->files) files_before[ParentOf(file.path)].insert(file.path);
  }
  for (const auto& file : after.files) files_after[ParentOf(file.path)].insert(file.path);
  std::set<std::string> changed;
  for (auto& partition : partitions) {
    auto it = known.find(partition.spec);
    const bool same =
        it != known.end() &&
        (before ? files_before[partition.spec] == files_after[partition.spec]
                : it->second.rows == partition.rows && it->second.bytes == partition.bytes &&
                      it->second.files == partition.files);
    if (same) {
      partition.version = it->second.version;
    } else {
      changed.insert(partition.spec);
    }
    if (it != known.end()) known.erase(it);
  }
  for (const auto& [spec, partition] : known) changed.insert(spec);  // removed
  ARROW_RETURN_NOT_OK(store->ReplacePartitions(record->id, partitions, nullptr));

  TableVersion entry;
  entry.version = version;
  entry.operation = operation;
  entry.committed_at_ms = after.committed_at_ms;
  entry.write_id = after.write_id;
  for (const io::ManifestFile* file : FilesAddedBy(before, after)) {
    ++entry.files_added;
    entry.rows_added += std::max<int64_t>(file->rows, 0);
  }
  entry.partitions.assign(changed.begin(), changed.end());
  entry.schema_change = schema_change;
  ARROW_RETURN_NOT_OK(store->InsertVersion(record->id, entry));

  record->info.version = version;
  record->manifest_snapshot = after.snapshot;
  return store->UpdateTable(*record);
}

/// The schema of a file this write added, for writes whose schema was unknown before
/// running (user functions). Partition columns take the table's types when it has them.
arrow::Result<std::shared_ptr<arrow::Schema>> SchemaOfWrittenFiles(
    const std::string& location, const std::optional<io::TableManifest>& before,
    const io::TableManifest& after, const std::vector<std::string>& partition_cols,
    const std::shared_ptr<arrow::Schema>& table_schema,
    const std::shared_ptr<exec::SessionState>& session) {
  const std::vector<const io::ManifestFile*> added_files = FilesAddedBy(before, after);
  if (added_files.empty()) return table_schema;
  const io::ManifestFile* added = added_files.back();
  std::string dir;
  ARROW_ASSIGN_OR_RAISE(auto filesystem, io::FileSystemFromUriOrPath(location, &dir, session));
  arrow::dataset::ParquetFileFormat format;
  ARROW_ASSIGN_OR_RAISE(
      auto schema, format.Inspect(arrow::dataset::FileSource(dir + "/" + added->path, filesystem)));
  arrow::FieldVector fields = schema->fields();
  for (const auto& column : partition_cols) {
    auto known = table_schema ? table_schema->GetFieldByName(column) : nullptr;
    fields.push_back(known ? known : arrow::field(column, arrow::utf8()));
  }
  return arrow::schema(std::move(fields));
}

}  // namespace

std::vector<std::pair<std::string, std::optional<std::string>>> ParsePartitionSpec(
    const std::string& spec) {
  std::vector<std::pair<std::string, std::optional<std::string>>> values;
  size_t start = 0;
  while (start < spec.size()) {
    size_t slash = spec.find('/', start);
    if (slash == std::string::npos) slash = spec.size();
    const std::string segment = spec.substr(start, slash - start);
    const size_t equals = segment.find('=');
    if (equals != std::string::npos) {
      const std::string raw = segment.substr(equals + 1);
      std::optional<std::string> value;
      if (raw != io::kHiveNullPartition) value = Unescape(raw);
      values.emplace_back(Unescape(segment.substr(0, equals)), std::move(value));
    }
    start = slash + 1;
  }
  return values;
}

void AddFileToPartition(std::map<std::string, PartitionInfo>* partitions, const std::string& spec,
                        const std::string& location, int64_t rows, int64_t bytes, int64_t version) {
  auto [it, inserted] = partitions->try_emplace(spec);
  PartitionInfo& partition = it->second;
  if (inserted) {
    partition.spec = spec;
    partition.values = ParsePartitionSpec(spec);
    partition.location = spec.empty() ? location : location + "/" + spec;
    partition.rows = 0;
    partition.bytes = 0;
    partition.version = version;
  }
  partition.rows = (partition.rows < 0 || rows < 0) ? -1 : partition.rows + rows;
  partition.bytes = (partition.bytes < 0 || bytes < 0) ? -1 : partition.bytes + bytes;
  ++partition.files;
}

arrow::Result<std::vector<PartitionInfo>> PartitionsFromManifest(const io::TableManifest& manifest,
                                                                 const std::string& location,
                                                                 int64_t version) {
  std::map<std::string, PartitionInfo> by_spec;
  for (const auto& file : manifest.files) {
    AddFileToPartition(&by_spec, ParentOf(file.path), location, file.rows, file.bytes, version);
  }
  std::vector<PartitionInfo> partitions;
  for (auto& [spec, partition] : by_spec) partitions.push_back(std::move(partition));
  return partitions;
}

arrow::Result<std::shared_ptr<arrow::Schema>> EvolveSchema(
    const std::shared_ptr<arrow::Schema>& current, const std::shared_ptr<arrow::Schema>& incoming,
    const std::string& table, std::string* change) {
  if (!current) return incoming;
  if (!incoming) return current;
  arrow::FieldVector fields = current->fields();
  std::string added;
  for (const auto& field : incoming->fields()) {
    auto known = current->GetFieldByName(field->name());
    if (known) {
      if (!known->type()->Equals(*field->type())) {
        return arrow::Status::TypeError(
            "column '", field->name(), "' of table '", table, "' is ", known->type()->ToString(),
            " but the data has ", field->type()->ToString(), "; cast it, or write to a new table");
      }
      continue;
    }
    // Rows already in the table have no value for a new column: it must take nulls.
    fields.push_back(field->WithNullable(true));
    added += (added.empty() ? "" : ", ") + field->name() + " (" + field->type()->ToString() + ")";
  }
  if (change != nullptr) *change = added.empty() ? "" : "added columns: " + added;
  return arrow::schema(std::move(fields));
}

arrow::Status SyncWithManifest(CatalogStore* store, TableRecord* record,
                               const io::TableManifest& manifest) {
  if (manifest.snapshot == record->manifest_snapshot) return arrow::Status::OK();
  return store->InTransaction([&]() -> arrow::Status {
    TableName name{record->info.database, record->info.name};
    ARROW_ASSIGN_OR_RAISE(*record, store->GetTable(name));
    if (manifest.snapshot == record->manifest_snapshot) return arrow::Status::OK();
    // A missed overwrite may have changed the partitioning.
    if (!manifest.partition_cols.empty()) record->info.partition_cols = manifest.partition_cols;
    return ApplyManifest(store, record, std::nullopt, manifest, "repair", "");
  });
}

arrow::Result<std::shared_ptr<CatalogStore>> OpenCatalogStore(const std::string& path) {
  // No path: the default session's catalog (callers with a session of their own pass its).
  return CatalogStore::Open(path.empty() ? exec::SessionState::Default()->config().catalog_path
                                         : path);
}

std::unique_ptr<io::CommitLock> MakeCatalogCommitLock(std::shared_ptr<CatalogStore> store,
                                                      std::string key, double timeout_seconds) {
  return std::make_unique<CatalogCommitLock>(std::move(store), std::move(key), timeout_seconds);
}

arrow::Result<TableWritePlan> PrepareTableWrite(
    const std::string& path, const std::string& format, const WriteOptions& options,
    const std::shared_ptr<arrow::Schema>& schema, std::shared_ptr<exec::SessionState> session) {
  ARROW_ASSIGN_OR_RAISE(TableName name, ParseTableName(*options.table));
  ARROW_ASSIGN_OR_RAISE(auto store, OpenCatalogStore(options.catalog_path));
  ARROW_ASSIGN_OR_RAISE(auto existing, store->FindTable(name));
  TableWritePlan plan;
  plan.partition_cols = options.partition_cols;
  if (existing) {
    const TableInfo& table = existing->info;
    plan.location = table.location;
    if (!path.empty() && io::NormalizeUriOrPath(path) != table.location) {
      return arrow::Status::Invalid("table '", name.qualified(), "' is stored at '", table.location,
                                    "', not '", path,
                                    "'; leave the path out to write to the table");
    }
    if (table.format != format) {
      return arrow::Status::Invalid("table '", name.qualified(), "' holds ", table.format,
                                    " files; this write produces ", format);
    }
    if (plan.partition_cols.empty()) plan.partition_cols = table.partition_cols;
    if (plan.partition_cols != table.partition_cols && options.mode != WriteMode::kOverwrite) {
      return arrow::Status::Invalid("table '", name.qualified(), "' is partitioned by ",
                                    JoinNames(table.partition_cols), ", not ",
                                    JoinNames(plan.partition_cols));
    }
    // Refuse incompatible types before any file is written.
    ARROW_RETURN_NOT_OK(EvolveSchema(table.schema, schema, name.qualified(), nullptr).status());
  } else if (!path.empty()) {
    plan.location = io::NormalizeUriOrPath(path);
  } else {
    ARROW_ASSIGN_OR_RAISE(auto database, store->FindDatabase(name.database));
    if (!database || database->location.empty()) {
      return arrow::Status::Invalid("table '", name.qualified(),
                                    "' does not exist yet: give the path to create it at");
    }
    plan.location = io::NormalizeUriOrPath(database->location + "/" + name.table);
  }
  plan.lock = MakeCatalogCommitLock(store, name.qualified(), 600);

  const std::vector<std::string> partition_cols = plan.partition_cols;
  const std::string location = plan.location;
  const WriteMode mode = options.mode;
  // Checked again under the lock: another process may have created or changed the table
  // since, and nothing may be published that the catalog would then refuse.
  plan.before_publish = [store, name, format, schema, partition_cols, location,
                         mode](const io::TableManifest&) -> arrow::Status {
    ARROW_ASSIGN_OR_RAISE(auto found, store->FindTable(name));
    if (!found) return arrow::Status::OK();
    const TableInfo& table = found->info;
    if (table.location != location) {
      return arrow::Status::Invalid("table '", name.qualified(), "' was registered at '",
                                    table.location, "' while this write to '", location, "' ran");
    }
    if (table.format != format) {
      return arrow::Status::Invalid("table '", name.qualified(), "' holds ", table.format,
                                    " files");
    }
    if (mode == WriteMode::kOverwrite) return arrow::Status::OK();
    if (!table.partition_cols.empty() && table.partition_cols != partition_cols) {
      return arrow::Status::Invalid("table '", name.qualified(), "' is partitioned by ",
                                    JoinNames(table.partition_cols), ", not ",
                                    JoinNames(partition_cols));
    }
    return EvolveSchema(table.schema, schema, name.qualified(), nullptr).status();
  };
  plan.on_committed = [store, name, format, schema, partition_cols, location, mode, session](
                          const std::optional<io::TableManifest>& before,
                          const io::TableManifest& after) -> arrow::Status {
    std::shared_ptr<arrow::Schema> write_schema = schema;
    if (!write_schema) {
      ARROW_ASSIGN_OR_RAISE(auto found, store->FindTable(name));
      ARROW_ASSIGN_OR_RAISE(write_schema,
                            SchemaOfWrittenFiles(location, before, after, partition_cols,
                                                 found ? found->info.schema : nullptr, session));
    }
    return store->InTransaction([&]() -> arrow::Status {
      DatabaseInfo database;
      database.name = name.database;
      ARROW_RETURN_NOT_OK(store->CreateDatabase(database, /*if_not_exists=*/true));
      ARROW_ASSIGN_OR_RAISE(auto found, store->FindTable(name));
      TableRecord record;
      std::string operation = after.operation;
      std::string schema_change;
      if (found) {
        record = std::move(*found);
        if (mode == WriteMode::kOverwrite) {
          // An overwrite replaces the data and with it the schema and partitioning.
          if (record.info.schema && write_schema && !record.info.schema->Equals(*write_schema)) {
            schema_change = "replaced by the overwrite";
          }
          record.info.schema = write_schema;
          record.info.partition_cols = partition_cols;
        } else {
          ARROW_ASSIGN_OR_RAISE(record.info.schema, EvolveSchema(record.info.schema, write_schema,
                                                                 name.qualified(), &schema_change));
        }
      } else {
        record.info.database = name.database;
        record.info.name = name.table;
        record.info.location = location;
        record.info.format = format;
        record.info.schema = write_schema;
        record.info.partition_cols = partition_cols;
        ARROW_RETURN_NOT_OK(store->InsertTable(&record));
        operation = "create";
      }
      return ApplyManifest(store.get(), &record, before, after, operation, schema_change);
    });
  };
  return plan;
}

}  // namespace sluice::catalog
