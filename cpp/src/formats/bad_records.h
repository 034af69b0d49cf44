#pragma once

// Bad records of the CSV and JSON readers (on_bad_lines): an error naming the line, a
// count (skip), or a count and a row of the execution's rejects (collect).

#include <arrow/builder.h>
#include <arrow/record_batch.h>
#include <arrow/result.h>
#include <arrow/table.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/options.h"

namespace sluice::exec {
class ExecContext;
}

namespace sluice::io {

/// Columns of the rejects: file (string), line (int64: physical line in the file,
/// 1-based, header included), column (string, null when the record as a whole is bad),
/// reason (string), record (string: the record's text without its line break, invalid
/// UTF-8 shown as U+FFFD).
std::shared_ptr<arrow::Schema> RejectsSchema();

/// Collected rejects as one table sorted by file and line.
arrow::Result<std::shared_ptr<arrow::Table>> SortedRejects(
    const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches);

/// One record a reader could not read.
struct BadRecord {
  int64_t line = 0;
  /// The column at fault; empty when the record as a whole is bad.
  std::string column;
  std::string reason;
  std::string_view text;
};

/// Where one file's bad records go. Thread-safe: Arrow may call from its own threads.
class BadRecordSink {
 public:
  /// With a null `ctx` (while a schema is inferred) skipped records leave no trace.
  BadRecordSink(BadLineAction action, std::string path, exec::ExecContext* ctx);
  /// kError that does not fail at once but keeps the error of the earliest line, for a
  /// reader whose checks run ahead of its rows (to find the first bad record of a file).
  static std::shared_ptr<BadRecordSink> RefusingEarliest(std::string path);

  BadLineAction action() const { return action_; }
  /// kError: the error naming the line (and column); otherwise counts or keeps it.
  arrow::Status Add(const BadRecord& record);
  /// RefusingEarliest: the error of the earliest bad record so far (OK: none), its line.
  arrow::Status earliest_refusal() const;
  int64_t earliest_refusal_line() const;
  /// Hands what was counted or kept since the last call to the execution.
  arrow::Status Flush();

 private:
  const BadLineAction action_;
  const std::string path_;
  exec::ExecContext* const ctx_;
  bool refuse_earliest_ = false;
  mutable std::mutex mutex_;
  int64_t earliest_line_ = std::numeric_limits<int64_t>::max();
  arrow::Status earliest_;
  int64_t skipped_ = 0;
  arrow::Int64Builder lines_;
  arrow::StringBuilder columns_;
  arrow::StringBuilder reasons_;
  arrow::StringBuilder records_;
};

/// "line 7" or "line 7, column 'b'": where a bad record is, for messages.
std::string DescribeRecordPlace(int64_t line, const std::string& column);

}  // namespace sluice::io
