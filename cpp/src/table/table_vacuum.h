#pragma once

// Removing what failed or killed writes left in a target directory: staging directories
// of writes whose process is gone, and data files a write published but never committed
// (or a commit replaced but did not get to delete). Commits run it under the commit lock
// (cheaply: the data files are scanned only when an abandoned staging directory shows that
// such files may exist); `sluice vacuum` runs it with a full scan.

#include <arrow/filesystem/filesystem.h>
#include <arrow/result.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "table/table_manifest.h"

namespace sluice::io {

/// What a clean-up removed.
struct VacuumReport {
  std::vector<std::string> removed_staging_dirs;
  std::vector<std::string> removed_files;
  int64_t removed_bytes = 0;
};

/// Staging directories of another host's write are abandoned after this long (a local
/// write's are abandoned as soon as its process is gone).
inline constexpr int64_t kDefaultRetentionSeconds = 24 * 3600;

/// The write id in a name Sluice gives data files, part-{task}-{seq}-{write_id}.{ext};
/// nullopt for other names. Only such files are ever deleted as orphans; anything else a
/// user put in the directory is left alone.
std::optional<std::string> SluiceDataFileWriteId(const std::string& name);

/// Removes abandoned staging (and old `_sluice_trash_`) directories in `dir`, then, if
/// there were any or `scan_all_files`, every Sluice data file that the manifest does not
/// list and no live write owns. Files are never removed without a manifest (nothing tells
/// orphans from data then). Symbolic links below `dir` are never followed or removed.
arrow::Result<VacuumReport> RemoveAbandonedWrites(arrow::fs::FileSystem* filesystem,
                                                  const std::string& dir, bool scan_all_files,
                                                  int64_t retention_seconds);

/// Leaves a hidden marker in `dir` that makes the next commit scan every file (set when a
/// commit could not delete the files it replaced).
arrow::Status MarkVacuumPending(arrow::fs::FileSystem* filesystem, const std::string& dir);

/// `sluice vacuum`: takes the target's commit lock and removes everything abandoned (full
/// scan). `target` is a local path or URI.
arrow::Result<VacuumReport> VacuumTarget(const std::string& target, int64_t retention_seconds);

/// Deletes `paths` (filesystem paths below `root`) with up to 16 requests in flight on
/// object stores. Never deletes through a link: a path outside `root` or reached through
/// a symbolic link to a directory below `root` is refused, and a path that is a link
/// loses the link itself. Returns the first error after trying every file.
arrow::Status DeleteFilesInParallel(arrow::fs::FileSystem* filesystem, const std::string& root,
                                    const std::vector<std::string>& paths);

/// Deletes `dir` if it is a directory with nothing in it; returns whether it was empty
/// (or missing, as empty directories are on object stores). A link to a directory is
/// never removed (false).
arrow::Result<bool> RemoveDirIfEmpty(arrow::fs::FileSystem* filesystem, const std::string& dir);

/// Removes `dir` and its ancestors below `stop_at` while they are empty.
void RemoveEmptyDirsUpTo(arrow::fs::FileSystem* filesystem, std::string dir,
                         const std::string& stop_at);

}  // namespace sluice::io
