#pragma once

#include <arrow/record_batch.h>
#include <arrow/result.h>
#include <arrow/util/byte_size.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace sluice::exec {

using BatchPtr = std::shared_ptr<arrow::RecordBatch>;

/// Bytes of the buffers a batch references. Slices share buffers, so this is an upper
/// bound of what the batch keeps alive: the right measure for budgeting.
inline int64_t BatchBufferBytes(const arrow::RecordBatch& batch) {
  int64_t total = 0;
  for (const auto& column : batch.columns()) {
    for (const auto& buffer : column->data()->buffers) {
      if (buffer) total += buffer->size();
    }
  }
  return total;
}

/// Bytes of the buffer ranges a batch's rows use: what holding the batch costs when the
/// rest of its buffers is held anyway (the other slices of one decoded row group), which is
/// how an operator that holds whole inputs should count.
inline int64_t BatchReferencedBytes(const arrow::RecordBatch& batch) {
  auto bytes = arrow::util::ReferencedBufferSize(batch);
  return bytes.ok() ? *bytes : BatchBufferBytes(batch);
}

/// `batch` labelled with `schema`, which must have the same column types: pipelines may
/// hand over batches whose nullability or metadata differ from their plan's, while a file,
/// a concatenation or a table needs one schema. Other differences are a TypeError naming
/// both schemas.
inline arrow::Result<BatchPtr> BatchUnderSchema(const BatchPtr& batch,
                                                const std::shared_ptr<arrow::Schema>& schema) {
  if (batch->schema()->Equals(*schema, /*check_metadata=*/false)) return batch;
  bool same_types = batch->num_columns() == schema->num_fields();
  for (int i = 0; same_types && i < schema->num_fields(); ++i) {
    same_types = batch->column(i)->type()->Equals(*schema->field(i)->type());
  }
  if (!same_types) {
    return arrow::Status::TypeError("a batch's columns differ from the expected ones.\nexpected: ",
                                    schema->ToString(), "\ngot: ", batch->schema()->ToString());
  }
  return arrow::RecordBatch::Make(schema, batch->num_rows(), batch->columns());
}

/// A pull iterator over batches, used by exactly one thread at a time. Next() returns
/// nullptr at the end.
class BatchStream {
 public:
  virtual ~BatchStream() = default;
  virtual arrow::Result<BatchPtr> Next() = 0;
};

/// One independent unit of source work (a file, a range of row groups, a slice of a
/// sorted table). Tasks are numbered in the order NextTask() returns them and the
/// executor keeps that order in its output.
struct ScanTask {
  /// Shown in errors and progress, e.g. the file path.
  std::string label;
  std::function<arrow::Result<std::unique_ptr<BatchStream>>()> open;
};

/// Hands out the tasks of one execution. NextTask() is called with the pipeline's lock
/// held, so implementations need no locking of their own; it may block (a sort waits for
/// its input) and returns nullopt when there are no more tasks.
class TaskSource {
 public:
  virtual ~TaskSource() = default;
  virtual arrow::Result<std::optional<ScanTask>> NextTask() = 0;
};

/// A BatchStream over a function, for small adapters.
class FunctionBatchStream : public BatchStream {
 public:
  explicit FunctionBatchStream(std::function<arrow::Result<BatchPtr>()> next)
      : next_(std::move(next)) {}
  arrow::Result<BatchPtr> Next() override { return next_(); }

 private:
  std::function<arrow::Result<BatchPtr>()> next_;
};

/// A stream of exactly one batch.
inline std::unique_ptr<BatchStream> MakeSingleBatchStream(BatchPtr batch) {
  return std::make_unique<FunctionBatchStream>(
      [batch = std::move(batch)]() mutable -> arrow::Result<BatchPtr> { return std::move(batch); });
}

}  // namespace sluice::exec
