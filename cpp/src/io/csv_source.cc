// ReadCsv: delimited text files, possibly compressed, one task per file. The schema is
// inferred once, from the first block of the first file, and then imposed on every file
// so all batches of a read have the same types.

#include <arrow/csv/api.h>

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

struct CsvFormat {
  arrow::csv::ReadOptions read;
  arrow::csv::ParseOptions parse;
  /// column_types covers every column once the schema is inferred.
  arrow::csv::ConvertOptions convert;
  /// The file whose first block the column types were inferred from.
  std::string types_inferred_from;
};

arrow::Result<CsvFormat> FormatFromOptions(const ReadCsvOptions& options) {
  if (options.skip_rows < 0) return arrow::Status::Invalid("skip_rows must be >= 0");
  CsvFormat format;
  format.read = arrow::csv::ReadOptions::Defaults();
  // Parallelism normally comes from reading files side by side (see MakeTaskSource).
  format.read.use_threads = false;
  format.read.skip_rows = static_cast<int32_t>(options.skip_rows);
  if (!options.column_names.empty()) {
    format.read.column_names = options.column_names;
    // Given names replace a header line rather than turning it into data.
    if (options.header) ++format.read.skip_rows;
  } else {
    format.read.autogenerate_column_names = !options.header;
  }

  format.parse = arrow::csv::ParseOptions::Defaults();
  format.parse.delimiter = options.delimiter;
  format.parse.quoting = options.quoting;
  format.parse.quote_char = options.quote_char;
  format.parse.escaping = options.escaping;
  format.parse.escape_char = options.escape_char;
  format.parse.newlines_in_values = options.newlines_in_values;
  ARROW_RETURN_NOT_OK(format.parse.Validate());

  format.convert = arrow::csv::ConvertOptions::Defaults();
  for (const auto& [name, type] : options.column_types) {
    if (!type) return arrow::Status::Invalid("column_types['", name, "'] is null");
    format.convert.column_types[name] = type;
  }
  if (!options.null_values.empty()) format.convert.null_values = options.null_values;
  return format;
}

/// Arrow refuses a file without even a header line; for a dataset an empty file (an
/// empty partition written by Spark, say) just has no rows.
bool IsEmptyFileError(const arrow::Status& status) {
  return status.message().find("Empty CSV file") != std::string::npos;
}

arrow::Result<std::shared_ptr<arrow::csv::StreamingReader>> OpenCsv(
    const ListedFiles& listed, const ListedFile& file, const CsvFormat& format,
    const arrow::io::IOContext& io_context) {
  ARROW_ASSIGN_OR_RAISE(
      auto input, OpenDecompressedInputStream(listed.filesystem, file.info, io_context.pool()));
  return arrow::csv::StreamingReader::Make(io_context, std::move(input), format.read, format.parse,
                                           format.convert);
}

/// Arrow numbers rows in errors only when it parses a file's blocks in order. After a
/// failure in parallel parsing, read the file again serially to learn the row.
arrow::Status WithRowNumber(const arrow::Status& status, const ListedFiles& listed,
                            const ListedFile& file, const CsvFormat& format) {
  const std::string& message = status.message();
  const bool about_a_row = message.find("CSV parse error") != std::string::npos ||
                           message.find("conversion error") != std::string::npos;
  if (!format.read.use_threads || !about_a_row || message.find("Row #") != std::string::npos) {
    return status;
  }
  CsvFormat serial = format;
  serial.read.use_threads = false;
  auto reader = OpenCsv(listed, file, serial, arrow::io::default_io_context());
  if (!reader.ok()) return reader.status();
  while (true) {
    auto batch = (*reader)->Next();
    if (!batch.ok()) return batch.status();
    if (!*batch) return status;  // not reproduced: keep what we had
  }
}

