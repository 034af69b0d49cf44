#pragma once

// The file formats Sluice reads and writes, by name. One registry in the engine lists them
// (src/formats/file_formats.cc): names and aliases, file name extensions, reader and
// writer. Dataset::Read and Dataset::Write take a format's name; the CLI tells formats from
// file names with the same registry.

#include <arrow/result.h>

#include <optional>
#include <string>
#include <string_view>

#include "sluice/options.h"

namespace sluice {

/// The canonical name ("parquet", "csv", "json", "text") of the format called `name`
/// (its name or an alias such as "pq", "tsv", "jsonl", "txt"; any case), or Invalid
/// listing the names. With `for_writing`, a format Sluice only reads is NotImplemented.
arrow::Result<std::string> ResolveFileFormat(std::string_view name, bool for_writing = false);

/// The format a file name implies through its extension, looking past a compression
/// suffix (".csv.gz" is csv), or unset.
std::optional<std::string> FileFormatFromFileName(std::string_view name);

/// The compression a file name's last suffix names ("gzip" for .gz, "zstd" for .zst,
/// "bz2" for .bz2, "lz4" for .lz4), or unset.
std::optional<std::string> CompressionFromFileName(std::string_view name);

/// True for .tsv names (also .tsv.gz and the like): CSV separated by tabs.
bool IsTabSeparatedFileName(std::string_view name);

/// The reader options of `format` with their defaults (the alternative its reader takes).
arrow::Result<ReadOptions> DefaultReadOptions(std::string_view format);

/// Every extension that implies a format, for messages: ".parquet, .pq, .csv, ...".
std::string KnownFileExtensions();

}  // namespace sluice
