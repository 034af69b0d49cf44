// ReadText: one row per line of text files, possibly compressed, one task per file.
// Lines are split straight out of large reads and copied once, into the string column's
// own buffers: no per-line allocation and no intermediate strings.

#include <arrow/buffer.h>
#include <arrow/buffer_builder.h>

#include <cstring>
#include <limits>
#include <string_view>

#include "runtime/exec_context.h"
#include "storage/compression.h"
#include "table/file_listing.h"
#include "formats/file_scan_tasks.h"
#include "formats/serialized_files.h"
#include "formats/file_sources.h"
#include "storage/utf8_text.h"

namespace sluice::io {

namespace {

constexpr char kTextColumn[] = "text";
/// Bytes requested from the (decompressed) file per read.
constexpr int64_t kMaxChunkBytes = 8 << 20;
/// A batch is closed once its text reaches this size, so int32 offsets cannot overflow
/// whatever the lines' lengths (together with kMaxLineBytes).
constexpr int64_t kMaxBatchTextBytes = 256 << 20;
constexpr int64_t kMaxLineBytes = 1 << 30;

struct TextLayout {
  std::shared_ptr<arrow::Schema> output;
  bool with_text;
  bool drop_empty_lines;
  EncodingErrors encoding_errors;
  int64_t batch_rows;
  /// Bytes read from the file at a time; smaller under a small memory budget.
  int64_t chunk_bytes;
};

/// Splits one file into lines and returns them as batches of `text` (and `path`).
class TextFileStream : public exec::BatchStream {
 public:
  TextFileStream(std::shared_ptr<arrow::io::InputStream> input,
                 std::unique_ptr<arrow::ResizableBuffer> chunk, TextLayout layout, std::string path,
                 arrow::MemoryPool* pool)
      : input_(std::move(input)),
        chunk_(std::move(chunk)),
        layout_(std::move(layout)),
        path_(std::move(path)),
        pool_(pool),
        carry_(pool) {}

  arrow::Result<exec::BatchPtr> Next() override {
    if (finished_) return nullptr;
    arrow::TypedBufferBuilder<int32_t> offsets(pool_);
    arrow::BufferBuilder text(pool_);
    const int64_t first_line = lines_read_;
    if (layout_.with_text) {
      ARROW_RETURN_NOT_OK(offsets.Reserve(std::min<int64_t>(layout_.batch_rows, 1 << 16) + 1));
      ARROW_RETURN_NOT_OK(offsets.Append(0));
      // Batches of one file are alike: start where the last one ended, not at zero.
      ARROW_RETURN_NOT_OK(text.Reserve(previous_text_bytes_ + previous_text_bytes_ / 8));
    }
    int64_t rows = 0;
    while (rows < layout_.batch_rows && text.length() < kMaxBatchTextBytes) {
      if (position_ == chunk_length_) {
        if (end_of_file_) break;
        ARROW_ASSIGN_OR_RAISE(chunk_length_,
                              input_->Read(layout_.chunk_bytes, chunk_->mutable_data()));
        position_ = 0;
        if (chunk_length_ > 0) continue;
        end_of_file_ = true;
        // The last line has no line break after it.
        if (has_carry_) {
          ARROW_RETURN_NOT_OK(AddLine(reinterpret_cast<const char*>(carry_.data()), carry_.length(),
                                      &offsets, &text, &rows));
          has_carry_ = false;
        }
        break;
      }
      const char* begin = reinterpret_cast<const char*>(chunk_->data()) + position_;
      const int64_t available = chunk_length_ - position_;
      const char* line_end = static_cast<const char*>(std::memchr(begin, '\n', available));
      if (line_end == nullptr) {
        // The line continues in the next read.
        ARROW_RETURN_NOT_OK(carry_.Append(begin, available));
        has_carry_ = true;
        position_ = chunk_length_;
        if (carry_.length() > kMaxLineBytes) return LineTooLong();
        continue;
      }
      const int64_t length = line_end - begin;
      position_ += length + 1;
      if (has_carry_) {
        ARROW_RETURN_NOT_OK(carry_.Append(begin, length));
        ARROW_RETURN_NOT_OK(AddLine(reinterpret_cast<const char*>(carry_.data()), carry_.length(),
                                    &offsets, &text, &rows));
        carry_.Rewind(0);
        has_carry_ = false;
      } else {
        ARROW_RETURN_NOT_OK(AddLine(begin, length, &offsets, &text, &rows));
      }
    }
    if (rows == 0 && end_of_file_) {
      finished_ = true;
      return nullptr;
    }
    return MakeBatch(rows, first_line, &offsets, &text);
  }

