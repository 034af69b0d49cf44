#pragma once

// Walking a directory tree without being led astray by symbolic links. Arrow's
// LocalFileSystem lists recursively with stat(), following every link: a link loop
// (`a -> .`) hangs it or repeats every file, and a link out of the directory (`up -> ..`)
// lists what is outside, which a reader then reads and a writer then deletes. This walk
// uses lstat(): it sees each link as a link, decides whether to follow it, never enters a
// directory twice (cycles), and gives every file its real path so that one reached twice
// is reported once.
//
// Object stores have no links; ListTreeWithoutFollowing lists them with Arrow.

#include <arrow/filesystem/filesystem.h>
#include <arrow/result.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace sluice::io {

/// What the walk does with a symbolic link it meets.
enum class SymlinkPolicy {
  /// Never follows one; reports it as an entry (writers, clean-up, vacuum).
  kReport,
  /// Follows links whose target is inside the containment root; reports the others as
  /// escaping, without following them (readers).
  kFollowInsideRoot,
  /// Follows every link (readers with follow_symlinks).
  kFollowAll,
};

struct TreeWalkOptions {
  SymlinkPolicy symlinks = SymlinkPolicy::kReport;
  /// Neither reports nor enters names starting with '_' or '.'.
  bool skip_hidden = true;
  /// Levels below the start directory to enter; -1 for all. 0 reports only the entries
  /// of the start directory itself.
  int32_t max_depth = -1;
  /// Reports directories as entries too (globs match them).
  bool include_directories = false;
  /// Links pointing inside this directory count as inside (kFollowInsideRoot); empty:
  /// the start directory. Must be the start directory or one of its ancestors.
  std::string containment_root;
};

struct TreeEntry {
  /// The path as reached: the start directory followed by the names walked (through a
  /// followed link, its name, not its target). Type File or Directory, with size and
  /// modification time, for what the path leads to; Unknown for a link that was not
  /// followed (kReport) and for other special files; NotFound for a dangling link.
  arrow::fs::FileInfo info;
  /// The entry itself is a symbolic link.
  bool symlink = false;
  /// kFollowInsideRoot: a link whose target is outside the containment root (not followed).
  bool escapes_root = false;
  /// For links: where it points, resolved (empty when dangling).
  std::string link_target;
  /// Local walks: the real path of the file, the same however it was reached.
  std::string real_path;

  static TreeEntry Of(arrow::fs::FileInfo info) {
    TreeEntry entry;
    entry.info = std::move(info);
    return entry;
  }
};

/// Every entry below the local directory `start` (a path on the local filesystem), in
/// an order where entries reached without links come before those reached through them.
/// `start` itself may be a link. Errors name the directory that could not be read.
arrow::Result<std::vector<TreeEntry>> WalkLocalTree(const std::string& start,
                                                    const TreeWalkOptions& options);

/// The non-hidden entries below `dir` on `filesystem` without following any link: locally
/// WalkLocalTree with kReport, elsewhere Arrow's recursive listing (files only). Empty
/// when `dir` does not exist or is not a directory.
arrow::Result<std::vector<TreeEntry>> ListTreeWithoutFollowing(arrow::fs::FileSystem* filesystem,
                                                               const std::string& dir);

/// The first symbolic link among the directories strictly between `root` and `path`
/// (`path` itself is not checked), or "" when there is none or a component is missing.
/// `path` must be below `root`.
arrow::Result<std::string> SymlinkedDirectoryOnPath(const std::string& root,
                                                    const std::string& path);

}  // namespace sluice::io
