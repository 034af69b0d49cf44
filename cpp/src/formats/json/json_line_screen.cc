#include "formats/json/json_line_screen.h"

#include <arrow/buffer_builder.h>

#include <array>

#include "storage/utf8_text.h"

namespace sluice::io {

namespace {

/// Bytes the nesting scan stops at outside strings; everything else is skipped in a
/// tight loop.
enum ByteClass : uint8_t { kPlain, kOpen, kClose, kQuote, kLineBreak };

constexpr std::array<uint8_t, 256> MakeByteClasses() {
  std::array<uint8_t, 256> classes{};
  classes['{'] = classes['['] = kOpen;
  classes['}'] = classes[']'] = kClose;
  classes['"'] = kQuote;
  classes['\n'] = classes['\r'] = kLineBreak;
  return classes;
}
constexpr std::array<uint8_t, 256> kByteClasses = MakeByteClasses();

/// Where a scan of JSON text stands: how deep, whether inside a string, and how many
/// line breaks it passed.
struct NestingState {
  int64_t depth = 0;
  bool in_string = false;
  /// The previous byte, the last of an earlier chunk, was a backslash inside a string.
  bool escaped = false;
  int64_t line_breaks = 0;
};

bool IsJsonWhitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/// What a scan found wrong at the offset it returns.
enum class ScanFinding { kTooDeep, kNotAnObject };

/// Scans `text` from `state`. Returns the offset of the bracket that goes deeper than
/// `max_depth`, or of a value outside any object (JSON lines holds objects; Arrow's parser
/// crashes on a line that is just `null`), and says which in `finding`; npos when neither.
/// A line break ends a string (JSON strings cannot hold one).
size_t ScanNesting(std::string_view text, int max_depth, NestingState* state,
                   ScanFinding* finding) {
  const size_t size = text.size();
  size_t i = 0;
  while (i < size) {
    if (state->in_string) {
      // Inside a string only its end, an escape and a line break matter. A backslash
      // escapes the next byte, which may be in the next chunk, but never a line break:
      // a line break ends the line whatever comes before it, or a line ending in a
      // backslash would hide the next line's brackets from this screen.
      for (; i < size; ++i) {
        const char c = text[i];
        if (c == '\n' || c == '\r') {
          state->in_string = false;
          state->escaped = false;
          break;
        }
        if (state->escaped) {
          state->escaped = false;
          continue;
        }
        if (c == '"') {
          state->in_string = false;
          ++i;
          break;
        }
        if (c == '\\') state->escaped = true;
      }
      continue;
    }
    for (; i < size; ++i) {
      const uint8_t byte_class = kByteClasses[static_cast<uint8_t>(text[i])];
      if (byte_class == kPlain) {
        if (state->depth != 0 || IsJsonWhitespace(text[i])) continue;
        *finding = ScanFinding::kNotAnObject;
        return i;
      }
      if (byte_class == kOpen) {
        if (state->depth == 0 && text[i] != '{') {
          *finding = ScanFinding::kNotAnObject;
          return i;
        }
        if (++state->depth > max_depth) {
          *finding = ScanFinding::kTooDeep;
          return i;
        }
      } else if (byte_class == kClose) {
        if (state->depth > 0) --state->depth;
      } else if (byte_class == kLineBreak) {
        if (text[i] == '\n' || i + 1 == size || text[i + 1] != '\n') ++state->line_breaks;
      } else {
        if (state->depth == 0) {
          *finding = ScanFinding::kNotAnObject;
          return i;
        }
        state->in_string = true;
        ++i;
        break;
      }
    }
  }
  return std::string_view::npos;
}

constexpr char kNotAnObject[] = "not a JSON object";

/// `text` without the UTF-8 byte-order mark it may start with (Arrow's parser skips one at
/// the start of a file, as do most JSON readers).
std::string_view WithoutByteOrderMark(std::string_view text) {
  constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";
  return text.substr(0, 3) == kByteOrderMark ? text.substr(3) : text;
}

std::string TooDeep(int max_depth) {
  return "JSON nested deeper than " + std::to_string(max_depth) +
         " levels (the most Sluice reads)";
}

class JsonLinesScreen : public RecordScreen {
 public:
  JsonLinesScreen(EncodingErrors encoding_errors, int max_depth, arrow::MemoryPool* pool)
      : encoding_errors_(encoding_errors), max_depth_(max_depth), pool_(pool) {}

  int64_t next_line() const override { return line_; }

  arrow::Result<Screened> Screen(std::string_view data, bool final) override {
    size_t end = data.size();
    if (!final) {
      // Whole lines only; a "\r" as the last byte may be the first half of "\r\n".
      size_t limit = data.size();
      if (limit > 0 && data[limit - 1] == '\r') --limit;
      const size_t last = data.substr(0, limit).find_last_of("\r\n");
      end = last == std::string_view::npos ? 0 : last + 1;
    }
    const std::string_view lines = data.substr(0, end);
    const std::string_view scanned_lines = line_ == 1 ? WithoutByteOrderMark(lines) : lines;
    const size_t skipped = lines.size() - scanned_lines.size();
    NestingState scanned = nesting_;
    scanned.line_breaks = 0;
    ScanFinding finding;
    const size_t found = ScanNesting(scanned_lines, max_depth_, &scanned, &finding);
    if (found != std::string_view::npos) {
      return arrow::Status::Invalid("line ",
                                    line_ + CountLineBreaks(lines.substr(0, skipped + found)), ": ",
                                    finding == ScanFinding::kTooDeep ? TooDeep(max_depth_)
                                                                     : kNotAnObject);
    }
    Screened screened{static_cast<int64_t>(end), nullptr};
    if (!IsValidUtf8(lines)) {
      ARROW_ASSIGN_OR_RAISE(screened.replacement, RepairUtf8(lines));
    }
    nesting_ = scanned;
    line_ += scanned.line_breaks;
    return screened;
  }

