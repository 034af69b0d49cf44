#pragma once

// How a write to a catalog table commits: the catalog's lock row serializes commits to
// the table (the storage may be S3, where there is no lock), and after the manifest is
// written (the commit point, table/commit_protocol.h) one SQLite transaction records the
// table (created if new, schema evolved), its partitions as the new manifest has them,
// and a version. A process killed between the two leaves the catalog one manifest
// snapshot behind; the next read or write of the table notices (the snapshot numbers
// differ) and brings the catalog up to the manifest.

#include <arrow/result.h>
#include <arrow/type_fwd.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog_store.h"
#include "runtime/session_state.h"
#include "table/commit_lock.h"
#include "table/commit_protocol.h"
#include "table/table_manifest.h"
#include "sluice/options.h"

namespace sluice::catalog {

/// The partition rows for the files of `manifest` (one row with an empty spec when the
/// table is not partitioned), each stamped with `version`.
arrow::Result<std::vector<PartitionInfo>> PartitionsFromManifest(const io::TableManifest& manifest,
                                                                 const std::string& location,
                                                                 int64_t version);

/// Adds one file to the row of partition `spec` (made on first use, located below
/// `location`); a count of -1 makes that total unknown.
void AddFileToPartition(std::map<std::string, PartitionInfo>* partitions, const std::string& spec,
                        const std::string& location, int64_t rows, int64_t bytes, int64_t version);

/// Values of a "k=v/k2=v2" directory spec, unescaped; Hive's null partition is nullopt.
std::vector<std::pair<std::string, std::optional<std::string>>> ParsePartitionSpec(
    const std::string& spec);

/// `current` with the columns of `incoming` it lacks appended. Columns in both must have
/// the same type; added columns must be nullable. `change` describes what was added.
arrow::Result<std::shared_ptr<arrow::Schema>> EvolveSchema(
    const std::shared_ptr<arrow::Schema>& current, const std::shared_ptr<arrow::Schema>& incoming,
    const std::string& table, std::string* change);

/// Catches the catalog up with `manifest` when its snapshot is newer than the one the
/// catalog recorded (a "repair" version). Does nothing otherwise.
arrow::Status SyncWithManifest(CatalogStore* store, TableRecord* record,
                               const io::TableManifest& manifest);

/// Everything a table write needs besides what a path write needs.
struct TableWritePlan {
  /// Where to write: the table's location (the path given, for a new table).
  std::string location;
  std::vector<std::string> partition_cols;
  std::unique_ptr<io::CommitLock> lock;
  std::function<arrow::Status(const io::TableManifest&)> before_publish;
  io::CommittedHook on_committed;
};

/// Checks a write of rows of `schema` (null: not known before running) to `options.table`
/// and prepares its lock and registration. `path` may be empty for an existing table or
/// a database with a location. The written files are opened with `session`'s settings.
arrow::Result<TableWritePlan> PrepareTableWrite(
    const std::string& path, const std::string& format, const WriteOptions& options,
    const std::shared_ptr<arrow::Schema>& schema,
    std::shared_ptr<exec::SessionState> session = nullptr);

/// The catalog lock row for `key`, polled until `timeout_seconds`.
std::unique_ptr<io::CommitLock> MakeCatalogCommitLock(std::shared_ptr<CatalogStore> store,
                                                      std::string key, double timeout_seconds);

/// The catalog at `path`, or at EngineConfig::catalog_path when empty.
arrow::Result<std::shared_ptr<CatalogStore>> OpenCatalogStore(const std::string& path);

}  // namespace sluice::catalog
