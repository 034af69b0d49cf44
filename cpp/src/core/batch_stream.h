#pragma once

#include <arrow/record_batch.h>
#include <arrow/result.h>
#include <arrow/util/byte_size.h>

#include <atomic>
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

/// `first`, then the batches of `rest`: puts back a batch read ahead (to learn a schema).
class PrefixedBatchStream : public BatchStream {
 public:
  PrefixedBatchStream(BatchPtr first, std::unique_ptr<BatchStream> rest)
      : first_(std::move(first)), rest_(std::move(rest)) {}
  arrow::Result<BatchPtr> Next() override {
    if (first_) return std::move(first_);
    return rest_->Next();
  }

 private:
  BatchPtr first_;
  std::unique_ptr<BatchStream> rest_;
};

/// A BatchStream as an Arrow RecordBatchReader, for Arrow APIs that read one (Acero's
/// record batch source). Adds the rows it reads to `rows_read` when given. With `stop`,
/// it ends early, leaving the rest of the stream unread, once `stop(batches read so far)`
/// is true, so that several readers can take turns on one stream.
class BatchStreamReader : public arrow::RecordBatchReader {
 public:
  /// Reads `stream` without owning it.
  BatchStreamReader(BatchStream* stream, std::shared_ptr<arrow::Schema> schema,
                    std::atomic<int64_t>* rows_read = nullptr,
                    std::function<bool(int64_t)> stop = nullptr)
      : stream_(stream),
        schema_(std::move(schema)),
        rows_read_(rows_read),
        stop_(std::move(stop)) {}
  BatchStreamReader(std::unique_ptr<BatchStream> stream, std::shared_ptr<arrow::Schema> schema,
                    std::atomic<int64_t>* rows_read = nullptr)
      : BatchStreamReader(stream.get(), std::move(schema), rows_read) {
    owned_ = std::move(stream);
  }

  std::shared_ptr<arrow::Schema> schema() const override { return schema_; }
  arrow::Status ReadNext(std::shared_ptr<arrow::RecordBatch>* out) override {
    *out = nullptr;
    if (ended_ || (stop_ && batches_ > 0 && stop_(batches_))) return arrow::Status::OK();
    ARROW_ASSIGN_OR_RAISE(*out, stream_->Next());
    if (!*out) {
      ended_ = true;
      return arrow::Status::OK();
    }
    ++batches_;
    if (rows_read_) rows_read_->fetch_add((*out)->num_rows());
    return arrow::Status::OK();
  }
  /// Whether the stream itself ended (not just this reader's turn on it).
  bool stream_ended() const { return ended_; }

 private:
  std::unique_ptr<BatchStream> owned_;
  BatchStream* stream_;
  std::shared_ptr<arrow::Schema> schema_;
  std::atomic<int64_t>* rows_read_;
  std::function<bool(int64_t)> stop_;
  int64_t batches_ = 0;
  bool ended_ = false;
};

}  // namespace sluice::exec
