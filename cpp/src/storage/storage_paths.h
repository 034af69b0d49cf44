#pragma once

// Paths on a filesystem as Arrow spells them ('/'-separated, no scheme): the few string
// operations the writer, the commit protocol, the clean-up and the catalog share.

#include <string>
#include <string_view>

namespace sluice::io {

/// "a/b/c" -> "a/b"; "" for a path without '/'.
inline std::string ParentOf(std::string_view path) {
  const auto slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string() : std::string(path.substr(0, slash));
}

/// "a/b/c" -> "c".
inline std::string BaseName(std::string_view path) {
  const auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

/// `dir` + '/' + `relative`, either of which may be empty.
inline std::string JoinPath(const std::string& dir, const std::string& relative) {
  if (relative.empty()) return dir;
  if (dir.empty()) return relative;
  return dir.back() == '/' ? dir + relative : dir + "/" + relative;
}

/// Names that writers use for markers and scratch space rather than data (_SUCCESS,
/// _sluice_staging_*, _temporary/, .staging/, .part-0.crc): readers skip them.
inline bool IsHiddenName(std::string_view name) {
  return !name.empty() && (name.front() == '_' || name.front() == '.');
}

/// Whether any segment of a relative path is hidden (then so is the whole path).
inline bool HasHiddenSegment(std::string_view relative) {
  size_t start = 0;
  while (start < relative.size()) {
    size_t slash = relative.find('/', start);
    if (slash == std::string_view::npos) slash = relative.size();
    if (slash > start && IsHiddenName(relative.substr(start, slash - start))) return true;
    start = slash + 1;
  }
  return false;
}

}  // namespace sluice::io
