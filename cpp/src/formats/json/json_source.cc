// ReadJson: JSON lines files (one object per line), possibly compressed, one task per
// file. The schema is the user's, or inferred once from the first block of the first
// file and then imposed on every file so all batches of a read have the same types.

#include <arrow/json/api.h>

#include <cstdlib>
#include <deque>
#include <regex>

#include "runtime/exec_context.h"
#include "formats/bad_records.h"
#include "storage/compression.h"
#include "formats/json/json_line_screen.h"
#include "table/file_listing.h"
#include "formats/file_scan_tasks.h"
#include "storage/read_buffering.h"
#include "formats/serialized_files.h"
#include "plan/plan_serialization.h"
#include "formats/file_sources.h"

namespace sluice::io {

namespace {

/// The largest block: objects longer than the block size cannot be read (Arrow parses
/// whole blocks and an object may not span two), and small memory budgets shrink it.
constexpr int32_t kJsonBlockBytes = 8 << 20;

arrow::json::ReadOptions JsonReadOptions(bool parallel_blocks, int32_t block_size) {
  auto options = arrow::json::ReadOptions::Defaults();
  options.use_threads = parallel_blocks;
  options.block_size = block_size;
  return options;
}

/// Arrow refuses a stream without a single object; for a dataset an empty file (an
/// empty partition written by Spark, say) just has no rows.
bool IsEmptyFileError(const arrow::Status& status) {
  return status.message().find("Empty JSON stream") != std::string::npos;
}

/// How the files of one read are parsed.
struct JsonFormat {
  arrow::json::ParseOptions parse;
  /// 0: kJsonBlockBytes, less under a small memory budget.
  int32_t block_size = 0;
  EncodingErrors encoding_errors = EncodingErrors::kStrict;
  BadLineAction on_bad_lines = BadLineAction::kError;
  /// Appended to errors about fields and types when the schema was inferred.
  std::string inference_hint;
};

/// Arrow's message for an object longer than a block says neither where nor what to raise.
arrow::Status ExplainBlockSizeError(const arrow::Status& status, int32_t block_size) {
  if (status.message().find("straddling") == std::string::npos) return status;
  return arrow::Status::Invalid("a JSON object is longer than the block size (", block_size,
                                      " bytes); raise block_size");
}

/// Opens `file` for Arrow's reader behind the screen that refuses deep nesting and
/// invalid UTF-8 (errors name the line).
arrow::Result<std::shared_ptr<arrow::json::StreamingReader>> OpenJson(
    const ListedFiles& listed, const ListedFile& file, const JsonFormat& format,
    const arrow::io::IOContext& io_context, bool parallel_blocks, int32_t block_size) {
  ARROW_ASSIGN_OR_RAISE(
      auto input, OpenDecompressedInputStream(listed.filesystem, file.info, io_context.pool()));
  auto screened = MakeScreenedInputStream(
      std::move(input),
      MakeJsonLinesScreen(format.encoding_errors, kMaxJsonNestingDepth, io_context.pool()),
      block_size, io_context.pool());
  auto reader = arrow::json::StreamingReader::Make(
      std::move(screened), JsonReadOptions(parallel_blocks, block_size), format.parse, io_context);
  if (!reader.ok()) return ExplainBlockSizeError(reader.status(), block_size);
  return reader;
}

/// Errors about fields and types say how to read them differently when the schema was
/// inferred.
std::string WithInferenceHint(const std::string& message, const JsonFormat& format) {
  if (format.inference_hint.empty() || (message.find("unexpected field") == std::string::npos &&
                                        message.find("changed from") == std::string::npos)) {
    return message;
  }
  return message + format.inference_hint;
}

/// Where Arrow says a block's error is ("... in row 3"), or -1.
int64_t FailedRow(const arrow::Status& status) {
  static const std::regex kBlockRow(" in row ([0-9]+)");
  std::smatch match;
  const std::string message = status.message();
  if (!std::regex_search(message, match, kBlockRow)) return -1;
  return std::atoll(match[1].str().c_str());
}

std::string ReasonOf(const arrow::Status& status) {
  static const std::regex kBlockRow(" in row [0-9]+");
  return std::regex_replace(status.message(), kBlockRow, "");
}

/// Reads a JSON lines file line by line in effect (on_bad_lines "skip" or "collect", and
/// to locate the first bad line of a failed read): the screen takes out lines that are
/// not one object each; the rest are parsed by Arrow a block at a time, and a line Arrow
/// refuses goes to the sink while the lines around it are parsed again without it.
class JsonLineByLineStream : public exec::BatchStream {
 public:
  /// `file_schema` null: infer (the first block only, for MakeJsonSource).
  JsonLineByLineStream(std::shared_ptr<ScreenedInputStream> input, JsonFormat format,
                       int32_t block_size, std::shared_ptr<BadRecordSink> sink,
                       std::shared_ptr<arrow::Schema> file_schema,
                       std::shared_ptr<arrow::Schema> output, bool with_path, std::string path,
                       arrow::MemoryPool* pool)
      : input_(std::move(input)),
        format_(std::move(format)),
        block_size_(block_size),
        sink_(std::move(sink)),
        file_schema_(std::move(file_schema)),
        output_(std::move(output)),
        with_path_(with_path),
        path_(std::move(path)),
        pool_(pool) {}

