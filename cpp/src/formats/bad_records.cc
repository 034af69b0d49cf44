#include "formats/bad_records.h"

#include <arrow/compute/api_vector.h>

#include "runtime/exec_context.h"
#include "storage/utf8_text.h"

namespace sluice::io {

std::shared_ptr<arrow::Schema> RejectsSchema() {
  static const auto schema = arrow::schema({
      arrow::field("file", arrow::utf8(), /*nullable=*/false),
      arrow::field("line", arrow::int64(), /*nullable=*/false),
      arrow::field("column", arrow::utf8()),
      arrow::field("reason", arrow::utf8(), /*nullable=*/false),
      arrow::field("record", arrow::utf8(), /*nullable=*/false),
  });
  return schema;
}

arrow::Result<std::shared_ptr<arrow::Table>> SortedRejects(
    const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches) {
  ARROW_ASSIGN_OR_RAISE(auto table, arrow::Table::FromRecordBatches(RejectsSchema(), batches));
  arrow::compute::SortOptions order({arrow::compute::SortKey("file"),
                                     arrow::compute::SortKey("line")});
  ARROW_ASSIGN_OR_RAISE(auto indices, arrow::compute::SortIndices(arrow::Datum(table), order));
  ARROW_ASSIGN_OR_RAISE(auto sorted, arrow::compute::Take(table, indices));
  return sorted.table();
}

std::string DescribeRecordPlace(int64_t line, const std::string& column) {
  std::string place = "line " + std::to_string(line);
  if (!column.empty()) place += ", column '" + column + "'";
  return place;
}

BadRecordSink::BadRecordSink(BadLineAction action, std::string path, exec::ExecContext* ctx)
    : action_(action), path_(std::move(path)), ctx_(ctx) {}

std::shared_ptr<BadRecordSink> BadRecordSink::RefusingEarliest(std::string path) {
  auto sink = std::make_shared<BadRecordSink>(BadLineAction::kError, std::move(path), nullptr);
  sink->refuse_earliest_ = true;
  return sink;
}

arrow::Status BadRecordSink::earliest_refusal() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return earliest_;
}

int64_t BadRecordSink::earliest_refusal_line() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return earliest_line_;
}

arrow::Status BadRecordSink::Add(const BadRecord& record) {
  if (action_ == BadLineAction::kError) {
    auto error = arrow::Status::Invalid(DescribeRecordPlace(record.line, record.column), ": ",
                                        record.reason);
    if (!refuse_earliest_) return error;
    std::lock_guard<std::mutex> lock(mutex_);
    if (record.line < earliest_line_) {
      earliest_line_ = record.line;
      earliest_ = std::move(error);
    }
    return arrow::Status::OK();
  }
  if (ctx_ == nullptr) return arrow::Status::OK();
  std::lock_guard<std::mutex> lock(mutex_);
  if (action_ == BadLineAction::kSkip) {
    ++skipped_;
    return arrow::Status::OK();
  }
  ARROW_RETURN_NOT_OK(lines_.Append(record.line));
  ARROW_RETURN_NOT_OK(record.column.empty() ? columns_.AppendNull()
                                            : columns_.Append(record.column));
  ARROW_RETURN_NOT_OK(reasons_.Append(ReplaceInvalidUtf8(record.reason)));
  return records_.Append(ReplaceInvalidUtf8(record.text));
}

arrow::Status BadRecordSink::Flush() {
  if (ctx_ == nullptr) return arrow::Status::OK();
  std::lock_guard<std::mutex> lock(mutex_);
  if (skipped_ > 0) {
    ctx_->AddSkippedRecords(skipped_);
    skipped_ = 0;
  }
  const int64_t rows = lines_.length();
  if (rows == 0) return arrow::Status::OK();
  ARROW_ASSIGN_OR_RAISE(auto files,
                        arrow::MakeArrayFromScalar(arrow::StringScalar(path_), rows));
  ARROW_ASSIGN_OR_RAISE(auto lines, lines_.Finish());
  ARROW_ASSIGN_OR_RAISE(auto columns, columns_.Finish());
  ARROW_ASSIGN_OR_RAISE(auto reasons, reasons_.Finish());
  ARROW_ASSIGN_OR_RAISE(auto records, records_.Finish());
  ctx_->AddRejects(arrow::RecordBatch::Make(RejectsSchema(), rows,
                                            {files, lines, columns, reasons, records}));
  return arrow::Status::OK();
}

}  // namespace sluice::io
