#pragma once

// The file side of every file reader: expanding the paths a user passes (files,
// directories, globs; local paths or URIs such as s3://bucket/prefix) into a sorted list
// of data files on one filesystem.

#include <arrow/filesystem/filesystem.h>
#include <arrow/memory_pool.h>
#include <arrow/result.h>
#include <arrow/status.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/batch_stream.h"
#include "runtime/session_state.h"

namespace sluice::io {

/// One data file found by ListFiles.
struct ListedFile {
  arrow::fs::FileInfo info;
  /// The directory the user named (a directory argument, or the fixed part of a glob)
  /// that this file was found under. Hive `key=value` directories are parsed only below
  /// it. Empty for files named explicitly: they have no partition directories.
  std::string base_dir;

  const std::string& path() const { return info.path(); }
};

/// The result of expanding a reader's paths.
struct ListedFiles {
  std::shared_ptr<arrow::fs::FileSystem> filesystem;
  /// Sorted by path, without duplicates; never empty.
  std::vector<ListedFile> files;
};

/// How ListFiles treats symbolic links in local directories.
struct ListOptions {
  /// Follow links whose target is outside the directory being read (the directory
  /// argument, or the fixed part of a glob). Without it such a link is an error naming
  /// it. Links inside that directory are always followed; cycles (`a -> .`) are entered
  /// once, and a file reached under several paths is listed once, under its own path.
  bool follow_symlinks = false;
  /// Whose S3 settings and memory budget the files are opened with (null: the default
  /// session's).
  std::shared_ptr<exec::SessionState> session;
};

/// Expands `paths` into data files. Each path may be
///  - a file: taken as is, whatever its name;
///  - a directory: every file below it, recursively, except entries whose name starts
///    with '_' or '.' (_SUCCESS, _temporary/, .staging/, .crc files) and what is below them;
///    or, when it holds a Sluice manifest (`_SUCCESS`, table_manifest.h), exactly the
///    files the manifest lists: one committed snapshot, whatever a writer is doing;
///  - a glob: '*', '?' and '[...]' match within one path segment and '**' matches any
///    number of segments. As in a shell, wildcards do not match names starting with '_'
///    or '.' unless the pattern segment itself starts with that character. A directory
///    that matches is expanded as above.
/// Relative local paths are resolved against the working directory. All paths must be
/// on the same filesystem.
///
/// Local directories are walked with lstat (local_tree_walk.h), following links as
/// ListOptions says; a path named explicitly may itself be a link.
///
/// Errors: IOError("No such file or directory: <path>") for a missing path,
/// IOError("No files match <glob>") for a glob that matches nothing,
/// IOError("No data files in <dir> ...") for a directory holding only hidden entries, and
/// IOError("'<link>' is a symbolic link to '<target>', outside '<dir>' ...").
arrow::Result<ListedFiles> ListFiles(const std::vector<std::string>& paths,
                                     const ListOptions& options = {});

/// `status` with the file's path in front of its message, unless the message already
/// starts with it. Every error a reader reports about a file goes through this, so the
/// user always learns which file failed.
arrow::Status WithPathContext(const arrow::Status& status, const std::string& path);

/// Short description of a file list for explain(): "3 files: /a/x.csv, /a/y.csv, ...".
std::string DescribeFiles(const std::vector<ListedFile>& files);

}  // namespace sluice::io