 private:
  arrow::Status AddLine(const char* data, int64_t length,
                        arrow::TypedBufferBuilder<int32_t>* offsets, arrow::BufferBuilder* text,
                        int64_t* rows) {
    ++lines_read_;
    if (length > 0 && data[length - 1] == '\r') --length;  // \r\n line breaks
    if (length == 0 && layout_.drop_empty_lines) return arrow::Status::OK();
    if (length > kMaxLineBytes) return LineTooLong();
    ++*rows;
    if (!layout_.with_text) return arrow::Status::OK();
    ARROW_RETURN_NOT_OK(text->Append(data, length));
    return offsets->Append(static_cast<int32_t>(text->length()));
  }

  arrow::Result<exec::BatchPtr> MakeBatch(int64_t rows, int64_t first_line,
                                          arrow::TypedBufferBuilder<int32_t>* offsets,
                                          arrow::BufferBuilder* text) {
    std::shared_ptr<arrow::Array> text_column;
    if (layout_.with_text) {
      previous_text_bytes_ = text->length();
      ARROW_ASSIGN_OR_RAISE(auto offsets_buffer, offsets->Finish());
      ARROW_ASSIGN_OR_RAISE(auto text_buffer, text->Finish());
      if (!LinesAreValidUtf8(*offsets_buffer, *text_buffer, rows)) {
        if (layout_.encoding_errors == EncodingErrors::kStrict) {
          return InvalidUtf8Error(*offsets_buffer, *text_buffer, rows, first_line);
        }
        ARROW_RETURN_NOT_OK(ReplaceInvalidUtf8(rows, &offsets_buffer, &text_buffer));
      }
      text_column = std::make_shared<arrow::StringArray>(rows, std::move(offsets_buffer),
                                                         std::move(text_buffer));
    }
    arrow::ArrayVector columns;
    for (const auto& field : layout_.output->fields()) {
      if (field->name() == kTextColumn) {
        columns.push_back(text_column);
      } else {
        ARROW_ASSIGN_OR_RAISE(auto path_column,
                              arrow::MakeArrayFromScalar(arrow::StringScalar(path_), rows, pool_));
        columns.push_back(std::move(path_column));
      }
    }
    rows_before_ += rows;
    return arrow::RecordBatch::Make(layout_.output, rows, std::move(columns));
  }

  /// Whether every line is valid UTF-8. The lines are stored back to back, without their
  /// line breaks: valid UTF-8 as a whole can still hold a line that ends inside a
  /// character the next line finishes ("\xc3", "\xa9"). With the whole valid, that
  /// happens exactly when a non-empty line starts with a continuation byte (10xxxxxx).
  static bool LinesAreValidUtf8(const arrow::Buffer& offsets, const arrow::Buffer& text,
                                int64_t rows) {
    if (!IsValidUtf8(std::string_view(reinterpret_cast<const char*>(text.data()), text.size()))) {
      return false;
    }
    const auto* bounds = reinterpret_cast<const int32_t*>(offsets.data());
    for (int64_t row = 0; row < rows; ++row) {
      if (bounds[row] != bounds[row + 1] && (text.data()[bounds[row]] & 0xC0) == 0x80) return false;
    }
    return true;
  }

