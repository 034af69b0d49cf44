#include "catalog/catalog_store.h"

#include <arrow/buffer.h>
#include <arrow/io/memory.h>
#include <arrow/ipc/reader.h>
#include <arrow/ipc/writer.h>
#include <arrow/type.h>

#include <chrono>
#include <filesystem>

#include "table/write_owner.h"
#include <nlohmann/json.hpp>
#include <sqlite3.h>

namespace sluice::catalog {

namespace {

constexpr const char* kSchemaSql = R"sql(
CREATE TABLE IF NOT EXISTS databases (
  name TEXT PRIMARY KEY,
  description TEXT NOT NULL DEFAULT '',
  location TEXT NOT NULL DEFAULT '',
  created_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tables (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  database TEXT NOT NULL REFERENCES databases(name),
  name TEXT NOT NULL,
  location TEXT NOT NULL,
  format TEXT NOT NULL,
  schema_ipc BLOB,
  partition_cols TEXT NOT NULL DEFAULT '[]',
  parameters TEXT NOT NULL DEFAULT '{}',
  version INTEGER NOT NULL DEFAULT 0,
  manifest_snapshot INTEGER NOT NULL DEFAULT -1,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  UNIQUE (database, name)
);
CREATE TABLE IF NOT EXISTS partitions (
  table_id INTEGER NOT NULL REFERENCES tables(id) ON DELETE CASCADE,
  spec TEXT NOT NULL,
  values_json TEXT NOT NULL,
  location TEXT NOT NULL,
  row_count INTEGER NOT NULL,
  size_bytes INTEGER NOT NULL,
  file_count INTEGER NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (table_id, spec)
);
CREATE TABLE IF NOT EXISTS table_versions (
  table_id INTEGER NOT NULL REFERENCES tables(id) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  operation TEXT NOT NULL,
  committed_at_ms INTEGER NOT NULL,
  write_id TEXT NOT NULL DEFAULT '',
  rows_added INTEGER NOT NULL DEFAULT 0,
  files_added INTEGER NOT NULL DEFAULT 0,
  partitions TEXT NOT NULL DEFAULT '[]',
  schema_change TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (table_id, version)
);
CREATE TABLE IF NOT EXISTS commit_locks (
  name TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  acquired_at_ms INTEGER NOT NULL
);
)sql";

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool IsIdentifier(const std::string& name) {
  if (name.empty() || name.size() > 128) return false;
  if (!(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

/// A prepared statement; steps report SQLite errors as IOError naming the catalog.
class Statement {
 public:
  Statement(sqlite3* db, const std::string& path) : db_(db), path_(path) {}
  ~Statement() { sqlite3_finalize(stmt_); }

  arrow::Status Prepare(const char* sql) {
    if (sqlite3_prepare_v2(db_, sql, -1, &stmt_, nullptr) != SQLITE_OK) return Error();
    return arrow::Status::OK();
  }
  Statement& Bind(int index, const std::string& text) {
    sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& Bind(int index, int64_t value) {
    sqlite3_bind_int64(stmt_, index, value);
    return *this;
  }
  Statement& BindBlob(int index, const std::shared_ptr<arrow::Buffer>& blob) {
    if (!blob) {
      sqlite3_bind_null(stmt_, index);
    } else {
      sqlite3_bind_blob(stmt_, index, blob->data(), static_cast<int>(blob->size()),
                        SQLITE_TRANSIENT);
    }
    return *this;
  }
  /// True while rows come back.
  arrow::Result<bool> Step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return Error();
  }
  arrow::Status Run() { return Step().status(); }
  std::string Text(int column) const {
    const auto* text = sqlite3_column_text(stmt_, column);
    return text ? std::string(reinterpret_cast<const char*>(text),
                              static_cast<size_t>(sqlite3_column_bytes(stmt_, column)))
                : std::string();
  }
  int64_t Int(int column) const { return sqlite3_column_int64(stmt_, column); }
  std::shared_ptr<arrow::Buffer> Blob(int column) const {
    const void* data = sqlite3_column_blob(stmt_, column);
    if (data == nullptr) return nullptr;
    return arrow::Buffer::FromString(
        std::string(static_cast<const char*>(data), sqlite3_column_bytes(stmt_, column)));
  }

 private:
  arrow::Status Error() const {
    return arrow::Status::IOError("catalog '", path_, "': ", sqlite3_errmsg(db_));
  }
  sqlite3* db_;
  const std::string& path_;
  sqlite3_stmt* stmt_ = nullptr;
};

arrow::Result<std::shared_ptr<arrow::Buffer>> SerializeSchema(
    const std::shared_ptr<arrow::Schema>& schema) {
  if (!schema) return nullptr;
  return arrow::ipc::SerializeSchema(*schema);
}

arrow::Result<std::shared_ptr<arrow::Schema>> DeserializeSchema(
    const std::shared_ptr<arrow::Buffer>& blob) {
  if (!blob) return nullptr;
  arrow::io::BufferReader reader(blob);
  arrow::ipc::DictionaryMemo memo;
  return arrow::ipc::ReadSchema(&reader, &memo);
}

constexpr const char* kTableColumns =
    "id, database, name, location, format, schema_ipc, partition_cols, parameters, version, "
    "manifest_snapshot, created_at_ms, updated_at_ms";

arrow::Result<TableRecord> TableFromRow(const Statement& row) {
  TableRecord record;
  record.id = row.Int(0);
  record.info.database = row.Text(1);
  record.info.name = row.Text(2);
  record.info.location = row.Text(3);
  record.info.format = row.Text(4);
  ARROW_ASSIGN_OR_RAISE(record.info.schema, DeserializeSchema(row.Blob(5)));
  const std::string what = "table '" + record.info.database + "." + record.info.name + "'";
  ARROW_ASSIGN_OR_RAISE(record.info.partition_cols, ParseStringListColumn(row.Text(6), what));
  ARROW_ASSIGN_OR_RAISE(record.info.parameters, ParseStringMapColumn(row.Text(7), what));
  record.info.version = row.Int(8);
  record.manifest_snapshot = row.Int(9);
  record.info.created_at_ms = row.Int(10);
  record.info.updated_at_ms = row.Int(11);
  return record;
}

class NotInCatalogDetail : public arrow::StatusDetail {
 public:
  const char* type_id() const override { return kNotInCatalogDetail; }
  std::string ToString() const override { return "not in the catalog"; }
};

}  // namespace

arrow::Status NotInCatalog(const std::string& what, const std::string& name,
                           const std::string& catalog_path) {
  return arrow::Status(arrow::StatusCode::KeyError,
                       what + " '" + name + "' does not exist in catalog '" + catalog_path + "'",
                       std::make_shared<NotInCatalogDetail>());
}

namespace {

/// `decode(parsed json)`, with every parse or type error turned into an IOError about `what`.
template <typename T, typename Decode>
arrow::Result<T> ParseJsonColumn(const std::string& json, const std::string& what,
                                 Decode&& decode) {
  try {
    return decode(nlohmann::json::parse(json));
  } catch (const std::exception& error) {
    return arrow::Status::IOError(what, " has a damaged catalog entry: ", error.what());
  }
}

}  // namespace

arrow::Result<std::vector<std::string>> ParseStringListColumn(const std::string& json,
                                                              const std::string& what) {
  return ParseJsonColumn<std::vector<std::string>>(
      json, what, [](const nlohmann::json& value) { return value.get<std::vector<std::string>>(); });
}

arrow::Result<std::map<std::string, std::string>> ParseStringMapColumn(const std::string& json,
                                                                      const std::string& what) {
  return ParseJsonColumn<std::map<std::string, std::string>>(
      json, what,
      [](const nlohmann::json& value) { return value.get<std::map<std::string, std::string>>(); });
}

arrow::Result<std::vector<std::pair<std::string, std::optional<std::string>>>>
ParsePartitionValuesColumn(const std::string& json, const std::string& what) {
  using Values = std::vector<std::pair<std::string, std::optional<std::string>>>;
  return ParseJsonColumn<Values>(json, what, [](const nlohmann::json& array) {
    Values values;
    for (const auto& pair : array) {
      std::optional<std::string> value;
      if (!pair.at(1).is_null()) value = pair.at(1).get<std::string>();
      values.emplace_back(pair.at(0).get<std::string>(), std::move(value));
    }
    return values;
  });
}

arrow::Status CheckIdentifier(const std::string& what, const std::string& name) {
  if (IsIdentifier(name)) return arrow::Status::OK();
  return arrow::Status::Invalid(what, " name '", name,
                                "' is not valid: use letters, digits and '_', not starting "
                                "with a digit");
}

arrow::Result<TableName> ParseTableName(const std::string& name) {
  TableName parsed;
  const size_t dot = name.find('.');
  if (dot == std::string::npos) {
    parsed.database = "default";
    parsed.table = name;
  } else {
    parsed.database = name.substr(0, dot);
    parsed.table = name.substr(dot + 1);
  }
  ARROW_RETURN_NOT_OK(CheckIdentifier("database", parsed.database));
  ARROW_RETURN_NOT_OK(CheckIdentifier("table", parsed.table));
  return parsed;
}

arrow::Result<std::shared_ptr<CatalogStore>> CatalogStore::Open(const std::string& path) {
  if (path.empty()) return arrow::Status::Invalid("the catalog path is empty");
  std::error_code ec;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  std::shared_ptr<CatalogStore> store(new CatalogStore());
  store->path_ = path;
  const int rc =
      sqlite3_open_v2(path.c_str(), &store->db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    return arrow::Status::IOError("cannot open the catalog '", path, "': ",
                                  store->db_ ? sqlite3_errmsg(store->db_) : sqlite3_errstr(rc));
  }
  sqlite3_busy_timeout(store->db_, 30000);
  ARROW_RETURN_NOT_OK(store->Exec("PRAGMA journal_mode=WAL"));
  ARROW_RETURN_NOT_OK(store->Exec("PRAGMA foreign_keys=ON"));
  ARROW_RETURN_NOT_OK(store->InTransaction([&] { return store->Exec(kSchemaSql); }));
  return store;
}

CatalogStore::~CatalogStore() {
  if (db_) sqlite3_close_v2(db_);
}

arrow::Status CatalogStore::Exec(const std::string& sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : sqlite3_errmsg(db_);
    sqlite3_free(message);
    if (text.find("not a database") != std::string::npos) {
      return arrow::Status::IOError("'", path_, "' is not a Sluice catalog (", text, ")");
    }
    return arrow::Status::IOError("catalog '", path_, "': ", text);
  }
  return arrow::Status::OK();
}

arrow::Status CatalogStore::InTransaction(const std::function<arrow::Status()>& body) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  ARROW_RETURN_NOT_OK(Exec("BEGIN IMMEDIATE"));
  arrow::Status status;
  try {
    status = body();
  } catch (const std::exception& error) {
    // A damaged JSON column; never leave the transaction (and its lock) open.
    status = arrow::Status::IOError("catalog '", path_, "' holds a damaged entry: ", error.what());
  }
  if (status.ok()) status = Exec("COMMIT");
  if (!status.ok()) ARROW_UNUSED(Exec("ROLLBACK"));
  return status;
}

arrow::Status CatalogStore::CreateDatabase(const DatabaseInfo& database, bool if_not_exists) {
  ARROW_RETURN_NOT_OK(CheckIdentifier("database", database.name));
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  ARROW_ASSIGN_OR_RAISE(auto existing, FindDatabase(database.name));
  if (existing) {
    if (if_not_exists) return arrow::Status::OK();
    return arrow::Status::Invalid("database '", database.name, "' already exists");
  }
  Statement insert(db_, path_);
  ARROW_RETURN_NOT_OK(
      insert.Prepare("INSERT OR IGNORE INTO databases (name, description, location, created_at_ms) "
                     "VALUES (?, ?, ?, ?)"));
  return insert.Bind(1, database.name)
      .Bind(2, database.description)
      .Bind(3, database.location)
      .Bind(4, NowMillis())
      .Run();
}

arrow::Result<std::optional<DatabaseInfo>> CatalogStore::FindDatabase(const std::string& name) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  Statement query(db_, path_);
  ARROW_RETURN_NOT_OK(
      query.Prepare("SELECT name, description, location, created_at_ms, "
                    "(SELECT COUNT(*) FROM tables WHERE tables.database = databases.name) "
                    "FROM databases WHERE name = ?"));
  query.Bind(1, name);
  ARROW_ASSIGN_OR_RAISE(bool found, query.Step());
  if (!found) return std::nullopt;
  return DatabaseInfo{query.Text(0), query.Text(1), query.Text(2), query.Int(3), query.Int(4)};
}

arrow::Result<std::vector<DatabaseInfo>> CatalogStore::ListDatabases() {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  Statement query(db_, path_);
  ARROW_RETURN_NOT_OK(
      query.Prepare("SELECT name, description, location, created_at_ms, "
                    "(SELECT COUNT(*) FROM tables WHERE tables.database = databases.name) "
                    "FROM databases ORDER BY name"));
  std::vector<DatabaseInfo> out;
  while (true) {
    ARROW_ASSIGN_OR_RAISE(bool row, query.Step());
    if (!row) break;
    out.push_back({query.Text(0), query.Text(1), query.Text(2), query.Int(3), query.Int(4)});
  }
  return out;
}

arrow::Status CatalogStore::DropDatabase(const std::string& name, bool cascade, bool if_exists) {
  return InTransaction([&]() -> arrow::Status {
    ARROW_ASSIGN_OR_RAISE(auto existing, FindDatabase(name));
    if (!existing) {
      if (if_exists) return arrow::Status::OK();
      return NotInCatalog("database", name, path_);
    }
    if (existing->tables > 0 && !cascade) {
      return arrow::Status::Invalid("database '", name, "' has ", existing->tables,
                                    " table(s); drop them first or use cascade");
    }
    Statement drop_tables(db_, path_);
    ARROW_RETURN_NOT_OK(drop_tables.Prepare("DELETE FROM tables WHERE database = ?"));
    ARROW_RETURN_NOT_OK(drop_tables.Bind(1, name).Run());
    Statement drop(db_, path_);
    ARROW_RETURN_NOT_OK(drop.Prepare("DELETE FROM databases WHERE name = ?"));
    return drop.Bind(1, name).Run();
  });
}

arrow::Result<std::optional<TableRecord>> CatalogStore::FindTable(const TableName& name) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  Statement query(db_, path_);
  const std::string sql =
      std::string("SELECT ") + kTableColumns + " FROM tables WHERE database = ? AND name = ?";
  ARROW_RETURN_NOT_OK(query.Prepare(sql.c_str()));
  query.Bind(1, name.database).Bind(2, name.table);
  ARROW_ASSIGN_OR_RAISE(bool found, query.Step());
  if (!found) return std::nullopt;
  ARROW_ASSIGN_OR_RAISE(TableRecord record, TableFromRow(query));
  return record;
}

