// ReadCsv: delimited text files, possibly compressed, one task per file. The schema is
// inferred once, from the first block of the first file, and then imposed on every file
// so all batches of a read have the same types.

#include <arrow/compute/api_vector.h>
#include <arrow/csv/api.h>

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <map>

#include "runtime/exec_context.h"
#include "formats/bad_records.h"
#include "storage/compression.h"
#include "formats/csv/csv_record_screen.h"
#include "formats/csv/csv_value_conversion.h"
#include "table/file_listing.h"
#include "formats/file_scan_tasks.h"
#include "storage/read_buffering.h"
#include "formats/serialized_files.h"
#include "plan/plan_serialization.h"
#include "formats/file_sources.h"

namespace sluice::io {

namespace {

struct CsvFormat {
  arrow::csv::ReadOptions read;
  arrow::csv::ParseOptions parse;
  /// column_types covers every column once the schema is inferred.
  arrow::csv::ConvertOptions convert;
  /// The file whose first block the column types were inferred from.
  std::string types_inferred_from;
  /// The columns of the first file as Arrow names them (for generated names).
  std::vector<std::string> file_columns;
  /// What the screen in front of Arrow's parser needs (see csv_record_screen.h).
  CsvScreenOptions screen;
  BadLineAction on_bad_lines = BadLineAction::kError;
};

/// Default block size while reading; ReadCsvOptions::block_size replaces it.
constexpr int32_t kCsvBlockBytes = 4 << 20;

/// The column, first in a numbered read, holding each row's physical line.
constexpr char kLineColumn[] = "__sluice_line__";

arrow::Result<CsvFormat> FormatFromOptions(const ReadCsvOptions& options) {
  if (options.skip_rows < 0) return arrow::Status::Invalid("skip_rows must be >= 0");
  if (options.block_size < 0) return arrow::Status::Invalid("block_size must be >= 0");
  CsvFormat format;
  format.read = arrow::csv::ReadOptions::Defaults();
  if (options.block_size > 0) format.read.block_size = options.block_size;
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
  // Empty fields read as null in every column, strings included (DuckDB, Spark).
  format.convert.strings_can_be_null = options.empty_as_null;
  format.convert.quoted_strings_can_be_null = true;
  // The screen in front of the parser has checked (or repaired) every record's UTF-8.
  format.convert.check_utf8 = false;
  auto& nulls = format.convert.null_values;
  if (options.empty_as_null && std::find(nulls.begin(), nulls.end(), "") == nulls.end()) {
    nulls.push_back("");
  }

  format.screen.parse = format.parse;
  format.screen.encoding_errors = options.encoding_errors;
  format.screen.skip_rows = options.skip_rows;
  format.screen.header = options.header;
  format.on_bad_lines = options.on_bad_lines;
  return format;
}

bool SkipsOrCollectsBadRecords(const CsvFormat& format) {
  return format.on_bad_lines != BadLineAction::kError;
}

/// Arrow's message for a row longer than a block says neither where nor what to raise.
arrow::Status ExplainBlockSizeError(const arrow::Status& status, const CsvFormat& format) {
  if (status.message().find("straddling") == std::string::npos) return status;
  return arrow::Status::Invalid("a row is longer than the block size (",
                                      format.read.block_size, " bytes); raise block_size");
}

/// Arrow refuses a file without even a header line; for a dataset an empty file (an
/// empty partition written by Spark, say) just has no rows.
bool IsEmptyFileError(const arrow::Status& status) {
  return status.message().find("Empty CSV file") != std::string::npos;
}

/// Opens `file` for Arrow's CSV reader behind the screen (UTF-8, numbering), whose bad
/// records go to `sink`.
arrow::Result<std::shared_ptr<arrow::csv::StreamingReader>> OpenCsv(
    const ListedFiles& listed, const ListedFile& file, const CsvFormat& format,
    const arrow::io::IOContext& io_context, std::shared_ptr<BadRecordSink> sink) {
  ARROW_ASSIGN_OR_RAISE(
      auto input, OpenDecompressedInputStream(listed.filesystem, file.info, io_context.pool()));
  auto screened = MakeScreenedInputStream(
      std::move(input), MakeCsvRecordScreen(format.screen, std::move(sink), io_context.pool()),
      format.read.block_size, io_context.pool());
  auto reader = arrow::csv::StreamingReader::Make(io_context, std::move(screened), format.read,
                                                  format.parse, format.convert);
  if (!reader.ok()) return ExplainBlockSizeError(reader.status(), format);
  return reader;
}

/// OpenCsv for planning and explaining: bad records fail as they would in error mode,
/// or are dropped without a trace.
arrow::Result<std::shared_ptr<arrow::csv::StreamingReader>> OpenCsv(
    const ListedFiles& listed, const ListedFile& file, const CsvFormat& format,
    const arrow::io::IOContext& io_context) {
  return OpenCsv(listed, file, format, io_context,
                 std::make_shared<BadRecordSink>(format.on_bad_lines, file.path(), nullptr));
}

bool NeedsConversion(const arrow::DataType& type) {
  switch (type.id()) {
    case arrow::Type::STRING:
    case arrow::Type::LARGE_STRING:
    case arrow::Type::BINARY:
    case arrow::Type::LARGE_BINARY:
      return false;
    default:
      return true;
  }
}

/// How a numbered read goes: the screen prefixes each row with its physical line (read
/// as kLineColumn), rows with the wrong number of fields go to `sink` through Arrow's
/// invalid-row handler, and columns that need a conversion are read as their text, to be
/// converted row by row.
CsvFormat NumberedFormat(const CsvFormat& format, const std::shared_ptr<BadRecordSink>& sink) {
  CsvFormat numbered = format;
  numbered.read.use_threads = false;
  numbered.screen.number_lines = true;
  numbered.screen.line_column = kLineColumn;
  std::vector<std::string> names = format.read.column_names;
  if (names.empty() && format.read.autogenerate_column_names) names = format.file_columns;
  if (!names.empty()) {
    names.insert(names.begin(), kLineColumn);
    numbered.read.column_names = std::move(names);
    numbered.read.autogenerate_column_names = false;
  }
  numbered.convert.include_columns.clear();
  numbered.convert.column_types.clear();
  numbered.convert.column_types[kLineColumn] = arrow::int64();
  for (const auto& [name, type] : format.convert.column_types) {
    numbered.convert.column_types[name] = NeedsConversion(*type) ? arrow::binary() : type;
  }
  const char delimiter = format.parse.delimiter;
  numbered.parse.invalid_row_handler = [sink, delimiter](const arrow::csv::InvalidRow& row) {
    const std::string_view text = row.text;
    const size_t split = text.find(delimiter);
    BadRecord bad;
    bad.line = split == std::string_view::npos
                   ? -1
                   : std::atoll(std::string(text.substr(0, split)).c_str());
    bad.text = split == std::string_view::npos ? text : text.substr(split + 1);
    bad.reason = "expected " + std::to_string(row.expected_columns - 1) + " fields, found " +
                 std::to_string(row.actual_columns - 1);
    return sink->Add(bad).ok() ? arrow::csv::InvalidRowResult::Skip
                               : arrow::csv::InvalidRowResult::Error;
  };
  return numbered;
}

/// One row of `batch` as CSV text again (for rejects of values that did not convert).
std::string RecordText(const arrow::RecordBatch& batch, int64_t row, const CsvFormat& format) {
  std::string text;
  const char quote = format.parse.quoting ? format.parse.quote_char : '"';
  for (int i = 0; i < batch.num_columns(); ++i) {
    if (batch.schema()->field(i)->name() == kLineColumn) continue;
    if (!text.empty() || i > 1) text += format.parse.delimiter;
    const auto& column = *batch.column(i);
    if (column.IsNull(row)) continue;
    std::string value;
    if (column.type_id() == arrow::Type::BINARY || column.type_id() == arrow::Type::STRING) {
      value = std::string(static_cast<const arrow::BinaryArray&>(column).GetView(row));
    } else {
      auto scalar = column.GetScalar(row);
      value = scalar.ok() ? (*scalar)->ToString() : "";
    }
    if (value.find_first_of(std::string{format.parse.delimiter, quote, '\r', '\n'}) ==
        std::string::npos) {
      text += value;
      continue;
    }
    text += quote;
    for (char c : value) {
      if (c == quote) text += quote;
      text += c;
    }
    text += quote;
  }
  return text;
}

/// Reads one file with line numbers (NumberedFormat); a row whose values do not all
/// convert, or that Arrow or the screen refused, goes to the sink instead of the output.
class NumberedCsvFileStream : public exec::BatchStream {
 public:
  NumberedCsvFileStream(std::shared_ptr<arrow::csv::StreamingReader> reader, CsvFormat format,
                        std::vector<std::string> judged_columns,
                        std::shared_ptr<BadRecordSink> sink,
                        std::shared_ptr<arrow::Schema> output, bool with_path, std::string path,
                        arrow::MemoryPool* pool)
      : reader_(std::move(reader)),
        format_(std::move(format)),
        judged_columns_(std::move(judged_columns)),
        sink_(std::move(sink)),
        output_(std::move(output)),
        with_path_(with_path),
        path_(std::move(path)),
        pool_(pool) {}

