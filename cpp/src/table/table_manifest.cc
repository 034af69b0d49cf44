#include "table/table_manifest.h"

#include <arrow/buffer.h>
#include <arrow/io/interfaces.h>

#include <algorithm>
#include <random>

#include "storage/filesystems.h"
#include "storage/storage_paths.h"
#include <nlohmann/json.hpp>

namespace sluice::io {

namespace {

// Tells a Sluice manifest from other `_SUCCESS` files; bumped when the layout changes in
// a way older readers cannot follow.
constexpr const char* kFormatKey = "sluice_manifest";
constexpr int kFormatVersion = 1;

arrow::Result<std::string> ReadWholeFile(arrow::fs::FileSystem* filesystem,
                                         const std::string& path) {
  ARROW_ASSIGN_OR_RAISE(auto input, filesystem->OpenInputStream(path));
  std::string text;
  while (true) {
    ARROW_ASSIGN_OR_RAISE(auto chunk, input->Read(1 << 20));
    if (chunk->size() == 0) break;
    text.append(reinterpret_cast<const char*>(chunk->data()), chunk->size());
  }
  ARROW_RETURN_NOT_OK(input->Close());
  return text;
}

/// Relative, '/'-separated, without empty, "." or ".." segments: a manifest must not
/// point outside its directory. ("k=a..b" is a fine partition directory.)
bool IsSafeRelativePath(const std::string& path) {
  if (path.empty() || path.front() == '/') return false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    const std::string segment = path.substr(start, slash - start);
    if (segment.empty() || segment == "." || segment == "..") return false;
    start = slash + 1;
  }
  return true;
}

std::string ToJson(const TableManifest& manifest) {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& file : manifest.files) {
    files.push_back({{"path", file.path}, {"rows", file.rows}, {"bytes", file.bytes}});
  }
  nlohmann::json document = {
      {kFormatKey, kFormatVersion},
      {"snapshot", manifest.snapshot},
      {"write_id", manifest.write_id},
      {"operation", manifest.operation},
      {"committed_at_ms", manifest.committed_at_ms},
      {"partition_cols", manifest.partition_cols},
      {"files", std::move(files)},
  };
  return document.dump(1) + "\n";
}

/// `document[key]` as an int64; `fallback` when absent, an error when absent without one.
/// nlohmann converts a float to an integer with a plain cast, undefined beyond int64's
/// range ("rows": 1e30), so anything but an integer is refused.
arrow::Result<int64_t> IntegerField(const nlohmann::json& document, const char* key,
                                    std::optional<int64_t> fallback = std::nullopt) {
  const auto found = document.find(key);
  if (found == document.end()) {
    if (fallback) return *fallback;
    return arrow::Status::Invalid("the manifest has no '", key, "'");
  }
  if (!found->is_number_integer()) {
    return arrow::Status::Invalid("the manifest's '", key, "' is not an integer");
  }
  return found->get<int64_t>();
}

arrow::Result<TableManifest> FromJson(const nlohmann::json& document) {
  ARROW_ASSIGN_OR_RAISE(const int64_t version, IntegerField(document, kFormatKey));
  if (version > kFormatVersion) {
    return arrow::Status::NotImplemented("manifest format ", version,
                                         " is newer than this Sluice understands (", kFormatVersion,
                                         "); upgrade Sluice");
  }
  TableManifest manifest;
  ARROW_ASSIGN_OR_RAISE(manifest.snapshot, IntegerField(document, "snapshot"));
  manifest.write_id = document.value("write_id", "");
  manifest.operation = document.value("operation", "");
  ARROW_ASSIGN_OR_RAISE(manifest.committed_at_ms, IntegerField(document, "committed_at_ms", 0));
  manifest.partition_cols = document.value("partition_cols", std::vector<std::string>{});
  for (const auto& file : document.at("files")) {
    ManifestFile entry;
    entry.path = file.at("path").get<std::string>();
    ARROW_ASSIGN_OR_RAISE(entry.rows, IntegerField(file, "rows", -1));
    ARROW_ASSIGN_OR_RAISE(entry.bytes, IntegerField(file, "bytes", -1));
    if (!IsSafeRelativePath(entry.path)) {
      return arrow::Status::Invalid("the manifest lists an invalid path '", entry.path, "'");
    }
    manifest.files.push_back(std::move(entry));
  }
  std::sort(manifest.files.begin(), manifest.files.end(),
            [](const ManifestFile& a, const ManifestFile& b) { return a.path < b.path; });
  // Listed twice, a file would be read twice.
  const auto twice = std::adjacent_find(
      manifest.files.begin(), manifest.files.end(),
      [](const ManifestFile& a, const ManifestFile& b) { return a.path == b.path; });
  if (twice != manifest.files.end()) {
    return arrow::Status::Invalid("the manifest lists '", twice->path, "' more than once");
  }
  return manifest;
}

}  // namespace

arrow::Result<std::optional<TableManifest>> ReadManifest(arrow::fs::FileSystem* filesystem,
                                                         const std::string& dir) {
  const std::string path = JoinPath(dir, kManifestFileName);
  ARROW_ASSIGN_OR_RAISE(auto info, filesystem->GetFileInfo(path));
  if (info.type() != arrow::fs::FileType::File || info.size() == 0) return std::nullopt;
  ARROW_ASSIGN_OR_RAISE(std::string text, ReadWholeFile(filesystem, path));
  if (text.find_first_not_of(" \t\r\n") == std::string::npos ||
      text[text.find_first_not_of(" \t\r\n")] != '{') {
    return std::nullopt;
  }
  nlohmann::json document = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded() || !document.is_object()) {
    // A truncated Sluice manifest is corrupt; any other JSON is someone else's marker.
    if (text.find(kFormatKey) == std::string::npos) return std::nullopt;
    return arrow::Status::IOError(path, ": the table manifest is not valid JSON");
  }
  if (!document.contains(kFormatKey)) return std::nullopt;
  try {
    auto manifest = FromJson(document);
    if (!manifest.ok())
      return manifest.status().WithMessage(path, ": ", manifest.status().message());
    return std::optional<TableManifest>(std::move(*manifest));
  } catch (const nlohmann::json::exception& error) {
    return arrow::Status::IOError(path, ": the table manifest is damaged (", error.what(), ")");
  }
}

arrow::Status WriteManifest(arrow::fs::FileSystem* filesystem, const std::string& dir,
                            const TableManifest& manifest) {
  const std::string text = ToJson(manifest);
  const std::string path = JoinPath(dir, kManifestFileName);
  if (!IsLocalFileSystem(*filesystem)) {
    // One PUT: S3 replaces an object atomically, readers get the old or the new one.
    ARROW_ASSIGN_OR_RAISE(auto output, filesystem->OpenOutputStream(path));
    ARROW_RETURN_NOT_OK(output->Write(text.data(), static_cast<int64_t>(text.size())));
    return output->Close();
  }
  std::random_device random;
  const std::string temporary =
      JoinPath(dir, "._SUCCESS." + std::to_string(random()) + std::to_string(random()));
  {
    ARROW_ASSIGN_OR_RAISE(auto output, filesystem->OpenOutputStream(temporary));
    ARROW_RETURN_NOT_OK(output->Write(text.data(), static_cast<int64_t>(text.size())));
    ARROW_RETURN_NOT_OK(output->Close());
  }
  arrow::Status moved = filesystem->Move(temporary, path);
  if (!moved.ok()) ARROW_UNUSED(filesystem->DeleteFile(temporary));
  return moved;
}

}  // namespace sluice::io
