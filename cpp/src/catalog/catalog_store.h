#pragma once

// The catalog's SQLite file: tables `databases`, `tables`, `partitions`, `table_versions`
// and `commit_locks`, one connection per CatalogStore, every change in a transaction.
// WAL journaling lets readers run while a writer commits; a 30 s busy timeout makes
// concurrent processes wait for each other instead of failing.

#include <arrow/result.h>
#include <arrow/status.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sluice/catalog.h"

struct sqlite3;

namespace sluice::catalog {

/// "db.table" split and checked; a bare name is in database "default".
struct TableName {
  std::string database;
  std::string table;
  std::string qualified() const { return database + "." + table; }
};
arrow::Result<TableName> ParseTableName(const std::string& name);
arrow::Status CheckIdentifier(const std::string& what, const std::string& name);
/// KeyError("<what> '<name>' does not exist...") tagged with kNotInCatalogDetail.
arrow::Status NotInCatalog(const std::string& what, const std::string& name,
                           const std::string& catalog_path);

// The catalog's JSON columns as read back. A value damaged outside Sluice (edited by
// hand, written by another tool) is an IOError "<what> has a damaged catalog entry: ...",
// never an exception.
/// `tables.partition_cols` and `table_versions.partitions`: ["a", "b"].
arrow::Result<std::vector<std::string>> ParseStringListColumn(const std::string& json,
                                                              const std::string& what);
/// `tables.parameters`: {"key": "value"}.
arrow::Result<std::map<std::string, std::string>> ParseStringMapColumn(const std::string& json,
                                                                      const std::string& what);
/// `partitions.values_json`: [["key", "value" or null], ...].
arrow::Result<std::vector<std::pair<std::string, std::optional<std::string>>>>
ParsePartitionValuesColumn(const std::string& json, const std::string& what);

/// A table's row: TableInfo without the totals, plus what only the catalog needs.
struct TableRecord {
  int64_t id = 0;
  TableInfo info;
  /// The manifest snapshot the registered partitions reflect.
  int64_t manifest_snapshot = -1;
};

class CatalogStore {
 public:
  static arrow::Result<std::shared_ptr<CatalogStore>> Open(const std::string& path);
  ~CatalogStore();

  const std::string& path() const { return path_; }

  /// Runs `body` in one write transaction (BEGIN IMMEDIATE ... COMMIT); rolls back when it
  /// fails. Not reentrant.
  arrow::Status InTransaction(const std::function<arrow::Status()>& body);

  // Databases
  arrow::Status CreateDatabase(const DatabaseInfo& database, bool if_not_exists);
  arrow::Result<std::optional<DatabaseInfo>> FindDatabase(const std::string& name);
  arrow::Result<std::vector<DatabaseInfo>> ListDatabases();
  arrow::Status DropDatabase(const std::string& name, bool cascade, bool if_exists);

  // Tables
  arrow::Result<std::optional<TableRecord>> FindTable(const TableName& name);
  arrow::Result<TableRecord> GetTable(const TableName& name);
  /// Inserts the table row; fills record->id.
  arrow::Status InsertTable(TableRecord* record);
  arrow::Status UpdateTable(const TableRecord& record);
  arrow::Result<std::vector<TableRecord>> ListTables(const std::string& database);
  arrow::Status DeleteTable(int64_t table_id);

  // Partitions and versions
  arrow::Result<std::vector<PartitionInfo>> ListPartitions(int64_t table_id);
  /// Replaces the partition rows of `table_id` whose spec is in `specs` (all when
  /// `specs` is null) by `partitions`.
  arrow::Status ReplacePartitions(int64_t table_id, const std::vector<PartitionInfo>& partitions,
                                  const std::vector<std::string>* specs);
  arrow::Status InsertVersion(int64_t table_id, const TableVersion& version);
  arrow::Result<std::vector<TableVersion>> ListVersions(int64_t table_id);

  // Commit locks (one row per qualified table name)
  /// Takes the lock row for `key` unless a live owner holds it; returns whether it did.
  arrow::Result<bool> TryLock(const std::string& key, const std::string& owner);
  arrow::Status Unlock(const std::string& key, const std::string& owner);

 private:
  CatalogStore() = default;
  arrow::Status Exec(const std::string& sql);

  std::string path_;
  sqlite3* db_ = nullptr;
  std::recursive_mutex mutex_;  // one connection, used by one thread at a time
};

}  // namespace sluice::catalog
