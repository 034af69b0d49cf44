#pragma once

// Factories for every source the engine reads. Each returns an immutable SourceSpec that
// has already listed its files and resolved its schema, so planning errors (missing
// paths, unreadable footers, inconsistent schemas) surface when the dataset is created.

#include <memory>
#include <string>
#include <vector>

#include "table/file_listing.h"
#include "plan/source_spec.h"
#include "sluice/options.h"

namespace sluice::io {

// The file sources list their paths when they are made, with the S3 settings and the
// memory budget of `session` (null: the default session).

arrow::Result<std::shared_ptr<const plan::SourceSpec>> MakeParquetSource(
    const std::vector<std::string>& paths, const ReadParquetOptions& options,
    std::shared_ptr<exec::SessionState> session = nullptr);
/// A Parquet source over files already listed (a table's committed files). A non-null
/// `partition_schema` gives the Hive partition columns and their types (empty: none)
/// instead of inferring them from the directory names.
arrow::Result<std::shared_ptr<const plan::SourceSpec>> MakeParquetSourceFromListing(
    ListedFiles listed, const ReadParquetOptions& options,
    const std::shared_ptr<arrow::Schema>& partition_schema);

/// One Parquet file as the crawler sees it.
struct ParquetFileSummary {
  std::string path;
  /// "key=value/key=value" below the listed base directory; empty when not partitioned.
  std::string partition_dir;
  /// -1 when the footer's row counts disagree, so only reading the file would tell.
  int64_t rows = 0;
  int64_t bytes = -1;
};

/// The schema (file columns unified, then inferred Hive partition columns) and per-file
/// row counts of `listed`, from the footers alone.
struct ParquetInventory {
  std::shared_ptr<arrow::Schema> schema;
  std::vector<std::string> partition_cols;
  std::vector<ParquetFileSummary> files;
};
arrow::Result<ParquetInventory> InspectParquetFiles(const ListedFiles& listed);

arrow::Result<std::shared_ptr<const plan::SourceSpec>> MakeCsvSource(
    const std::vector<std::string>& paths, const ReadCsvOptions& options,
    std::shared_ptr<exec::SessionState> session = nullptr);
arrow::Result<std::shared_ptr<const plan::SourceSpec>> MakeJsonSource(
    const std::vector<std::string>& paths, const ReadJsonOptions& options,
    std::shared_ptr<exec::SessionState> session = nullptr);
arrow::Result<std::shared_ptr<const plan::SourceSpec>> MakeTextSource(
    const std::vector<std::string>& paths, const ReadTextOptions& options,
    std::shared_ptr<exec::SessionState> session = nullptr);
// The readers of each file source's payload (connectors/serialized_sources.h picks one by
// kind); they may throw nlohmann::json exceptions on damaged payloads, which
// DeserializeSource catches.
arrow::Result<std::shared_ptr<const plan::SourceSpec>> DeserializeParquetSource(
    const std::string& payload, const std::shared_ptr<exec::SessionState>& session);
arrow::Result<std::shared_ptr<const plan::SourceSpec>> DeserializeCsvSource(
    const std::string& payload, const std::shared_ptr<exec::SessionState>& session);
arrow::Result<std::shared_ptr<const plan::SourceSpec>> DeserializeJsonSource(
    const std::string& payload, const std::shared_ptr<exec::SessionState>& session);
arrow::Result<std::shared_ptr<const plan::SourceSpec>> DeserializeTextSource(
    const std::string& payload, const std::shared_ptr<exec::SessionState>& session);

}  // namespace sluice::io
