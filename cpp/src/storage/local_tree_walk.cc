#include "storage/local_tree_walk.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <set>
#include <utility>

#include "storage/filesystems.h"
#include "storage/storage_paths.h"

namespace sluice::io {

namespace {

using arrow::fs::FileInfo;
using arrow::fs::FileType;

using DirectoryId = std::pair<dev_t, ino_t>;

arrow::Status PosixError(const char* what, const std::string& path, int error) {
  return arrow::Status::IOError(what, " '", path, "': ", std::strerror(error));
}

/// The path with every link resolved; nullopt-like "" with `*error` set when it fails.
std::string RealPath(const std::string& path, int* error) {
  std::unique_ptr<char, decltype(&std::free)> resolved(realpath(path.c_str(), nullptr), &std::free);
  if (!resolved) {
    *error = errno;
    return "";
  }
  return resolved.get();
}

bool IsWithin(const std::string& path, const std::string& root) {
  if (root == "/") return true;
  return path == root ||
         (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
          path[root.size()] == '/');
}

FileInfo InfoFromStat(std::string path, const struct stat& st) {
  FileInfo info(std::move(path));
  if (S_ISREG(st.st_mode)) {
    info.set_type(FileType::File);
    info.set_size(st.st_size);
  } else if (S_ISDIR(st.st_mode)) {
    info.set_type(FileType::Directory);
  } else {
    info.set_type(FileType::Unknown);
  }
  info.set_mtime(arrow::fs::TimePoint(std::chrono::seconds(st.st_mtim.tv_sec) +
                                      std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
  return info;
}

class TreeWalker {
 public:
  explicit TreeWalker(const TreeWalkOptions& options) : options_(options) {}

  arrow::Result<std::vector<TreeEntry>> Walk(const std::string& start) {
    struct stat st;
    if (stat(start.c_str(), &st) != 0) return PosixError("cannot read directory", start, errno);
    if (!S_ISDIR(st.st_mode)) return arrow::Status::IOError("not a directory: '", start, "'");
    int error = 0;
    const std::string real_start = RealPath(start, &error);
    if (real_start.empty()) return PosixError("cannot resolve", start, error);
    if (options_.containment_root.empty()) {
      containment_real_ = real_start;
    } else {
      containment_real_ = RealPath(options_.containment_root, &error);
      if (containment_real_.empty()) {
        return PosixError("cannot resolve", options_.containment_root, error);
      }
    }
    visited_.insert({st.st_dev, st.st_ino});
    directories_.push_back({start, real_start, 0});
    // Directories reached without links first, so that a file's own path wins over a
    // path through a link to it.
    while (true) {
      while (!directories_.empty()) {
        Directory next = std::move(directories_.front());
        directories_.pop_front();
        ARROW_RETURN_NOT_OK(List(next));
      }
      if (links_.empty()) break;
      Link link = std::move(links_.front());
      links_.pop_front();
      Resolve(link);
    }
    return std::move(entries_);
  }

 private:
  struct Directory {
    std::string path;  // as reached
    std::string real;  // links resolved
    int32_t depth;     // level of its entries below the start directory
  };
  struct Link {
    std::string path;
    int32_t depth;
  };

  bool MayEnter(int32_t depth) const { return options_.max_depth < 0 || depth < options_.max_depth; }

  arrow::Status List(const Directory& directory) {
    DIR* handle = opendir(directory.path.c_str());
    if (handle == nullptr) {
      if (errno == ENOENT && directory.depth > 0) return arrow::Status::OK();  // removed meanwhile
      return PosixError("cannot read directory", directory.path, errno);
    }
    struct CloseDir {
      void operator()(DIR* dir) const { closedir(dir); }
    };
    std::unique_ptr<DIR, CloseDir> closer(handle);
    const int fd = dirfd(handle);
    while (true) {
      errno = 0;
      struct dirent* item = readdir(handle);
      if (item == nullptr) {
        if (errno != 0) return PosixError("cannot read directory", directory.path, errno);
        break;
      }
      const char* name = item->d_name;
      if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0) continue;
      if (options_.skip_hidden && IsHiddenName(name)) continue;
      struct stat st;
      if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) continue;
        return PosixError("cannot read", JoinPath(directory.path, name), errno);
      }
      std::string path = JoinPath(directory.path, name);
      if (S_ISLNK(st.st_mode)) {
        if (options_.symlinks == SymlinkPolicy::kReport) {
          TreeEntry entry;
          entry.info = FileInfo(std::move(path), FileType::Unknown);
          entry.symlink = true;
          entries_.push_back(std::move(entry));
        } else {
          links_.push_back({std::move(path), directory.depth});
        }
        continue;
      }
      std::string real = JoinPath(directory.real, name);
      if (S_ISDIR(st.st_mode)) {
        if (options_.include_directories) entries_.push_back(TreeEntry::Of(InfoFromStat(path, st)));
        if (MayEnter(directory.depth) && visited_.insert({st.st_dev, st.st_ino}).second) {
          directories_.push_back({std::move(path), std::move(real), directory.depth + 1});
        }
        continue;
      }
      TreeEntry entry;
      entry.info = InfoFromStat(std::move(path), st);
      entry.real_path = std::move(real);
      entries_.push_back(std::move(entry));
    }
    return arrow::Status::OK();
  }