arrow::Result<TableRecord> CatalogStore::GetTable(const TableName& name) {
  ARROW_ASSIGN_OR_RAISE(auto record, FindTable(name));
  if (!record) {
    return NotInCatalog("table", name.qualified(), path_);
  }
  return std::move(*record);
}

arrow::Status CatalogStore::InsertTable(TableRecord* record) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  ARROW_ASSIGN_OR_RAISE(auto schema_blob, SerializeSchema(record->info.schema));
  Statement insert(db_, path_);
  ARROW_RETURN_NOT_OK(insert.Prepare(
      "INSERT INTO tables (database, name, location, format, schema_ipc, partition_cols, "
      "parameters, version, manifest_snapshot, created_at_ms, updated_at_ms) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  const int64_t now = NowMillis();
  record->info.created_at_ms = record->info.updated_at_ms = now;
  insert.Bind(1, record->info.database)
      .Bind(2, record->info.name)
      .Bind(3, record->info.location)
      .Bind(4, record->info.format)
      .BindBlob(5, schema_blob)
      .Bind(6, nlohmann::json(record->info.partition_cols).dump())
      .Bind(7, nlohmann::json(record->info.parameters).dump())
      .Bind(8, record->info.version)
      .Bind(9, record->manifest_snapshot)
      .Bind(10, now)
      .Bind(11, now);
  arrow::Status inserted = insert.Run();
  if (!inserted.ok() && inserted.message().find("UNIQUE") != std::string::npos) {
    return arrow::Status::Invalid("table '", record->info.qualified_name(), "' already exists");
  }
  ARROW_RETURN_NOT_OK(inserted);
  record->id = sqlite3_last_insert_rowid(db_);
  return arrow::Status::OK();
}

arrow::Status CatalogStore::UpdateTable(const TableRecord& record) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  ARROW_ASSIGN_OR_RAISE(auto schema_blob, SerializeSchema(record.info.schema));
  Statement update(db_, path_);
  ARROW_RETURN_NOT_OK(update.Prepare(
      "UPDATE tables SET location = ?, format = ?, schema_ipc = ?, partition_cols = ?, "
      "parameters = ?, version = ?, manifest_snapshot = ?, updated_at_ms = ? WHERE id = ?"));
  return update.Bind(1, record.info.location)
      .Bind(2, record.info.format)
      .BindBlob(3, schema_blob)
      .Bind(4, nlohmann::json(record.info.partition_cols).dump())
      .Bind(5, nlohmann::json(record.info.parameters).dump())
      .Bind(6, record.info.version)
      .Bind(7, record.manifest_snapshot)
      .Bind(8, NowMillis())
      .Bind(9, record.id)
      .Run();
}

