#include "cli/data_format.h"

#include <algorithm>
#include <cctype>

#include "cli/arguments.h"
#include "sluice/formats.h"

namespace sluice::cli {

namespace {

std::string Lowercase(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower;
}

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

arrow::Result<std::string> ParseFormatOption(const std::string& text, const std::string& option,
                                             bool for_writing) {
  arrow::Result<std::string> format = ResolveFileFormat(text, for_writing);
  if (!format.ok()) return UsageError("option " + option + ": " + format.status().message());
  return format;
}

bool IsTabSeparatedFileName(std::string_view name) {
  std::string lower = Lowercase(name);
  if (CompressionFromFileName(lower)) lower.resize(lower.find_last_of('.'));
  return EndsWith(lower, ".tsv");
}

arrow::Result<char> ParseDelimiter(const std::string& text) {
  if (text == "\\t" || Lowercase(text) == "tab") return '\t';
  if (text.size() == 1) return text[0];
  return UsageError("option --delimiter: expected one character, '\\t' or 'tab', got '" + text +
                    "'");
}

}  // namespace sluice::cli
