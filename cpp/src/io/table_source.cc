#include <arrow/io/memory.h>
#include <arrow/ipc/reader.h>
#include <arrow/ipc/writer.h>
#include <arrow/table.h>

#include <charconv>

#include "exec/exec_context.h"
#include "io/sources.h"

namespace sluice::io {

namespace {

constexpr char kTableSourceKind[] = "table";
constexpr char kRangeSourceKind[] = "range";

/// An in-memory table (from_arrow, from_pandas, from_items), cut into tasks so the
/// operators above it run in parallel.
class TableSource : public plan::SourceSpec {
 public:
  explicit TableSource(std::shared_ptr<arrow::Table> table) : table_(std::move(table)) {}
  std::string name() const override { return "FromArrow"; }
  std::string Describe() const override { return std::to_string(table_->num_rows()) + " rows"; }
  std::shared_ptr<arrow::Schema> schema() const override { return table_->schema(); }

  arrow::Result<plan::SerializedPart> Serialize() const override {
    // Arrow IPC: the table's exact schema (metadata included) and buffers.
    ARROW_ASSIGN_OR_RAISE(auto sink, arrow::io::BufferOutputStream::Create());
    ARROW_ASSIGN_OR_RAISE(auto writer, arrow::ipc::MakeStreamWriter(sink, table_->schema()));
    ARROW_RETURN_NOT_OK(writer->WriteTable(*table_));
    ARROW_RETURN_NOT_OK(writer->Close());
    ARROW_ASSIGN_OR_RAISE(auto buffer, sink->Finish());
    return plan::SerializedPart{kTableSourceKind, buffer->ToString()};
  }

  arrow::Result<std::unique_ptr<exec::TaskSource>> MakeTaskSource(
      exec::ExecContext* ctx, const plan::Pushdown& pushdown) const override {
    std::shared_ptr<arrow::Table> table = table_;
    if (pushdown.columns) {
      std::vector<int> indices;
      for (const auto& c : *pushdown.columns) {
        const int i = table->schema()->GetFieldIndex(c);
        if (i < 0) return arrow::Status::KeyError("no column named '", c, "'");
        indices.push_back(i);
      }
      ARROW_ASSIGN_OR_RAISE(table, table->SelectColumns(indices));
    }
    if (pushdown.limit) table = table->Slice(0, *pushdown.limit);
    return std::unique_ptr<exec::TaskSource>(new Tasks(table, ctx->config().batch_rows));
  }

  arrow::Result<std::optional<int64_t>> CountRowsFromMetadata(
      const plan::Pushdown& pushdown) const override {
    int64_t rows = table_->num_rows();
    if (pushdown.limit) rows = std::min(rows, *pushdown.limit);
    return rows;
  }

 private:
  class Tasks : public exec::TaskSource {
   public:
    Tasks(std::shared_ptr<arrow::Table> table, int64_t rows_per_task)
        : table_(std::move(table)), rows_per_task_(std::max<int64_t>(1, rows_per_task)) {}
    arrow::Result<std::optional<exec::ScanTask>> NextTask() override {
      if (offset_ >= table_->num_rows()) return std::nullopt;
      // Arrow does not clamp the slice of a table without columns (all pruned, e.g. by a
      // count), so the length is clamped here.
      auto slice = table_->Slice(offset_, std::min(rows_per_task_, table_->num_rows() - offset_));
      offset_ += rows_per_task_;
      exec::ScanTask task;
      task.label = "memory";
      task.open = [slice]() -> arrow::Result<std::unique_ptr<exec::BatchStream>> {
        ARROW_ASSIGN_OR_RAISE(auto batch, slice->CombineChunksToBatch());
        return exec::MakeSingleBatchStream(std::move(batch));
      };
      return task;
    }

   private:
    std::shared_ptr<arrow::Table> table_;
    int64_t rows_per_task_;
    int64_t offset_ = 0;
  };

  std::shared_ptr<arrow::Table> table_;
};

/// Integers 0..n-1 in column "id", generated per task.
class RangeSource : public plan::SourceSpec {
 public:
  explicit RangeSource(int64_t n) : n_(n) {}
  std::string name() const override { return "Range"; }
  std::string Describe() const override { return std::to_string(n_); }
  arrow::Result<plan::SerializedPart> Serialize() const override {
    return plan::SerializedPart{kRangeSourceKind, std::to_string(n_)};
  }
  std::shared_ptr<arrow::Schema> schema() const override {
    return arrow::schema({arrow::field("id", arrow::int64(), false)});
  }