arrow::Result<std::vector<TableRecord>> CatalogStore::ListTables(const std::string& database) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  Statement query(db_, path_);
  const std::string sql =
      std::string("SELECT ") + kTableColumns + " FROM tables WHERE database = ? ORDER BY name";
  ARROW_RETURN_NOT_OK(query.Prepare(sql.c_str()));
  query.Bind(1, database);
  std::vector<TableRecord> out;
  while (true) {
    ARROW_ASSIGN_OR_RAISE(bool row, query.Step());
    if (!row) break;
    ARROW_ASSIGN_OR_RAISE(TableRecord record, TableFromRow(query));
    out.push_back(std::move(record));
  }
  return out;
}

arrow::Status CatalogStore::DeleteTable(int64_t table_id) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  Statement drop(db_, path_);
  ARROW_RETURN_NOT_OK(drop.Prepare("DELETE FROM tables WHERE id = ?"));
  return drop.Bind(1, table_id).Run();
}

arrow::Result<std::vector<PartitionInfo>> CatalogStore::ListPartitions(int64_t table_id) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  Statement query(db_, path_);
  ARROW_RETURN_NOT_OK(query.Prepare(
      "SELECT spec, values_json, location, row_count, size_bytes, file_count, version "
      "FROM partitions WHERE table_id = ? ORDER BY spec"));
  query.Bind(1, table_id);
  std::vector<PartitionInfo> out;
  while (true) {
    ARROW_ASSIGN_OR_RAISE(bool row, query.Step());
    if (!row) break;
    PartitionInfo partition;
    partition.spec = query.Text(0);
    ARROW_ASSIGN_OR_RAISE(partition.values, ParsePartitionValuesColumn(
                                                query.Text(1), "partition '" + partition.spec + "'"));
    partition.location = query.Text(2);
    partition.rows = query.Int(3);
    partition.bytes = query.Int(4);
    partition.files = query.Int(5);
    partition.version = query.Int(6);
    out.push_back(std::move(partition));
  }
  return out;
}