  arrow::Result<exec::BatchPtr> Next() override {
    auto next = reader_->Next();
    if (!next.ok()) {
      ARROW_RETURN_NOT_OK(sink_->earliest_refusal());
      return ExplainBlockSizeError(next.status(), format_);
    }
    if (!*next) {
      ARROW_RETURN_NOT_OK(sink_->earliest_refusal());
      ARROW_RETURN_NOT_OK(sink_->Flush());
      return nullptr;
    }
    ARROW_ASSIGN_OR_RAISE(auto good, ConvertValues(**next));
    // The screen and the parser run ahead of the rows: a refusal counts once the rows
    // have reached its line, so no earlier bad value is missed.
    ARROW_ASSIGN_OR_RAISE(const arrow::Int64Array* line_numbers, LineNumbers(**next));
    const auto& lines = *line_numbers;
    if (lines.length() > 0 &&
        lines.Value(lines.length() - 1) >= sink_->earliest_refusal_line()) {
      return sink_->earliest_refusal();
    }
    ARROW_RETURN_NOT_OK(sink_->Flush());
    if (!output_) return good;
    return ArrangeColumns(good, output_, with_path_, path_, pool_);
  }

 private:
  bool Judged(const std::string& name) const {
    return judged_columns_.empty() || std::find(judged_columns_.begin(), judged_columns_.end(),
                                                name) != judged_columns_.end();
  }

