#include "formats/file_scan_tasks.h"

#include <arrow/array/util.h>
#include <arrow/record_batch.h>
#include <arrow/scalar.h>

#include <algorithm>

#include "table/file_listing.h"

namespace sluice::io {

namespace {

/// Streams the batches of some units one after the other, at most `max_rows` in total.
class UnitSequenceStream : public exec::BatchStream {
 public:
  UnitSequenceStream(std::vector<FileScanUnit> units, std::optional<int64_t> max_rows,
                     int64_t max_batch_rows)
      : units_(std::move(units)), max_rows_(max_rows), max_batch_rows_(max_batch_rows) {}

  arrow::Result<exec::BatchPtr> Next() override {
    while (true) {
      if (max_rows_ && rows_ >= *max_rows_) return Finish();
      if (oversized_) {
        // Hand out the rest of a batch that was larger than max_batch_rows.
        exec::BatchPtr batch = oversized_->Slice(oversized_offset_, max_batch_rows_);
        oversized_offset_ += batch->num_rows();
        if (oversized_offset_ >= oversized_->num_rows()) oversized_.reset();
        return Emit(std::move(batch));
      }
      if (!current_) {
        if (next_unit_ >= units_.size()) return nullptr;
        const FileScanUnit& unit = units_[next_unit_];
        auto opened = unit.open();
        if (!opened.ok()) return WithPathContext(opened.status(), unit.path);
        current_ = std::move(*opened);
        ++next_unit_;
      }
      auto next = current_->Next();
      if (!next.ok()) return WithPathContext(next.status(), units_[next_unit_ - 1].path);
      exec::BatchPtr batch = std::move(*next);
      if (!batch) {
        current_.reset();
        continue;
      }
      if (batch->num_rows() == 0) continue;
      if (max_batch_rows_ > 0 && batch->num_rows() > max_batch_rows_) {
        oversized_ = std::move(batch);
        oversized_offset_ = 0;
        continue;
      }
      return Emit(std::move(batch));
    }
  }

 private:
  exec::BatchPtr Emit(exec::BatchPtr batch) {
    if (max_rows_ && rows_ + batch->num_rows() > *max_rows_) {
      batch = batch->Slice(0, *max_rows_ - rows_);
    }
    rows_ += batch->num_rows();
    return batch;
  }

  exec::BatchPtr Finish() {
    // Release the file and its buffers as soon as the limit is met.
    current_.reset();
    oversized_.reset();
    next_unit_ = units_.size();
    return nullptr;
  }

  std::vector<FileScanUnit> units_;
  std::optional<int64_t> max_rows_;
  int64_t max_batch_rows_;
  exec::BatchPtr oversized_;
  int64_t oversized_offset_ = 0;
  size_t next_unit_ = 0;
  std::unique_ptr<exec::BatchStream> current_;
  int64_t rows_ = 0;
};

/// Hands out prepared tasks in order.
class TaskList : public exec::TaskSource {
 public:
  explicit TaskList(std::vector<exec::ScanTask> tasks) : tasks_(std::move(tasks)) {}
  arrow::Result<std::optional<exec::ScanTask>> NextTask() override {
    if (next_ >= tasks_.size()) return std::nullopt;
    return std::move(tasks_[next_++]);
  }

 private:
  std::vector<exec::ScanTask> tasks_;
  size_t next_ = 0;
};

exec::ScanTask MakeTask(std::string label, std::vector<FileScanUnit> units,
                        std::optional<int64_t> max_rows, int64_t max_batch_rows) {
  exec::ScanTask task;
  task.label = std::move(label);
  // The units are copied into each stream, so a task can be opened more than once.
  task.open = [units = std::move(units), max_rows,
               max_batch_rows]() -> arrow::Result<std::unique_ptr<exec::BatchStream>> {
    return std::make_unique<UnitSequenceStream>(units, max_rows, max_batch_rows);
  };
  return task;
}

}  // namespace

std::unique_ptr<exec::TaskSource> MakeFileTaskSource(std::vector<FileScanUnit> units,
                                                     std::optional<int64_t> limit,
                                                     int64_t max_batch_rows) {
  std::vector<exec::ScanTask> tasks;
  const bool all_counts_known =
      std::all_of(units.begin(), units.end(), [](const FileScanUnit& u) { return u.known_rows; });
  if (!limit) {
    for (auto& unit : units) {
      std::string label = unit.path;
      tasks.push_back(MakeTask(std::move(label), {std::move(unit)}, std::nullopt, max_batch_rows));
    }
  } else if (all_counts_known) {
    int64_t rows_before = 0;
    for (auto& unit : units) {
      if (rows_before >= *limit) break;
      const int64_t allowed = *limit - rows_before;
      rows_before += *unit.known_rows;
      std::string label = unit.path;
      tasks.push_back(MakeTask(std::move(label), {std::move(unit)}, allowed, max_batch_rows));
    }
  } else if (*limit > 0 && !units.empty()) {
    std::string label = units.front().path;
    tasks.push_back(MakeTask(std::move(label), std::move(units), limit, max_batch_rows));
  }
  return std::make_unique<TaskList>(std::move(tasks));
}

arrow::Result<exec::BatchPtr> ArrangeColumns(const exec::BatchPtr& data,
                                             const std::shared_ptr<arrow::Schema>& output,
                                             bool with_path, const std::string& path,
                                             arrow::MemoryPool* pool) {
  arrow::ArrayVector columns;
  columns.reserve(output->num_fields());
  for (const auto& field : output->fields()) {
    if (with_path && field->name() == kPathColumn) {
      ARROW_ASSIGN_OR_RAISE(auto column, arrow::MakeArrayFromScalar(arrow::StringScalar(path),
                                                                    data->num_rows(), pool));
      columns.push_back(std::move(column));
      continue;
    }
    auto column = data->GetColumnByName(field->name());
    if (!column) {
      return arrow::Status::Invalid("Column '", field->name(), "' is missing in this file");
    }
    columns.push_back(std::move(column));
  }
  return arrow::RecordBatch::Make(output, data->num_rows(), std::move(columns));
}

}  // namespace sluice::io
