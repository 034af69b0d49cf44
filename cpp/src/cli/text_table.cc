#include "cli/text_table.h"

#include <arrow/array.h>
#include <arrow/scalar.h>
#include <arrow/type_traits.h>

#include <cstdio>
#include <string_view>

namespace sluice::cli {

namespace {

constexpr std::string_view kEllipsis = "\xE2\x80\xA6";  // U+2026, one column wide
constexpr std::string_view kColumnGap = "  ";

bool IsUtf8ContinuationByte(unsigned char byte) { return (byte & 0xC0) == 0x80; }

/// Terminal columns taken by UTF-8 text, counting one per code point (wide East Asian
/// characters are rare enough in data previews not to warrant a width table).
size_t DisplayWidth(std::string_view text) {
  size_t width = 0;
  for (unsigned char byte : text) width += IsUtf8ContinuationByte(byte) ? 0 : 1;
  return width;
}

/// `text` cut to `max_width` columns, ending with an ellipsis when something was cut.
std::string Truncate(const std::string& text, size_t max_width) {
  if (max_width == 0 || DisplayWidth(text) <= max_width) return text;
  size_t kept_points = 0;
  size_t end = 0;
  for (; end < text.size(); ++end) {
    if (!IsUtf8ContinuationByte(static_cast<unsigned char>(text[end]))) {
      if (kept_points == max_width - 1) break;
      ++kept_points;
    }
  }
  return text.substr(0, end) + std::string(kEllipsis);
}

/// Escapes what would break the table: line breaks, tabs and other control characters,
/// and for binary values every byte outside printable ASCII.
std::string EscapeForTable(std::string_view text, bool escape_non_ascii) {
  std::string escaped;
  escaped.reserve(text.size());
  for (unsigned char byte : text) {
    if (byte == '\n') {
      escaped += "\\n";
    } else if (byte == '\r') {
      escaped += "\\r";
    } else if (byte == '\t') {
      escaped += "\\t";
    } else if (byte < 0x20 || byte == 0x7F || (escape_non_ascii && byte >= 0x80)) {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\x%02x", byte);
      escaped += hex;
    } else {
      escaped += static_cast<char>(byte);
    }
  }
  return escaped;
}

/// One value as text. Nested values read like JSON ([1, 2], {"a": 1}), with strings quoted
/// only inside them, because Arrow's own Scalar::ToString spells out every type.
arrow::Result<std::string> FormatValue(const arrow::Array& array, int64_t row, bool nested);

std::string QuoteString(std::string_view text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

/// Items [offset, offset + length) of `values`, as "[a, b]".
arrow::Result<std::string> FormatList(const arrow::Array& values, int64_t offset, int64_t length) {
  std::string text = "[";
  for (int64_t i = 0; i < length; ++i) {
    if (i > 0) text += ", ";
    ARROW_ASSIGN_OR_RAISE(std::string item, FormatValue(values, offset + i, /*nested=*/true));
    text += item;
  }
  return text + "]";
}

arrow::Result<std::string> FormatValue(const arrow::Array& array, int64_t row, bool nested) {
  if (array.IsNull(row)) return std::string("null");
  const arrow::Type::type id = array.type_id();
  switch (id) {
    case arrow::Type::DICTIONARY: {
      const auto& dictionary = static_cast<const arrow::DictionaryArray&>(array);
      return FormatValue(*dictionary.dictionary(), dictionary.GetValueIndex(row), nested);
    }
    case arrow::Type::LIST: {
      const auto& list = static_cast<const arrow::ListArray&>(array);
      return FormatList(*list.values(), list.value_offset(row), list.value_length(row));
    }
    case arrow::Type::LARGE_LIST: {
      const auto& list = static_cast<const arrow::LargeListArray&>(array);
      return FormatList(*list.values(), list.value_offset(row), list.value_length(row));
    }
    case arrow::Type::FIXED_SIZE_LIST: {
      const auto& list = static_cast<const arrow::FixedSizeListArray&>(array);
      return FormatList(*list.values(), list.value_offset(row), list.value_length(row));
    }
    case arrow::Type::MAP: {
      const auto& map = static_cast<const arrow::MapArray&>(array);
      std::string text = "{";
      for (int64_t i = 0; i < map.value_length(row); ++i) {
        const int64_t entry = map.value_offset(row) + i;
        ARROW_ASSIGN_OR_RAISE(std::string key, FormatValue(*map.keys(), entry, true));
        ARROW_ASSIGN_OR_RAISE(std::string item, FormatValue(*map.items(), entry, true));
        text += (i > 0 ? ", " : "") + key + ": " + item;
      }
      return text + "}";
    }
    case arrow::Type::STRUCT: {
      const auto& record = static_cast<const arrow::StructArray&>(array);
      std::string text = "{";
      for (int f = 0; f < record.num_fields(); ++f) {
        ARROW_ASSIGN_OR_RAISE(std::string value, FormatValue(*record.field(f), row, true));
        text += (f > 0 ? ", " : "") + QuoteString(record.struct_type()->field(f)->name()) + ": " +
                value;
      }
      return text + "}";
    }
    default:
      break;
  }
  ARROW_ASSIGN_OR_RAISE(std::shared_ptr<arrow::Scalar> scalar, array.GetScalar(row));
  if (arrow::is_binary_like(id) || arrow::is_large_binary_like(id) ||
      id == arrow::Type::STRING_VIEW || id == arrow::Type::BINARY_VIEW) {
    const std::string_view bytes = static_cast<const arrow::BaseBinaryScalar&>(*scalar).view();
    if (!arrow::is_string(id)) {
      std::string escaped = EscapeForTable(bytes, /*escape_non_ascii=*/true);
      return nested ? "b" + QuoteString(escaped) : escaped;
    }
    return nested ? QuoteString(bytes) : std::string(bytes);
  }
  std::string text = scalar->ToString();
  // Arrow prints 3.0 as "3"; keep the ".0" so a float column reads as one (as in Python).
  if (arrow::is_floating(id) && text.find_first_not_of("-0123456789") == std::string::npos) {
    text += ".0";
  }
  return text;
}

arrow::Result<std::string> FormatCell(const arrow::Array& column, int64_t row) {
  ARROW_ASSIGN_OR_RAISE(std::string text, FormatValue(column, row, /*nested=*/false));
  // Binary values were escaped already; this leaves their backslashes alone.
  return EscapeForTable(text, /*escape_non_ascii=*/false);
}

bool IsNumeric(const arrow::DataType& type) {
  return arrow::is_integer(type.id()) || arrow::is_floating(type.id()) ||
         arrow::is_decimal(type.id());
}

void AppendPadded(const std::string& cell, size_t width, bool right_aligned, std::string& line) {
  const std::string padding(width - DisplayWidth(cell), ' ');
  line += right_aligned ? padding + cell : cell + padding;
}

void AppendLine(std::string line, std::string& out) {
  while (!line.empty() && line.back() == ' ') line.pop_back();
  out += line;
  out += '\n';
}

}  // namespace

arrow::Result<std::string> FormatTextTable(
    const arrow::Schema& schema, const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches,
    const TextTableOptions& options) {
  const int num_columns = schema.num_fields();
  std::vector<std::vector<std::string>> cells;  // [row][column]
  for (const auto& batch : batches) {
    for (int64_t row = 0; row < batch->num_rows(); ++row) {
      std::vector<std::string> row_cells;
      row_cells.reserve(num_columns);
      for (int c = 0; c < num_columns; ++c) {
        ARROW_ASSIGN_OR_RAISE(std::string cell, FormatCell(*batch->column(c), row));
        row_cells.push_back(Truncate(cell, options.max_cell_width));
      }
      cells.push_back(std::move(row_cells));
    }
  }

  std::vector<std::string> header;
  std::vector<size_t> widths;
  std::vector<bool> right_aligned;
  for (int c = 0; c < num_columns; ++c) {
    const auto& field = schema.field(c);
    header.push_back(Truncate(EscapeForTable(field->name(), false), options.max_cell_width));
    widths.push_back(DisplayWidth(header.back()));
    right_aligned.push_back(IsNumeric(*field->type()));
  }
  for (const auto& row : cells) {
    for (int c = 0; c < num_columns; ++c) widths[c] = std::max(widths[c], DisplayWidth(row[c]));
  }

  std::string out;
  std::string line;
  for (int c = 0; c < num_columns; ++c) {
    if (c > 0) line += kColumnGap;
    AppendPadded(header[c], widths[c], right_aligned[c], line);
  }
  AppendLine(std::move(line), out);
  line.clear();
  for (int c = 0; c < num_columns; ++c) {
    if (c > 0) line += kColumnGap;
    line += std::string(widths[c], '-');
  }
  AppendLine(std::move(line), out);
  for (const auto& row : cells) {
    line.clear();
    for (int c = 0; c < num_columns; ++c) {
      if (c > 0) line += kColumnGap;
      AppendPadded(row[c], widths[c], right_aligned[c], line);
    }
    AppendLine(std::move(line), out);
  }
  return out;
}

}  // namespace sluice::cli