  arrow::Result<exec::BatchPtr> Next() override {
    while (pending_.empty()) {
      ARROW_ASSIGN_OR_RAISE(auto block, input_->ReadRecords(block_size_));
      if (block->size() == 0) {
        ARROW_RETURN_NOT_OK(sink_->Flush());
        return nullptr;
      }
      ARROW_RETURN_NOT_OK(ParseBlock(block));
      // The screen judged the whole block first: the earliest refusal is in it.
      ARROW_RETURN_NOT_OK(sink_->earliest_refusal());
      ARROW_RETURN_NOT_OK(sink_->Flush());
    }
    exec::BatchPtr batch = std::move(pending_.front());
    pending_.pop_front();
    if (!output_) return batch;
    return ArrangeColumns(batch, output_, with_path_, path_, pool_);
  }

  /// Infers a schema from the first block's good lines (those that parse together).
  arrow::Result<std::shared_ptr<arrow::Schema>> InferSchema() {
    ARROW_ASSIGN_OR_RAISE(auto block, input_->ReadRecords(block_size_));
    std::vector<Line> lines = SplitLines(*block);
    ARROW_RETURN_NOT_OK(ParseLines(block, &lines));
    while (!lines.empty()) {
      // Lines that parse apart may still disagree on a field's type.
      auto parsed = arrow::json::ParseOne(format_.parse, Join(*block, lines));
      if (parsed.ok()) return (*parsed)->schema();
      const int64_t failed = FailedRow(parsed.status());
      if (failed < 0 || failed >= static_cast<int64_t>(lines.size())) return parsed.status();
      lines.erase(lines.begin() + failed);
    }
    return arrow::Status::Invalid("Empty JSON stream: no line is a good JSON object");
  }

 private:
  struct Line {
    int64_t number;
    int64_t begin;
    int64_t end;
  };

  std::vector<Line> SplitLines(const arrow::Buffer& block) {
    std::vector<Line> lines;
    const std::string_view text(reinterpret_cast<const char*>(block.data()), block.size());
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find_first_of("\r\n", start);
      if (end == std::string_view::npos) end = text.size();
      if (!IsBlankJsonLine(text.substr(start, end - start))) {
        lines.push_back(Line{next_line_, static_cast<int64_t>(start), static_cast<int64_t>(end)});
      }
      ++next_line_;
      start = end + (end < text.size() ? LineBreakLength(text, end) : 0);
    }
    return lines;
  }

  /// The lines, one per line, as one buffer for Arrow.
  static std::shared_ptr<arrow::Buffer> Join(const arrow::Buffer& block,
                                             const std::vector<Line>& lines) {
    std::string joined;
    for (const auto& line : lines) {
      joined.append(reinterpret_cast<const char*>(block.data()) + line.begin,
                    line.end - line.begin);
      joined += '\n';
    }
    return arrow::Buffer::FromString(std::move(joined));
  }

  arrow::Status ParseBlock(const std::shared_ptr<arrow::Buffer>& block) {
    std::vector<Line> lines = SplitLines(*block);
    return ParseLines(block, &lines);
  }