  /// The physical line of each row, which the screen put in front of it.
  static arrow::Result<const arrow::Int64Array*> LineNumbers(const arrow::RecordBatch& batch) {
    const auto column = batch.GetColumnByName(kLineColumn);
    if (!column || column->type_id() != arrow::Type::INT64) {
      return arrow::Status::Invalid("the rows' line numbers are missing (", kLineColumn,
                                    " is not an int64 column of the numbered read)");
    }
    return static_cast<const arrow::Int64Array*>(column.get());
  }

  arrow::Result<exec::BatchPtr> ConvertValues(const arrow::RecordBatch& batch) {
    ARROW_ASSIGN_OR_RAISE(const arrow::Int64Array* line_numbers, LineNumbers(batch));
    const auto& lines = *line_numbers;
    // Row -> the first column (in file order) whose value did not convert, and why.
    std::map<int64_t, std::pair<std::string, std::string>> bad_rows;
    arrow::FieldVector fields;
    arrow::ArrayVector columns;
    for (int i = 0; i < batch.num_columns(); ++i) {
      const auto& field = batch.schema()->field(i);
      if (field->name() == kLineColumn) continue;
      auto target = format_.convert.column_types.find(field->name());
      if (target == format_.convert.column_types.end() || !NeedsConversion(*target->second) ||
          !Judged(field->name())) {
        fields.push_back(field);
        columns.push_back(batch.column(i));
        continue;
      }
      ARROW_ASSIGN_OR_RAISE(
          auto converted,
          ConvertCsvFields(static_cast<const arrow::BinaryArray&>(*batch.column(i)),
                           target->second, format_.convert, pool_));
      for (auto& [row, reason] : converted.failures) {
        bad_rows.emplace(row, std::make_pair(field->name(), std::move(reason)));
      }
      fields.push_back(arrow::field(field->name(), target->second));
      columns.push_back(std::move(converted.values));
    }
    auto converted = arrow::RecordBatch::Make(arrow::schema(fields), batch.num_rows(), columns);
    if (bad_rows.empty()) return converted;

    std::vector<bool> keep(batch.num_rows(), true);
    for (const auto& [row, column_and_reason] : bad_rows) {
      const std::string text = RecordText(batch, row, format_);
      ARROW_RETURN_NOT_OK(sink_->Add(
          BadRecord{lines.Value(row), column_and_reason.first, column_and_reason.second, text}));
      keep[row] = false;
    }
    arrow::BooleanBuilder mask_builder(pool_);
    ARROW_RETURN_NOT_OK(mask_builder.AppendValues(keep));
    ARROW_ASSIGN_OR_RAISE(auto mask, mask_builder.Finish());
    ARROW_ASSIGN_OR_RAISE(auto filtered,
                          arrow::compute::Filter(converted, arrow::Datum(mask)));
    return filtered.record_batch();
  }

