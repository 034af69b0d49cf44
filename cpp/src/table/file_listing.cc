#include "table/file_listing.h"

#include <algorithm>
#include <filesystem>
#include <fnmatch.h>
#include <map>
#include <set>
#include <string_view>

#include "storage/filesystems.h"
#include "storage/local_tree_walk.h"
#include "storage/parallel_requests.h"
#include "storage/storage_paths.h"
#include "table/table_manifest.h"

namespace sluice::io {

namespace {

using arrow::fs::FileInfo;
using arrow::fs::FileSystem;
using arrow::fs::FileType;

bool IsUri(std::string_view path) {
  return path.find("://") != std::string_view::npos || path.rfind("file:", 0) == 0;
}

std::vector<std::string> SplitSegments(std::string_view path) {
  std::vector<std::string> segments;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t slash = path.find('/', start);
    const size_t end = slash == std::string_view::npos ? path.size() : slash;
    if (end > start) segments.emplace_back(path.substr(start, end - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return segments;
}

/// `path` relative to `dir`, which must be one of its ancestors.
std::string_view RelativeTo(std::string_view path, std::string_view dir) {
  std::string_view rest = path.substr(std::min(dir.size(), path.size()));
  while (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
  return rest;
}

/// Makes a local path absolute (FileSystemFromUriOrPath only accepts absolute ones) and
/// drops trailing slashes; URIs are returned unchanged.
std::string NormalizeUserPath(const std::string& path) {
  return IsUri(path) ? path : NormalizeUriOrPath(path);
}

/// Position of the first wildcard, or npos. In a URI '?' starts the query string
/// (s3://bucket/x?region=...), so only '*' and '[' are wildcards there.
size_t FindWildcard(std::string_view path, bool is_uri) {
  return path.find_first_of(is_uri ? "*[" : "*?[");
}

bool MatchSegment(const std::string& pattern, const std::string& name) {
  // Like a shell: wildcards do not match hidden names unless spelled out.
  if (IsHiddenName(name) && pattern.front() != name.front()) return false;
  return fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
}

/// Matches path segments against glob segments, where "**" stands for any number of
/// (non-hidden) segments. With `prefix`, also true when the path could be completed to
/// a match (what is below it may match).
bool MatchSegments(const std::vector<std::string>& pattern, size_t p,
                   const std::vector<std::string>& path, size_t s, bool prefix = false) {
  if (p == pattern.size()) return s == path.size();
  if (prefix && s == path.size()) return true;
  if (pattern[p] == "**") {
    for (size_t k = s; k <= path.size(); ++k) {
      if (MatchSegments(pattern, p + 1, path, k, prefix)) return true;
      if (k < path.size() && IsHiddenName(path[k])) break;
    }
    return false;
  }
  if (s == path.size() || !MatchSegment(pattern[p], path[s])) return false;
  return MatchSegments(pattern, p + 1, path, s + 1, prefix);
}

/// A link out of the directory being read, which is not followed unless asked for.
arrow::Status EscapingLinkError(const TreeEntry& link, const std::string& root) {
  return arrow::Status::IOError("'", link.info.path(), "' is a symbolic link to '",
                                link.link_target, "', outside '", root,
                                "'; links leaving the directory read are not followed unless "
                                "follow_symlinks=True (CLI: --follow-symlinks)");
}

TreeWalkOptions ReaderWalkOptions(const ListOptions& options, const std::string& root) {
  TreeWalkOptions walk;
  walk.symlinks =
      options.follow_symlinks ? SymlinkPolicy::kFollowAll : SymlinkPolicy::kFollowInsideRoot;
  walk.containment_root = root;
  return walk;
}

/// Everything below `dir` on an object store (local trees are walked by WalkLocalTree).
/// Each listing request is a round trip returning at most 1,000 keys, so the top level is
/// listed first and its subdirectories (partitions) are then listed concurrently; hidden
/// subdirectories are not listed.
arrow::Result<std::vector<FileInfo>> ListRecursively(FileSystem& fs, const std::string& dir) {
  arrow::fs::FileSelector selector;
  selector.base_dir = dir;
  ARROW_ASSIGN_OR_RAISE(auto entries, fs.GetFileInfo(selector));
  std::vector<FileInfo> subdirs;
  for (const auto& entry : entries) {
    if (entry.type() == FileType::Directory && !IsHiddenName(entry.base_name())) {
      subdirs.push_back(entry);
    }
  }
  std::vector<std::vector<FileInfo>> below(subdirs.size());
  ARROW_RETURN_NOT_OK(
      ForEachInParallel(static_cast<int64_t>(subdirs.size()), 16, [&](int64_t i) -> arrow::Status {
        arrow::fs::FileSelector subdir_selector;
        subdir_selector.base_dir = subdirs[i].path();
        subdir_selector.recursive = true;
        ARROW_ASSIGN_OR_RAISE(below[i], fs.GetFileInfo(subdir_selector));
        return arrow::Status::OK();
      }));
  for (auto& listed : below) {
    entries.insert(entries.end(), std::make_move_iterator(listed.begin()),
                   std::make_move_iterator(listed.end()));
  }
  return entries;
}

/// Collects files as they are found; the first base directory recorded for a path wins,
/// and a local file found again under another path (through a link) is taken once.
class FileCollector {
 public:
  explicit FileCollector(ListOptions options) : options_(options) {}

  const ListOptions& options() const { return options_; }

  void Add(FileInfo info, const std::string& base_dir, const std::string& real_path = "") {
    if (!real_path.empty() && !real_paths_.insert(real_path).second) return;
    std::string path = info.path();
    files_.emplace(std::move(path), ListedFile{std::move(info), base_dir});
  }

  /// Adds the data files below `dir`: the files its manifest lists when it has one,
  /// else every non-hidden file. Links are followed locally only when they stay inside
  /// `root` (or follow_symlinks). Returns how many there were.
  arrow::Result<int64_t> AddDirectory(FileSystem& fs, const std::string& dir,
                                      const std::string& base_dir, const std::string& root) {
    ARROW_ASSIGN_OR_RAISE(auto manifest, ReadManifest(&fs, dir));
    if (manifest) {
      for (const auto& file : manifest->files) {
        FileInfo info(dir + "/" + file.path, FileType::File);
        if (file.bytes >= 0) info.set_size(file.bytes);
        Add(std::move(info), base_dir);
      }
      return static_cast<int64_t>(manifest->files.size());
    }
    if (IsLocalFileSystem(fs)) {
      ARROW_ASSIGN_OR_RAISE(auto entries, WalkLocalTree(dir, ReaderWalkOptions(options_, root)));
      int64_t added = 0;
      for (auto& entry : entries) {
        if (entry.escapes_root) return EscapingLinkError(entry, root);
        if (entry.info.type() != FileType::File) continue;
        Add(std::move(entry.info), base_dir, entry.real_path);
        ++added;
      }
      return added;
    }
    ARROW_ASSIGN_OR_RAISE(auto entries, ListRecursively(fs, dir));
    int64_t added = 0;
    for (auto& entry : entries) {
      if (entry.type() != FileType::File) continue;
      if (HasHiddenSegment(RelativeTo(entry.path(), dir))) continue;
      Add(std::move(entry), base_dir);
      ++added;
    }
    return added;
  }

  std::vector<ListedFile> Sorted() && {
    std::vector<ListedFile> out;
    out.reserve(files_.size());
    for (auto& [path, file] : files_) out.push_back(std::move(file));
    return out;
  }

 private:
  ListOptions options_;
  std::map<std::string, ListedFile> files_;
  std::set<std::string> real_paths_;
};

/// Resolves the filesystem of one path and checks it is the one of the earlier paths.
arrow::Result<std::string> ResolveOn(std::shared_ptr<FileSystem>* filesystem,
                                     const std::string& uri_or_path,
                                     const std::shared_ptr<exec::SessionState>& session) {
  std::string fs_path;
  ARROW_ASSIGN_OR_RAISE(auto fs, FileSystemFromUriOrPath(uri_or_path, &fs_path, session));
  if (!*filesystem) {
    *filesystem = std::move(fs);
  } else if (!(*filesystem)->Equals(*fs)) {
    return arrow::Status::Invalid("All paths must be on the same filesystem, but ", uri_or_path,
                                  " is on ", fs->type_name(), " and earlier paths are on ",
                                  (*filesystem)->type_name());
  }
  while (fs_path.size() > 1 && fs_path.back() == '/') fs_path.pop_back();
  return fs_path;
}

arrow::Status ExpandPlainPath(const std::string& user_path, const std::string& path,
                              std::shared_ptr<FileSystem>* filesystem, FileCollector* collector) {
  ARROW_ASSIGN_OR_RAISE(std::string fs_path, ResolveOn(filesystem, path, collector->options().session));
  ARROW_ASSIGN_OR_RAISE(FileInfo info, (*filesystem)->GetFileInfo(fs_path));
  switch (info.type()) {
    case FileType::File:
      collector->Add(std::move(info), /*base_dir=*/"");
      return arrow::Status::OK();
    case FileType::Directory: {
      ARROW_ASSIGN_OR_RAISE(int64_t added,
                            collector->AddDirectory(**filesystem, fs_path, fs_path, fs_path));
      if (added == 0) {
        ARROW_ASSIGN_OR_RAISE(auto manifest, ReadManifest(filesystem->get(), fs_path));
        if (manifest) {
          return arrow::Status::IOError("No data files in ", user_path,
                                        ": its _SUCCESS manifest lists none (the last write "
                                        "committed no rows)");
        }
        return arrow::Status::IOError("No data files in ", user_path,
                                      " (names starting with '_' or '.' are skipped)");
      }
      return arrow::Status::OK();
    }
    case FileType::NotFound:
      return arrow::Status::IOError("No such file or directory: ", user_path);
    default:
      return arrow::Status::IOError("Not a regular file or directory: ", user_path);
  }
}

arrow::Status ExpandGlob(const std::string& user_path, const std::string& path, size_t wildcard,
                         bool is_uri, std::shared_ptr<FileSystem>* filesystem,
                         FileCollector* collector) {
  // Split "<fixed dir>/<pattern>[?query]": the fixed directory locates the filesystem
  // and is listed; the pattern is matched against what is below it.
  std::string query;
  std::string location = path;
  if (is_uri) {
    const size_t question = location.find('?', wildcard);
    if (question != std::string::npos) {
      query = location.substr(question);
      location.resize(question);
    }
  }
  const size_t slash = location.rfind('/', wildcard);
  if (slash == std::string::npos) {
    return arrow::Status::Invalid("Glob needs a directory before its first wildcard: ", user_path);
  }
  std::string fixed_dir = location.substr(0, slash);
  if (fixed_dir.empty() || (is_uri && fixed_dir.back() == '/')) fixed_dir += '/';
  const std::vector<std::string> pattern = SplitSegments(location.substr(slash + 1));

  ARROW_ASSIGN_OR_RAISE(std::string fs_dir, ResolveOn(filesystem, fixed_dir + query, collector->options().session));
  ARROW_ASSIGN_OR_RAISE(FileInfo dir_info, (*filesystem)->GetFileInfo(fs_dir));
  if (dir_info.type() != FileType::Directory) {
    return arrow::Status::IOError("No files match ", user_path, ": no such directory ", fixed_dir);
  }

  bool any_double_star = false;
  for (const auto& segment : pattern) any_double_star |= segment == "**";
  const int32_t max_depth = any_double_star ? -1 : static_cast<int32_t>(pattern.size()) - 1;
  std::vector<TreeEntry> entries;
  if (IsLocalFileSystem(**filesystem)) {
    TreeWalkOptions walk = ReaderWalkOptions(collector->options(), fs_dir);
    walk.skip_hidden = false;  // a pattern segment may name hidden entries
    walk.max_depth = max_depth;
    walk.include_directories = true;
    ARROW_ASSIGN_OR_RAISE(entries, WalkLocalTree(fs_dir, walk));
  } else {
    arrow::fs::FileSelector selector;
    selector.base_dir = fs_dir;
    selector.recursive = max_depth != 0;
    if (max_depth > 0) selector.max_recursion = max_depth;
    ARROW_ASSIGN_OR_RAISE(auto listed, (*filesystem)->GetFileInfo(selector));
    for (auto& info : listed) entries.push_back(TreeEntry::Of(std::move(info)));
  }

  // A trailing "**" already matched every file below a matching directory.
  const bool expand_directories = pattern.back() != "**";
  bool matched = false;
  for (auto& entry : entries) {
    const std::vector<std::string> segments = SplitSegments(RelativeTo(entry.info.path(), fs_dir));
    if (entry.escapes_root) {
      // Only an error where the pattern would have read through it.
      if (MatchSegments(pattern, 0, segments, 0, /*prefix=*/true)) {
        return EscapingLinkError(entry, fs_dir);
      }
      continue;
    }
    if (!MatchSegments(pattern, 0, segments, 0)) continue;
    if (entry.info.type() == FileType::File) {
      collector->Add(std::move(entry.info), fs_dir, entry.real_path);
      matched = true;
    } else if (entry.info.type() == FileType::Directory && expand_directories) {
      ARROW_ASSIGN_OR_RAISE(int64_t added, collector->AddDirectory(**filesystem, entry.info.path(),
                                                                   fs_dir, fs_dir));
      matched |= added > 0;
    }
  }
  if (!matched) return arrow::Status::IOError("No files match ", user_path);
  return arrow::Status::OK();
}

}  // namespace

arrow::Result<ListedFiles> ListFiles(const std::vector<std::string>& paths,
                                     const ListOptions& options) {
  if (paths.empty()) return arrow::Status::Invalid("No paths given");
  ListedFiles listed;
  FileCollector collector(options);
  for (const auto& user_path : paths) {
    if (user_path.empty()) return arrow::Status::Invalid("Empty path");
    const std::string path = NormalizeUserPath(user_path);
    const bool is_uri = IsUri(path);
    size_t wildcard = FindWildcard(is_uri ? path.substr(0, path.find('?')) : path, is_uri);
    // A local file whose name really contains '[' or '?' is read as named.
    std::error_code ec;
    if (!is_uri && wildcard != std::string::npos && std::filesystem::exists(path, ec)) {
      wildcard = std::string::npos;
    }
    if (wildcard == std::string::npos) {
      ARROW_RETURN_NOT_OK(ExpandPlainPath(user_path, path, &listed.filesystem, &collector));
    } else {
      ARROW_RETURN_NOT_OK(
          ExpandGlob(user_path, path, wildcard, is_uri, &listed.filesystem, &collector));
    }
  }
  listed.files = std::move(collector).Sorted();
  return listed;
}

arrow::Status WithPathContext(const arrow::Status& status, const std::string& path) {
  if (status.ok() || status.message().rfind(path, 0) == 0) return status;
  return status.WithMessage(path, ": ", status.message());
}

std::string DescribeFiles(const std::vector<ListedFile>& files) {
  constexpr size_t kShown = 3;
  std::string out = std::to_string(files.size()) + (files.size() == 1 ? " file: " : " files: ");
  for (size_t i = 0; i < files.size() && i < kShown; ++i) {
    if (i > 0) out += ", ";
    out += files[i].path();
  }
  if (files.size() > kShown) out += ", ...";
  return out;
}

}  // namespace sluice::io