  /// Parses `lines` into pending_ (when reading) and leaves in `lines` those that parsed.
  arrow::Status ParseLines(const std::shared_ptr<arrow::Buffer>& block, std::vector<Line>* lines) {
    std::vector<Line> good;
    const int64_t count = static_cast<int64_t>(lines->size());
    int64_t begin = 0;
    // After a failure try one line and double from there: sparse bad lines cost a few
    // small parses each, a block of bad lines one parse per line.
    int64_t attempt = count;
    while (begin < count) {
      const int64_t end = std::min(count, begin + attempt);
      const Line& first = (*lines)[begin];
      const Line& last = (*lines)[end - 1];
      auto parsed = arrow::json::ParseOne(
          format_.parse, arrow::SliceBuffer(block, first.begin, last.end - first.begin));
      if (parsed.ok()) {
        if (file_schema_) {
          ARROW_ASSIGN_OR_RAISE(auto arranged,
                                ArrangeColumns(*parsed, file_schema_, false, "", pool_));
          pending_.push_back(std::move(arranged));
        }
        good.insert(good.end(), lines->begin() + begin, lines->begin() + end);
        begin = end;
        attempt *= 2;
        continue;
      }
      const int64_t failed = FailedRow(parsed.status());
      if (failed > 0 && begin + failed < end) {
        attempt = failed;  // the lines before it parse
        continue;
      }
      if (failed == 0 || end - begin == 1) {
        const Line& bad = (*lines)[begin];
        const std::string_view text(reinterpret_cast<const char*>(block->data()) + bad.begin,
                                    bad.end - bad.begin);
        ARROW_RETURN_NOT_OK(
            sink_->Add(BadRecord{bad.number, "",
                                 WithInferenceHint(ReasonOf(parsed.status()), format_), text}));
        ++begin;
        attempt = 1;
        continue;
      }
      attempt = (end - begin) / 2;  // no line named: halve until one is
    }
    *lines = std::move(good);
    return arrow::Status::OK();
  }

  std::shared_ptr<ScreenedInputStream> input_;
  JsonFormat format_;
  int32_t block_size_;
  std::shared_ptr<BadRecordSink> sink_;
  std::shared_ptr<arrow::Schema> file_schema_;
  std::shared_ptr<arrow::Schema> output_;
  bool with_path_;
  std::string path_;
  arrow::MemoryPool* pool_;
  int64_t next_line_ = 1;
  std::deque<exec::BatchPtr> pending_;
};

arrow::Result<std::unique_ptr<JsonLineByLineStream>> OpenJsonLineByLine(
    const ListedFiles& listed, const ListedFile& file, const JsonFormat& format,
    int32_t block_size, std::shared_ptr<BadRecordSink> sink,
    std::shared_ptr<arrow::Schema> output, bool with_path, const arrow::io::IOContext& io_context) {
  ARROW_ASSIGN_OR_RAISE(
      auto input, OpenDecompressedInputStream(listed.filesystem, file.info, io_context.pool()));
  auto screened = MakeScreenedInputStream(
      std::move(input),
      MakeJsonRecordScreen(format.encoding_errors, kMaxJsonNestingDepth, sink, io_context.pool()),
      block_size, io_context.pool());
  return std::make_unique<JsonLineByLineStream>(std::move(screened), format, block_size,
                                                std::move(sink), format.parse.explicit_schema,
                                                std::move(output), with_path, file.path(),
                                                io_context.pool());
}

/// Makes a failed read's error exact: Arrow counts objects from the start of a block,
/// not lines (an empty line shifts its count), and some errors name no row at all.
/// Reading the file again line by line, with bad lines as errors, finds the first bad
/// line.
arrow::Status LocateBadLine(const arrow::Status& status, const ListedFiles& listed,
                            const ListedFile& file, const JsonFormat& format, int32_t block_size) {
  // Bad input is Invalid; anything else (a read that failed) is reported as it is.
  if (!status.IsInvalid()) return status;
  const std::string& message = status.message();
  auto sink = BadRecordSink::RefusingEarliest(file.path());
  auto stream = OpenJsonLineByLine(listed, file, format, block_size, sink, nullptr, false,
                                   arrow::io::default_io_context());
  if (!stream.ok()) return stream.status();
  while (true) {
    auto batch = (*stream)->Next();
    if (!batch.ok()) return batch.status();
    if (!*batch) break;
  }
  // Not reproduced line by line (an object spanning lines, say): Arrow's own words.
  return ExplainBlockSizeError(status.WithMessage(WithInferenceHint(message, format)),
                               block_size);
}

/// A field that was null in every inferred row has type null, which no later value
/// fits; read it as string instead (also inside structs and lists).
std::shared_ptr<arrow::DataType> WithoutNullType(const std::shared_ptr<arrow::DataType>& type) {
  switch (type->id()) {
    case arrow::Type::NA:
      return arrow::utf8();
    case arrow::Type::STRUCT: {
      arrow::FieldVector children;
      for (const auto& child : type->fields()) {
        children.push_back(child->WithType(WithoutNullType(child->type())));
      }
      return arrow::struct_(std::move(children));
    }
    case arrow::Type::LIST: {
      const auto& item = type->field(0);
      return arrow::list(item->WithType(WithoutNullType(item->type())));
    }
    default:
      return type;
  }
}

/// Reads one JSON lines file with Arrow's streaming reader; batches come out in the
/// order of `output`.
class JsonFileStream : public exec::BatchStream {
 public:
  JsonFileStream(std::shared_ptr<arrow::json::StreamingReader> reader,
                 std::shared_ptr<arrow::Schema> output, bool with_path,
                 std::shared_ptr<const ListedFiles> listed, ListedFile file, JsonFormat format,
                 int32_t block_size, arrow::MemoryPool* pool)
      : reader_(std::move(reader)),
        output_(std::move(output)),
        with_path_(with_path),
        listed_(std::move(listed)),
        file_(std::move(file)),
        format_(std::move(format)),
        block_size_(block_size),
        pool_(pool) {}

