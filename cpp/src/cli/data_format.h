#pragma once

// What the tool adds to the format registry (sluice/formats.h): format options and
// delimiters.

#include <arrow/result.h>

#include <string>

namespace sluice::cli {

/// The canonical name of the format an option names (`option` names it in the
/// UsageError): "parquet", "csv", "json" or "text", or one of their aliases. With
/// `for_writing`, a format the tool can only read is refused.
arrow::Result<std::string> ParseFormatOption(const std::string& text, const std::string& option,
                                             bool for_writing = false);

/// Parses a CSV delimiter: one character, or "\t" / "tab" (any case) for a tab.
arrow::Result<char> ParseDelimiter(const std::string& text);

}  // namespace sluice::cli
