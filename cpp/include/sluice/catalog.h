#pragma once

/// The table catalog: databases and tables (location, format, schema, partition columns,
/// partitions with row counts and sizes, parameters, versions) in an embedded SQLite file
/// (EngineConfig::catalog_path). Writes with WriteOptions::table register what they
/// commit in the same commit; ReadTable plans from the catalog.

#include <arrow/result.h>
#include <arrow/type_fwd.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sluice/dataset.h"
#include "sluice/expression.h"

namespace sluice {

/// type_id() of the StatusDetail on the KeyError a catalog returns for a database or
/// table that does not exist (the Python binding raises sl.errors.NotInCatalogError).
inline constexpr char kNotInCatalogDetail[] = "sluice::not-in-catalog";

struct DatabaseInfo {
  std::string name;
  std::string description;
  /// Where tables created without a location go (location/table_name); may be empty.
  std::string location;
  int64_t created_at_ms = 0;
  int64_t tables = 0;
};

/// One Hive partition of a table.
struct PartitionInfo {
  /// "year=2015/marketplace=US", as in the directory names (values escaped).
  std::string spec;
  /// Partition column -> value (unescaped); nullopt for Hive's null partition.
  std::vector<std::pair<std::string, std::optional<std::string>>> values;
  /// Directory of the partition (path or URI).
  std::string location;
  /// -1 when unknown (files registered without reading their footers).
  int64_t rows = -1;
  int64_t bytes = -1;
  int64_t files = 0;
  /// The table version that last changed the partition.
  int64_t version = 0;
};

struct TableInfo {
  std::string database;
  std::string name;
  std::string location;
  /// "parquet", "csv" or "json".
  std::string format;
  std::shared_ptr<arrow::Schema> schema;
  std::vector<std::string> partition_cols;
  std::map<std::string, std::string> parameters;
  /// Increases with every commit registered.
  int64_t version = 0;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
  /// Totals over the partitions; rows is -1 when some partition's count is unknown.
  int64_t rows = 0;
  int64_t bytes = 0;
  int64_t files = 0;
  int64_t partitions = 0;

  std::string qualified_name() const { return database + "." + name; }
};

/// One entry of a table's history.
struct TableVersion {
  int64_t version = 0;
  /// create, append, overwrite, overwrite_partitions, error (a first write), crawl,
  /// repair (the catalog caught up with a commit it had missed), set_parameters.
  std::string operation;
  int64_t committed_at_ms = 0;
  std::string write_id;
  int64_t rows_added = 0;
  int64_t files_added = 0;
  /// Partition specs the version wrote or replaced.
  std::vector<std::string> partitions;
  /// e.g. "added columns: score (double)"; empty when the schema did not change.
  std::string schema_change;
};

struct CreateTableOptions {
  std::string location;
  std::string format = "parquet";
  std::shared_ptr<arrow::Schema> schema;
  std::vector<std::string> partition_cols;
  std::map<std::string, std::string> parameters;
  bool if_not_exists = false;
};

/// What Catalog::Crawl found and registered.
struct CrawlResult {
  std::string table;
  bool created = false;
  std::vector<std::string> added_partitions;
  int64_t unchanged_partitions = 0;
  /// Registered partitions whose directory holds no data any more (not dropped).
  std::vector<std::string> missing_partitions;
  std::string schema_change;
};

/// A catalog file. Table names are "database.table"; a bare name means database
/// "default". Every method is safe to call from several threads and processes at once
/// (SQLite transactions; commits to one table are serialized by a lock row).
class Catalog {
 public:
  /// Opens the catalog at `path`, creating the file and its tables when missing; empty
  /// means EngineConfig::catalog_path.
  static arrow::Result<std::shared_ptr<Catalog>> Open(const std::string& path = "");
  ~Catalog();

  const std::string& path() const;

  arrow::Status CreateDatabase(const std::string& name, const std::string& description = "",
                               const std::string& location = "", bool if_not_exists = false);
  arrow::Result<std::vector<DatabaseInfo>> ListDatabases();
  /// Refuses a database with tables unless `cascade` (which drops their registrations,
  /// never their data).
  arrow::Status DropDatabase(const std::string& name, bool cascade = false, bool if_exists = false);

  arrow::Status CreateTable(const std::string& name, const CreateTableOptions& options);
  arrow::Result<std::vector<TableInfo>> ListTables(const std::string& database = "default");
  arrow::Result<TableInfo> DescribeTable(const std::string& name);
  /// Removes the registration; the data stays where it is.
  arrow::Status DropTable(const std::string& name, bool if_exists = false);
  /// Sets (or with an empty value removes) table parameters; recorded as a version.
  arrow::Status SetTableParameters(const std::string& name,
                                   const std::map<std::string, std::string>& parameters);
  /// Partitions whose values can satisfy `filter` (which may only use partition columns),
  /// from the catalog alone; storage is not touched.
  arrow::Result<std::vector<PartitionInfo>> ListPartitions(
      const std::string& name, const std::optional<Expression>& filter = std::nullopt);
  /// Newest first.
  arrow::Result<std::vector<TableVersion>> History(const std::string& name);

  /// Infers schema and Hive partitions of existing data at `path` (local or s3://) and
  /// registers `table`, or adds the partitions it does not know yet. Footers are read only
  /// for files in new partitions. `format` empty: from the files' extension.
  /// `follow_symlinks`: follow links that lead out of `path` (else such a link is an
  /// error); links inside it are followed, loops entered once.
  arrow::Result<CrawlResult> Crawl(const std::string& path, const std::string& table,
                                   const std::string& format = "", bool follow_symlinks = false);

  struct Impl;

 private:
  explicit Catalog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct ReadTableOptions {
  /// Rows to keep; partitions it rules out are pruned from the catalog's partition list
  /// before any file is opened.
  std::optional<Expression> filter;
  std::vector<std::string> columns;
  /// Empty: the session's EngineConfig::catalog_path.
  std::string catalog_path;
};

/// A catalog table as a Dataset: its committed files (from the table's manifest) in the
/// partitions the filter leaves, with the catalog's schema.
/// Reads in `session` (its catalog unless options name one, its S3 settings).
arrow::Result<Dataset> ReadTable(const std::string& name, const ReadTableOptions& options = {},
                                 const Session& session = Session::Default());

}  // namespace sluice