  /// Strings must be UTF-8; say which line is not, rather than failing later in a
  /// conversion far from the file.
  arrow::Status InvalidUtf8Error(const arrow::Buffer& offsets, const arrow::Buffer& text,
                                 int64_t rows, int64_t first_line) const {
    const auto* bounds = reinterpret_cast<const int32_t*>(offsets.data());
    for (int64_t row = 0; row < rows; ++row) {
      if (!IsValidUtf8(Row(bounds, text, row))) {
        if (layout_.drop_empty_lines) {
          return arrow::Status::Invalid("Non-empty line ", rows_before_ + row + 1,
                                        " is not valid UTF-8");
        }
        return arrow::Status::Invalid("Line ", first_line + row + 1, " is not valid UTF-8");
      }
    }
    return arrow::Status::Invalid("Text is not valid UTF-8");
  }

  static std::string_view Row(const int32_t* bounds, const arrow::Buffer& text, int64_t row) {
    return std::string_view(reinterpret_cast<const char*>(text.data()) + bounds[row],
                            bounds[row + 1] - bounds[row]);
  }

  /// encoding_errors="replace": the lines again with U+FFFD for each invalid sequence.
  arrow::Status ReplaceInvalidUtf8(int64_t rows, std::shared_ptr<arrow::Buffer>* offsets,
                                   std::shared_ptr<arrow::Buffer>* text) const {
    const auto* bounds = reinterpret_cast<const int32_t*>((*offsets)->data());
    arrow::TypedBufferBuilder<int32_t> new_offsets(pool_);
    arrow::BufferBuilder new_text(pool_);
    ARROW_RETURN_NOT_OK(new_offsets.Reserve(rows + 1));
    ARROW_RETURN_NOT_OK(new_offsets.Append(0));
    for (int64_t row = 0; row < rows; ++row) {
      ARROW_RETURN_NOT_OK(AppendReplacingInvalidUtf8(Row(bounds, **text, row), &new_text));
      if (new_text.length() > std::numeric_limits<int32_t>::max()) {
        return arrow::Status::CapacityError("Text with replacement characters is too long");
      }
      ARROW_RETURN_NOT_OK(new_offsets.Append(static_cast<int32_t>(new_text.length())));
    }
    ARROW_ASSIGN_OR_RAISE(*offsets, new_offsets.Finish());
    ARROW_ASSIGN_OR_RAISE(*text, new_text.Finish());
    return arrow::Status::OK();
  }

  arrow::Status LineTooLong() const {
    return arrow::Status::CapacityError("Line ", lines_read_ + 1, " is longer than ", kMaxLineBytes,
                                        " bytes");
  }

  std::shared_ptr<arrow::io::InputStream> input_;
  std::unique_ptr<arrow::ResizableBuffer> chunk_;
  TextLayout layout_;
  std::string path_;
  arrow::MemoryPool* pool_;

  int64_t chunk_length_ = 0;
  int64_t position_ = 0;
  /// The start of a line whose end is in a later read.
  arrow::BufferBuilder carry_;
  bool has_carry_ = false;
  bool end_of_file_ = false;
  bool finished_ = false;
  int64_t lines_read_ = 0;
  /// Rows returned by earlier batches.
  int64_t rows_before_ = 0;
  int64_t previous_text_bytes_ = 0;
};

class TextSource : public plan::SourceSpec {
 public:
  TextSource(std::shared_ptr<const ListedFiles> listed, ReadTextOptions options)
      : listed_(std::move(listed)), options_(options) {
    arrow::FieldVector fields = {arrow::field(kTextColumn, arrow::utf8(), /*nullable=*/false)};
    if (options_.include_paths) {
      fields.push_back(arrow::field(kPathColumn, arrow::utf8(), /*nullable=*/false));
    }
    schema_ = arrow::schema(std::move(fields));
  }

  std::string name() const override { return "ReadText"; }
  std::string Describe() const override { return DescribeFiles(listed_->files); }
  std::shared_ptr<arrow::Schema> schema() const override { return schema_; }

  arrow::Result<plan::SerializedPart> Serialize() const override {
    ARROW_ASSIGN_OR_RAISE(auto files, ListedFilesToJson(*listed_));
    nlohmann::json payload{{"files", std::move(files)},
                           {"include_paths", options_.include_paths},
                           {"drop_empty_lines", options_.drop_empty_lines},
                           {"encoding_errors", static_cast<int>(options_.encoding_errors)}};
    return plan::SerializedPart{"text", payload.dump()};
  }

