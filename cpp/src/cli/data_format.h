#pragma once

// The file formats the tool reads and writes, and how they are told from file names.

#include <arrow/result.h>

#include <optional>
#include <string>
#include <string_view>

namespace sluice::cli {

enum class DataFormat { kParquet, kCsv, kJson, kText };

/// "parquet", "csv", "json" or "text".
std::string_view DataFormatName(DataFormat format);

/// Parses the value of a format option (`option` names it in the UsageError).
arrow::Result<DataFormat> ParseDataFormat(const std::string& text, const std::string& option);

/// The compression a file name's last suffix names ("gzip" for .gz, "zstd" for .zst,
/// "bz2" for .bz2, "lz4" for .lz4), or unset.
std::optional<std::string> CompressionFromFileName(std::string_view name);

/// The format a file name implies, looking through a compression suffix: .parquet/.pq,
/// .csv/.tsv, .json/.jsonl/.ndjson, .txt. Unset for any other name.
std::optional<DataFormat> DataFormatFromFileName(std::string_view name);

/// True for .tsv names (also .tsv.gz and the like), which are read with tabs.
bool IsTabSeparatedFileName(std::string_view name);

/// Parses a CSV delimiter: one character, or "\t" / "tab" for a tab.
arrow::Result<char> ParseDelimiter(const std::string& text);

}  // namespace sluice::cli
