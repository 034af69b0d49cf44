#include "io/commit_protocol.h"

#include <algorithm>
#include <chrono>
#include <iostream>

#include "io/filesystems.h"
#include "io/parallel_requests.h"
#include "io/storage_paths.h"
#include "io/table_vacuum.h"
#include "io/write_owner.h"

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
                        FileSystemFromUriOrPath(NormalizeUriOrPath(trimmed), &commit->target_dir_));
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
  bool adopted = false;
  ARROW_ASSIGN_OR_RAISE(TableManifest before, ReadOrAdoptManifest(&adopted));
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
      std::cerr << "sluice: warning: '" << target_as_given_
                << "' was written but registering it failed: " << hooked.ToString() << std::endl;
    }
  }

  arrow::Status deleted = DeleteReplacedFiles(before, after, files);
  if (!deleted.ok()) {
    // Readers honouring the manifest do not see them; a marker makes the next commit scan
    // for them.
    std::cerr << "sluice: warning: '" << target_as_given_
              << "' was written but deleting the files it replaced failed (" << deleted.ToString()
              << "); the next write to it or 'sluice vacuum' removes them" << std::endl;
    ARROW_UNUSED(MarkVacuumPending(fs, target_dir_));
  }
  return after;
}

arrow::Status CommitProtocol::DeleteReplacedFiles(const TableManifest& before,
                                                  const TableManifest& after,
                                                  const std::vector<StagedOutput>& files) {
  arrow::fs::FileSystem* fs = filesystem_.get();
  std::set<std::string> kept;
  for (const auto& file : after.files) kept.insert(JoinPath(target_dir_, file.path));
  std::set<std::string> replaced;
  for (const auto& file : before.files) {
    const std::string path = JoinPath(target_dir_, file.path);
    if (kept.count(path) == 0) replaced.insert(path);
  }
  // Overwriting replaces everything visible in its scope, files the manifest never
  // listed (put there by hand or by other tools) included, as a directory overwrite does
  // in Spark.
  std::vector<std::string> scopes;
  if (options_.mode == WriteMode::kOverwrite ||
      (options_.mode == WriteMode::kOverwritePartitions && options_.partition_cols.empty())) {
    scopes.push_back(target_dir_);
  } else if (options_.mode == WriteMode::kOverwritePartitions) {
    std::set<std::string> dirs;
    for (const auto& file : files) dirs.insert(JoinPath(target_dir_, ParentOf(file.relative_path)));
    scopes.assign(dirs.begin(), dirs.end());
  }
  std::vector<std::vector<arrow::fs::FileInfo>> listed(scopes.size());
  ARROW_RETURN_NOT_OK(
      ForEachInParallel(static_cast<int64_t>(scopes.size()), IsLocalFileSystem(*fs) ? 1 : 16,
                        [&](int64_t i) -> arrow::Status {
                          arrow::fs::FileSelector selector;
                          selector.base_dir = scopes[i];
                          selector.recursive = true;
                          selector.allow_not_found = true;
                          ARROW_ASSIGN_OR_RAISE(listed[i], fs->GetFileInfo(selector));
                          return arrow::Status::OK();
                        }));
  const size_t prefix = target_dir_.size() + 1;
  for (const auto& entries : listed) {
    for (const auto& entry : entries) {
      if (entry.type() != arrow::fs::FileType::File || entry.path().size() <= prefix) continue;
      if (HasHiddenSegment(entry.path().substr(prefix))) continue;
      if (kept.count(entry.path()) == 0) replaced.insert(entry.path());
    }
  }
  std::set<std::string> parents;
  for (const auto& path : replaced) parents.insert(ParentOf(path));
  arrow::Status deleted =
      DeleteFilesInParallel(fs, std::vector<std::string>(replaced.begin(), replaced.end()));
  for (const auto& parent : parents) RemoveEmptyDirsUpTo(fs, parent, target_dir_);
  return deleted;
}

arrow::Result<TableManifest> CommitProtocol::ReadOrAdoptManifest(bool* adopted) {
  arrow::fs::FileSystem* fs = filesystem_.get();
  ARROW_ASSIGN_OR_RAISE(auto existing, ReadManifest(fs, target_dir_));
  *adopted = !existing.has_value();
  if (existing) return std::move(*existing);

  // The files are there already; the manifest only has to say so before new ones appear.
  TableManifest adopted_manifest;
  adopted_manifest.write_id = write_id_;
  adopted_manifest.operation = "adopt";
  adopted_manifest.committed_at_ms = NowMillis();
  arrow::fs::FileSelector selector;
  selector.base_dir = target_dir_;
  selector.recursive = true;
  selector.allow_not_found = true;
  ARROW_ASSIGN_OR_RAISE(auto entries, fs->GetFileInfo(selector));
  const size_t prefix = target_dir_.size() + (target_dir_.back() == '/' ? 0 : 1);
  for (const auto& entry : entries) {
    if (entry.type() != arrow::fs::FileType::File || entry.path().size() <= prefix) continue;
    std::string relative = entry.path().substr(prefix);
    if (HasHiddenSegment(relative)) continue;
    adopted_manifest.files.push_back({std::move(relative), -1, entry.size()});
  }
  std::sort(adopted_manifest.files.begin(), adopted_manifest.files.end(),
            [](const ManifestFile& a, const ManifestFile& b) { return a.path < b.path; });
  ARROW_RETURN_NOT_OK(WriteManifest(fs, target_dir_, adopted_manifest));
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
  ARROW_UNUSED(DeleteFilesInParallel(fs, published_));
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
    ARROW_ASSIGN_OR_RAISE(auto info, filesystem_->GetFileInfo(full));
    if (info.type() == arrow::fs::FileType::NotFound) {
      ARROW_RETURN_NOT_OK(filesystem_->CreateDir(full, /*recursive=*/false));
      created_dirs_.push_back(full);
    } else if (info.type() != arrow::fs::FileType::Directory) {
      return arrow::Status::IOError("cannot create directory '", prefix, "' in '", target_as_given_,
                                    "': a file with that name exists");
    }
    existing_dirs_.insert(prefix);
  }
  return arrow::Status::OK();
}

}  // namespace sluice::io
