#pragma once

// How a write publishes its files (docs/commit-protocol.md explains it for users).
//
// The target of a write is a directory; its `_SUCCESS` manifest (table_manifest.h) lists
// the committed files. Begin() creates a hidden staging directory named after the write
// and its process (write_owner.h), `target/_sluice_staging_{write_id}.{pid}...`, and the
// pipeline writes every file there, laid out as it will be published. Nothing outside the
// staging directory is touched until the whole pipeline has succeeded; then Commit(),
// holding the target's commit lock (commit_lock.h; a catalog lock for tables):
//
//   1. Reads the manifest. An overwrite refuses to replace what Sluice did not write
//      (files neither in the manifest nor Sluice-named, symbolic links) unless
//      replace_foreign_files. A directory without a manifest (new, or written by other
//      tools) then gets one listing the data files it has, so that step 4 can never show
//      a listing reader a mix.
//   2. Mode error: refuses a target whose manifest lists files.
//   3. Removes what abandoned writes left (table_vacuum.h).
//   4. Moves every staged file to its final path (rename locally; copy + delete on S3,
//      in parallel). The files carry the write id in their names, so they collide with
//      nothing, and readers that honour the manifest do not see them yet.
//   5. Writes the next manifest: for append the old files plus the new ones, for
//      overwrite the new ones, for overwrite_partitions the old files outside the written
//      partitions plus the new ones. This single replace is the commit point.
//   6. Runs the caller's hook (the catalog registers the partitions), deletes the files
//      the new manifest dropped, and removes the staging directory.
//
// Symbolic links below the target are never followed: no listing enters them, nothing is
// deleted or published through them (publishing into a linked directory is refused), and
// replace_foreign_files removes a link itself, never what it points to. The target path
// itself may be a link.
//
// A failure before step 5 deletes what step 4 published and the staging directory; the
// target is as it was. A process killed at any point leaves the manifest either old or
// new, so Sluice's readers see the old table or the new one, never a mix; its staging
// directory and any published-but-uncommitted files are removed by the next write's step
// 3 or by `sluice vacuum`.

#include <arrow/filesystem/filesystem.h>
#include <arrow/result.h>

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "runtime/session_state.h"
#include "table/commit_lock.h"
#include "storage/local_tree_walk.h"
#include "table/table_manifest.h"
#include "sluice/options.h"

namespace sluice::io {

/// A file written under the staging directory and where it belongs after the commit.
struct StagedOutput {
  /// Filesystem path inside the staging directory.
  std::string staged_path;
  /// Final path relative to the target, '/'-separated, e.g. "year=2024/part-....parquet".
  std::string relative_path;
  int64_t rows = -1;
  int64_t bytes = -1;
};

/// Runs after the new manifest is written, still under the commit lock. `before` is the
/// manifest the commit started from (nullopt for a new target).
using CommittedHook = std::function<arrow::Status(const std::optional<TableManifest>& before,
                                                  const TableManifest& after)>;

struct CommitOptions {
  WriteMode mode = WriteMode::kError;
  /// Whose S3 settings and memory budget the target is opened with (null: the default
  /// session's).
  std::shared_ptr<exec::SessionState> session;
  /// Recorded in the manifest; an append with other partition columns than the
  /// committed files have is refused.
  std::vector<std::string> partition_cols;
  /// Serializes commits to the target. Null: an flock in the target directory on a local
  /// filesystem, none on object stores (concurrent writers to one S3 path must go
  /// through a catalog table, whose lock is in the catalog).
  std::unique_ptr<CommitLock> lock;
  /// Runs under the commit lock before anything is published, with the manifest the
  /// commit starts from; an error fails the write with the target untouched (the catalog
  /// checks the table's location, partition columns and schema here).
  std::function<arrow::Status(const TableManifest& before)> before_publish;
  CommittedHook on_committed;
  /// Staging directories of other hosts' writes older than this are abandoned.
  int64_t retention_seconds = 24 * 3600;
  /// Overwrites may delete files Sluice did not write and unlink symbolic links in what
  /// they replace; without it they refuse such a target (WriteOptions::replace_foreign_files).
  bool replace_foreign_files = false;
};

/// One write's staging directory and the steps that publish or discard it. See the
/// protocol description at the top of this header.
class CommitProtocol {
 public:
  /// Resolves `target` (a local path or a URI), refuses an existing non-empty target in
  /// mode error with IOError, and creates the staging directory (and the target itself
  /// when it does not exist yet).
  static arrow::Result<std::unique_ptr<CommitProtocol>> Begin(const std::string& target,
                                                              CommitOptions options);
  /// Aborts the write unless it was committed.
  ~CommitProtocol();

