#pragma once

// The writers of each file format, with their options bound: what the format registry
// (formats/file_formats.h) hands the file sink (connectors/files/file_sink.h). Each is
// defined in its format's folder (parquet/parquet_writer.cc, csv/csv_writer.cc,
// json/json_writer.cc).

#include <arrow/memory_pool.h>
#include <arrow/result.h>

#include <string>

#include "operators/write_operator.h"
#include "sluice/config.h"
#include "sluice/options.h"

namespace sluice::io {

/// A format's writer with its options checked and bound: the format's name, the
/// extension of its files (with the compression's suffix, e.g. "csv.gz") and how to open
/// one file.
struct FileWriterSpec {
  std::string name;
  std::string extension;
  FormatWriterFactory open_writer;
};

/// Parquet (compression: snappy, zstd, gzip, lz4, brotli, none; row groups of about a
/// million rows, closed early by size within the memory budget; the Arrow schema stored).
arrow::Result<FileWriterSpec> ParquetWriterSpec(const WriteOptions& options,
                                               const EngineConfig& config, arrow::MemoryPool* pool);
/// CSV (header, delimiter; compression none, gzip, zstd, bz2).
arrow::Result<FileWriterSpec> CsvWriterSpec(const WriteOptions& options, const EngineConfig& config,
                                           arrow::MemoryPool* pool);
/// JSON lines (compression none, gzip, zstd, bz2).
arrow::Result<FileWriterSpec> JsonWriterSpec(const WriteOptions& options,
                                            const EngineConfig& config, arrow::MemoryPool* pool);

}  // namespace sluice::io
