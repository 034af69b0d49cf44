#pragma once

#include <arrow/record_batch.h>
#include <arrow/result.h>
#include <arrow/type.h>

#include <memory>
#include <string>
#include <vector>

#include "plan/source_spec.h"
#include "sluice/options.h"

namespace sluice::exec {
class ExecContext;
class StreamOperator;
}  // namespace sluice::exec

namespace sluice::plan {

/// One write in progress, on the driver: what Sink::Begin set up (a staging directory, a
/// lock, a transaction). Its task writer runs inside every task; each task ends by
/// emitting a small result batch (for files: which files it staged, their rows and
/// bytes), and Commit runs once with all of them. Destroying an uncommitted write aborts
/// it: whatever was staged is removed and the target stays as it was.
class SinkWrite {
 public:
  virtual ~SinkWrite() = default;
  /// Stages the rows of each task and emits the task's result batch when the task ends.
  virtual std::shared_ptr<const exec::StreamOperator> task_writer() const = 0;
  /// Whether the write may take its input's tasks regrouped into fewer, longer ones when
  /// the input's order does not matter (a partitioned write then keeps one file per
  /// partition per worker instead of one per input task and partition).
  virtual bool RegroupsUnorderedInput() const { return false; }
  /// The task writer as bytes, for tasks in other processes that stage into this write
  /// (a runner's fragments; io::DeserializeTaskWriter reads them back). NotImplemented for
  /// a sink whose tasks must run in this process.
  virtual arrow::Result<SerializedPart> SerializeTaskWriter() const {
    return arrow::Status::NotImplemented("this sink's tasks cannot run in another process");
  }
  /// Publishes the write, once, given the result batches of every task in task order.
  virtual arrow::Result<WriteResult> Commit(
      const std::vector<std::shared_ptr<arrow::RecordBatch>>& task_results) = 0;
};

/// Where a write goes, as the planner sees it (the write side of SourceSpec): immutable,
/// shown by explain(), and able to begin a write. The file sink (connectors/files/file_sink.h: the
/// commit protocol plus, for a catalog table, its registration) is one; database and
/// table-format sinks are others.
class SinkSpec {
 public:
  virtual ~SinkSpec() = default;
  /// Operator name, e.g. "WriteParquet".
  virtual std::string name() const = 0;
  /// Target and settings, e.g. "/out mode=overwrite partition_cols=[year]".
  virtual std::string Describe() const = 0;
  /// The schema of the task writer's result batches.
  virtual std::shared_ptr<arrow::Schema> result_schema() const = 0;
  /// The sink as bytes for another process (io::DeserializeSink reads them back).
  virtual arrow::Result<SerializedPart> Serialize() const {
    return arrow::Status::NotImplemented(name(), " sinks cannot be serialized");
  }
  /// Checks what can be checked before anything is created (the input's schema when
  /// known, options, the target), then begins the write.
  virtual arrow::Result<std::unique_ptr<SinkWrite>> Begin(
      exec::ExecContext* ctx, const std::shared_ptr<arrow::Schema>& input_schema) const = 0;
};

}  // namespace sluice::plan
