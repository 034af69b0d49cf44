#include "table/commit_protocol.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "storage/filesystems.h"
#include "storage/parallel_requests.h"
#include "storage/storage_paths.h"
#include "table/table_vacuum.h"
#include "table/write_owner.h"

namespace sluice::io {

namespace {

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

arrow::Result<std::vector<arrow::fs::FileInfo>> ListVisibleEntries(arrow::fs::FileSystem* fs,
                                                                   const std::string& dir) {
  arrow::fs::FileSelector selector;
  selector.base_dir = dir;
  selector.recursive = false;
  selector.allow_not_found = true;
  ARROW_ASSIGN_OR_RAISE(auto entries, fs->GetFileInfo(selector));
  std::vector<arrow::fs::FileInfo> visible;
  for (auto& entry : entries) {
    if (!IsHiddenName(entry.base_name())) visible.push_back(std::move(entry));
  }
  return visible;
}

arrow::Status DeleteDirIfExists(arrow::fs::FileSystem* fs, const std::string& dir) {
  ARROW_ASSIGN_OR_RAISE(auto info, fs->GetFileInfo(dir));
  if (info.type() == arrow::fs::FileType::NotFound) return arrow::Status::OK();
  return fs->DeleteDir(dir);
}

arrow::Status NonEmptyTargetError(const std::string& target) {
  return arrow::Status::IOError("'", target,
                                "' already exists and is not empty; use mode='overwrite' or "
                                "'append'");
}

/// Whether the target holds a table: committed files, or visible entries where no
/// manifest says what is committed.
arrow::Result<bool> TargetHasData(arrow::fs::FileSystem* fs, const std::string& dir) {
  ARROW_ASSIGN_OR_RAISE(auto manifest, ReadManifest(fs, dir));
  if (manifest) return !manifest->files.empty();
  ARROW_ASSIGN_OR_RAISE(auto visible, ListVisibleEntries(fs, dir));
  return !visible.empty();
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out = "[";
  for (size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + names[i];
  return out + "]";
}

/// `path` relative to `dir` (which it is below), '/'-separated.
std::string RelativeBelow(const std::string& path, const std::string& dir) {
  const size_t prefix = dir.size() + (dir.back() == '/' ? 0 : 1);
  return path.size() > prefix ? path.substr(prefix) : std::string();
}

/// Whether `relative` is inside one of `scopes` ("" stands for everything).
bool InScopes(const std::string& relative, const std::vector<std::string>& scopes) {
  for (const auto& scope : scopes) {
    if (scope.empty() || relative.rfind(scope + "/", 0) == 0) return true;
  }
  return false;
}

/// Content Sluice did not write: links (never part of a table), special files, and files
/// without a Sluice data file name. Every file Sluice writes has one; a file a manifest
/// lists without one was adopted (a directory written by other tools, or a user's notes
/// next to the data) and stays foreign, or an append would make it deletable.
bool IsForeign(const TreeEntry& entry, const std::string& relative) {
  if (entry.symlink || entry.info.type() != arrow::fs::FileType::File) return true;
  return !SluiceDataFileWriteId(BaseName(relative)).has_value();
}

std::string DescribeForeign(const TreeEntry& entry, const std::string& relative) {
  if (entry.symlink) return relative + " (symbolic link)";
  if (entry.info.type() != arrow::fs::FileType::File) return relative + " (not a regular file)";
  return relative;
}

/// "a, b, c, d, e and 3 more".
std::string ListFirstFew(const std::vector<std::string>& names) {
  constexpr size_t kShown = 5;
  std::string out;
  for (size_t i = 0; i < names.size() && i < kShown; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > kShown) out += " and " + std::to_string(names.size() - kShown) + " more";
  return out;
}

}  // namespace

arrow::Result<std::unique_ptr<CommitProtocol>> CommitProtocol::Begin(const std::string& target,
                                                                     CommitOptions options) {
  std::string trimmed = target;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  if (trimmed.empty()) return arrow::Status::Invalid("write: the target path is empty");

  std::unique_ptr<CommitProtocol> commit(new CommitProtocol());
  commit->target_as_given_ = trimmed;
  commit->options_ = std::move(options);

  // A relative path is relative to the working directory, as for any other file API.
  ARROW_ASSIGN_OR_RAISE(commit->filesystem_,
                        FileSystemFromUriOrPath(NormalizeUriOrPath(trimmed), &commit->target_dir_,
                                                commit->options_.session));
  arrow::fs::FileSystem* fs = commit->filesystem_.get();

  ARROW_ASSIGN_OR_RAISE(auto info, fs->GetFileInfo(commit->target_dir_));
  if (info.type() == arrow::fs::FileType::File) {
    return arrow::Status::IOError("'", trimmed,
                                  "' is a file; a write produces a directory of files");
  }
  if (info.type() == arrow::fs::FileType::NotFound) {
    if (IsLocalFileSystem(*fs)) {
      // Remember every directory we create so Abort() can remove them again.
      std::vector<std::string> missing;
      for (std::string dir = commit->target_dir_; !dir.empty(); dir = ParentOf(dir)) {
        ARROW_ASSIGN_OR_RAISE(auto dir_info, fs->GetFileInfo(dir));
        if (dir_info.type() != arrow::fs::FileType::NotFound) break;
        missing.push_back(dir);
      }
      std::reverse(missing.begin(), missing.end());
      for (const auto& dir : missing) {
        ARROW_RETURN_NOT_OK(fs->CreateDir(dir, /*recursive=*/false));
        commit->created_by_begin_.push_back(dir);
      }
    }
    // Object stores have no directories: the prefix exists once an object is under it.
  } else if (commit->options_.mode == WriteMode::kError) {
    ARROW_ASSIGN_OR_RAISE(bool has_data, TargetHasData(fs, commit->target_dir_));
    if (has_data) {
      commit->finished_ = true;  // nothing was created
      return NonEmptyTargetError(trimmed);
    }
  }

  commit->write_id_ = RandomUuid();
  commit->staging_dir_ =
      JoinPath(commit->target_dir_, StagingDirName(CurrentWriteOwner(commit->write_id_)));
  ARROW_RETURN_NOT_OK(fs->CreateDir(commit->staging_dir_, /*recursive=*/true));
  return commit;
}

CommitProtocol::~CommitProtocol() { ARROW_UNUSED(Abort()); }

arrow::Status CommitProtocol::Abort() {
  if (finished_ || !filesystem_) return arrow::Status::OK();
  finished_ = true;
  arrow::Status status;
  if (!staging_dir_.empty()) status = DeleteDirIfExists(filesystem_.get(), staging_dir_);
  // The lock file of a failed first commit stays: another writer may hold a lock on it,
  // and a new file of that name would let a third writer in beside it.
  for (auto it = created_by_begin_.rbegin(); it != created_by_begin_.rend(); ++it) {
    auto removed = RemoveDirIfEmpty(filesystem_.get(), *it);
    if (status.ok()) status = removed.status();
  }
  return status;
}

arrow::Result<std::vector<std::string>> CommitProtocol::Commit(
    const std::vector<StagedOutput>& files) {
  if (finished_) return arrow::Status::Invalid("write to '", target_as_given_, "' already ended");
  // Locally the target's flock is always taken, so table writes, path writes and vacuum
  // exclude each other; a catalog table adds its lock row (taken second, by everyone).
  std::vector<std::unique_ptr<CommitLock>> locks;
  if (IsLocalFileSystem(*filesystem_)) locks.push_back(MakeLocalCommitLock(target_dir_));
  if (options_.lock) locks.push_back(std::move(options_.lock));
  arrow::Status locked;
  size_t held = 0;
  for (; held < locks.size() && locked.ok(); ++held) locked = locks[held]->Acquire();
  arrow::Result<TableManifest> committed =
      locked.ok() ? CommitLocked(files) : arrow::Result<TableManifest>(locked);
  if (!committed.ok() && !manifest_written_ && !outcome_unknown_) {
    UnpublishAll();  // still under the lock: no other commit can be in between
  }
  for (auto& lock : locks) lock->Release();
  if (!committed.ok() && !manifest_written_) {
    ARROW_UNUSED(Abort());
    return committed.status();
  }
  finished_ = true;
  // The data is published; leftovers from here on are hidden and harmless.
  ARROW_UNUSED(DeleteDirIfExists(filesystem_.get(), staging_dir_));

  std::vector<std::string> paths;
  paths.reserve(files.size());
  for (const auto& file : files) paths.push_back(JoinPath(target_as_given_, file.relative_path));
  std::sort(paths.begin(), paths.end());
  return paths;
}

arrow::Result<TableManifest> CommitProtocol::CommitLocked(const std::vector<StagedOutput>& files) {
  arrow::fs::FileSystem* fs = filesystem_.get();
  ARROW_RETURN_NOT_OK(RefuseLinkedPublishDirs(files));
  const std::vector<std::string> scopes = ReplacedScopes(files);
  ARROW_ASSIGN_OR_RAISE(std::optional<TableManifest> existing, ReadManifest(fs, target_dir_));
  const bool adopted = !existing.has_value();
  // Adoption needs all of the target, an overwrite what it replaces.
  std::vector<TreeEntry> listing;
  if (adopted) {
    ARROW_ASSIGN_OR_RAISE(listing, ListTreeWithoutFollowing(fs, target_dir_));
  } else {
    ARROW_ASSIGN_OR_RAISE(listing, ListScopes(scopes));
  }
  for (const auto& entry : listing) {
    if (InScopes(RelativeBelow(entry.info.path(), target_dir_), scopes)) {
      replaced_scope_entries_.push_back(entry);
    }
  }
  ARROW_RETURN_NOT_OK(RefuseForeignContent(replaced_scope_entries_));
  TableManifest before;
  if (adopted) {
    ARROW_ASSIGN_OR_RAISE(before, AdoptManifest(listing, scopes));
  } else {
    before = std::move(*existing);
  }
  if (options_.mode == WriteMode::kError && !before.files.empty()) {
    // Another writer may have filled the target while the pipeline ran.
    return NonEmptyTargetError(target_as_given_);
  }
  const bool keeps_old_files =
      options_.mode == WriteMode::kAppend || options_.mode == WriteMode::kOverwritePartitions;
  if (keeps_old_files && !before.files.empty() && !before.partition_cols.empty() &&
      before.partition_cols != options_.partition_cols) {
    return arrow::Status::Invalid(
        "'", target_as_given_, "' is partitioned by ", JoinNames(before.partition_cols),
        " but this ", WriteModeName(options_.mode), " write is partitioned by ",
        JoinNames(options_.partition_cols), "; use the same partition columns or mode='overwrite'");
  }

  if (options_.before_publish) ARROW_RETURN_NOT_OK(options_.before_publish(before));

  // What killed writes left; failing to clean up must not fail this write.
  auto cleaned =
      RemoveAbandonedWrites(fs, target_dir_, /*scan_all_files=*/false, options_.retention_seconds);
  ARROW_UNUSED(cleaned);

  ARROW_RETURN_NOT_OK(PublishAll(files));
  TableManifest after = NextManifest(before, files);
  arrow::Status written = WriteManifest(fs, target_dir_, after);
  if (!written.ok()) {
    // A request that failed on the way back may still have replaced the manifest.
    auto current = ReadManifest(fs, target_dir_);
    if (!current.ok()) {
      // Unknown: the published files may be committed, so they must stay.
      outcome_unknown_ = true;
      return written.WithMessage(
          "'", target_as_given_, "': it is unknown whether the write was committed (",
          written.message(), "; reading the manifest back: ", current.status().message(),
          "); read the target to see, and leftovers are removed by the "
          "next write or 'sluice vacuum'");
    }
    if (!*current || (*current)->write_id != write_id_) return written;
  }
  manifest_written_ = true;
  committed_ = after;

  if (options_.on_committed) {
    // Checked before publishing (before_publish); what fails here is the catalog itself.
    std::optional<TableManifest> previous;
    if (!adopted || !before.files.empty()) previous = before;
    arrow::Status hooked = options_.on_committed(previous, after);
    if (!hooked.ok()) {
      // The data is committed; the catalog catches up from the manifest on its next use.
      Session().Warn("'" + target_as_given_ +
                     "' was written but registering it failed: " + hooked.ToString());
    }
  }

  arrow::Status deleted = DeleteReplacedFiles(before, after);
  if (!deleted.ok()) {
    // Readers honouring the manifest do not see them; a marker makes the next commit scan
    // for them.
    Session().Warn("'" + target_as_given_ + "' was written but deleting the files it replaced failed (" +
                   deleted.ToString() + "); the next write to it or 'sluice vacuum' removes them");
    ARROW_UNUSED(MarkVacuumPending(fs, target_dir_));
  }
  return after;
}

arrow::Status CommitProtocol::DeleteReplacedFiles(const TableManifest& before,
                                                  const TableManifest& after) {
  arrow::fs::FileSystem* fs = filesystem_.get();
  std::set<std::string> kept;
  for (const auto& file : after.files) kept.insert(JoinPath(target_dir_, file.path));
  std::set<std::string> replaced;
  for (const auto& file : before.files) {
    const std::string path = JoinPath(target_dir_, file.path);
    if (kept.count(path) == 0) replaced.insert(path);
  }
  // Overwriting replaces everything visible in its scope that Sluice wrote (orphans of
  // failed writes included), and with replace_foreign_files also what it did not write,
  // as a directory overwrite does in Spark. What appeared after the check stays.
  for (const auto& entry : replaced_scope_entries_) {
    const std::string relative = RelativeBelow(entry.info.path(), target_dir_);
    if (kept.count(entry.info.path()) > 0) continue;
    if (!options_.replace_foreign_files && IsForeign(entry, relative)) continue;
    replaced.insert(entry.info.path());
  }
  std::set<std::string> parents;
  for (const auto& path : replaced) parents.insert(ParentOf(path));
  arrow::Status deleted = DeleteFilesInParallel(
      fs, target_dir_, std::vector<std::string>(replaced.begin(), replaced.end()));
  for (const auto& parent : parents) RemoveEmptyDirsUpTo(fs, parent, target_dir_);
  return deleted;
}

arrow::Result<std::vector<TreeEntry>> CommitProtocol::ListScopes(
    const std::vector<std::string>& scopes) const {
  arrow::fs::FileSystem* fs = filesystem_.get();
  std::vector<std::vector<TreeEntry>> listed(scopes.size());
  ARROW_RETURN_NOT_OK(
      ForEachInParallel(static_cast<int64_t>(scopes.size()), IsLocalFileSystem(*fs) ? 1 : 16,
                        [&](int64_t i) -> arrow::Status {
                          ARROW_ASSIGN_OR_RAISE(
                              listed[i],
                              ListTreeWithoutFollowing(fs, JoinPath(target_dir_, scopes[i])));
                          return arrow::Status::OK();
                        }));
  std::vector<TreeEntry> all;
  for (auto& entries : listed) {
    all.insert(all.end(), std::make_move_iterator(entries.begin()),
               std::make_move_iterator(entries.end()));
  }
  return all;
}

std::vector<std::string> CommitProtocol::ReplacedScopes(
    const std::vector<StagedOutput>& files) const {
  if (options_.mode == WriteMode::kOverwrite ||
      (options_.mode == WriteMode::kOverwritePartitions && options_.partition_cols.empty())) {
    return {""};
  }
  if (options_.mode != WriteMode::kOverwritePartitions) return {};
  std::set<std::string> dirs;
  for (const auto& file : files) dirs.insert(ParentOf(file.relative_path));
  return std::vector<std::string>(dirs.begin(), dirs.end());
}

arrow::Status CommitProtocol::RefuseLinkedPublishDirs(
    const std::vector<StagedOutput>& files) const {
  if (!IsLocalFileSystem(*filesystem_)) return arrow::Status::OK();
  std::set<std::string> checked;
  for (const auto& file : files) {
    const std::string dir = ParentOf(file.relative_path);
    if (dir.empty() || !checked.insert(dir).second) continue;
    ARROW_ASSIGN_OR_RAISE(std::string link,
                          SymlinkedDirectoryOnPath(target_dir_, JoinPath(target_dir_, file.relative_path)));
    if (!link.empty()) {
      return arrow::Status::IOError("cannot write '", file.relative_path, "' in '",
                                    target_as_given_, "': '", RelativeBelow(link, target_dir_),
                                    "' is a symbolic link, and Sluice never writes through a link "
                                    "below its target; remove the link or write elsewhere");
    }
  }
  return arrow::Status::OK();
}

arrow::Status CommitProtocol::RefuseForeignContent(const std::vector<TreeEntry>& replaced) const {
  if (options_.replace_foreign_files) return arrow::Status::OK();
  std::vector<std::string> foreign;
  for (const auto& entry : replaced) {
    const std::string relative = RelativeBelow(entry.info.path(), target_dir_);
    if (IsForeign(entry, relative)) foreign.push_back(DescribeForeign(entry, relative));
  }
  if (foreign.empty()) return arrow::Status::OK();
  std::sort(foreign.begin(), foreign.end());
  return arrow::Status::IOError(
      "mode='", WriteModeName(options_.mode), "' would delete ", foreign.size(),
      foreign.size() == 1 ? " entry" : " entries", " of '", target_as_given_,
      "' that Sluice did not write (not named like its data files): ",
      ListFirstFew(foreign),
      "; move them away, or pass replace_foreign_files=True (CLI: --replace-foreign-files) to "
      "delete them (a symbolic link is removed, never what it points to)");
}

arrow::Result<TableManifest> CommitProtocol::AdoptManifest(const std::vector<TreeEntry>& listing,
                                                           const std::vector<std::string>& scopes) {
  // The files are there already; the manifest only has to say so before new ones appear.
  TableManifest adopted_manifest;
  adopted_manifest.write_id = write_id_;
  adopted_manifest.operation = "adopt";
  adopted_manifest.committed_at_ms = NowMillis();
  std::vector<std::string> links;
  for (const auto& entry : listing) {
    std::string relative = RelativeBelow(entry.info.path(), target_dir_);
    if (relative.empty()) continue;
    if (entry.symlink) {
      // A manifest never lists a path through a link, so what a link leads to would
      // silently drop out of the table; unless this write removes the link, refuse.
      if (!(options_.replace_foreign_files && InScopes(relative, scopes))) {
        links.push_back(std::move(relative));
      }
      continue;
    }
    if (entry.info.type() != arrow::fs::FileType::File) continue;
    adopted_manifest.files.push_back({std::move(relative), -1, entry.info.size()});
  }
  if (!links.empty()) {
    std::sort(links.begin(), links.end());
    return arrow::Status::IOError(
        "'", target_as_given_, "' has no Sluice manifest and holds symbolic links (",
        ListFirstFew(links),
        "); a manifest cannot list what they lead to, so it would drop out of the table: "
        "remove the links, or write elsewhere");
  }
  std::sort(adopted_manifest.files.begin(), adopted_manifest.files.end(),
            [](const ManifestFile& a, const ManifestFile& b) { return a.path < b.path; });
  ARROW_RETURN_NOT_OK(WriteManifest(filesystem_.get(), target_dir_, adopted_manifest));
  adopted_empty_manifest_ = adopted_manifest.files.empty();
  return adopted_manifest;
}

TableManifest CommitProtocol::NextManifest(const TableManifest& before,
                                           const std::vector<StagedOutput>& files) const {
  TableManifest after;
  after.snapshot = before.snapshot + 1;
  after.write_id = write_id_;
  after.operation = WriteModeName(options_.mode);
  after.committed_at_ms = NowMillis();
  after.partition_cols = options_.partition_cols;

  std::set<std::string> replaced_dirs;
  bool keep_old = false;
  switch (options_.mode) {
    case WriteMode::kError:
    case WriteMode::kAppend:
      keep_old = true;
      break;
    case WriteMode::kOverwrite:
      break;
    case WriteMode::kOverwritePartitions:
      // Unpartitioned, the whole target is the one partition written.
      keep_old = !options_.partition_cols.empty();
      for (const auto& file : files) replaced_dirs.insert(ParentOf(file.relative_path) + "/");
      break;
  }
  if (keep_old) {
    for (const auto& file : before.files) {
      bool replaced = false;
      for (const auto& dir : replaced_dirs) replaced |= file.path.rfind(dir, 0) == 0;
      if (!replaced) after.files.push_back(file);
    }
  }
  for (const auto& file : files) {
    after.files.push_back({file.relative_path, file.rows, file.bytes});
  }
  std::sort(after.files.begin(), after.files.end(),
            [](const ManifestFile& a, const ManifestFile& b) { return a.path < b.path; });
  return after;
}

arrow::Status CommitProtocol::PublishAll(const std::vector<StagedOutput>& files) {
  arrow::fs::FileSystem* fs = filesystem_.get();
  const bool local = IsLocalFileSystem(*fs);
  if (local) {
    for (const auto& file : files)
      ARROW_RETURN_NOT_OK(EnsureTargetSubdir(ParentOf(file.relative_path)));
  }
  // Every destination is recorded before moving: names are unique to this write, so
  // deleting one that was never created is harmless, and a partial S3 copy is covered.
  for (const auto& file : files) published_.push_back(JoinPath(target_dir_, file.relative_path));
  return ForEachInParallel(static_cast<int64_t>(files.size()), local ? 1 : 16, [&](int64_t i) {
    const auto& file = files[i];
    arrow::Status moved = fs->Move(file.staged_path, published_[i]);
    if (!moved.ok()) {
      return moved.WithMessage("publishing '", file.relative_path, "' in '", target_as_given_,
                               "': ", moved.message());
    }
    return arrow::Status::OK();
  });
}

void CommitProtocol::UnpublishAll() {
  arrow::fs::FileSystem* fs = filesystem_.get();
  ARROW_UNUSED(DeleteFilesInParallel(fs, target_dir_, published_));
  published_.clear();
  for (auto it = created_dirs_.rbegin(); it != created_dirs_.rend(); ++it) {
    ARROW_UNUSED(RemoveDirIfEmpty(fs, *it));
  }
  created_dirs_.clear();
  if (adopted_empty_manifest_) {
    // Nothing was there before this write; leave nothing (unless another commit has
    // replaced the manifest since, which the lock rules out on a local disk).
    auto current = ReadManifest(fs, target_dir_);
    if (current.ok() && *current && (*current)->write_id == write_id_ &&
        (*current)->files.empty()) {
      ARROW_UNUSED(fs->DeleteFile(JoinPath(target_dir_, kManifestFileName)));
    }
  }
}

arrow::Status CommitProtocol::EnsureTargetSubdir(const std::string& relative_dir) {
  if (relative_dir.empty()) return arrow::Status::OK();
  size_t end = 0;
  while (end != std::string::npos) {
    end = relative_dir.find('/', end + 1);
    const std::string prefix = relative_dir.substr(0, end);
    if (existing_dirs_.count(prefix)) continue;
    const std::string full = JoinPath(target_dir_, prefix);
    // lstat: a link to a directory is not a directory to write into.
    struct stat st;
    if (lstat(full.c_str(), &st) != 0) {
      if (errno != ENOENT) {
        return arrow::Status::IOError("cannot read '", full, "': ", std::strerror(errno));
      }
      ARROW_RETURN_NOT_OK(filesystem_->CreateDir(full, /*recursive=*/false));
      created_dirs_.push_back(full);
    } else if (S_ISLNK(st.st_mode)) {
      return arrow::Status::IOError("cannot write into '", prefix, "' in '", target_as_given_,
                                    "': it is a symbolic link, and Sluice never writes through a "
                                    "link below its target; remove the link or write elsewhere");
    } else if (!S_ISDIR(st.st_mode)) {
      return arrow::Status::IOError("cannot create directory '", prefix, "' in '", target_as_given_,
                                    "': a file with that name exists");
    }
    existing_dirs_.insert(prefix);
  }
  return arrow::Status::OK();
}

}  // namespace sluice::io