arrow::Status CatalogStore::ReplacePartitions(int64_t table_id,
                                              const std::vector<PartitionInfo>& partitions,
                                              const std::vector<std::string>* specs) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  if (specs == nullptr) {
    Statement clear(db_, path_);
    ARROW_RETURN_NOT_OK(clear.Prepare("DELETE FROM partitions WHERE table_id = ?"));
    ARROW_RETURN_NOT_OK(clear.Bind(1, table_id).Run());
  } else {
    for (const auto& spec : *specs) {
      Statement remove(db_, path_);
      ARROW_RETURN_NOT_OK(remove.Prepare("DELETE FROM partitions WHERE table_id = ? AND spec = ?"));
      ARROW_RETURN_NOT_OK(remove.Bind(1, table_id).Bind(2, spec).Run());
    }
  }
  for (const auto& partition : partitions) {
    nlohmann::json values = nlohmann::json::array();
    for (const auto& [key, value] : partition.values) {
      values.push_back({key, value ? nlohmann::json(*value) : nlohmann::json(nullptr)});
    }
    Statement insert(db_, path_);
    ARROW_RETURN_NOT_OK(insert.Prepare(
        "INSERT OR REPLACE INTO partitions (table_id, spec, values_json, location, row_count, "
        "size_bytes, file_count, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
    ARROW_RETURN_NOT_OK(insert.Bind(1, table_id)
                            .Bind(2, partition.spec)
                            .Bind(3, values.dump())
                            .Bind(4, partition.location)
                            .Bind(5, partition.rows)
                            .Bind(6, partition.bytes)
                            .Bind(7, partition.files)
                            .Bind(8, partition.version)
                            .Run());
  }
  return arrow::Status::OK();
}

arrow::Status CatalogStore::InsertVersion(int64_t table_id, const TableVersion& version) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  Statement insert(db_, path_);
  ARROW_RETURN_NOT_OK(insert.Prepare(
      "INSERT INTO table_versions (table_id, version, operation, committed_at_ms, write_id, "
      "rows_added, files_added, partitions, schema_change) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  return insert.Bind(1, table_id)
      .Bind(2, version.version)
      .Bind(3, version.operation)
      .Bind(4, version.committed_at_ms)
      .Bind(5, version.write_id)
      .Bind(6, version.rows_added)
      .Bind(7, version.files_added)
      .Bind(8, nlohmann::json(version.partitions).dump())
      .Bind(9, version.schema_change)
      .Run();
}

arrow::Result<std::vector<TableVersion>> CatalogStore::ListVersions(int64_t table_id) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  Statement query(db_, path_);
  ARROW_RETURN_NOT_OK(query.Prepare(
      "SELECT version, operation, committed_at_ms, write_id, rows_added, files_added, "
      "partitions, schema_change FROM table_versions WHERE table_id = ? ORDER BY version DESC"));
  query.Bind(1, table_id);
  std::vector<TableVersion> out;
  while (true) {
    ARROW_ASSIGN_OR_RAISE(bool row, query.Step());
    if (!row) break;
    TableVersion version;
    version.version = query.Int(0);
    version.operation = query.Text(1);
    version.committed_at_ms = query.Int(2);
    version.write_id = query.Text(3);
    version.rows_added = query.Int(4);
    version.files_added = query.Int(5);
    ARROW_ASSIGN_OR_RAISE(version.partitions,
                          ParseStringListColumn(query.Text(6), "version " +
                                                                   std::to_string(version.version)));
    version.schema_change = query.Text(7);
    out.push_back(std::move(version));
  }
  return out;
}

arrow::Result<bool> CatalogStore::TryLock(const std::string& key, const std::string& owner) {
  bool taken = false;
  ARROW_RETURN_NOT_OK(InTransaction([&]() -> arrow::Status {
    Statement query(db_, path_);
    ARROW_RETURN_NOT_OK(query.Prepare("SELECT owner FROM commit_locks WHERE name = ?"));
    query.Bind(1, key);
    ARROW_ASSIGN_OR_RAISE(bool held, query.Step());
    if (held) {
      // A holder that died (killed mid-commit) must not block the table forever.
      auto holder = io::ParseStagingDirName(query.Text(0));
      if (!holder || !io::IsAbandoned(*holder, 24 * 3600)) return arrow::Status::OK();
    }
    Statement take(db_, path_);
    ARROW_RETURN_NOT_OK(take.Prepare(
        "INSERT OR REPLACE INTO commit_locks (name, owner, acquired_at_ms) VALUES (?, ?, ?)"));
    ARROW_RETURN_NOT_OK(take.Bind(1, key).Bind(2, owner).Bind(3, NowMillis()).Run());
    taken = true;
    return arrow::Status::OK();
  }));
  return taken;
}

arrow::Status CatalogStore::Unlock(const std::string& key, const std::string& owner) {
  return InTransaction([&]() -> arrow::Status {
    Statement release(db_, path_);
    ARROW_RETURN_NOT_OK(release.Prepare("DELETE FROM commit_locks WHERE name = ? AND owner = ?"));
    return release.Bind(1, key).Bind(2, owner).Run();
  });
}

}  // namespace sluice::catalog