  arrow::Result<std::unique_ptr<exec::TaskSource>> MakeTaskSource(
      exec::ExecContext* ctx, const plan::Pushdown& pushdown) const override {
    const int64_t end = pushdown.limit ? std::min(n_, *pushdown.limit) : n_;
    const bool with_id = !pushdown.columns || !pushdown.columns->empty();
    return std::unique_ptr<exec::TaskSource>(
        new Tasks(end, ctx->config().batch_rows, with_id, ctx->pool()));
  }

  arrow::Result<std::optional<int64_t>> CountRowsFromMetadata(
      const plan::Pushdown& pushdown) const override {
    return pushdown.limit ? std::min(n_, *pushdown.limit) : n_;
  }
  arrow::Result<std::optional<int64_t>> SizeBytesFromMetadata(
      const plan::Pushdown& pushdown) const override {
    ARROW_ASSIGN_OR_RAISE(auto rows, CountRowsFromMetadata(pushdown));
    return *rows * 8;
  }

 private:
  class Tasks : public exec::TaskSource {
   public:
    Tasks(int64_t end, int64_t batch_rows, bool with_id, arrow::MemoryPool* pool)
        : end_(end),
          batch_rows_(std::max<int64_t>(1, batch_rows)),
          with_id_(with_id),
          pool_(pool) {}
    arrow::Result<std::optional<exec::ScanTask>> NextTask() override {
      if (next_ >= end_) return std::nullopt;
      const int64_t start = next_;
      const int64_t stop = std::min(end_, start + batch_rows_ * 16);
      next_ = stop;
      exec::ScanTask task;
      task.label = "range";
      task.open = [=, this]() -> arrow::Result<std::unique_ptr<exec::BatchStream>> {
        auto cursor = std::make_shared<int64_t>(start);
        const int64_t batch_rows = batch_rows_;
        const bool with_id = with_id_;
        arrow::MemoryPool* pool = pool_;
        return std::make_unique<exec::FunctionBatchStream>([=]() -> arrow::Result<exec::BatchPtr> {
          if (*cursor >= stop) return nullptr;
          const int64_t count = std::min(batch_rows, stop - *cursor);
          const int64_t first = *cursor;
          *cursor += count;
          if (!with_id) {
            return arrow::RecordBatch::Make(arrow::schema({}), count, arrow::ArrayVector{});
          }
          ARROW_ASSIGN_OR_RAISE(auto buffer, arrow::AllocateBuffer(count * 8, pool));
          auto* values = reinterpret_cast<int64_t*>(buffer->mutable_data());
          for (int64_t i = 0; i < count; ++i) values[i] = first + i;
          auto array = std::make_shared<arrow::Int64Array>(count, std::move(buffer));
          return arrow::RecordBatch::Make(
              arrow::schema({arrow::field("id", arrow::int64(), false)}), count, {array});
        });
      };
      return task;
    }

   private:
    int64_t end_;
    int64_t batch_rows_;
    bool with_id_;
    arrow::MemoryPool* pool_;
    int64_t next_ = 0;
  };

  int64_t n_;
};

}  // namespace

arrow::Result<std::shared_ptr<const plan::SourceSpec>> MakeTableSource(
    std::shared_ptr<arrow::Table> table) {
  if (!table) return arrow::Status::Invalid("table is null");
  return std::make_shared<const TableSource>(std::move(table));
}

arrow::Result<std::shared_ptr<const plan::SourceSpec>> MakeRangeSource(int64_t n) {
  if (n < 0) return arrow::Status::Invalid("range: n must be >= 0, got ", n);
  return std::make_shared<const RangeSource>(n);
}

arrow::Result<std::shared_ptr<const plan::SourceSpec>> DeserializeSource(
    const plan::SerializedPart& part) {
  if (part.kind == kRangeSourceKind) {
    int64_t n = -1;
    const char* end = part.payload.data() + part.payload.size();
    auto [stop, error] = std::from_chars(part.payload.data(), end, n);
    if (error != std::errc() || stop != end || n < 0) {
      return arrow::Status::Invalid("serialized range source: '", part.payload, "'");
    }
    return MakeRangeSource(n);
  }
  if (part.kind == kTableSourceKind) {
    auto input = std::make_shared<arrow::io::BufferReader>(arrow::Buffer::FromString(part.payload));
    auto table = [&]() -> arrow::Result<std::shared_ptr<arrow::Table>> {
      ARROW_ASSIGN_OR_RAISE(auto reader, arrow::ipc::RecordBatchStreamReader::Open(input));
      ARROW_ASSIGN_OR_RAISE(auto table, reader->ToTable());
      ARROW_RETURN_NOT_OK(table->ValidateFull());
      return table;
    }();
    if (!table.ok()) {
      return table.status().WithMessage("serialized in-memory source: ", table.status().message());
    }
    return MakeTableSource(*std::move(table));
  }
  return arrow::Status::NotImplemented("cannot read back a source of kind '", part.kind, "'");
}

}  // namespace sluice::io
