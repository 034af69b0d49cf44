// The text forms of the public option types (sluice/options.h, sluice/config.h): what
// users write in Python, on the command line and in environment variables, and what
// messages and plans as bytes show. Here, at the bottom of the engine, because every
// layer names modes and sizes.

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>

#include "sluice/config.h"
#include "sluice/options.h"

namespace sluice {

arrow::Result<int64_t> ParseByteSize(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  size_t start = i;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  if (i == start) return arrow::Status::Invalid("cannot read a size from '", text, "'");
  // strtod, not stod: a lone "." or "1.2.3" is bad input to report, not an exception.
  const std::string digits = text.substr(start, i - start);
  char* end = nullptr;
  const double number = std::strtod(digits.c_str(), &end);
  if (end != digits.c_str() + digits.size()) {
    return arrow::Status::Invalid("cannot read a size from '", text, "'");
  }
  std::string unit;
  for (; i < text.size(); ++i) {
    if (!std::isspace(static_cast<unsigned char>(text[i]))) {
      unit += static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
    }
  }
  double scale = 1;
  if (unit.empty() || unit == "b") {
    scale = 1;
  } else if (unit == "k" || unit == "kb" || unit == "kib") {
    scale = 1024.0;
  } else if (unit == "m" || unit == "mb" || unit == "mib") {
    scale = 1024.0 * 1024;
  } else if (unit == "g" || unit == "gb" || unit == "gib") {
    scale = 1024.0 * 1024 * 1024;
  } else if (unit == "t" || unit == "tb" || unit == "tib") {
    scale = 1024.0 * 1024 * 1024 * 1024;
  } else {
    return arrow::Status::Invalid("unknown size unit '", unit, "' in '", text,
                                  "'; use B, KB, MB, GB or TB");
  }
  const double bytes = number * scale;
  // Casting a double past int64's range is undefined behaviour.
  if (!(bytes < static_cast<double>(std::numeric_limits<int64_t>::max()))) {
    return arrow::Status::Invalid("size '", text, "' is too large");
  }
  return static_cast<int64_t>(bytes);
}

std::string FormatByteSize(int64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = static_cast<double>(bytes) / 1024;
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f %s", value, kUnits[unit]);
  return text;
}

arrow::Result<BadLineAction> ParseBadLineAction(const std::string& text) {
  if (text == "error") return BadLineAction::kError;
  if (text == "skip") return BadLineAction::kSkip;
  if (text == "collect") return BadLineAction::kCollect;
  return arrow::Status::Invalid("unknown on_bad_lines '", text,
                                "'; expected error, skip or collect");
}

arrow::Result<EncodingErrors> ParseEncodingErrors(const std::string& text) {
  if (text == "strict") return EncodingErrors::kStrict;
  if (text == "replace") return EncodingErrors::kReplace;
  return arrow::Status::Invalid("unknown encoding_errors '", text,
                                "'; expected strict or replace");
}

arrow::Result<WriteMode> ParseWriteMode(const std::string& text) {
  if (text == "error" || text == "errorifexists") return WriteMode::kError;
  if (text == "append") return WriteMode::kAppend;
  if (text == "overwrite") return WriteMode::kOverwrite;
  if (text == "overwrite_partitions") return WriteMode::kOverwritePartitions;
  return arrow::Status::Invalid("unknown write mode '", text,
                                "'; expected error, append, overwrite or overwrite_partitions");
}

const char* WriteModeName(WriteMode mode) {
  switch (mode) {
    case WriteMode::kError:
      return "error";
    case WriteMode::kAppend:
      return "append";
    case WriteMode::kOverwrite:
      return "overwrite";
    case WriteMode::kOverwritePartitions:
      return "overwrite_partitions";
  }
  return "?";
}

}  // namespace sluice
