#include "io/file_listing.h"

#include <arrow/array/util.h>
#include <arrow/record_batch.h>
#include <arrow/scalar.h>
#include <fnmatch.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string_view>

namespace sluice::io {

namespace {

using arrow::fs::FileInfo;
using arrow::fs::FileSystem;
using arrow::fs::FileType;

bool IsUri(std::string_view path) {
  return path.find("://") != std::string_view::npos || path.rfind("file:", 0) == 0;
}

/// Names that writers use for markers and scratch space rather than data: _SUCCESS,
/// _temporary/, _common_metadata, .staging/, .part-0.crc, ...
bool IsHiddenName(std::string_view name) {
  return !name.empty() && (name.front() == '_' || name.front() == '.');
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

bool HasHiddenSegment(std::string_view relative_path) {
  for (const auto& segment : SplitSegments(relative_path)) {
    if (IsHiddenName(segment)) return true;
  }
  return false;
}

/// Makes a local path absolute (FileSystemFromUriOrPath only accepts absolute ones) and
/// drops trailing slashes; URIs are returned unchanged.
std::string NormalizeUserPath(const std::string& path) {
  if (IsUri(path)) return path;
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  std::string normalized = ec ? path : absolute.lexically_normal().string();
  while (normalized.size() > 1 && normalized.back() == '/') normalized.pop_back();
  return normalized;
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
/// (non-hidden) segments.
bool MatchSegments(const std::vector<std::string>& pattern, size_t p,
                   const std::vector<std::string>& path, size_t s) {
  if (p == pattern.size()) return s == path.size();
  if (pattern[p] == "**") {
    for (size_t k = s; k <= path.size(); ++k) {
      if (MatchSegments(pattern, p + 1, path, k)) return true;
      if (k < path.size() && IsHiddenName(path[k])) break;
    }
    return false;
  }
  if (s == path.size() || !MatchSegment(pattern[p], path[s])) return false;
  return MatchSegments(pattern, p + 1, path, s + 1);
}

/// Collects files as they are found; the first base directory recorded for a path wins.
class FileCollector {
 public:
  void Add(FileInfo info, const std::string& base_dir) {
    std::string path = info.path();
    files_.emplace(std::move(path), ListedFile{std::move(info), base_dir});
  }

  /// Adds the non-hidden files below `dir`; returns how many there were.
  arrow::Result<int64_t> AddDirectory(FileSystem& fs, const std::string& dir,
                                      const std::string& base_dir) {
    arrow::fs::FileSelector selector;
    selector.base_dir = dir;
    selector.recursive = true;
    ARROW_ASSIGN_OR_RAISE(auto entries, fs.GetFileInfo(selector));
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
  std::map<std::string, ListedFile> files_;
};

/// Resolves the filesystem of one path and checks it is the one of the earlier paths.
arrow::Result<std::string> ResolveOn(std::shared_ptr<FileSystem>* filesystem,
                                     const std::string& uri_or_path) {
  std::string fs_path;
  ARROW_ASSIGN_OR_RAISE(auto fs, arrow::fs::FileSystemFromUriOrPath(uri_or_path, &fs_path));
  if (!*filesystem) {
    *filesystem = std::move(fs);
  } else if (!(*filesystem)->Equals(*fs)) {
    return arrow::Status::Invalid("All paths must be on the same filesystem, but ",
                                  uri_or_path, " is on ", fs->type_name(),
                                  " and earlier paths are on ", (*filesystem)->type_name());
  }
  while (fs_path.size() > 1 && fs_path.back() == '/') fs_path.pop_back();
  return fs_path;
}

arrow::Status ExpandPlainPath(const std::string& user_path, const std::string& path,
                              std::shared_ptr<FileSystem>* filesystem,
                              FileCollector* collector) {
  ARROW_ASSIGN_OR_RAISE(std::string fs_path, ResolveOn(filesystem, path));
  ARROW_ASSIGN_OR_RAISE(FileInfo info, (*filesystem)->GetFileInfo(fs_path));
  switch (info.type()) {
    case FileType::File:
      collector->Add(std::move(info), /*base_dir=*/"");
      return arrow::Status::OK();
    case FileType::Directory: {
      ARROW_ASSIGN_OR_RAISE(int64_t added,
                            collector->AddDirectory(**filesystem, fs_path, fs_path));
      if (added == 0) {
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

arrow::Status ExpandGlob(const std::string& user_path, const std::string& path,
                         size_t wildcard, bool is_uri, std::shared_ptr<FileSystem>* filesystem,
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
    return arrow::Status::Invalid("Glob needs a directory before its first wildcard: ",
                                  user_path);
  }
  std::string fixed_dir = location.substr(0, slash);
  if (fixed_dir.empty() || (is_uri && fixed_dir.back() == '/')) fixed_dir += '/';
  const std::vector<std::string> pattern = SplitSegments(location.substr(slash + 1));

  ARROW_ASSIGN_OR_RAISE(std::string fs_dir, ResolveOn(filesystem, fixed_dir + query));
  ARROW_ASSIGN_OR_RAISE(FileInfo dir_info, (*filesystem)->GetFileInfo(fs_dir));
  if (dir_info.type() != FileType::Directory) {
    return arrow::Status::IOError("No files match ", user_path, ": no such directory ",
                                  fixed_dir);
  }

  bool any_double_star = false;
  for (const auto& segment : pattern) any_double_star |= segment == "**";
  arrow::fs::FileSelector selector;
  selector.base_dir = fs_dir;
  selector.recursive = any_double_star || pattern.size() > 1;
  if (!any_double_star) selector.max_recursion = static_cast<int32_t>(pattern.size()) - 1;
  ARROW_ASSIGN_OR_RAISE(auto entries, (*filesystem)->GetFileInfo(selector));

  // A trailing "**" already matched every file below a matching directory.
  const bool expand_directories = pattern.back() != "**";
  bool matched = false;
  for (auto& entry : entries) {
    if (!MatchSegments(pattern, 0, SplitSegments(RelativeTo(entry.path(), fs_dir)), 0)) {
      continue;
    }
    if (entry.type() == FileType::File) {
      collector->Add(std::move(entry), fs_dir);
      matched = true;
    } else if (entry.type() == FileType::Directory && expand_directories) {
      ARROW_ASSIGN_OR_RAISE(int64_t added,
                            collector->AddDirectory(**filesystem, entry.path(), fs_dir));
      matched |= added > 0;
    }
  }
  if (!matched) return arrow::Status::IOError("No files match ", user_path);
  return arrow::Status::OK();
}

}  // namespace

arrow::Result<ListedFiles> ListFiles(const std::vector<std::string>& paths) {
  if (paths.empty()) return arrow::Status::Invalid("No paths given");
  ListedFiles listed;
  FileCollector collector;
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

namespace {

/// Streams the batches of some units one after the other, at most `max_rows` in total.
class UnitSequenceStream : public exec::BatchStream {
 public:
  UnitSequenceStream(std::vector<FileScanUnit> units, std::optional<int64_t> max_rows,
                     int64_t max_batch_rows)
      : units_(std::move(units)), max_rows_(max_rows), max_batch_rows_(max_batch_rows) {}

  arrow::Result<exec::BatchPtr> Next() override {
    while (true) {
      if (max_rows_ && rows_ >= *max_rows_) return Finish();
      if (oversized_) {
        // Hand out the rest of a batch that was larger than max_batch_rows.
        exec::BatchPtr batch = oversized_->Slice(oversized_offset_, max_batch_rows_);
        oversized_offset_ += batch->num_rows();
        if (oversized_offset_ >= oversized_->num_rows()) oversized_.reset();
        return Emit(std::move(batch));
      }
      if (!current_) {
        if (next_unit_ >= units_.size()) return nullptr;
        const FileScanUnit& unit = units_[next_unit_];
        auto opened = unit.open();
        if (!opened.ok()) return WithPathContext(opened.status(), unit.path);
        current_ = std::move(*opened);
        ++next_unit_;
      }
      auto next = current_->Next();
      if (!next.ok()) return WithPathContext(next.status(), units_[next_unit_ - 1].path);
      exec::BatchPtr batch = std::move(*next);
      if (!batch) {
        current_.reset();
        continue;
      }
      if (batch->num_rows() == 0) continue;
      if (max_batch_rows_ > 0 && batch->num_rows() > max_batch_rows_) {
        oversized_ = std::move(batch);
        oversized_offset_ = 0;
        continue;
      }
      return Emit(std::move(batch));
    }
  }

 private:
  exec::BatchPtr Emit(exec::BatchPtr batch) {
    if (max_rows_ && rows_ + batch->num_rows() > *max_rows_) {
      batch = batch->Slice(0, *max_rows_ - rows_);
    }
    rows_ += batch->num_rows();
    return batch;
  }

  exec::BatchPtr Finish() {
    // Release the file and its buffers as soon as the limit is met.
    current_.reset();
    oversized_.reset();
    next_unit_ = units_.size();
    return nullptr;
  }

  std::vector<FileScanUnit> units_;
  std::optional<int64_t> max_rows_;
  int64_t max_batch_rows_;
  exec::BatchPtr oversized_;
  int64_t oversized_offset_ = 0;
  size_t next_unit_ = 0;
  std::unique_ptr<exec::BatchStream> current_;
  int64_t rows_ = 0;
};

/// Hands out prepared tasks in order.
class TaskList : public exec::TaskSource {
 public:
  explicit TaskList(std::vector<exec::ScanTask> tasks) : tasks_(std::move(tasks)) {}
  arrow::Result<std::optional<exec::ScanTask>> NextTask() override {
    if (next_ >= tasks_.size()) return std::nullopt;
    return std::move(tasks_[next_++]);
  }

 private:
  std::vector<exec::ScanTask> tasks_;
  size_t next_ = 0;
};

exec::ScanTask MakeTask(std::string label, std::vector<FileScanUnit> units,
                        std::optional<int64_t> max_rows, int64_t max_batch_rows) {
  exec::ScanTask task;
  task.label = std::move(label);
  // The units are copied into each stream, so a task can be opened more than once.
  task.open = [units = std::move(units), max_rows,
               max_batch_rows]() -> arrow::Result<std::unique_ptr<exec::BatchStream>> {
    return std::make_unique<UnitSequenceStream>(units, max_rows, max_batch_rows);
  };
  return task;
}

}  // namespace

std::unique_ptr<exec::TaskSource> MakeFileTaskSource(std::vector<FileScanUnit> units,
                                                     std::optional<int64_t> limit,
                                                     int64_t max_batch_rows) {
  std::vector<exec::ScanTask> tasks;
  const bool all_counts_known =
      std::all_of(units.begin(), units.end(), [](const FileScanUnit& u) { return u.known_rows; });
  if (!limit) {
    for (auto& unit : units) {
      std::string label = unit.path;
      tasks.push_back(MakeTask(std::move(label), {std::move(unit)}, std::nullopt, max_batch_rows));
    }
  } else if (all_counts_known) {
    int64_t rows_before = 0;
    for (auto& unit : units) {
      if (rows_before >= *limit) break;
      const int64_t allowed = *limit - rows_before;
      rows_before += *unit.known_rows;
      std::string label = unit.path;
      tasks.push_back(MakeTask(std::move(label), {std::move(unit)}, allowed, max_batch_rows));
    }
  } else if (*limit > 0 && !units.empty()) {
    std::string label = units.front().path;
    tasks.push_back(MakeTask(std::move(label), std::move(units), limit, max_batch_rows));
  }
  return std::make_unique<TaskList>(std::move(tasks));
}

arrow::Result<exec::BatchPtr> ArrangeColumns(const exec::BatchPtr& data,
                                             const std::shared_ptr<arrow::Schema>& output,
                                             bool with_path, const std::string& path,
                                             arrow::MemoryPool* pool) {
  arrow::ArrayVector columns;
  columns.reserve(output->num_fields());
  for (const auto& field : output->fields()) {
    if (with_path && field->name() == kPathColumn) {
      ARROW_ASSIGN_OR_RAISE(auto column,
                            arrow::MakeArrayFromScalar(arrow::StringScalar(path),
                                                       data->num_rows(), pool));
      columns.push_back(std::move(column));
      continue;
    }
    auto column = data->GetColumnByName(field->name());
    if (!column) {
      return arrow::Status::Invalid("Column '", field->name(), "' is missing in this file");
    }
    columns.push_back(std::move(column));
  }
  return arrow::RecordBatch::Make(output, data->num_rows(), std::move(columns));
}

}  // namespace sluice::io
