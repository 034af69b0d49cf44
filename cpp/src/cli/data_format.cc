#include "cli/data_format.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

#include "cli/arguments.h"

namespace sluice::cli {

namespace {

struct SuffixMeaning {
  std::string_view suffix;
  std::string_view meaning;
};

constexpr std::array<SuffixMeaning, 4> kCompressionSuffixes = {
    {{".gz", "gzip"}, {".zst", "zstd"}, {".bz2", "bz2"}, {".lz4", "lz4"}}};

std::string Lowercase(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower;
}

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

/// The lowercased file name with a compression suffix removed.
std::string NameWithoutCompression(std::string_view name) {
  std::string lower = Lowercase(name);
  for (const auto& compression : kCompressionSuffixes) {
    if (EndsWith(lower, compression.suffix)) {
      lower.resize(lower.size() - compression.suffix.size());
      break;
    }
  }
  return lower;
}

}  // namespace

std::string_view DataFormatName(DataFormat format) {
  switch (format) {
    case DataFormat::kParquet:
      return "parquet";
    case DataFormat::kCsv:
      return "csv";
    case DataFormat::kJson:
      return "json";
    case DataFormat::kText:
      return "text";
  }
  return "unknown";
}

arrow::Result<DataFormat> ParseDataFormat(const std::string& text, const std::string& option) {
  const std::string lower = Lowercase(text);
  if (lower == "parquet" || lower == "pq") return DataFormat::kParquet;
  if (lower == "csv" || lower == "tsv") return DataFormat::kCsv;
  if (lower == "json" || lower == "jsonl" || lower == "ndjson") return DataFormat::kJson;
  if (lower == "text" || lower == "txt") return DataFormat::kText;
  return UsageError("option " + option + ": unknown format '" + text +
                    "'; expected parquet, csv, json or text");
}

std::optional<std::string> CompressionFromFileName(std::string_view name) {
  const std::string lower = Lowercase(name);
  for (const auto& compression : kCompressionSuffixes) {
    if (EndsWith(lower, compression.suffix)) return std::string(compression.meaning);
  }
  return std::nullopt;
}

std::optional<DataFormat> DataFormatFromFileName(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, DataFormat>, 8> kFormatSuffixes = {{
      {".parquet", DataFormat::kParquet},
      {".pq", DataFormat::kParquet},
      {".csv", DataFormat::kCsv},
      {".tsv", DataFormat::kCsv},
      {".json", DataFormat::kJson},
      {".jsonl", DataFormat::kJson},
      {".ndjson", DataFormat::kJson},
      {".txt", DataFormat::kText},
  }};
  const std::string bare = NameWithoutCompression(name);
  for (const auto& [suffix, format] : kFormatSuffixes) {
    if (EndsWith(bare, suffix)) return format;
  }
  return std::nullopt;
}

bool IsTabSeparatedFileName(std::string_view name) {
  return EndsWith(NameWithoutCompression(name), ".tsv");
}

arrow::Result<char> ParseDelimiter(const std::string& text) {
  if (text == "\\t" || Lowercase(text) == "tab") return '\t';
  if (text.size() == 1) return text[0];
  return UsageError("option --delimiter: expected one character, '\\t' or 'tab', got '" + text +
                    "'");
}

}  // namespace sluice::cli
