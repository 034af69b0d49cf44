// ReadJson: JSON lines files (one object per line), possibly compressed, one task per
// file. The schema is the user's, or inferred once from the first block of the first
// file and then imposed on every file so all batches of a read have the same types.

#include <arrow/json/api.h>

#include <cstdlib>
#include <regex>

#include "exec/exec_context.h"
#include "io/compression.h"
#include "io/file_listing.h"
#include "io/file_scan_tasks.h"
#include "io/read_buffering.h"
#include "io/sources.h"

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

arrow::Result<std::shared_ptr<arrow::json::StreamingReader>> OpenJson(
    const ListedFiles& listed, const ListedFile& file,
    const arrow::json::ParseOptions& parse_options, const arrow::io::IOContext& io_context,
    bool parallel_blocks = false, int32_t block_size = kJsonBlockBytes) {
  ARROW_ASSIGN_OR_RAISE(
      auto input, OpenDecompressedInputStream(listed.filesystem, file.info, io_context.pool()));
  return arrow::json::StreamingReader::Make(
      std::move(input), JsonReadOptions(parallel_blocks, block_size), parse_options, io_context);
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

/// Arrow counts rows from the start of the current block ("in row 3"); turn that into
/// the line of the file, given how many rows the file produced before that block.
arrow::Status LocateInFile(const arrow::Status& status, int64_t rows_before,
                           const std::string& inference_hint) {
  static const std::regex kBlockRow(" in row ([0-9]+)");
  std::string message = status.message();
  std::smatch match;
  if (std::regex_search(message, match, kBlockRow)) {
    const int64_t line = rows_before + std::atoll(match[1].str().c_str()) + 1;
    message = match.prefix().str() + " in line " + std::to_string(line) + match.suffix().str();
  }
  if (!inference_hint.empty() && (message.find("unexpected field") != std::string::npos ||
                                  message.find("changed from") != std::string::npos)) {
    message += inference_hint;
  }
  return status.WithMessage(message);
}

/// Reads one JSON lines file; batches come out in the order of `output`.
class JsonFileStream : public exec::BatchStream {
 public:
  JsonFileStream(std::shared_ptr<arrow::json::StreamingReader> reader,
                 std::shared_ptr<arrow::Schema> output, bool with_path, std::string path,
                 arrow::MemoryPool* pool, std::string inference_hint)
      : reader_(std::move(reader)),
        output_(std::move(output)),
        with_path_(with_path),
        path_(std::move(path)),
        pool_(pool),
        inference_hint_(std::move(inference_hint)) {}

  arrow::Result<exec::BatchPtr> Next() override {
    auto next = reader_->Next();
    if (!next.ok()) return LocateInFile(next.status(), rows_, inference_hint_);
    exec::BatchPtr batch = std::move(*next);
    if (!batch) return nullptr;
    rows_ += batch->num_rows();
    return ArrangeColumns(batch, output_, with_path_, path_, pool_);
  }

 private:
  std::shared_ptr<arrow::json::StreamingReader> reader_;
  std::shared_ptr<arrow::Schema> output_;
  bool with_path_;
  std::string path_;
  arrow::MemoryPool* pool_;
  std::string inference_hint_;
  int64_t rows_ = 0;
};

class JsonSource : public plan::SourceSpec {
 public:
  JsonSource(std::shared_ptr<const ListedFiles> listed, arrow::json::ParseOptions parse_options,
             std::shared_ptr<arrow::Schema> schema, bool include_paths, std::string inference_hint)
      : listed_(std::move(listed)),
        parse_options_(std::move(parse_options)),
        schema_(std::move(schema)),
        include_paths_(include_paths),
        inference_hint_(std::move(inference_hint)) {}

  std::string name() const override { return "ReadJson"; }
  std::string Describe() const override { return DescribeFiles(listed_->files); }
  std::shared_ptr<arrow::Schema> schema() const override { return schema_; }

  arrow::Result<std::unique_ptr<exec::TaskSource>> MakeTaskSource(
      exec::ExecContext* ctx, const plan::Pushdown& pushdown) const override {
    ARROW_ASSIGN_OR_RAISE(auto output, plan::ProjectSchema(schema_, pushdown));
    // Files are read side by side, one task each. With fewer files than workers, let
    // Arrow parse blocks of each file in parallel too, or one big file would use one core.
    const bool parallel_blocks =
        static_cast<int64_t>(listed_->files.size()) < ctx->config().num_threads;
    const int32_t block_size = ReaderBlockBytes(ctx->config(), kJsonBlockBytes);
    std::vector<FileScanUnit> units;
    for (const auto& file : listed_->files) {
      FileScanUnit unit;
      unit.path = file.path();
      unit.open = [listed = listed_, file, parse_options = parse_options_, output,
                   with_path = include_paths_, hint = inference_hint_,
                   io_context = ctx->io_context(), parallel_blocks,
                   block_size]() -> arrow::Result<std::unique_ptr<exec::BatchStream>> {
        auto reader =
            OpenJson(*listed, file, parse_options, io_context, parallel_blocks, block_size);
        if (!reader.ok() && IsEmptyFileError(reader.status())) {
          return std::make_unique<exec::FunctionBatchStream>(
              []() -> arrow::Result<exec::BatchPtr> { return nullptr; });
        }
        // Opening parses the first block, so its errors are located like later ones.
        if (!reader.ok()) return LocateInFile(reader.status(), 0, hint);
        return std::make_unique<JsonFileStream>(std::move(*reader), output, with_path, file.path(),
                                                io_context.pool(), hint);
      };
      units.push_back(std::move(unit));
    }
    return MakeFileTaskSource(std::move(units), pushdown.limit, ctx->config().batch_rows);
  }

 private:
  std::shared_ptr<const ListedFiles> listed_;
  arrow::json::ParseOptions parse_options_;
  std::shared_ptr<arrow::Schema> schema_;
  bool include_paths_;
  std::string inference_hint_;
};

}  // namespace

