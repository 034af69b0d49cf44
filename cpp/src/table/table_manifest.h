#pragma once

// The manifest: which files make up a directory written by Sluice.
//
// `_SUCCESS` at the top of the directory lists every committed data file, relative to the
// directory, with its row count and size. Replacing it is the commit point of a write
// (see commit_protocol.h); readers that find one read exactly the files it lists, so
// they see one committed snapshot even while a writer is publishing files next to it.
// An empty `_SUCCESS` (Spark, Hadoop, older Sluice) or one that is not a Sluice manifest
// is only a marker: readers then list the directory.

#include <arrow/filesystem/filesystem.h>
#include <arrow/result.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sluice::io {

inline constexpr char kManifestFileName[] = "_SUCCESS";

/// One committed data file.
struct ManifestFile {
  /// Relative to the table directory, '/'-separated: "year=2024/part-...parquet".
  std::string path;
  /// -1 when unknown (files adopted from a directory Sluice did not write).
  int64_t rows = -1;
  int64_t bytes = -1;
};

/// The committed state of a table directory.
struct TableManifest {
  /// Increases by one with every commit; 0 for a manifest that adopted existing files.
  int64_t snapshot = 0;
  /// The write that produced this snapshot.
  std::string write_id;
  /// "error", "append", "overwrite", "overwrite_partitions" or "adopt".
  std::string operation;
  /// Milliseconds since the Unix epoch.
  int64_t committed_at_ms = 0;
  /// Hive partition columns of the files, outermost first (empty when not partitioned or
  /// unknown).
  std::vector<std::string> partition_cols;
  /// Sorted by path.
  std::vector<ManifestFile> files;
};

/// Reads `dir`/_SUCCESS. nullopt when there is none or it is only a marker (empty or not
/// a Sluice manifest); an error when it is a Sluice manifest that cannot be parsed.
arrow::Result<std::optional<TableManifest>> ReadManifest(arrow::fs::FileSystem* filesystem,
                                                         const std::string& dir);

/// Replaces `dir`/_SUCCESS with `manifest` in one step: on a local filesystem by writing a
/// hidden temporary file and renaming it over the old one, on object stores by one PUT
/// (an object is replaced whole). Readers see the old manifest or the new one.
arrow::Status WriteManifest(arrow::fs::FileSystem* filesystem, const std::string& dir,
                            const TableManifest& manifest);

}  // namespace sluice::io