/// Makes a row error actionable. Arrow names a column that failed to convert by its
/// position in the file ("In CSV column #3: Row #70001: CSV conversion error to int64:
/// invalid value 'n/a'"); add its name, read from that file's own header, and say where
/// the type came from.
arrow::Status ExplainRowError(const arrow::Status& original, const ListedFiles& listed,
                              const ListedFile& file, const CsvFormat& format) {
  const arrow::Status status = WithRowNumber(original, listed, file, format);
  static const std::regex kColumnIndex("In CSV column #([0-9]+)");
  std::smatch match;
  const std::string message = status.message();
  if (message.find("conversion error") == std::string::npos ||
      !std::regex_search(message, match, kColumnIndex)) {
    return status;
  }
  const int index = std::atoi(match[1].str().c_str());

  // Reading the header again with every column as a string cannot fail on values.
  CsvFormat header_only = format;
  header_only.read.use_threads = false;
  header_only.convert = arrow::csv::ConvertOptions::Defaults();
  auto reader = OpenCsv(listed, file, header_only, arrow::io::default_io_context());
  std::string name;
  if (reader.ok() && index < (*reader)->schema()->num_fields()) {
    name = " ('" + (*reader)->schema()->field(index)->name() + "')";
  }
  std::string hint;
  if (!format.types_inferred_from.empty()) {
    hint = " (column types are inferred from the first block of " + format.types_inferred_from +
           "; set column_types to read it differently)";
  }
  return status.WithMessage(match.prefix().str(), "In CSV column #", index, name,
                            match.suffix().str(), hint);
}

/// Reads one CSV file with the fixed types; batches come out in the order of `output`.
class CsvFileStream : public exec::BatchStream {
 public:
  CsvFileStream(std::shared_ptr<arrow::csv::StreamingReader> reader,
                std::shared_ptr<arrow::Schema> output, bool with_path,
                std::shared_ptr<const ListedFiles> listed, ListedFile file, CsvFormat format,
                arrow::MemoryPool* pool)
      : reader_(std::move(reader)),
        output_(std::move(output)),
        with_path_(with_path),
        listed_(std::move(listed)),
        file_(std::move(file)),
        format_(std::move(format)),
        pool_(pool) {}

  arrow::Result<exec::BatchPtr> Next() override {
    auto next = reader_->Next();
    if (!next.ok()) return ExplainRowError(next.status(), *listed_, file_, format_);
    if (!*next) return nullptr;
    return ArrangeColumns(*next, output_, with_path_, file_.path(), pool_);
  }

 private:
  std::shared_ptr<arrow::csv::StreamingReader> reader_;
  std::shared_ptr<arrow::Schema> output_;
  bool with_path_;
  // To explain errors: the file, and how it is read.
  std::shared_ptr<const ListedFiles> listed_;
  ListedFile file_;
  CsvFormat format_;
  arrow::MemoryPool* pool_;
};

class CsvSource : public plan::SourceSpec {
 public:
  CsvSource(std::shared_ptr<const ListedFiles> listed, CsvFormat format,
            std::shared_ptr<arrow::Schema> schema, bool include_paths)
      : listed_(std::move(listed)),
        format_(std::move(format)),
        schema_(std::move(schema)),
        include_paths_(include_paths) {}

  std::string name() const override { return "ReadCsv"; }
  std::string Describe() const override { return DescribeFiles(listed_->files); }
  std::shared_ptr<arrow::Schema> schema() const override { return schema_; }

  arrow::Result<std::unique_ptr<exec::TaskSource>> MakeTaskSource(
      exec::ExecContext* ctx, const plan::Pushdown& pushdown) const override {
    ARROW_ASSIGN_OR_RAISE(auto output, plan::ProjectSchema(schema_, pushdown));
    CsvFormat format = format_;
    // Files are read side by side, one task each. With fewer files than workers, let
    // Arrow parse blocks of each file in parallel too, or one big file would use one core.
    format.read.use_threads =
        static_cast<int64_t>(listed_->files.size()) < ctx->config().num_threads;
    format.read.block_size = ReaderBlockBytes(ctx->config(), 4 << 20);
    format.convert.include_columns.clear();
    for (const auto& field : output->fields()) {
      if (include_paths_ && field->name() == kPathColumn) continue;
      format.convert.include_columns.push_back(field->name());
    }
    // Rows are still needed when no CSV column is: read the narrowest one, the first.
    if (format.convert.include_columns.empty()) {
      format.convert.include_columns.push_back(schema_->field(0)->name());
    }

    std::vector<FileScanUnit> units;
    for (const auto& file : listed_->files) {
      FileScanUnit unit;
      unit.path = file.path();
      unit.open = [listed = listed_, file, format, output, with_path = include_paths_,
                   io_context =
                       ctx->io_context()]() -> arrow::Result<std::unique_ptr<exec::BatchStream>> {
        auto reader = OpenCsv(*listed, file, format, io_context);
        if (!reader.ok() && IsEmptyFileError(reader.status())) {
          return std::make_unique<exec::FunctionBatchStream>(
              []() -> arrow::Result<exec::BatchPtr> { return nullptr; });
        }
        if (!reader.ok()) return ExplainRowError(reader.status(), *listed, file, format);
        return std::make_unique<CsvFileStream>(std::move(*reader), output, with_path, listed, file,
                                               format, io_context.pool());
      };
      units.push_back(std::move(unit));
    }
    return MakeFileTaskSource(std::move(units), pushdown.limit, ctx->config().batch_rows);
  }