arrow::Result<std::shared_ptr<const plan::SourceSpec>> MakeJsonSource(
    const std::vector<std::string>& paths, const ReadJsonOptions& options) {
  ARROW_ASSIGN_OR_RAISE(ListedFiles listed, ListFiles(paths, {options.follow_symlinks}));
  arrow::json::ParseOptions parse_options = arrow::json::ParseOptions::Defaults();
  std::shared_ptr<arrow::Schema> file_schema = options.schema;
  std::string inference_hint;
  if (file_schema) {
    // The user chose the fields; others are not wanted.
    parse_options.unexpected_field_behavior = arrow::json::UnexpectedFieldBehavior::Ignore;
  } else {
    // Infer from the first file that holds an object.
    arrow::Result<std::shared_ptr<arrow::json::StreamingReader>> reader;
    const ListedFile* first = nullptr;
    for (const auto& file : listed.files) {
      first = &file;
      reader = OpenJson(listed, file, parse_options, arrow::io::default_io_context());
      if (reader.ok() || !IsEmptyFileError(reader.status())) break;
    }
    if (!reader.ok()) {
      return WithPathContext(LocateInFile(reader.status(), 0, ""), first->path());
    }
    arrow::FieldVector fields;
    for (const auto& field : (*reader)->schema()->fields()) {
      fields.push_back(field->WithType(WithoutNullType(field->type())));
    }
    file_schema = arrow::schema(std::move(fields));
    // Fields first seen after the inferred block would change the schema mid-read, and
    // dropping them silently would lose data: fail and say how to fix it.
    parse_options.unexpected_field_behavior = arrow::json::UnexpectedFieldBehavior::Error;
    inference_hint = " (the schema was inferred from the first block of " + first->path() +
                     "; pass ReadJsonOptions::schema to read other fields or types)";
  }
  if (file_schema->num_fields() == 0) {
    return arrow::Status::Invalid(listed.files.front().path(), ": JSON objects have no fields");
  }
  parse_options.explicit_schema = file_schema;

  arrow::FieldVector fields = file_schema->fields();
  if (options.include_paths) {
    if (file_schema->GetFieldIndex(kPathColumn) >= 0) {
      return arrow::Status::Invalid("The JSON objects have a field named '", kPathColumn,
                                    "', which include_paths would add again");
    }
    fields.push_back(arrow::field(kPathColumn, arrow::utf8(), /*nullable=*/false));
  }
  return std::make_shared<const JsonSource>(
      std::make_shared<const ListedFiles>(std::move(listed)), std::move(parse_options),
      arrow::schema(std::move(fields)), options.include_paths, std::move(inference_hint));
}

}  // namespace sluice::io
