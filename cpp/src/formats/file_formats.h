#pragma once

// The file formats Sluice reads and writes, in one place: each format's name (the API's
// and the CLI's), the other names it answers to, the file name extensions that imply it,
// and how to read and write it. Adding a format means a reader and/or a writer in its own
// files plus one entry in file_formats.cc; nothing else lists formats.

#include <arrow/memory_pool.h>
#include <arrow/result.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "runtime/session_state.h"
#include "formats/format_writers.h"
#include "plan/source_spec.h"
#include "sluice/config.h"
#include "sluice/options.h"

namespace sluice::formats {

using FormatReadOptions = ReadOptions;

struct FileFormat {
  /// "parquet", "csv", "json", "text".
  std::string name;
  /// Other names accepted wherever a format is named (e.g. "pq", "jsonl", "tsv").
  std::vector<std::string> aliases;
  /// File name extensions that imply the format, lowercase without the dot, looked for
  /// after a compression suffix is removed (".csv.gz" is CSV).
  std::vector<std::string> extensions;
  /// The reader's options with their defaults (the alternative the reader takes).
  FormatReadOptions default_read_options;
  /// A source over `paths`.
  std::function<arrow::Result<std::shared_ptr<const plan::SourceSpec>>(
      const std::vector<std::string>& paths, const FormatReadOptions& options,
      std::shared_ptr<exec::SessionState> session)>
      make_source;
  /// The writer with `options` bound; unset for a format Sluice only reads.
  std::function<arrow::Result<io::FileWriterSpec>(const WriteOptions& options,
                                                  const EngineConfig& config,
                                                  arrow::MemoryPool* pool)>
      make_writer;
};

/// Every format, in a fixed order (parquet, csv, json, text).
const std::vector<FileFormat>& FileFormats();

/// The format called `name` (its name or an alias, any case); an error that lists the
/// names otherwise. `for_writing` also refuses a format that cannot be written.
arrow::Result<const FileFormat*> FindFileFormat(std::string_view name, bool for_writing = false);

/// The format a file name implies through its extension (looking past .gz, .zst, .bz2,
/// .lz4), or null.
const FileFormat* FileFormatFromFileName(std::string_view name);

/// The compression a file name's last suffix names ("gzip" for .gz, "zstd" for .zst,
/// "bz2" for .bz2, "lz4" for .lz4), or unset.
std::optional<std::string> CompressionFromFileName(std::string_view name);

/// "parquet, csv, json or text" (only the writable ones with `for_writing`).
std::string FileFormatNames(bool for_writing = false);

}  // namespace sluice::formats