  arrow::Result<exec::BatchPtr> Next() override {
    auto next = reader_->Next();
    if (!next.ok()) return LocateBadLine(next.status(), *listed_, file_, format_, block_size_);
    exec::BatchPtr batch = std::move(*next);
    if (!batch) return nullptr;
    return ArrangeColumns(batch, output_, with_path_, file_.path(), pool_);
  }

 private:
  std::shared_ptr<arrow::json::StreamingReader> reader_;
  std::shared_ptr<arrow::Schema> output_;
  bool with_path_;
  // To locate errors: the file, and how it is read.
  std::shared_ptr<const ListedFiles> listed_;
  ListedFile file_;
  JsonFormat format_;
  int32_t block_size_;
  arrow::MemoryPool* pool_;
};

std::unique_ptr<exec::BatchStream> NoBatches() {
  return std::make_unique<exec::FunctionBatchStream>(
      []() -> arrow::Result<exec::BatchPtr> { return nullptr; });
}

class JsonSource : public plan::SourceSpec {
 public:
  JsonSource(std::shared_ptr<const ListedFiles> listed, JsonFormat format,
             std::shared_ptr<arrow::Schema> schema, bool include_paths)
      : listed_(std::move(listed)),
        format_(std::move(format)),
        schema_(std::move(schema)),
        include_paths_(include_paths) {}

  std::string name() const override { return "ReadJson"; }
  std::string Describe() const override { return DescribeFiles(listed_->files); }
  std::shared_ptr<arrow::Schema> schema() const override { return schema_; }

  arrow::Result<plan::SerializedPart> Serialize() const override {
    ARROW_ASSIGN_OR_RAISE(auto files, ListedFilesToJson(*listed_));
    ARROW_ASSIGN_OR_RAISE(auto schema, plan::SerializeSchema(schema_));
    ARROW_ASSIGN_OR_RAISE(auto file_schema, plan::SerializeSchema(format_.parse.explicit_schema));
    nlohmann::json payload{
        {"files", std::move(files)},
        {"schema", std::move(schema)},
        {"file_schema", std::move(file_schema)},
        {"inferred", format_.parse.unexpected_field_behavior ==
                         arrow::json::UnexpectedFieldBehavior::Error},
        {"inference_hint", format_.inference_hint},
        {"include_paths", include_paths_},
        {"block_size", format_.block_size},
        {"encoding_errors", static_cast<int>(format_.encoding_errors)},
        {"on_bad_lines", static_cast<int>(format_.on_bad_lines)}};
    return plan::SerializedPart{"json", payload.dump()};
  }

  arrow::Result<std::vector<plan::Split>> ListSplits(const plan::Pushdown&,
                                                     int64_t) const override {
    return WholeFileSplits(*listed_);
  }

