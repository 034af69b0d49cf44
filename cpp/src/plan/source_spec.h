#pragma once

#include <arrow/compute/expression.h>
#include <arrow/result.h>
#include <arrow/type.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/batch_stream.h"

namespace sluice::exec {
class ExecContext;
}

namespace sluice::plan {

/// What the optimizer pushed into a source. The source must return exactly the rows that
/// pass `filter` (statistics may only skip data, never decide a row) with the columns in
/// `columns`, in that order, and at most `limit` rows.
struct Pushdown {
  std::optional<std::vector<std::string>> columns;  // unset: all columns
  std::optional<arrow::compute::Expression> filter;
  std::optional<int64_t> limit;
};

/// A source, sink or user function as bytes (plan/plan_serialization.h): `kind` names
/// the codec that reads it back.
struct SerializedPart {
  std::string kind;
  std::string payload;
};

/// One unit of a source's work that can leave the process: a file, some row groups of a
/// Parquet file, a slice of an in-memory table, later a key range of a database table.
/// `payload` is the source's own description (JSON) and means something only to
/// SourceSpec::WithSplits of the source that listed it; the rest is for the runner
/// that groups splits into tasks.
struct Split {
  /// Shown in errors and progress, e.g. "/data/a.parquet row groups 0-3".
  std::string label;
  std::string payload;
  /// Rows and bytes the split holds (bytes as stored), when the metadata says so.
  std::optional<int64_t> rows;
  std::optional<int64_t> bytes;
};

/// A data source (files or memory) as the planner sees it: immutable, schema known up
/// front, and able to say which pushdowns it takes.
class SourceSpec {
 public:
  virtual ~SourceSpec() = default;
  /// Operator name, e.g. "ReadParquet".
  virtual std::string name() const = 0;
  /// Short description: file count, paths.
  virtual std::string Describe() const = 0;
  /// Every column the source can produce.
  virtual std::shared_ptr<arrow::Schema> schema() const = 0;

  virtual bool SupportsFilterPushdown() const { return false; }
  virtual bool SupportsLimitPushdown() const { return true; }

  virtual arrow::Result<std::unique_ptr<exec::TaskSource>> MakeTaskSource(
      exec::ExecContext* ctx, const Pushdown& pushdown) const = 0;

  /// Row count without reading data, if the source knows it (footers, memory).
  virtual arrow::Result<std::optional<int64_t>> CountRowsFromMetadata(
      const Pushdown& pushdown) const {
    return std::nullopt;
  }
  /// The source as bytes for another process (io::DeserializeSource reads them back);
  /// NotImplemented for a source that cannot leave the process.
  virtual arrow::Result<SerializedPart> Serialize() const {
    return arrow::Status::NotImplemented(name(), " sources cannot be serialized yet");
  }
  /// The units of work of a scan with `pushdown`, in the order a scan reads them, each of
  /// about `target_bytes` (as stored) where the source can cut that finely (Parquet cuts at
  /// row groups, text formats at files). Splits that statistics or partition values rule
  /// out are left out. NotImplemented for a source that cannot be split.
  virtual arrow::Result<std::vector<Split>> ListSplits(const Pushdown& pushdown,
                                                       int64_t target_bytes) const {
    return arrow::Status::NotImplemented(name(), " sources cannot be split yet");
  }
  /// The same source restricted to `splits` (which this source's ListSplits made, with
  /// any pushdown): a scan of it reads exactly those splits, in the order given, and it
  /// serializes as just them. An empty list gives a source without rows. Damaged or
  /// foreign payloads are Invalid.
  virtual arrow::Result<std::shared_ptr<const SourceSpec>> WithSplits(
      const std::vector<Split>& splits) const {
    return arrow::Status::NotImplemented(name(), " sources cannot be split yet");
  }
  /// In-memory size estimate without reading data.
  virtual arrow::Result<std::optional<int64_t>> SizeBytesFromMetadata(
      const Pushdown& pushdown) const {
    return std::nullopt;
  }
};

/// The schema after applying `pushdown.columns` to `full`.
arrow::Result<std::shared_ptr<arrow::Schema>> ProjectSchema(
    const std::shared_ptr<arrow::Schema>& full, const Pushdown& pushdown);

}  // namespace sluice::plan
