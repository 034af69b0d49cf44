#pragma once

#include <arrow/result.h>

#include <cstdint>
#include <string>
#include <vector>

namespace sluice {

/// What Vacuum() removed.
struct VacuumResult {
  /// Staging directories of writes whose process is gone.
  std::vector<std::string> removed_staging_dirs;
  /// Data files no committed snapshot lists (published by a write that died before its
  /// commit point, or replaced by a commit that died before deleting them).
  std::vector<std::string> removed_files;
  int64_t removed_bytes = 0;
};

/// Removes what failed or killed writes left under `path` (a directory written by Sluice,
/// local or s3://). Staging directories of writes on this host are removed when their
/// process is gone; those of other hosts once they are older than `retention_seconds`.
/// Data files are only removed where a manifest says which files are committed, and only
/// files named like Sluice's own (part-...-{write id}.ext). Every write does the same for
/// its target before publishing, so running this by hand is rarely needed.
arrow::Result<VacuumResult> Vacuum(const std::string& path, int64_t retention_seconds = 24 * 3600);

}  // namespace sluice