  arrow::Result<std::shared_ptr<const plan::SourceSpec>> WithSplits(
      const std::vector<plan::Split>& splits) const override {
    ARROW_ASSIGN_OR_RAISE(ListedFiles files, FilesOfSplits(*listed_, splits));
    return std::make_shared<const JsonSource>(std::make_shared<const ListedFiles>(std::move(files)),
                                              format_, schema_, include_paths_);
  }

  arrow::Result<std::unique_ptr<exec::TaskSource>> MakeTaskSource(
      exec::ExecContext* ctx, const plan::Pushdown& pushdown) const override {
    ARROW_ASSIGN_OR_RAISE(auto output, plan::ProjectSchema(schema_, pushdown));
    // Files are read side by side, one task each. With fewer files than workers, let
    // Arrow parse blocks of each file in parallel too, or one big file would use one core.
    const bool parallel_blocks =
        static_cast<int64_t>(listed_->files.size()) < ctx->config().num_threads;
    const int32_t block_size = format_.block_size > 0
                                   ? format_.block_size
                                   : ReaderBlockBytes(ctx->config(), kJsonBlockBytes);
    std::vector<FileScanUnit> units;
    for (const auto& file : listed_->files) {
      FileScanUnit unit;
      unit.path = file.path();
      unit.open = [listed = listed_, file, format = format_, output, with_path = include_paths_,
                   ctx, io_context = ctx->io_context(), parallel_blocks,
                   block_size]() -> arrow::Result<std::unique_ptr<exec::BatchStream>> {
        if (format.on_bad_lines != BadLineAction::kError) {
          auto sink = std::make_shared<BadRecordSink>(format.on_bad_lines, file.path(), ctx);
          ARROW_ASSIGN_OR_RAISE(auto stream, OpenJsonLineByLine(*listed, file, format, block_size,
                                                                sink, output, with_path,
                                                                io_context));
          return std::unique_ptr<exec::BatchStream>(std::move(stream));
        }
        auto reader = OpenJson(*listed, file, format, io_context, parallel_blocks, block_size);
        if (!reader.ok() && IsEmptyFileError(reader.status())) return NoBatches();
        // Opening parses the first block, so its errors are located like later ones.
        if (!reader.ok()) {
          return LocateBadLine(reader.status(), *listed, file, format, block_size);
        }
        return std::make_unique<JsonFileStream>(std::move(*reader), output, with_path, listed,
                                                file, format, block_size, io_context.pool());
      };
      units.push_back(std::move(unit));
    }
    return MakeFileTaskSource(std::move(units), pushdown.limit, ctx->config().batch_rows);
  }

 private:
  std::shared_ptr<const ListedFiles> listed_;
  JsonFormat format_;
  std::shared_ptr<arrow::Schema> schema_;
  bool include_paths_;
};

/// The schema of the first file that holds an object, from its first block.
arrow::Result<std::shared_ptr<arrow::Schema>> InferJsonSchema(const ListedFiles& listed,
                                                              const JsonFormat& format,
                                                              const ListedFile** first) {
  const int32_t block_size = format.block_size > 0 ? format.block_size : kJsonBlockBytes;
  arrow::Status last = arrow::Status::Invalid("no JSON file");
  for (const auto& file : listed.files) {
    *first = &file;
    if (format.on_bad_lines != BadLineAction::kError) {
      // Bad lines of the first block are skipped here too (and counted when read).
      auto sink = std::make_shared<BadRecordSink>(format.on_bad_lines, file.path(), nullptr);
      ARROW_ASSIGN_OR_RAISE(auto stream,
                            OpenJsonLineByLine(listed, file, format, block_size, sink, nullptr,
                                               false, arrow::io::default_io_context()));
      auto schema = stream->InferSchema();
      if (schema.ok() || !IsEmptyFileError(schema.status())) return schema;
      last = schema.status();
      continue;
    }
    auto reader = OpenJson(listed, file, format, arrow::io::default_io_context(),
                           /*parallel_blocks=*/false, block_size);
    if (reader.ok()) return (*reader)->schema();
    if (!IsEmptyFileError(reader.status())) {
      return LocateBadLine(reader.status(), listed, file, format, block_size);
    }
    last = reader.status();
  }
  return last;
}

}  // namespace

