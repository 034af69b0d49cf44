#include "cli/data_format.h"

#include <strings.h>

#include "cli/arguments.h"
#include "sluice/formats.h"

namespace sluice::cli {

arrow::Result<std::string> ParseFormatOption(const std::string& text, const std::string& option,
                                             bool for_writing) {
  arrow::Result<std::string> format = ResolveFileFormat(text, for_writing);
  if (!format.ok()) return UsageError("option " + option + ": " + format.status().message());
  return format;
}

arrow::Result<char> ParseDelimiter(const std::string& text) {
  if (text == "\\t" || strcasecmp(text.c_str(), "tab") == 0) return '\t';
  if (text.size() == 1) return text[0];
  return UsageError("option --delimiter: expected one character, '\\t' or 'tab', got '" + text +
                    "'");
}

}  // namespace sluice::cli
