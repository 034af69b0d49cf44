#include "formats/csv/csv_record_screen.h"

#include <arrow/buffer_builder.h>

#include <string>
#include <string_view>

#include "storage/utf8_text.h"

namespace sluice::io {

namespace {

constexpr size_t kNoEnd = std::string_view::npos;

/// Where the record starting at `start` ends (the position of its line break, whose
/// length goes to `*break_length`), or kNoEnd when `data` ends first. Follows Arrow's
/// parser: a quote opens a quoted field only at the start of a field, and line breaks
/// inside quoted fields belong to the value only with newlines_in_values.
size_t CsvRecordEnd(std::string_view data, size_t start, const arrow::csv::ParseOptions& parse,
                    bool final, int* break_length) {
  const auto found = [&](size_t i) {
    // "\r" as the last byte may be the first half of "\r\n".
    if (!final && data[i] == '\r' && i + 1 == data.size()) return kNoEnd;
    *break_length = LineBreakLength(data, i);
    return i;
  };
  if (!parse.newlines_in_values) {
    for (size_t i = start; i < data.size(); ++i) {
      if (data[i] == '\n' || data[i] == '\r') return found(i);
    }
    return kNoEnd;
  }
  bool field_start = true;
  bool quoted = false;
  for (size_t i = start; i < data.size(); ++i) {
    const char c = data[i];
    if (quoted) {
      if (parse.escaping && c == parse.escape_char) {
        ++i;
      } else if (c == parse.quote_char) {
        if (parse.double_quote && i + 1 < data.size() && data[i + 1] == parse.quote_char) {
          ++i;
        } else {
          quoted = false;
        }
      }
      continue;
    }
    if (field_start && parse.quoting && c == parse.quote_char) {
      quoted = true;
      field_start = false;
      continue;
    }
    field_start = false;
    if (parse.escaping && c == parse.escape_char) {
      ++i;
    } else if (c == parse.delimiter) {
      field_start = true;
    } else if (c == '\n' || c == '\r') {
      return found(i);
    }
  }
  return kNoEnd;
}

class CsvRecordScreen : public RecordScreen {
 public:
  CsvRecordScreen(CsvScreenOptions options, std::shared_ptr<BadRecordSink> sink,
                  arrow::MemoryPool* pool)
      : options_(std::move(options)),
        sink_(std::move(sink)),
        pool_(pool),
        rows_to_skip_(options_.skip_rows),
        header_pending_(options_.header) {}

  int64_t next_line() const override { return line_; }

  arrow::Result<Screened> Screen(std::string_view data, bool final) override {
    const bool simple_records = !options_.parse.newlines_in_values && !options_.number_lines &&
                                rows_to_skip_ == 0 && !header_pending_;
    if (simple_records) {
      // Most data: whole lines, valid UTF-8. Check them in one pass of Arrow's validator.
      const size_t end = final ? data.size() : EndOfLastWholeLine(data);
      const std::string_view lines = data.substr(0, end);
      if (IsValidUtf8(lines)) {
        line_ += CountLineBreaks(lines);
        return Screened{static_cast<int64_t>(end), nullptr};
      }
    }
    return ScreenEachRecord(data, final);
  }

 private:
  /// The length of the whole lines at the front of `data`.
  static size_t EndOfLastWholeLine(std::string_view data) {
    // A "\r" as the last byte may be the first half of "\r\n": leave it.
    size_t limit = data.size();
    if (limit > 0 && data[limit - 1] == '\r') --limit;
    const size_t last = data.substr(0, limit).find_last_of("\r\n");
    return last == kNoEnd ? 0 : last + 1;
  }

  arrow::Result<Screened> ScreenEachRecord(std::string_view data, bool final) {
    arrow::BufferBuilder out(pool_);
    ARROW_RETURN_NOT_OK(out.Reserve(data.size() + data.size() / 8));
    size_t start = 0;
    while (start < data.size()) {
      int break_length = 0;
      size_t end = CsvRecordEnd(data, start, options_.parse, final, &break_length);
      if (end == kNoEnd) {
        if (!final) break;
        end = data.size();
      }
      const std::string_view record = data.substr(start, end - start);
      const std::string_view line_break = data.substr(end, break_length);
      ARROW_RETURN_NOT_OK(AddRecord(record, line_break, &out));
      line_ += CountLineBreaks(data.substr(start, end + break_length - start));
      start = end + break_length;
    }
    Screened screened;
    screened.consumed = static_cast<int64_t>(start);
    ARROW_ASSIGN_OR_RAISE(screened.replacement, out.Finish());
    return screened;
  }

  arrow::Status AddRecord(std::string_view record, std::string_view line_break,
                          arrow::BufferBuilder* out) {
    const auto pass = [&]() -> arrow::Status {
      ARROW_RETURN_NOT_OK(out->Append(record.data(), record.size()));
      return out->Append(line_break.data(), line_break.size());
    };
    if (rows_to_skip_ > 0) {
      --rows_to_skip_;
      return pass();
    }
    if (record.empty()) return pass();
    const bool valid = IsValidUtf8(record);
    if (header_pending_) {
      header_pending_ = false;
      // Arrow drops a byte-order mark only at the very start of the stream, which the
      // line-number column's name would now precede: drop it here (Excel writes one).
      constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";
      if (options_.number_lines && line_ == 1 && record.substr(0, 3) == kByteOrderMark) {
        record.remove_prefix(kByteOrderMark.size());
      }
      if (!valid && options_.encoding_errors == EncodingErrors::kStrict) {
        return arrow::Status::Invalid("line ", line_, ": the header is not valid UTF-8");
      }
      if (options_.number_lines) {
        const std::string prefix = options_.line_column + options_.parse.delimiter;
        ARROW_RETURN_NOT_OK(out->Append(prefix.data(), prefix.size()));
      }
      if (valid) return pass();
      ARROW_RETURN_NOT_OK(AppendReplacingInvalidUtf8(record, out));
      return out->Append(line_break.data(), line_break.size());
    }
    if (!valid && options_.encoding_errors == EncodingErrors::kStrict) {
      // Failing (on_bad_lines="error") or leaving the record out.
      return sink_->Add(BadRecord{line_, "", "invalid UTF-8", record});
    }
    if (options_.number_lines) {
      const std::string prefix = std::to_string(line_) + options_.parse.delimiter;
      ARROW_RETURN_NOT_OK(out->Append(prefix.data(), prefix.size()));
    }
    if (valid) {
      ARROW_RETURN_NOT_OK(out->Append(record.data(), record.size()));
    } else {
      ARROW_RETURN_NOT_OK(AppendReplacingInvalidUtf8(record, out));
    }
    return out->Append(line_break.data(), line_break.size());
  }

  const CsvScreenOptions options_;
  std::shared_ptr<BadRecordSink> sink_;
  arrow::MemoryPool* pool_;
  int64_t rows_to_skip_;
  bool header_pending_;
  /// The physical line the next record starts on.
  int64_t line_ = 1;
};

}  // namespace

std::unique_ptr<RecordScreen> MakeCsvRecordScreen(CsvScreenOptions options,
                                                  std::shared_ptr<BadRecordSink> sink,
                                                  arrow::MemoryPool* pool) {
  return std::make_unique<CsvRecordScreen>(std::move(options), std::move(sink), pool);
}

}  // namespace sluice::io
