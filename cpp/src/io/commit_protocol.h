#pragma once

// How a write publishes its files.
//
// The target of a write is a directory. Every file is first written under a hidden
// staging directory inside it, `target/_sluice_staging_{write_id}/`, laid out exactly as
// the final files will be (`key=value/` partition directories and all). Readers skip
// names that start with '_' or '.', so nothing staged is ever visible. Nothing outside
// the staging directory is touched until the whole pipeline has succeeded; then Commit():
//
//   1. mode error: re-checks that the target holds no visible entry.
//   2. Moves what the write replaces into a hidden trash directory,
//      `target/_sluice_trash_{write_id}/`: for overwrite every visible entry of the target,
//      for overwrite_partitions every visible entry inside each partition directory this
//      write produced (the target itself when the write is not partitioned), and in every
//      mode the previous `_SUCCESS` marker.
//   3. Moves every staged file to its final path, creating partition directories.
//   4. Writes an empty `_SUCCESS` marker.
//   5. Deletes the trash and the staging directory.
//
// If any step of 1-4 fails, the moves are undone in reverse order (published files are
// deleted, trashed entries are moved back, directories the commit created are removed)
// and the original error is returned. Abort() (also run by the destructor of an
// uncommitted write) deletes the staging directory and any directory Begin() created, so a
// failed pipeline leaves the target exactly as it was.
//
// What is atomic on a local filesystem: each single move is a rename(2), so every file
// appears whole or not at all, and a replaced directory disappears in one step. The commit
// as a whole is NOT atomic: a reader listing the target during steps 2-3 can see the old
// files partly removed or the new ones partly added. `_SUCCESS` is written last, so a
// reader that requires it sees either the complete new data or no marker. A process
// killed during the commit leaves hidden `_sluice_staging_*` / `_sluice_trash_*`
// directories behind; they are invisible to readers and safe to delete. Failures while
// deleting the trash after step 4 are ignored: the new data is already published.
//
// Other filesystems (S3) have no directory rename: there step 2 would have to move
// objects one by one. Only local paths are exercised today.

#include <arrow/filesystem/filesystem.h>
#include <arrow/result.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "sluice/options.h"

namespace sluice::io {

/// A file written under the staging directory and where it belongs after the commit.
struct StagedOutput {
  /// Filesystem path inside the staging directory.
  std::string staged_path;
  /// Final path relative to the target, '/'-separated, e.g. "year=2024/part-....parquet".
  std::string relative_path;
};

/// One write's staging directory and the steps that publish or discard it. See the
/// protocol description at the top of this header.
class CommitProtocol {
 public:
  /// Resolves `target` (a local path or a URI), refuses an existing non-empty target in
  /// mode error with IOError, and creates the staging directory (and the target itself
  /// when it does not exist yet).
  static arrow::Result<std::unique_ptr<CommitProtocol>> Begin(const std::string& target,
                                                              WriteMode mode);
  /// Aborts the write unless it was committed.
  ~CommitProtocol();

  CommitProtocol(const CommitProtocol&) = delete;
  CommitProtocol& operator=(const CommitProtocol&) = delete;

  const std::shared_ptr<arrow::fs::FileSystem>& filesystem() const { return filesystem_; }
  /// Random id of this write; part of every file name, so appends never collide.
  const std::string& write_id() const { return write_id_; }
  /// Filesystem path of the staging directory.
  const std::string& staging_dir() const { return staging_dir_; }

  /// Publishes `files` as the mode says, writes `_SUCCESS` and removes the staging
  /// directory. Returns the final paths, spelled with the target as the caller gave it,
  /// sorted. On failure the target is restored and the staging directory removed.
  arrow::Result<std::vector<std::string>> Commit(const std::vector<StagedOutput>& files);

  /// Deletes the staging directory and whatever Begin() created. Idempotent.
  arrow::Status Abort();

 private:
  CommitProtocol() = default;

  /// One completed filesystem change, so a failed commit can undo it.
  struct UndoStep {
    enum class Kind { kMovedToTrash, kPublished, kCreatedDir } kind;
    std::string path;        // original (trash), final (published) or created directory
    std::string trash_path;  // kMovedToTrash only
  };

  arrow::Status PublishAll(const std::vector<StagedOutput>& files);
  arrow::Status MoveToTrash(const std::string& path);
  arrow::Status MoveVisibleEntriesToTrash(const std::string& dir);
  /// Creates `relative_dir` and its missing ancestors below the target, recording each.
  arrow::Status EnsureTargetSubdir(const std::string& relative_dir);
  /// Reverts the undo log; false when a replaced entry could not be moved back.
  bool Undo();

  std::shared_ptr<arrow::fs::FileSystem> filesystem_;
  std::string target_as_given_;  // for the returned paths
  std::string target_dir_;       // filesystem path
  std::string write_id_;
  std::string staging_dir_;
  std::string trash_dir_;
  WriteMode mode_ = WriteMode::kError;
  // Ancestors of the target (and the target itself) that Begin() created, outermost first.
  std::vector<std::string> created_by_begin_;
  std::vector<UndoStep> undo_log_;
  std::set<std::string> existing_dirs_;  // relative directories known to exist
  bool finished_ = false;                // committed or aborted
};

}  // namespace sluice::io