 private:
  /// Fails naming the first line that is not UTF-8, or replaces what is invalid.
  arrow::Result<std::shared_ptr<arrow::Buffer>> RepairUtf8(std::string_view lines) const {
    if (encoding_errors_ == EncodingErrors::kStrict) {
      int64_t line = line_;
      size_t start = 0;
      while (start < lines.size()) {
        size_t end = lines.find_first_of("\r\n", start);
        if (end == std::string_view::npos) end = lines.size();
        if (!IsValidUtf8(lines.substr(start, end - start))) {
          return arrow::Status::Invalid("line ", line, ": invalid UTF-8");
        }
        start = end + (end < lines.size() ? LineBreakLength(lines, end) : 0);
        ++line;
      }
    }
    arrow::BufferBuilder out(pool_);
    ARROW_RETURN_NOT_OK(AppendReplacingInvalidUtf8(lines, &out));
    return out.Finish();
  }

  const EncodingErrors encoding_errors_;
  const int max_depth_;
  arrow::MemoryPool* pool_;
  NestingState nesting_;
  int64_t line_ = 1;
};

class JsonRecordScreen : public RecordScreen {
 public:
  JsonRecordScreen(EncodingErrors encoding_errors, int max_depth,
                   std::shared_ptr<BadRecordSink> sink, arrow::MemoryPool* pool)
      : encoding_errors_(encoding_errors),
        max_depth_(max_depth),
        sink_(std::move(sink)),
        pool_(pool) {}

  int64_t next_line() const override { return line_; }

  arrow::Result<Screened> Screen(std::string_view data, bool final) override {
    arrow::BufferBuilder out(pool_);
    ARROW_RETURN_NOT_OK(out.Reserve(data.size()));
    size_t start = 0;
    while (start < data.size()) {
      size_t end = data.find_first_of("\r\n", start);
      if (end == std::string_view::npos || (!final && data[end] == '\r' && end + 1 == data.size())) {
        if (!final) break;
        end = data.size();
      }
      const int break_length = end < data.size() ? LineBreakLength(data, end) : 0;
      ARROW_RETURN_NOT_OK(AddLine(data.substr(start, end - start), &out));
      ARROW_RETURN_NOT_OK(out.Append(data.data() + end, break_length));
      ++line_;
      start = end + break_length;
    }
    Screened screened;
    screened.consumed = static_cast<int64_t>(start);
    ARROW_ASSIGN_OR_RAISE(screened.replacement, out.Finish());
    return screened;
  }

 private:
  arrow::Status AddLine(std::string_view line, arrow::BufferBuilder* out) {
    if (line_ == 1) line = WithoutByteOrderMark(line);
    if (IsBlankJsonLine(line)) return arrow::Status::OK();
    std::string repaired;
    if (!IsValidUtf8(line)) {
      if (encoding_errors_ == EncodingErrors::kStrict) {
        return sink_->Add(BadRecord{line_, "", "invalid UTF-8", line});
      }
      repaired = ReplaceInvalidUtf8(line);
      line = repaired;
    }
    const std::string defect = JsonLineDefect(line, max_depth_);
    if (!defect.empty()) return sink_->Add(BadRecord{line_, "", defect, line});
    return out->Append(line.data(), line.size());
  }

  const EncodingErrors encoding_errors_;
  const int max_depth_;
  std::shared_ptr<BadRecordSink> sink_;
  arrow::MemoryPool* pool_;
  int64_t line_ = 1;
};

}  // namespace

std::unique_ptr<RecordScreen> MakeJsonRecordScreen(EncodingErrors encoding_errors, int max_depth,
                                                   std::shared_ptr<BadRecordSink> sink,
                                                   arrow::MemoryPool* pool) {
  return std::make_unique<JsonRecordScreen>(encoding_errors, max_depth, std::move(sink), pool);
}

std::unique_ptr<RecordScreen> MakeJsonLinesScreen(EncodingErrors encoding_errors, int max_depth,
                                                  arrow::MemoryPool* pool) {
  return std::make_unique<JsonLinesScreen>(encoding_errors, max_depth, pool);
}

bool IsBlankJsonLine(std::string_view line) {
  for (char c : line) {
    if (!IsJsonWhitespace(c)) return false;
  }
  return true;
}

std::string JsonLineDefect(std::string_view line, int max_depth) {
  size_t start = 0;
  while (start < line.size() && IsJsonWhitespace(line[start])) ++start;
  if (start == line.size() || line[start] != '{') return kNotAnObject;
  // Scan up to where the object closes; only whitespace may follow it.
  int64_t depth = 0;
  bool in_string = false;
  size_t i = start;
  for (; i < line.size(); ++i) {
    const char c = line[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) return TooDeep(max_depth);
    } else if ((c == '}' || c == ']') && --depth == 0) {
      break;
    }
  }
  if (i >= line.size()) return "incomplete JSON object (unbalanced brackets or quotes)";
  for (++i; i < line.size(); ++i) {
    if (!IsJsonWhitespace(line[i])) return "more than one JSON value on the line";
  }
  return "";
}

}  // namespace sluice::io
