#include "io/commit_protocol.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <random>
#include <set>

#include "io/filesystems.h"

namespace sluice::io {

namespace {

constexpr const char* kSuccessMarker = "_SUCCESS";

/// Names starting with '_' or '.' are invisible to readers (staging, trash, _SUCCESS,
/// checksum files), so they never count as data and are never replaced.
bool IsHiddenName(const std::string& name) {
  return !name.empty() && (name[0] == '_' || name[0] == '.');
}

std::string ParentOf(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

std::string JoinPath(const std::string& dir, const std::string& relative) {
  if (relative.empty()) return dir;
  if (dir.empty()) return relative;
  return dir.back() == '/' ? dir + relative : dir + "/" + relative;
}

/// A random (version 4) UUID. Names from different writes to the same target must not
/// collide, even across processes, so this does not use a per-process counter.
std::string RandomUuid() {
  std::random_device device;
  std::mt19937_64 generator((static_cast<uint64_t>(device()) << 32) ^ device());
  uint64_t high = generator();
  uint64_t low = generator();
  high = (high & ~0xF000ULL) | 0x4000ULL;                // version 4
  low = (low & ~(0xC000ULL << 48)) | (0x8000ULL << 48);  // RFC 4122 variant
  char text[37];
  std::snprintf(text, sizeof(text), "%08x-%04x-%04x-%04x-%012llx",
                static_cast<unsigned>(high >> 32), static_cast<unsigned>((high >> 16) & 0xFFFF),
                static_cast<unsigned>(high & 0xFFFF), static_cast<unsigned>(low >> 48),
                static_cast<unsigned long long>(low & 0xFFFFFFFFFFFFULL));
  return text;
}

arrow::Result<std::vector<arrow::fs::FileInfo>> ListVisibleEntries(arrow::fs::FileSystem* fs,
                                                                   const std::string& dir) {
  arrow::fs::FileSelector selector;
  selector.base_dir = dir;
  selector.recursive = false;
  ARROW_ASSIGN_OR_RAISE(auto entries, fs->GetFileInfo(selector));
  std::vector<arrow::fs::FileInfo> visible;
  for (auto& entry : entries) {
    if (!IsHiddenName(entry.base_name())) visible.push_back(std::move(entry));
  }
  return visible;
}

arrow::Status RemoveDirIfEmpty(arrow::fs::FileSystem* fs, const std::string& dir) {
  arrow::fs::FileSelector selector;
  selector.base_dir = dir;
  selector.allow_not_found = true;
  ARROW_ASSIGN_OR_RAISE(auto entries, fs->GetFileInfo(selector));
  if (!entries.empty()) return arrow::Status::OK();
  ARROW_ASSIGN_OR_RAISE(auto info, fs->GetFileInfo(dir));
  if (info.type() != arrow::fs::FileType::Directory) return arrow::Status::OK();
  return fs->DeleteDir(dir);
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

}  // namespace

arrow::Result<std::unique_ptr<CommitProtocol>> CommitProtocol::Begin(const std::string& target,
                                                                     WriteMode mode) {
  std::string trimmed = target;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  if (trimmed.empty()) return arrow::Status::Invalid("write: the target path is empty");

  std::unique_ptr<CommitProtocol> commit(new CommitProtocol());
  commit->target_as_given_ = trimmed;
  commit->mode_ = mode;

  // Arrow's local filesystem wants absolute paths; a relative one is relative to the
  // working directory, as it would be for any other file API.
  std::string uri_or_path = trimmed;
  if (trimmed.find("://") == std::string::npos && !std::filesystem::path(trimmed).is_absolute()) {
    uri_or_path = std::filesystem::absolute(trimmed).lexically_normal().string();
    while (uri_or_path.size() > 1 && uri_or_path.back() == '/') uri_or_path.pop_back();
  }
  ARROW_ASSIGN_OR_RAISE(commit->filesystem_,
                        FileSystemFromUriOrPath(uri_or_path, &commit->target_dir_));
  arrow::fs::FileSystem* fs = commit->filesystem_.get();

  ARROW_ASSIGN_OR_RAISE(auto info, fs->GetFileInfo(commit->target_dir_));
  if (info.type() == arrow::fs::FileType::File) {
    return arrow::Status::IOError("'", trimmed,
                                  "' is a file; a write produces a directory of files");
  }
  if (info.type() == arrow::fs::FileType::NotFound) {
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
  } else if (mode == WriteMode::kError) {
    ARROW_ASSIGN_OR_RAISE(auto visible, ListVisibleEntries(fs, commit->target_dir_));
    if (!visible.empty()) {
      commit->finished_ = true;  // nothing was created
      return NonEmptyTargetError(trimmed);
    }
  }

  commit->write_id_ = RandomUuid();
  commit->staging_dir_ = JoinPath(commit->target_dir_, "_sluice_staging_" + commit->write_id_);
  commit->trash_dir_ = JoinPath(commit->target_dir_, "_sluice_trash_" + commit->write_id_);
  ARROW_RETURN_NOT_OK(fs->CreateDir(commit->staging_dir_, /*recursive=*/false));
  return commit;
}

CommitProtocol::~CommitProtocol() { ARROW_UNUSED(Abort()); }

arrow::Status CommitProtocol::Abort() {
  if (finished_ || !filesystem_) return arrow::Status::OK();
  finished_ = true;
  arrow::Status status;
  if (!staging_dir_.empty()) status = DeleteDirIfExists(filesystem_.get(), staging_dir_);
  for (auto it = created_by_begin_.rbegin(); it != created_by_begin_.rend(); ++it) {
    auto removed = RemoveDirIfEmpty(filesystem_.get(), *it);
    if (status.ok()) status = removed;
  }
  return status;
}

arrow::Result<std::vector<std::string>> CommitProtocol::Commit(
    const std::vector<StagedOutput>& files) {
  if (finished_) return arrow::Status::Invalid("write to '", target_as_given_, "' already ended");
  arrow::Status published = PublishAll(files);
  if (!published.ok()) {
    const bool restored = Undo();
    ARROW_UNUSED(Abort());
    if (!restored) {
      return published.WithMessage(published.message(),
                                   "; restoring the replaced files also failed, they are kept "
                                   "in '",
                                   trash_dir_, "'");
    }
    return published;
  }
  finished_ = true;
  // The data is published; leftovers from here on are hidden and harmless.
  ARROW_UNUSED(DeleteDirIfExists(filesystem_.get(), trash_dir_));
  ARROW_UNUSED(DeleteDirIfExists(filesystem_.get(), staging_dir_));

  std::vector<std::string> paths;
  paths.reserve(files.size());
  for (const auto& file : files) paths.push_back(JoinPath(target_as_given_, file.relative_path));
  std::sort(paths.begin(), paths.end());
  return paths;
}

arrow::Status CommitProtocol::PublishAll(const std::vector<StagedOutput>& files) {
  arrow::fs::FileSystem* fs = filesystem_.get();
  if (mode_ == WriteMode::kError) {
    // Another writer may have filled the target while the pipeline ran.
    ARROW_ASSIGN_OR_RAISE(auto visible, ListVisibleEntries(fs, target_dir_));
    if (!visible.empty()) return NonEmptyTargetError(target_as_given_);
  }

  const std::string marker = JoinPath(target_dir_, kSuccessMarker);
  ARROW_ASSIGN_OR_RAISE(auto marker_info, fs->GetFileInfo(marker));
  if (marker_info.type() != arrow::fs::FileType::NotFound) ARROW_RETURN_NOT_OK(MoveToTrash(marker));

  if (mode_ == WriteMode::kOverwrite) {
    ARROW_RETURN_NOT_OK(MoveVisibleEntriesToTrash(target_dir_));
  } else if (mode_ == WriteMode::kOverwritePartitions) {
    std::set<std::string> partition_dirs;
    for (const auto& file : files) partition_dirs.insert(ParentOf(file.relative_path));
    for (const auto& dir : partition_dirs) {
      const std::string full = JoinPath(target_dir_, dir);
      ARROW_ASSIGN_OR_RAISE(auto info, fs->GetFileInfo(full));
      if (info.type() == arrow::fs::FileType::Directory) {
        ARROW_RETURN_NOT_OK(MoveVisibleEntriesToTrash(full));
      }
    }
  }

  for (const auto& file : files) {
    ARROW_RETURN_NOT_OK(EnsureTargetSubdir(ParentOf(file.relative_path)));
    const std::string destination = JoinPath(target_dir_, file.relative_path);
    arrow::Status moved = fs->Move(file.staged_path, destination);
    if (!moved.ok()) {
      return moved.WithMessage("publishing '", file.relative_path, "' in '", target_as_given_,
                               "': ", moved.message());
    }
    undo_log_.push_back({UndoStep::Kind::kPublished, destination, ""});
  }

  ARROW_ASSIGN_OR_RAISE(auto marker_stream, fs->OpenOutputStream(marker));
  undo_log_.push_back({UndoStep::Kind::kPublished, marker, ""});
  return marker_stream->Close();
}

arrow::Status CommitProtocol::MoveToTrash(const std::string& path) {
  const std::string relative = path.substr(target_dir_.size() + 1);
  const std::string destination = JoinPath(trash_dir_, relative);
  ARROW_RETURN_NOT_OK(filesystem_->CreateDir(ParentOf(destination), /*recursive=*/true));
  arrow::Status moved = filesystem_->Move(path, destination);
  if (!moved.ok()) {
    return moved.WithMessage("replacing '", relative, "' in '", target_as_given_,
                             "': ", moved.message());
  }
  undo_log_.push_back({UndoStep::Kind::kMovedToTrash, path, destination});
  return arrow::Status::OK();
}

arrow::Status CommitProtocol::MoveVisibleEntriesToTrash(const std::string& dir) {
  ARROW_ASSIGN_OR_RAISE(auto visible, ListVisibleEntries(filesystem_.get(), dir));
  for (const auto& entry : visible) ARROW_RETURN_NOT_OK(MoveToTrash(entry.path()));
  return arrow::Status::OK();
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
      undo_log_.push_back({UndoStep::Kind::kCreatedDir, full, ""});
    } else if (info.type() != arrow::fs::FileType::Directory) {
      return arrow::Status::IOError("cannot create directory '", prefix, "' in '", target_as_given_,
                                    "': a file with that name exists");
    }
    existing_dirs_.insert(prefix);
  }
  return arrow::Status::OK();
}

bool CommitProtocol::Undo() {
  arrow::fs::FileSystem* fs = filesystem_.get();
  bool trash_restored = true;
  for (auto it = undo_log_.rbegin(); it != undo_log_.rend(); ++it) {
    switch (it->kind) {
      case UndoStep::Kind::kPublished:
        ARROW_UNUSED(fs->DeleteFile(it->path));
        break;
      case UndoStep::Kind::kMovedToTrash:
        if (!fs->Move(it->trash_path, it->path).ok()) trash_restored = false;
        break;
      case UndoStep::Kind::kCreatedDir:
        ARROW_UNUSED(RemoveDirIfEmpty(fs, it->path));
        break;
    }
  }
  undo_log_.clear();
  // Keep the trash if something could not be moved back: it then holds the user's data.
  if (trash_restored) ARROW_UNUSED(DeleteDirIfExists(fs, trash_dir_));
  return trash_restored;
}

}  // namespace sluice::io