  std::shared_ptr<arrow::csv::StreamingReader> reader_;
  CsvFormat format_;
  std::vector<std::string> judged_columns_;
  std::shared_ptr<BadRecordSink> sink_;
  std::shared_ptr<arrow::Schema> output_;
  bool with_path_;
  std::string path_;
  arrow::MemoryPool* pool_;
};

/// A numbered read of `file`: good rows in `output`'s columns (all columns when null).
/// Only `judged_columns` are converted (all when empty).
arrow::Result<std::unique_ptr<NumberedCsvFileStream>> OpenNumberedCsv(
    const ListedFiles& listed, const ListedFile& file, const CsvFormat& format,
    std::vector<std::string> judged_columns, std::shared_ptr<BadRecordSink> sink,
    std::shared_ptr<arrow::Schema> output, bool with_path, const arrow::io::IOContext& io_context) {
  CsvFormat numbered = NumberedFormat(format, sink);
  auto reader = OpenCsv(listed, file, numbered, io_context, sink);
  if (!reader.ok()) {
    ARROW_RETURN_NOT_OK(sink->earliest_refusal());
    return reader.status();
  }
  return std::make_unique<NumberedCsvFileStream>(std::move(*reader), format,
                                                 std::move(judged_columns), std::move(sink),
                                                 std::move(output),
                                                 with_path, file.path(), io_context.pool());
}

/// Makes a row error exact: Arrow counts rows, not lines (an empty line or a value with a
/// line break shifts its count), and names a column by its position. Reading the file
/// again numbered, with bad records as errors, finds the first bad row, its physical
/// line and its column's name. Says where the types came from when one did not fit.
arrow::Status ExplainRowError(const arrow::Status& status, const ListedFiles& listed,
                              const ListedFile& file, const CsvFormat& format) {
  // Bad input is Invalid; anything else (a read that failed) is reported as it is.
  if (!status.IsInvalid()) return status;
  // Columns named f0, f1, ... by Arrow, before their number is known: a numbered read
  // could not name its line column apart from them.
  if (format.read.column_names.empty() && format.read.autogenerate_column_names &&
      format.file_columns.empty()) {
    return ExplainBlockSizeError(status, format);
  }
  const bool conversion = status.message().find("conversion error") != std::string::npos;
  CsvFormat failing = format;
  failing.on_bad_lines = BadLineAction::kError;
  auto sink = BadRecordSink::RefusingEarliest(file.path());
  arrow::Status located = status;
  auto stream = OpenNumberedCsv(listed, file, failing, format.convert.include_columns, sink,
                                nullptr, false, arrow::io::default_io_context());
  if (!stream.ok()) {
    located = stream.status();
  } else {
    while (true) {
      auto batch = (*stream)->Next();
      if (!batch.ok()) {
        located = batch.status();
        break;
      }
      if (!*batch) break;  // not reproduced: keep Arrow's message
    }
  }
  if (!conversion || format.types_inferred_from.empty()) {
    return ExplainBlockSizeError(located, format);
  }
  return located.WithMessage(located.message(), " (column types are inferred from the first block of ",
                             format.types_inferred_from,
                             "; set column_types to read it differently)");
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

constexpr char kCsvSourceKind[] = "csv";

nlohmann::json CsvOptionsToJson(const ReadCsvOptions& options) {
  return nlohmann::json{{"delimiter", std::string(1, options.delimiter)},
                        {"quote_char", std::string(1, options.quote_char)},
                        {"quoting", options.quoting},
                        {"escape_char", std::string(1, options.escape_char)},
                        {"escaping", options.escaping},
                        {"header", options.header},
                        {"column_names", options.column_names},
                        {"skip_rows", options.skip_rows},
                        {"null_values", options.null_values},
                        {"empty_as_null", options.empty_as_null},
                        {"include_paths", options.include_paths},
                        {"newlines_in_values", options.newlines_in_values},
                        {"block_size", options.block_size},
                        {"encoding_errors", static_cast<int>(options.encoding_errors)},
                        {"on_bad_lines", static_cast<int>(options.on_bad_lines)}};
}

/// Throws nlohmann's exceptions on damaged input; DeserializeSource turns them into Invalid.
arrow::Result<ReadCsvOptions> CsvOptionsFromJson(const nlohmann::json& object) {
  auto one_char = [&](const char* name) -> arrow::Result<char> {
    const auto text = object.at(name).get<std::string>();
    if (text.size() != 1) return arrow::Status::Invalid("serialized CSV source: bad ", name);
    return text[0];
  };
  ReadCsvOptions options;
  ARROW_ASSIGN_OR_RAISE(options.delimiter, one_char("delimiter"));
  ARROW_ASSIGN_OR_RAISE(options.quote_char, one_char("quote_char"));
  ARROW_ASSIGN_OR_RAISE(options.escape_char, one_char("escape_char"));
  options.quoting = object.at("quoting").get<bool>();
  options.escaping = object.at("escaping").get<bool>();
  options.header = object.at("header").get<bool>();
  options.column_names = object.at("column_names").get<std::vector<std::string>>();
  options.skip_rows = object.at("skip_rows").get<int64_t>();
  options.null_values = object.at("null_values").get<std::vector<std::string>>();
  options.empty_as_null = object.at("empty_as_null").get<bool>();
  options.include_paths = object.at("include_paths").get<bool>();
  options.newlines_in_values = object.at("newlines_in_values").get<bool>();
  options.block_size = object.at("block_size").get<int32_t>();
  const int encoding = object.at("encoding_errors").get<int>();
  const int bad_lines = object.at("on_bad_lines").get<int>();
  if (encoding < 0 || encoding > 1 || bad_lines < 0 || bad_lines > 2) {
    return arrow::Status::Invalid("serialized CSV source: bad record options");
  }
  options.encoding_errors = static_cast<EncodingErrors>(encoding);
  options.on_bad_lines = static_cast<BadLineAction>(bad_lines);
  return options;
}

class CsvSource : public plan::SourceSpec {
 public:
  CsvSource(std::shared_ptr<const ListedFiles> listed, CsvFormat format,
            std::shared_ptr<arrow::Schema> schema, ReadCsvOptions options)
      : listed_(std::move(listed)),
        format_(std::move(format)),
        schema_(std::move(schema)),
        include_paths_(options.include_paths),
        user_block_size_(options.block_size > 0),
        options_(std::move(options)) {}

  std::string name() const override { return "ReadCsv"; }
  std::string Describe() const override { return DescribeFiles(listed_->files); }
  std::shared_ptr<arrow::Schema> schema() const override { return schema_; }

  arrow::Result<plan::SerializedPart> Serialize() const override {
    ARROW_ASSIGN_OR_RAISE(auto files, ListedFilesToJson(*listed_));
    ARROW_ASSIGN_OR_RAISE(auto schema, plan::SerializeSchema(schema_));
    nlohmann::json payload{{"files", std::move(files)},
                           {"schema", std::move(schema)},
                           {"options", CsvOptionsToJson(options_)},
                           {"types_inferred_from", format_.types_inferred_from}};
    return plan::SerializedPart{kCsvSourceKind, payload.dump()};
  }

  arrow::Result<std::vector<plan::Split>> ListSplits(const plan::Pushdown&,
                                                     int64_t) const override {
    return WholeFileSplits(*listed_);
  }

  arrow::Result<std::shared_ptr<const plan::SourceSpec>> WithSplits(
      const std::vector<plan::Split>& splits) const override {
    ARROW_ASSIGN_OR_RAISE(ListedFiles files, FilesOfSplits(*listed_, splits));
    return std::make_shared<const CsvSource>(std::make_shared<const ListedFiles>(std::move(files)),
                                             format_, schema_, options_);
  }

  arrow::Result<std::unique_ptr<exec::TaskSource>> MakeTaskSource(
      exec::ExecContext* ctx, const plan::Pushdown& pushdown) const override {
    ARROW_ASSIGN_OR_RAISE(auto output, plan::ProjectSchema(schema_, pushdown));
    CsvFormat format = format_;
    // Files are read side by side, one task each. With fewer files than workers, let
    // Arrow parse blocks of each file in parallel too, or one big file would use one core.
    format.read.use_threads =
        static_cast<int64_t>(listed_->files.size()) < ctx->config().num_threads;
    if (!user_block_size_) format.read.block_size = ReaderBlockBytes(ctx->config(), kCsvBlockBytes);
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
      unit.open = [listed = listed_, file, format, output, with_path = include_paths_, ctx,
                   io_context =
                       ctx->io_context()]() -> arrow::Result<std::unique_ptr<exec::BatchStream>> {
        if (SkipsOrCollectsBadRecords(format)) {
          // Every column is converted, whatever is selected, so that the same rows are
          // bad (and counted) whichever columns a query reads.
          auto sink = std::make_shared<BadRecordSink>(format.on_bad_lines, file.path(), ctx);
          auto stream = OpenNumberedCsv(*listed, file, format, {}, sink, output, with_path,
                                        io_context);
          if (!stream.ok() && IsEmptyFileError(stream.status())) {
            return std::make_unique<exec::FunctionBatchStream>(
                []() -> arrow::Result<exec::BatchPtr> { return nullptr; });
          }
          ARROW_RETURN_NOT_OK(sink->Flush());
          if (!stream.ok()) return stream.status();
          return std::unique_ptr<exec::BatchStream>(std::move(*stream));
        }
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
  bool user_block_size_;
  ReadCsvOptions options_;
};

}  // namespace

arrow::Result<std::shared_ptr<const plan::SourceSpec>> MakeCsvSource(
    const std::vector<std::string>& paths, const ReadCsvOptions& options,
    std::shared_ptr<exec::SessionState> session) {
  ARROW_ASSIGN_OR_RAISE(ListedFiles listed, ListFiles(paths, {options.follow_symlinks, std::move(session)}));
  ARROW_ASSIGN_OR_RAISE(CsvFormat format, FormatFromOptions(options));

  // The first block of the first file with rows decides the types of the columns not
  // given (a file with just a header would make every column a string). When bad records
  // are skipped, so are they here: rows with too few or many fields, and values that do
  // not fit a given type (inference then sees them as text; the given type is imposed
  // below).
  CsvFormat inference = format;
  if (SkipsOrCollectsBadRecords(format)) {
    inference.convert.column_types.clear();
    inference.parse.invalid_row_handler = [](const arrow::csv::InvalidRow&) {
      return arrow::csv::InvalidRowResult::Skip;
    };
  }
  std::shared_ptr<arrow::Schema> inferred;
  const ListedFile* first = nullptr;
  for (const auto& file : listed.files) {
    auto reader = OpenCsv(listed, file, inference, arrow::io::default_io_context());
    if (!reader.ok() && IsEmptyFileError(reader.status())) continue;
    if (!reader.ok()) {
      return WithPathContext(ExplainRowError(reader.status(), listed, file, format), file.path());
    }
    if (!inferred) {
      inferred = (*reader)->schema();
      first = &file;
    }
    auto batch = (*reader)->Next();
    if (!batch.ok()) {
      return WithPathContext(ExplainRowError(batch.status(), listed, file, format), file.path());
    }
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
    auto given = options.column_types.find(field->name());
    if (given != options.column_types.end()) type = given->second;
    format.convert.column_types[field->name()] = type;
    format.file_columns.push_back(field->name());
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
                                           options);
}

arrow::Result<std::shared_ptr<const plan::SourceSpec>> DeserializeCsvSource(
    const std::string& payload, const std::shared_ptr<exec::SessionState>& session) {
  ARROW_ASSIGN_OR_RAISE(auto object, ParsePayload(payload, "CSV source"));
  ARROW_ASSIGN_OR_RAISE(ReadCsvOptions options, CsvOptionsFromJson(object.at("options")));
  ARROW_ASSIGN_OR_RAISE(ListedFiles listed, ListedFilesFromJson(object.at("files"), session));
  ARROW_ASSIGN_OR_RAISE(auto schema, plan::DeserializeSchema(object.at("schema").get<std::string>()));
  ARROW_ASSIGN_OR_RAISE(CsvFormat format, FormatFromOptions(options));
  // The types were decided where the source was made: every file column has its type,
  // so nothing is inferred again.
  format.types_inferred_from = object.at("types_inferred_from").get<std::string>();
  for (const auto& field : schema->fields()) {
    if (options.include_paths && field->name() == kPathColumn) continue;
    format.convert.column_types[field->name()] = field->type();
    format.file_columns.push_back(field->name());
  }
  if (format.file_columns.empty()) return arrow::Status::Invalid("serialized CSV source: no columns");
  return std::make_shared<const CsvSource>(std::make_shared<const ListedFiles>(std::move(listed)),
                                           std::move(format), std::move(schema), options);
}

}  // namespace sluice::io