  CommitProtocol(const CommitProtocol&) = delete;
  CommitProtocol& operator=(const CommitProtocol&) = delete;

  const std::shared_ptr<arrow::fs::FileSystem>& filesystem() const { return filesystem_; }
  /// Random id of this write; part of every file name, so writes never collide.
  const std::string& write_id() const { return write_id_; }
  /// Filesystem path of the staging directory.
  const std::string& staging_dir() const { return staging_dir_; }
  /// Filesystem path of the target directory.
  const std::string& target_dir() const { return target_dir_; }

  /// Publishes `files` as the mode says (steps 1-6 above). Returns the final paths,
  /// spelled with the target as the caller gave it, sorted. On failure before the commit
  /// point the target is left as it was.
  arrow::Result<std::vector<std::string>> Commit(const std::vector<StagedOutput>& files);

  /// The manifest Commit() wrote.
  const TableManifest& committed_manifest() const { return committed_; }

  /// Deletes the staging directory and whatever Begin() created. Idempotent.
  arrow::Status Abort();

 private:
  CommitProtocol() = default;
  /// The session warnings go to: the options' or the default one.
  const exec::SessionState& Session() const {
    return options_.session ? *options_.session : *exec::SessionState::Default();
  }

  arrow::Result<TableManifest> CommitLocked(const std::vector<StagedOutput>& files);
  /// Refuses to publish into a directory below the target that is a symbolic link.
  arrow::Status RefuseLinkedPublishDirs(const std::vector<StagedOutput>& files) const;
  /// Directories (relative to the target, "" for all of it) whose content this write
  /// replaces: none for error and append.
  std::vector<std::string> ReplacedScopes(const std::vector<StagedOutput>& files) const;
  /// The entries below `scopes`, links not followed.
  arrow::Result<std::vector<TreeEntry>> ListScopes(const std::vector<std::string>& scopes) const;
  /// Refuses an overwrite whose `replaced` entries hold what Sluice did not write (links,
  /// files without a Sluice data file name, listed in a manifest or not), unless
  /// replace_foreign_files.
  arrow::Status RefuseForeignContent(const std::vector<TreeEntry>& replaced) const;
  /// Step 1 for a directory without a manifest: writes one listing its regular files.
  arrow::Result<TableManifest> AdoptManifest(const std::vector<TreeEntry>& listing,
                                             const std::vector<std::string>& scopes);
  arrow::Status PublishAll(const std::vector<StagedOutput>& files);
  /// Creates `relative_dir` and its missing ancestors below the target (local only).
  arrow::Status EnsureTargetSubdir(const std::string& relative_dir);
  TableManifest NextManifest(const TableManifest& before,
                             const std::vector<StagedOutput>& files) const;
  /// Step 6: deletes the files `after` dropped from `before`, and for overwrites every
  /// other visible entry the replaced directories held when the commit began (foreign
  /// ones and links only with replace_foreign_files). Failures leave orphans.
  arrow::Status DeleteReplacedFiles(const TableManifest& before, const TableManifest& after);
  /// Deletes what PublishAll published (before the commit point).
  void UnpublishAll();

  std::shared_ptr<arrow::fs::FileSystem> filesystem_;
  std::string target_as_given_;  // for the returned paths and errors
  std::string target_dir_;       // filesystem path
  std::string write_id_;
  std::string staging_dir_;
  CommitOptions options_;
  // Ancestors of the target (and the target itself) that Begin() created, outermost first.
  std::vector<std::string> created_by_begin_;
  std::vector<std::string> published_;     // final filesystem paths, for UnpublishAll
  std::vector<std::string> created_dirs_;  // by EnsureTargetSubdir, for UnpublishAll
  std::set<std::string> existing_dirs_;    // relative directories known to exist
  std::vector<TreeEntry> replaced_scope_entries_;  // what an overwrite replaces, listed at step 1
  TableManifest committed_;
  bool adopted_empty_manifest_ = false;  // step 1 wrote a manifest listing no files
  bool manifest_written_ = false;        // step 5 done: the write is committed
  bool outcome_unknown_ = false;         // the manifest write failed in an unknown state
  bool finished_ = false;                // committed or aborted
};

}  // namespace sluice::io