 private:
  std::shared_ptr<const ListedFiles> listed_;
  CsvFormat format_;
  std::shared_ptr<arrow::Schema> schema_;
  bool include_paths_;
};

}  // namespace

arrow::Result<std::shared_ptr<const plan::SourceSpec>> MakeCsvSource(
    const std::vector<std::string>& paths, const ReadCsvOptions& options) {
  ARROW_ASSIGN_OR_RAISE(ListedFiles listed, ListFiles(paths, {options.follow_symlinks}));
  ARROW_ASSIGN_OR_RAISE(CsvFormat format, FormatFromOptions(options));

  // The first block of the first file with rows decides the types of the columns not
  // given (a file with just a header would make every column a string).
  std::shared_ptr<arrow::Schema> inferred;
  const ListedFile* first = nullptr;
  for (const auto& file : listed.files) {
    auto reader = OpenCsv(listed, file, format, arrow::io::default_io_context());
    if (!reader.ok() && IsEmptyFileError(reader.status())) continue;
    if (!reader.ok()) {
      return WithPathContext(ExplainRowError(reader.status(), listed, file, format), file.path());
    }
    if (!inferred) {
      inferred = (*reader)->schema();
      first = &file;
    }
    auto batch = (*reader)->Next();
    if (!batch.ok()) return WithPathContext(batch.status(), file.path());
    const bool has_rows = *batch && (*batch)->num_rows() > 0;
    if (has_rows) {
      inferred = (*reader)->schema();
      first = &file;
    }
    ARROW_RETURN_NOT_OK((*reader)->Close());
    if (has_rows) break;
  }
  if (!inferred) {
    return arrow::Status::Invalid("Every CSV file is empty: ", DescribeFiles(listed.files));
  }
  if (inferred->num_fields() == 0) {
    return arrow::Status::Invalid(first->path(), ": CSV file has no columns");
  }

  format.types_inferred_from = first->path();
  arrow::FieldVector fields;
  for (const auto& field : inferred->fields()) {
    if (inferred->GetAllFieldIndices(field->name()).size() > 1) {
      return arrow::Status::Invalid(first->path(), ": column name '", field->name(),
                                    "' appears more than once; pass column_names");
    }
    // A column empty in the first block is inferred as null, a type no later value
    // could take; read such columns as strings unless column_types says otherwise.
    auto type = field->type()->id() == arrow::Type::NA ? arrow::utf8() : field->type();
    format.convert.column_types[field->name()] = type;
    fields.push_back(arrow::field(field->name(), type));
  }
  if (options.include_paths) {
    if (inferred->GetFieldIndex(kPathColumn) >= 0) {
      return arrow::Status::Invalid(first->path(), ": has a column named '", kPathColumn,
                                    "', which include_paths would add again");
    }
    fields.push_back(arrow::field(kPathColumn, arrow::utf8(), /*nullable=*/false));
  }
  return std::make_shared<const CsvSource>(std::make_shared<const ListedFiles>(std::move(listed)),
                                           std::move(format), arrow::schema(std::move(fields)),
                                           options.include_paths);
}

}  // namespace sluice::io