arrow::Result<std::shared_ptr<const plan::SourceSpec>> MakeJsonSource(
    const std::vector<std::string>& paths, const ReadJsonOptions& options,
    std::shared_ptr<exec::SessionState> session) {
  ARROW_ASSIGN_OR_RAISE(ListedFiles listed, ListFiles(paths, {options.follow_symlinks, std::move(session)}));
  if (options.block_size < 0) return arrow::Status::Invalid("block_size must be >= 0");
  JsonFormat format;
  format.parse = arrow::json::ParseOptions::Defaults();
  format.block_size = options.block_size;
  format.encoding_errors = options.encoding_errors;
  format.on_bad_lines = options.on_bad_lines;
  std::shared_ptr<arrow::Schema> file_schema = options.schema;
  if (file_schema) {
    // The user chose the fields; others are not wanted.
    format.parse.unexpected_field_behavior = arrow::json::UnexpectedFieldBehavior::Ignore;
  } else {
    const ListedFile* first = nullptr;
    auto inferred = InferJsonSchema(listed, format, &first);
    if (!inferred.ok()) return WithPathContext(inferred.status(), first->path());
    arrow::FieldVector fields;
    for (const auto& field : (*inferred)->fields()) {
      fields.push_back(field->WithType(WithoutNullType(field->type())));
    }
    file_schema = arrow::schema(std::move(fields));
    // Fields first seen after the inferred block would change the schema mid-read, and
    // dropping them silently would lose data: fail and say how to fix it.
    format.parse.unexpected_field_behavior = arrow::json::UnexpectedFieldBehavior::Error;
    format.inference_hint = " (the schema was inferred from the first block of " + first->path() +
                            "; pass ReadJsonOptions::schema to read other fields or types)";
  }
  if (file_schema->num_fields() == 0) {
    return arrow::Status::Invalid(listed.files.front().path(), ": JSON objects have no fields");
  }
  format.parse.explicit_schema = file_schema;

  arrow::FieldVector fields = file_schema->fields();
  if (options.include_paths) {
    if (file_schema->GetFieldIndex(kPathColumn) >= 0) {
      return arrow::Status::Invalid("The JSON objects have a field named '", kPathColumn,
                                    "', which include_paths would add again");
    }
    fields.push_back(arrow::field(kPathColumn, arrow::utf8(), /*nullable=*/false));
  }
  return std::make_shared<const JsonSource>(std::make_shared<const ListedFiles>(std::move(listed)),
                                            std::move(format), arrow::schema(std::move(fields)),
                                            options.include_paths);
}

arrow::Result<std::shared_ptr<const plan::SourceSpec>> DeserializeJsonSource(
    const std::string& payload, const std::shared_ptr<exec::SessionState>& session) {
  ARROW_ASSIGN_OR_RAISE(auto object, ParsePayload(payload, "JSON source"));
  ARROW_ASSIGN_OR_RAISE(ListedFiles listed, ListedFilesFromJson(object.at("files"), session));
  ARROW_ASSIGN_OR_RAISE(auto schema, plan::DeserializeSchema(object.at("schema").get<std::string>()));
  JsonFormat format;
  format.parse = arrow::json::ParseOptions::Defaults();
  ARROW_ASSIGN_OR_RAISE(format.parse.explicit_schema,
                        plan::DeserializeSchema(object.at("file_schema").get<std::string>()));
  // As where the source was made: an inferred schema fails on fields it did not see, a
  // given one ignores them.
  format.parse.unexpected_field_behavior = object.at("inferred").get<bool>()
                                               ? arrow::json::UnexpectedFieldBehavior::Error
                                               : arrow::json::UnexpectedFieldBehavior::Ignore;
  format.inference_hint = object.at("inference_hint").get<std::string>();
  format.block_size = object.at("block_size").get<int32_t>();
  const int encoding = object.at("encoding_errors").get<int>();
  const int bad_lines = object.at("on_bad_lines").get<int>();
  if (format.block_size < 0 || encoding < 0 || encoding > 1 || bad_lines < 0 || bad_lines > 2 ||
      format.parse.explicit_schema->num_fields() == 0) {
    return arrow::Status::Invalid("serialized JSON source: bad options");
  }
  format.encoding_errors = static_cast<EncodingErrors>(encoding);
  format.on_bad_lines = static_cast<BadLineAction>(bad_lines);
  return std::make_shared<const JsonSource>(std::make_shared<const ListedFiles>(std::move(listed)),
                                            std::move(format), std::move(schema),
                                            object.at("include_paths").get<bool>());
}

}  // namespace sluice::io
