#include "formats/csv/csv_value_conversion.h"

#include <arrow/array/concatenate.h>
#include <arrow/buffer_builder.h>
#include <arrow/csv/converter.h>
#include <arrow/csv/parser.h>

#include <algorithm>
#include <cstdlib>
#include <regex>

namespace sluice::io {

namespace {

/// The most rows converted in one go (Arrow's block parser takes at most 100,000).
constexpr int64_t kMaxRowsPerAttempt = 1 << 16;

/// The fields re-encoded as a one-column CSV, one quoted value per line, so Arrow's
/// parser and converter can take any range of them.
struct OneColumnCsv {
  std::shared_ptr<arrow::Buffer> text;
  /// offsets[i]: where row i starts; offsets[n]: the end.
  std::vector<int64_t> offsets;

  std::string_view Rows(int64_t begin, int64_t end) const {
    return std::string_view(reinterpret_cast<const char*>(text->data()) + offsets[begin],
                            offsets[end] - offsets[begin]);
  }
};

arrow::Result<OneColumnCsv> EncodeOneColumnCsv(const arrow::BinaryArray& fields,
                                               const std::string& null_spelling,
                                               arrow::MemoryPool* pool) {
  OneColumnCsv csv;
  csv.offsets.reserve(fields.length() + 1);
  arrow::BufferBuilder out(pool);
  ARROW_RETURN_NOT_OK(out.Reserve(fields.total_values_length() + 3 * fields.length()));
  for (int64_t row = 0; row < fields.length(); ++row) {
    csv.offsets.push_back(out.length());
    if (fields.IsNull(row)) {
      // Spelled unquoted as a null value again, so the converter makes it null too.
      ARROW_RETURN_NOT_OK(out.Append(null_spelling.data(), null_spelling.size()));
    } else {
      const std::string_view value = fields.GetView(row);
      ARROW_RETURN_NOT_OK(out.Append("\"", 1));
      size_t start = 0;
      for (size_t quote = value.find('"'); quote != std::string_view::npos;
           quote = value.find('"', quote + 1)) {
        ARROW_RETURN_NOT_OK(out.Append(value.data() + start, quote + 1 - start));
        ARROW_RETURN_NOT_OK(out.Append("\"", 1));  // doubled
        start = quote + 1;
      }
      ARROW_RETURN_NOT_OK(out.Append(value.data() + start, value.size() - start));
      ARROW_RETURN_NOT_OK(out.Append("\"", 1));
    }
    ARROW_RETURN_NOT_OK(out.Append("\n", 1));
  }
  csv.offsets.push_back(out.length());
  ARROW_ASSIGN_OR_RAISE(csv.text, out.Finish());
  return csv;
}

arrow::csv::ParseOptions OneColumnParseOptions() {
  auto parse = arrow::csv::ParseOptions::Defaults();
  parse.quoting = true;
  parse.quote_char = '"';
  parse.double_quote = true;
  parse.escaping = false;
  parse.newlines_in_values = true;
  // An empty line is an unquoted empty value, not nothing.
  parse.ignore_empty_lines = false;
  return parse;
}

/// The row Arrow's converter names in its error ("Row #12: ..."), given the first row
/// number it was told; -1 if it names none.
int64_t FailedRow(const arrow::Status& status) {
  static const std::regex kRow("Row #([0-9]+): ");
  std::smatch match;
  const std::string message = status.message();
  if (!std::regex_search(message, match, kRow)) return -1;
  return std::atoll(match[1].str().c_str());
}

std::string ReasonOf(const arrow::Status& status) {
  static const std::regex kRow("Row #[0-9]+: ");
  return std::regex_replace(status.message(), kRow, "");
}

}  // namespace

arrow::Result<ConvertedCsvColumn> ConvertCsvFields(const arrow::BinaryArray& fields,
                                                   const std::shared_ptr<arrow::DataType>& type,
                                                   const arrow::csv::ConvertOptions& options,
                                                   arrow::MemoryPool* pool) {
  const std::string null_spelling = options.null_values.empty() ? "" : options.null_values[0];
  ARROW_ASSIGN_OR_RAISE(OneColumnCsv csv, EncodeOneColumnCsv(fields, null_spelling, pool));
  ARROW_ASSIGN_OR_RAISE(auto converter, arrow::csv::Converter::Make(type, options, pool));
  const arrow::csv::ParseOptions parse = OneColumnParseOptions();

  // Rows [begin, end) converted, or the error naming the first that failed.
  const auto convert = [&](int64_t begin,
                           int64_t end) -> arrow::Result<std::shared_ptr<arrow::Array>> {
    arrow::csv::BlockParser parser(pool, parse, /*num_cols=*/1, /*first_row=*/begin,
                                   static_cast<int32_t>(end - begin));
    uint32_t parsed_bytes = 0;
    ARROW_RETURN_NOT_OK(parser.ParseFinal(csv.Rows(begin, end), &parsed_bytes));
    if (parser.num_rows() != end - begin) {
      return arrow::Status::UnknownError("re-encoded CSV values parsed as ", parser.num_rows(),
                                         " rows instead of ", end - begin);
    }
    return converter->Convert(parser, 0);
  };

  ConvertedCsvColumn result;
  arrow::ArrayVector pieces;
  const int64_t rows = fields.length();
  int64_t begin = 0;
  // After a failure, try a single row and double from there: sparse bad values cost a few
  // small conversions each, a column of bad values one conversion per row.
  int64_t attempt = std::min(rows, kMaxRowsPerAttempt);
  while (begin < rows) {
    const int64_t end = std::min(rows, begin + attempt);
    auto converted = convert(begin, end);
    if (converted.ok()) {
      pieces.push_back(std::move(*converted));
      begin = end;
      attempt = std::min(attempt * 2, kMaxRowsPerAttempt);
      continue;
    }
    if (converted.status().IsUnknownError()) return converted.status();
    const int64_t failed = FailedRow(converted.status());
    if (failed > begin && failed < end) {
      attempt = failed - begin;  // the rows before it convert
      continue;
    }
    if (failed == begin || end - begin == 1) {
      result.failures.emplace_back(begin, ReasonOf(converted.status()));
      ARROW_ASSIGN_OR_RAISE(auto null, arrow::MakeArrayOfNull(type, 1, pool));
      pieces.push_back(std::move(null));
      ++begin;
      attempt = 1;
      continue;
    }
    attempt = (end - begin) / 2;  // no row named: halve until one is
  }
  if (pieces.empty()) {
    ARROW_ASSIGN_OR_RAISE(result.values, arrow::MakeEmptyArray(type, pool));
  } else if (pieces.size() == 1) {
    result.values = std::move(pieces[0]);
  } else {
    ARROW_ASSIGN_OR_RAISE(result.values, arrow::Concatenate(pieces, pool));
  }
  return result;
}

}  // namespace sluice::io
