#include <arrow/io/memory.h>
#include <arrow/ipc/reader.h>
#include <arrow/ipc/writer.h>
#include <arrow/table.h>

#include <arrow/util/byte_size.h>

#include <charconv>

#include <nlohmann/json.hpp>

#include "runtime/exec_context.h"
#include "formats/serialized_files.h"
#include "connectors/memory/memory_sources.h"

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

  /// Slices of about target_bytes each, in row order.
  arrow::Result<std::vector<plan::Split>> ListSplits(const plan::Pushdown& pushdown,
                                                     int64_t target_bytes) const override {
    int64_t rows = table_->num_rows();
    if (pushdown.limit) rows = std::min(rows, *pushdown.limit);
    ARROW_ASSIGN_OR_RAISE(const int64_t bytes, arrow::util::ReferencedBufferSize(*table_));
    const int64_t bytes_per_row = table_->num_rows() > 0 ? std::max<int64_t>(1, bytes / table_->num_rows()) : 1;
    const int64_t rows_per_split = std::max<int64_t>(1, std::max<int64_t>(1, target_bytes) / bytes_per_row);
    std::vector<plan::Split> splits;
    for (int64_t offset = 0; offset < rows; offset += rows_per_split) {
      const int64_t length = std::min(rows_per_split, rows - offset);
      plan::Split split;
      split.label = "memory rows " + std::to_string(offset) + "-" + std::to_string(offset + length - 1);
      split.payload = nlohmann::json{{"offset", offset}, {"length", length}}.dump();
      split.rows = length;
      split.bytes = length * bytes_per_row;
      splits.push_back(std::move(split));
    }
    return splits;
  }

  arrow::Result<std::shared_ptr<const plan::SourceSpec>> WithSplits(
      const std::vector<plan::Split>& splits) const override {
    std::vector<std::shared_ptr<arrow::Table>> slices;
    for (const auto& split : splits) {
      ARROW_ASSIGN_OR_RAISE(auto object, ParsePayload(split.payload, "in-memory split"));
      if (!object.contains("offset") || !object["offset"].is_number_integer() ||
          !object.contains("length") || !object["length"].is_number_integer()) {
        return arrow::Status::Invalid("serialized in-memory split: no offset or length");
      }
      const int64_t offset = object["offset"].get<int64_t>();
      const int64_t length = object["length"].get<int64_t>();
      if (offset < 0 || length < 0 || length > table_->num_rows() - offset) {
        return arrow::Status::Invalid("in-memory split of rows ", offset, "+", length,
                                      " outside a table of ", table_->num_rows(), " rows");
      }
      slices.push_back(table_->Slice(offset, length));
    }
    if (slices.empty()) slices.push_back(table_->Slice(0, 0));
    std::shared_ptr<arrow::Table> table;
    if (table_->num_columns() == 0) {
      // Arrow's concatenation makes a table without columns one without rows.
      int64_t rows = 0;
      for (const auto& slice : slices) rows += slice->num_rows();
      table = arrow::Table::Make(table_->schema(), arrow::ChunkedArrayVector{}, rows);
    } else {
      ARROW_ASSIGN_OR_RAISE(table, arrow::ConcatenateTables(slices));
    }
    return std::make_shared<const TableSource>(std::move(table));
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

/// Integers in column "id": 0..n-1, or the intervals a split of it kept, generated per task.
class RangeSource : public plan::SourceSpec {
 public:
  /// Half-open [start, stop) intervals, in order.
  using Intervals = std::vector<std::pair<int64_t, int64_t>>;
  explicit RangeSource(int64_t n) : intervals_{{0, n}} {}
  explicit RangeSource(Intervals intervals) : intervals_(std::move(intervals)) {}
  std::string name() const override { return "Range"; }
  std::string Describe() const override {
    if (intervals_.size() == 1 && intervals_[0].first == 0) return std::to_string(intervals_[0].second);
    std::string out;
    for (const auto& [start, stop] : intervals_) {
      out += (out.empty() ? "" : ", ") + std::to_string(start) + ".." + std::to_string(stop);
    }
    return "[" + out + ")";
  }
  arrow::Result<plan::SerializedPart> Serialize() const override {
    if (intervals_.size() == 1 && intervals_[0].first == 0) {
      return plan::SerializedPart{kRangeSourceKind, std::to_string(intervals_[0].second)};
    }
    nlohmann::json intervals = nlohmann::json::array();
    for (const auto& [start, stop] : intervals_) intervals.push_back({start, stop});
    return plan::SerializedPart{kRangeSourceKind, nlohmann::json{{"intervals", intervals}}.dump()};
  }
  std::shared_ptr<arrow::Schema> schema() const override {
    return arrow::schema({arrow::field("id", arrow::int64(), false)});
  }

  arrow::Result<std::unique_ptr<exec::TaskSource>> MakeTaskSource(
      exec::ExecContext* ctx, const plan::Pushdown& pushdown) const override {
    // The limit keeps the first rows: cut the intervals there.
    Intervals kept;
    int64_t left = pushdown.limit ? *pushdown.limit : std::numeric_limits<int64_t>::max();
    for (const auto& [start, stop] : intervals_) {
      if (left <= 0) break;
      const int64_t end = stop - start > left ? start + left : stop;
      if (end > start) kept.emplace_back(start, end);
      left -= end - start;
    }
    const bool with_id = !pushdown.columns || !pushdown.columns->empty();
    return std::unique_ptr<exec::TaskSource>(
        new Tasks(std::move(kept), ctx->config().batch_rows, with_id, ctx->pool()));
  }

  arrow::Result<std::optional<int64_t>> CountRowsFromMetadata(
      const plan::Pushdown& pushdown) const override {
    const int64_t n = Rows();
    return pushdown.limit ? std::min(n, *pushdown.limit) : n;
  }
  arrow::Result<std::optional<int64_t>> SizeBytesFromMetadata(
      const plan::Pushdown& pushdown) const override {
    ARROW_ASSIGN_OR_RAISE(auto rows, CountRowsFromMetadata(pushdown));
    return *rows * 8;
  }

  arrow::Result<std::vector<plan::Split>> ListSplits(const plan::Pushdown& pushdown,
                                                     int64_t target_bytes) const override {
    const int64_t rows_per_split = std::max<int64_t>(1, target_bytes / 8);
    int64_t left = pushdown.limit ? *pushdown.limit : std::numeric_limits<int64_t>::max();
    std::vector<plan::Split> splits;
    for (const auto& [start, stop] : intervals_) {
      for (int64_t first = start; first < stop && left > 0;) {
        const int64_t end = std::min(stop, first + std::min(rows_per_split, left));
        plan::Split split;
        split.label = "range " + std::to_string(first) + ".." + std::to_string(end);
        split.payload = nlohmann::json{{"start", first}, {"stop", end}}.dump();
        split.rows = end - first;
        split.bytes = (end - first) * 8;
        splits.push_back(std::move(split));
        left -= end - first;
        first = end;
      }
    }
    return splits;
  }

  arrow::Result<std::shared_ptr<const plan::SourceSpec>> WithSplits(
      const std::vector<plan::Split>& splits) const override {
    Intervals intervals;
    for (const auto& split : splits) {
      ARROW_ASSIGN_OR_RAISE(auto object, ParsePayload(split.payload, "range split"));
      if (!object.contains("start") || !object["start"].is_number_integer() ||
          !object.contains("stop") || !object["stop"].is_number_integer()) {
        return arrow::Status::Invalid("serialized range split: no start or stop");
      }
      const int64_t start = object["start"].get<int64_t>();
      const int64_t stop = object["stop"].get<int64_t>();
      const bool inside = start <= stop && std::any_of(intervals_.begin(), intervals_.end(), [&](const auto& i) {
                 return i.first <= start && stop <= i.second;
               });
      if (!inside) {
        return arrow::Status::Invalid("range split ", start, "..", stop, " outside ", Describe());
      }
      intervals.emplace_back(start, stop);
    }
    return std::make_shared<const RangeSource>(std::move(intervals));
  }

 private:
  int64_t Rows() const {
    int64_t n = 0;
    for (const auto& [start, stop] : intervals_) n += stop - start;
    return n;
  }

  class Tasks : public exec::TaskSource {
   public:
    Tasks(Intervals intervals, int64_t batch_rows, bool with_id, arrow::MemoryPool* pool)
        : intervals_(std::move(intervals)),
          batch_rows_(std::max<int64_t>(1, batch_rows)),
          with_id_(with_id),
          pool_(pool) {}
    arrow::Result<std::optional<exec::ScanTask>> NextTask() override {
      int64_t start = 0;
      while (true) {
        if (interval_ >= intervals_.size()) return std::nullopt;
        start = std::max(next_, intervals_[interval_].first);
        if (start < intervals_[interval_].second) break;
        ++interval_;
        next_ = 0;
      }
      const int64_t stop = std::min(intervals_[interval_].second, start + batch_rows_ * 16);
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
    Intervals intervals_;
    int64_t batch_rows_;
    bool with_id_;
    arrow::MemoryPool* pool_;
    size_t interval_ = 0;
    int64_t next_ = 0;
  };

  Intervals intervals_;
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

arrow::Result<std::shared_ptr<const plan::SourceSpec>> DeserializeMemorySource(
    const plan::SerializedPart& part) {
  if (part.kind == kRangeSourceKind && !part.payload.empty() && part.payload.front() == '{') {
    ARROW_ASSIGN_OR_RAISE(auto object, ParsePayload(part.payload, "range source"));
    RangeSource::Intervals intervals;
    for (const auto& interval : object.at("intervals")) {
      const int64_t start = interval.at(0).get<int64_t>();
      const int64_t stop = interval.at(1).get<int64_t>();
      // Ids stay far from int64's end, so no sum of an id and a count can overflow.
      if (start < 0 || stop < start || stop > (int64_t{1} << 62)) {
        return arrow::Status::Invalid("serialized range source: bad interval");
      }
      intervals.emplace_back(start, stop);
    }
    return std::make_shared<const RangeSource>(std::move(intervals));
  }
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

bool IsMemorySourceKind(const std::string& kind) {
  return kind == kRangeSourceKind || kind == kTableSourceKind;
}

}  // namespace sluice::io