  void Resolve(const Link& link) {
    TreeEntry entry;
    entry.symlink = true;
    int error = 0;
    entry.link_target = RealPath(link.path, &error);
    struct stat st;
    if (entry.link_target.empty() || stat(entry.link_target.c_str(), &st) != 0) {
      // Dangling (or a loop of links): nothing to read there.
      entry.link_target.clear();
      entry.info = FileInfo(link.path, FileType::NotFound);
      entries_.push_back(std::move(entry));
      return;
    }
    entry.info = InfoFromStat(link.path, st);
    if (options_.symlinks == SymlinkPolicy::kFollowInsideRoot &&
        !IsWithin(entry.link_target, containment_real_)) {
      entry.escapes_root = true;
      entries_.push_back(std::move(entry));
      return;
    }
    if (S_ISDIR(st.st_mode)) {
      // A directory already entered is a cycle (`a -> .`) or a second way to the same
      // files (`b -> a`): its files are reported once, from their first path.
      if (!visited_.insert({st.st_dev, st.st_ino}).second) return;
      if (options_.include_directories) entries_.push_back(entry);
      if (MayEnter(link.depth)) {
        directories_.push_back({link.path, entry.link_target, link.depth + 1});
      } else {
        visited_.erase({st.st_dev, st.st_ino});
      }
      return;
    }
    if (!ReportedElsewhere(entry.link_target)) {
      entry.real_path = entry.link_target;
      entries_.push_back(std::move(entry));
    }
  }

  /// Whether the file at `real` is (or will be) reported from its own path: its
  /// directory was entered and its name is not one the walk skips.
  bool ReportedElsewhere(const std::string& real) {
    if (!linked_files_.insert(real).second) return true;
    if (options_.skip_hidden && IsHiddenName(BaseName(real))) return false;
    struct stat parent;
    const std::string dir = ParentOf(real);
    if (stat(dir.empty() ? "/" : dir.c_str(), &parent) != 0) return false;
    return visited_.count({parent.st_dev, parent.st_ino}) > 0;
  }

  const TreeWalkOptions& options_;
  std::string containment_real_;
  std::set<DirectoryId> visited_;
  std::set<std::string> linked_files_;
  std::deque<Directory> directories_;
  std::deque<Link> links_;
  std::vector<TreeEntry> entries_;
};

}  // namespace

arrow::Result<std::vector<TreeEntry>> WalkLocalTree(const std::string& start,
                                                    const TreeWalkOptions& options) {
  return TreeWalker(options).Walk(start);
}

arrow::Result<std::vector<TreeEntry>> ListTreeWithoutFollowing(arrow::fs::FileSystem* filesystem,
                                                               const std::string& dir) {
  std::vector<TreeEntry> entries;
  if (IsLocalFileSystem(*filesystem)) {
    // Nothing below a missing path or a file (as for Arrow's listing of a missing prefix).
    struct stat st;
    if (stat(dir.c_str(), &st) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) return entries;
      return PosixError("cannot read directory", dir, errno);
    }
    if (!S_ISDIR(st.st_mode)) return entries;
    TreeWalkOptions options;
    options.symlinks = SymlinkPolicy::kReport;
    return WalkLocalTree(dir, options);
  }
  arrow::fs::FileSelector selector;
  selector.base_dir = dir;
  selector.recursive = true;
  selector.allow_not_found = true;
  ARROW_ASSIGN_OR_RAISE(auto listed, filesystem->GetFileInfo(selector));
  const size_t prefix = dir.size() + (dir.empty() || dir.back() == '/' ? 0 : 1);
  for (auto& info : listed) {
    if (info.type() != FileType::File || info.path().size() <= prefix) continue;
    if (HasHiddenSegment(std::string_view(info.path()).substr(prefix))) continue;
    TreeEntry entry;
    entry.info = std::move(info);
    entries.push_back(std::move(entry));
  }
  return entries;
}

arrow::Result<std::string> SymlinkedDirectoryOnPath(const std::string& root,
                                                    const std::string& path) {
  if (path.size() <= root.size() || path.compare(0, root.size(), root) != 0) {
    return arrow::Status::Invalid("'", path, "' is not below '", root, "'");
  }
  size_t end = root.size() + (root.back() == '/' ? 0 : 1);
  while (true) {
    end = path.find('/', end);
    if (end == std::string::npos) return std::string();
    const std::string dir = path.substr(0, end);
    struct stat st;
    if (lstat(dir.c_str(), &st) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) return std::string();
      return PosixError("cannot read", dir, errno);
    }
    if (S_ISLNK(st.st_mode)) return dir;
    ++end;
  }
}

}  // namespace sluice::io
