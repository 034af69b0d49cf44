#include "table/table_vacuum.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <set>

#include "table/commit_lock.h"
#include "storage/filesystems.h"
#include "storage/local_tree_walk.h"
#include "storage/parallel_requests.h"
#include "storage/storage_paths.h"
#include "table/write_owner.h"

namespace sluice::io {

namespace {

constexpr char kOldTrashPrefix[] = "_sluice_trash_";
constexpr char kVacuumPendingName[] = "_sluice_vacuum_pending";

bool IsUuid(const std::string& text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

bool AllDigits(const std::string& text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

/// The entries directly in `dir`, hidden ones included, links reported as links (never
/// followed); empty when `dir` does not exist.
arrow::Result<std::vector<TreeEntry>> ListTopLevel(arrow::fs::FileSystem* filesystem,
                                                   const std::string& dir) {
  std::vector<TreeEntry> entries;
  if (IsLocalFileSystem(*filesystem)) {
    struct stat st;
    if (stat(dir.c_str(), &st) != 0 && errno == ENOENT) return entries;
    TreeWalkOptions options;
    options.skip_hidden = false;
    options.max_depth = 0;
    options.include_directories = true;
    return WalkLocalTree(dir, options);
  }
  arrow::fs::FileSelector selector;
  selector.base_dir = dir;
  selector.allow_not_found = true;
  ARROW_ASSIGN_OR_RAISE(auto listed, filesystem->GetFileInfo(selector));
  for (auto& info : listed) entries.push_back(TreeEntry::Of(std::move(info)));
  return entries;
}

/// Deletes one file below `root`, never through a link: a path whose directories
/// below `root` include a symbolic link is refused, and a path that is itself a link
/// loses the link, not what it points to.
arrow::Status DeleteFileBelow(arrow::fs::FileSystem* filesystem, const std::string& root,
                              const std::string& path) {
  const size_t prefix = root.size() + (root.back() == '/' ? 0 : 1);
  if (path.size() <= prefix || path.compare(0, root.size(), root) != 0 ||
      (root.back() != '/' && path[root.size()] != '/')) {
    return arrow::Status::Invalid("not deleting '", path, "': it is not below '", root, "'");
  }
  if (!IsLocalFileSystem(*filesystem)) return filesystem->DeleteFile(path);
  ARROW_ASSIGN_OR_RAISE(std::string link, SymlinkedDirectoryOnPath(root, path));
  if (!link.empty()) {
    return arrow::Status::IOError("not deleting '", path, "': it is reached through the symbolic "
                                  "link '", link, "', which leads out of '", root, "'");
  }
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return arrow::Status::OK();
    return arrow::Status::IOError("cannot delete '", path, "': ", std::strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) {
    return arrow::Status::IOError("not deleting '", path, "': it is a directory");
  }
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return arrow::Status::IOError("cannot delete '", path, "': ", std::strerror(errno));
  }
  return arrow::Status::OK();
}

}  // namespace

std::optional<std::string> SluiceDataFileWriteId(const std::string& name) {
  // part-{digits}-{digits}-{uuid}.{ext}
  if (name.rfind("part-", 0) != 0) return std::nullopt;
  const size_t first = name.find('-', 5);
  if (first == std::string::npos || !AllDigits(name.substr(5, first - 5))) return std::nullopt;
  const size_t second = name.find('-', first + 1);
  if (second == std::string::npos || !AllDigits(name.substr(first + 1, second - first - 1))) {
    return std::nullopt;
  }
  const size_t uuid_start = second + 1;
  if (name.size() <= uuid_start + 37 || name[uuid_start + 36] != '.') return std::nullopt;
  std::string write_id = name.substr(uuid_start, 36);
  if (!IsUuid(write_id)) return std::nullopt;
  return write_id;
}

arrow::Status DeleteFilesInParallel(arrow::fs::FileSystem* filesystem, const std::string& root,
                                    const std::vector<std::string>& paths) {
  const int in_flight = IsLocalFileSystem(*filesystem) ? 1 : 16;
  return ForEachInParallel(static_cast<int64_t>(paths.size()), in_flight, [&](int64_t i) {
    arrow::Status status = DeleteFileBelow(filesystem, root, paths[i]);
    // Already gone is what we wanted.
    if (!status.ok()) {
      auto info = filesystem->GetFileInfo(paths[i]);
      if (info.ok() && info->type() == arrow::fs::FileType::NotFound) return arrow::Status::OK();
    }
    return status;
  });
}

arrow::Result<bool> RemoveDirIfEmpty(arrow::fs::FileSystem* filesystem, const std::string& dir) {
  if (IsLocalFileSystem(*filesystem)) {
    // A link to a directory is not one of ours to remove (nor is what it points to).
    struct stat st;
    if (lstat(dir.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) return false;
  }
  arrow::fs::FileSelector selector;
  selector.base_dir = dir;
  selector.allow_not_found = true;
  ARROW_ASSIGN_OR_RAISE(auto entries, filesystem->GetFileInfo(selector));
  if (!entries.empty()) return false;
  // On object stores an empty "directory" usually does not exist at all.
  ARROW_ASSIGN_OR_RAISE(auto info, filesystem->GetFileInfo(dir));
  if (info.type() == arrow::fs::FileType::Directory)
    ARROW_RETURN_NOT_OK(filesystem->DeleteDir(dir));
  return true;
}

void RemoveEmptyDirsUpTo(arrow::fs::FileSystem* filesystem, std::string dir,
                         const std::string& stop_at) {
  if (IsLocalFileSystem(*filesystem) && dir.size() > stop_at.size() &&
      dir.rfind(stop_at, 0) == 0) {
    // Below a linked directory `dir` is somewhere else: not ours to remove.
    auto linked = SymlinkedDirectoryOnPath(stop_at, dir);
    if (!linked.ok() || !linked->empty()) return;
  }
  while (!dir.empty() && dir.size() > stop_at.size() && dir.rfind(stop_at, 0) == 0) {
    auto empty = RemoveDirIfEmpty(filesystem, dir);
    if (!empty.ok() || !*empty) return;
    dir = ParentOf(dir);
  }
}

arrow::Result<VacuumReport> RemoveAbandonedWrites(arrow::fs::FileSystem* filesystem,
                                                  const std::string& dir, bool scan_all_files,
                                                  int64_t retention_seconds) {
  // The files are listed before the staging directories and the manifest is read last:
  // a file a live writer published is then either under a staging directory still seen
  // as live or already in the manifest, even without the commit lock (object stores).
  // The commit-time path below lists the staging directories again after the files.
  // Links are never followed: what they lead to is not this directory's to clean.
  std::vector<TreeEntry> files;
  if (scan_all_files) {
    ARROW_ASSIGN_OR_RAISE(files, ListTreeWithoutFollowing(filesystem, dir));
  }

  VacuumReport report;
  std::set<std::string> live_writes;
  bool pending = false;
  ARROW_ASSIGN_OR_RAISE(auto entries, ListTopLevel(filesystem, dir));
  for (const auto& top_entry : entries) {
    // A link named like a staging directory is someone else's: left alone.
    if (top_entry.symlink) continue;
    const arrow::fs::FileInfo& entry = top_entry.info;
    const std::string name = entry.base_name();
    bool abandoned = false;
    if (auto owner = ParseStagingDirName(name)) {
      abandoned = IsAbandoned(*owner, retention_seconds);
      if (!abandoned) live_writes.insert(owner->write_id);
    } else if (name.rfind(kOldTrashPrefix, 0) == 0) {
      abandoned = true;  // written by the protocol before manifests; never live now
    } else if (name == kVacuumPendingName) {
      pending = true;
    }
    if (!abandoned) continue;
    if (entry.type() == arrow::fs::FileType::Directory) {
      ARROW_RETURN_NOT_OK(filesystem->DeleteDir(entry.path()));
    } else {
      ARROW_RETURN_NOT_OK(filesystem->DeleteFile(entry.path()));
    }
    report.removed_staging_dirs.push_back(entry.path());
  }
  if (!scan_all_files) {
    // Orphan data files only exist where a write died after publishing (it leaves its
    // staging directory behind) or a commit could not delete what it replaced (it leaves
    // the pending marker).
    if (report.removed_staging_dirs.empty() && !pending) return report;
    ARROW_ASSIGN_OR_RAISE(files, ListTreeWithoutFollowing(filesystem, dir));
    // Writes that began while the files were listed: their staging directories exist
    // before they publish anything, so listing them again after the files covers them.
    ARROW_ASSIGN_OR_RAISE(auto again, ListTopLevel(filesystem, dir));
    for (const auto& entry : again) {
      if (entry.symlink) continue;
      if (auto owner = ParseStagingDirName(entry.info.base_name())) {
        if (!IsAbandoned(*owner, retention_seconds)) live_writes.insert(owner->write_id);
      }
    }
  }
  ARROW_ASSIGN_OR_RAISE(auto manifest, ReadManifest(filesystem, dir));
  if (!manifest) return report;

  std::set<std::string> committed;
  for (const auto& file : manifest->files) committed.insert(file.path);
  std::vector<std::string> orphans;
  std::set<std::string> parents;
  const size_t prefix = dir.size() + (dir.empty() || dir.back() == '/' ? 0 : 1);
  for (const auto& entry : files) {
    const arrow::fs::FileInfo& file = entry.info;
    if (entry.symlink || file.type() != arrow::fs::FileType::File) continue;
    if (file.path().size() <= prefix) continue;
    const std::string relative = file.path().substr(prefix);
    if (HasHiddenSegment(relative) || committed.count(relative) > 0) continue;
    const std::optional<std::string> write_id = SluiceDataFileWriteId(BaseName(relative));
    if (!write_id || live_writes.count(*write_id) > 0) continue;
    orphans.push_back(file.path());
    parents.insert(ParentOf(file.path()));
    report.removed_bytes += file.size() > 0 ? file.size() : 0;
  }
  ARROW_RETURN_NOT_OK(DeleteFilesInParallel(filesystem, dir, orphans));
  for (const auto& parent : parents) RemoveEmptyDirsUpTo(filesystem, parent, dir);
  report.removed_files = std::move(orphans);
  if (pending) ARROW_UNUSED(filesystem->DeleteFile(JoinPath(dir, kVacuumPendingName)));
  return report;
}

arrow::Status MarkVacuumPending(arrow::fs::FileSystem* filesystem, const std::string& dir) {
  if (IsLocalFileSystem(*filesystem)) {
    // Opening a link would write (truncate) what it points to.
    struct stat st;
    const std::string path = JoinPath(dir, kVacuumPendingName);
    if (lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
      return arrow::Status::IOError("'", path, "' is a symbolic link; not writing through it");
    }
  }
  ARROW_ASSIGN_OR_RAISE(auto marker,
                        filesystem->OpenOutputStream(JoinPath(dir, kVacuumPendingName)));
  return marker->Close();
}

arrow::Result<VacuumReport> VacuumTarget(const std::string& target, int64_t retention_seconds) {
  std::string path;
  ARROW_ASSIGN_OR_RAISE(auto filesystem,
                        FileSystemFromUriOrPath(NormalizeUriOrPath(target), &path));
  ARROW_ASSIGN_OR_RAISE(auto info, filesystem->GetFileInfo(path));
  if (info.type() != arrow::fs::FileType::Directory) {
    return arrow::Status::IOError("No such directory: ", target);
  }
  std::unique_ptr<CommitLock> lock;
  if (IsLocalFileSystem(*filesystem)) {
    lock = MakeLocalCommitLock(path);
    ARROW_RETURN_NOT_OK(lock->Acquire());
  }
  return RemoveAbandonedWrites(filesystem.get(), path, /*scan_all_files=*/true, retention_seconds);
}

}  // namespace sluice::io