  arrow::Result<std::vector<plan::Split>> ListSplits(const plan::Pushdown&,
                                                     int64_t) const override {
    return WholeFileSplits(*listed_);
  }

  arrow::Result<std::shared_ptr<const plan::SourceSpec>> WithSplits(
      const std::vector<plan::Split>& splits) const override {
    ARROW_ASSIGN_OR_RAISE(ListedFiles files, FilesOfSplits(*listed_, splits));
    return std::make_shared<const TextSource>(std::make_shared<const ListedFiles>(std::move(files)),
                                              options_);
  }

  arrow::Result<std::unique_ptr<exec::TaskSource>> MakeTaskSource(
      exec::ExecContext* ctx, const plan::Pushdown& pushdown) const override {
    TextLayout layout;
    ARROW_ASSIGN_OR_RAISE(layout.output, plan::ProjectSchema(schema_, pushdown));
    layout.with_text = layout.output->GetFieldIndex(kTextColumn) >= 0;
    layout.drop_empty_lines = options_.drop_empty_lines;
    layout.encoding_errors = options_.encoding_errors;
    layout.batch_rows = std::max<int64_t>(1, ctx->config().batch_rows);
    // A worker holds its chunk plus the batch it builds: keep both to a slice of its share.
    layout.chunk_bytes = std::clamp<int64_t>(
        ctx->config().memory_limit_bytes / (8 * std::max(1, ctx->config().num_threads)), 256 << 10,
        kMaxChunkBytes);

    std::vector<FileScanUnit> units;
    for (const auto& file : listed_->files) {
      FileScanUnit unit;
      unit.path = file.path();
      unit.open = [listed = listed_, file, layout,
                   pool = ctx->pool()]() -> arrow::Result<std::unique_ptr<exec::BatchStream>> {
        ARROW_ASSIGN_OR_RAISE(auto input,
                              OpenDecompressedInputStream(listed->filesystem, file.info, pool));
        ARROW_ASSIGN_OR_RAISE(auto chunk, arrow::AllocateResizableBuffer(layout.chunk_bytes, pool));
        return std::make_unique<TextFileStream>(std::move(input), std::move(chunk), layout,
                                                file.path(), pool);
      };
      units.push_back(std::move(unit));
    }
    return MakeFileTaskSource(std::move(units), pushdown.limit);
  }

 private:
  std::shared_ptr<const ListedFiles> listed_;
  ReadTextOptions options_;
  std::shared_ptr<arrow::Schema> schema_;
};

}  // namespace

arrow::Result<std::shared_ptr<const plan::SourceSpec>> MakeTextSource(
    const std::vector<std::string>& paths, const ReadTextOptions& options,
    std::shared_ptr<exec::SessionState> session) {
  ARROW_ASSIGN_OR_RAISE(ListedFiles listed, ListFiles(paths, {options.follow_symlinks, std::move(session)}));
  return std::make_shared<const TextSource>(std::make_shared<const ListedFiles>(std::move(listed)),
                                            options);
}

arrow::Result<std::shared_ptr<const plan::SourceSpec>> DeserializeTextSource(
    const std::string& payload, const std::shared_ptr<exec::SessionState>& session) {
  ARROW_ASSIGN_OR_RAISE(auto object, ParsePayload(payload, "text source"));
  ARROW_ASSIGN_OR_RAISE(ListedFiles listed, ListedFilesFromJson(object.at("files"), session));
  ReadTextOptions options;
  options.include_paths = object.at("include_paths").get<bool>();
  options.drop_empty_lines = object.at("drop_empty_lines").get<bool>();
  const int encoding = object.at("encoding_errors").get<int>();
  if (encoding < 0 || encoding > 1) return arrow::Status::Invalid("serialized text source: bad options");
  options.encoding_errors = static_cast<EncodingErrors>(encoding);
  return std::make_shared<const TextSource>(std::make_shared<const ListedFiles>(std::move(listed)),
                                            options);
}

}  // namespace sluice::io
