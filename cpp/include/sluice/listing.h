#pragma once

// The data files a reader would read for some paths, as the readers list them: files,
// directories (recursively, hidden `_`/`.` entries skipped; a committed table's manifest
// decides), globs; local paths or URIs.

#include <arrow/result.h>

#include <cstdint>
#include <string>
#include <vector>

#include "sluice/session.h"

namespace sluice {

struct ListedDataFile {
  /// The path on its filesystem ("bucket/key" on S3).
  std::string path;
  /// Bytes, -1 when unknown.
  int64_t size = -1;
  /// The directory the user named that the file was found under (where Hive
  /// `key=value` directories start); empty for a file named explicitly.
  std::string base_dir;
};

/// Sorted by path, without duplicates, never empty (no data file is an error naming the
/// paths). Links out of a named directory are followed only with `follow_symlinks`.
arrow::Result<std::vector<ListedDataFile>> ListDataFiles(const std::vector<std::string>& paths,
                                                         bool follow_symlinks = false,
                                                         const Session& session = Session::Default());

}  // namespace sluice
