#pragma once

#include <arrow/filesystem/filesystem.h>
#include <arrow/io/interfaces.h>
#include <arrow/record_batch.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/stream_operator.h"

namespace sluice::io {

/// One output file of some format (Parquet, CSV, JSON lines) while it is being written.
class FormatWriter {
 public:
  virtual ~FormatWriter() = default;
  virtual arrow::Status Write(const arrow::RecordBatch& batch) = 0;
  /// Writes `batches` (one schema) out now, as a unit: Parquet encodes them as whole row
  /// groups at once instead of buffering an open row group until the next call, so an
  /// open file holds no rows between calls. Other formats just write them.
  virtual arrow::Status WriteRowGroup(
      const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches) {
    for (const auto& batch : batches) ARROW_RETURN_NOT_OK(Write(*batch));
    return arrow::Status::OK();
  }
  /// Finishes the file (footer, compression trailer) and closes its stream.
  virtual arrow::Status Close() = 0;
};

/// Opens a FormatWriter that writes rows of `schema` to `sink`.
using FormatWriterFactory = std::function<arrow::Result<std::unique_ptr<FormatWriter>>(
    std::shared_ptr<arrow::io::OutputStream> sink, const std::shared_ptr<arrow::Schema>& schema)>;

/// What a WriteOperator writes and where.
struct WriteOperatorOptions {
  std::shared_ptr<arrow::fs::FileSystem> filesystem;
  /// Directory (filesystem path) the files are written under, in their final layout.
  std::string staging_dir;
  /// File name extension without the dot, e.g. "parquet" or "csv.gz".
  std::string extension;
  /// Hive partition columns, outermost first; removed from the file contents.
  std::vector<std::string> partition_cols;
  /// Roll over to a new file after this many rows.
  std::optional<int64_t> max_rows_per_file;
  /// The plan's output schema; null when only the first batch will tell (user functions).
  std::shared_ptr<arrow::Schema> expected_schema;
  FormatWriterFactory open_writer;
  /// Shown in errors, e.g. "parquet".
  std::string format_name;
  /// The id of the first task (ids name the staged files): writers in other processes
  /// staging into one directory start at different ids so their files never collide.
  int64_t first_task_id = 0;
};

/// A file a WriteOperator finished under the staging directory.
struct StagedFile {
  /// Identifies the task that wrote it. Ids follow the order in which tasks were opened,
  /// which may differ from task order; the order of the operator's output batches is the
  /// task order.
  int64_t task_id = 0;
  /// "key=value/key=value" below the staging directory; empty when not partitioned.
  std::string partition_dir;
  /// Position among the files of its task and partition (rollover at max_rows_per_file).
  int64_t file_seq = 0;
  std::string staged_path;
  int64_t rows = 0;
  int64_t bytes = 0;
};

/// The sink of a write pipeline. Each scan task writes its rows to its own files: one per
/// partition value (one in all without partition columns), rolled over at
/// max_rows_per_file; a task without rows writes nothing. Partition values are found per
/// batch with a hash grouper; rows of small partitions are buffered per task (up to a
/// memory bound) so a task spread over many partitions keeps few files open.
///
/// When a task finishes, the operator emits one batch describing the files it wrote
/// (see StagedFilesFromBatch). The pipeline delivers those batches in task order, which is
/// what lets the caller name files so that name order is task order.
class WriteOperator : public exec::StreamOperator {
 public:
  static arrow::Result<std::shared_ptr<WriteOperator>> Make(WriteOperatorOptions options);

  std::string ToString() const override;
  arrow::Result<std::shared_ptr<exec::OperatorState>> MakeGlobalState(
      exec::ExecContext* ctx) const override;
  arrow::Result<std::unique_ptr<exec::OperatorState>> MakeTaskState(
      exec::ExecContext* ctx, exec::OperatorState* global) const override;
  arrow::Status Push(exec::ExecContext* ctx, exec::OperatorState* global, exec::OperatorState* task,
                     exec::BatchPtr batch, const exec::EmitFn& emit) const override;
  arrow::Status Finish(exec::ExecContext* ctx, exec::OperatorState* global,
                       exec::OperatorState* task, const exec::EmitFn& emit) const override;

  /// The schema of the operator's output batches (one row per staged file).
  static std::shared_ptr<arrow::Schema> ResultSchema();
  /// The files described by one output batch of the operator, in the order written.
  static arrow::Result<std::vector<StagedFile>> StagedFilesFromBatch(
      const arrow::RecordBatch& batch);

 private:
  explicit WriteOperator(WriteOperatorOptions options) : options_(std::move(options)) {}

  WriteOperatorOptions options_;
};

/// `value` in decimal with leading zeros up to `width` digits ("part-00007").
std::string ZeroPadded(int64_t value, int width);

/// Escapes a partition key or value for a `key=value` directory name the way Hive and
/// pyarrow's URI segment encoding do: every byte except ASCII letters, digits and "-._~"
/// becomes %XX (so '/' -> %2F, ' ' -> %20, '=' -> %3D).
std::string EscapeHivePathSegment(std::string_view text);

/// The directory value Hive uses for a null partition value.
inline constexpr const char* kHiveNullPartition = "__HIVE_DEFAULT_PARTITION__";

/// Checks that the partition columns exist in `schema`, are distinct, and leave at least
/// one column for the files. Errors name the column and list the schema's columns.
arrow::Status ValidatePartitionColumns(const arrow::Schema& schema,
                                       const std::vector<std::string>& partition_cols);

}  // namespace sluice::io
