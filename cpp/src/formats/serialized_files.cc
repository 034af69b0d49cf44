#include "formats/serialized_files.h"

#include <map>

#include "storage/filesystems.h"

namespace sluice::io {

using json = nlohmann::json;

namespace {

constexpr char kLocal[] = "local";
constexpr char kS3[] = "s3";

/// The URI that FileSystemFromUriOrPath opens `path` of a filesystem of `kind` with.
std::string UriOf(const std::string& kind, const std::string& path) {
  return kind == kS3 ? "s3://" + path : path;
}

arrow::Status Damaged(const std::string& what) {
  return arrow::Status::Invalid("serialized file source: ", what);
}

}  // namespace

arrow::Result<json> ListedFilesToJson(const ListedFiles& listed) {
  if (!listed.filesystem) return arrow::Status::Invalid("file source without a filesystem");
  const std::string kind = listed.filesystem->type_name();
  if (kind != kLocal && kind != kS3) {
    return arrow::Status::NotImplemented("files on a ", kind,
                                         " filesystem cannot be read by another process");
  }
  json files = json::array();
  for (const auto& file : listed.files) {
    files.push_back({{"path", file.path()}, {"size", file.info.size()}, {"base_dir", file.base_dir}});
  }
  return json{{"filesystem", kind}, {"files", std::move(files)}};
}

arrow::Result<ListedFiles> ListedFilesFromJson(const json& object,
                                               const std::shared_ptr<exec::SessionState>& session) {
  if (!object.is_object() || !object.contains("filesystem") || !object["filesystem"].is_string() ||
      !object.contains("files") || !object["files"].is_array()) {
    return Damaged("no filesystem or files");
  }
  const std::string kind = object["filesystem"].get<std::string>();
  if (kind != kLocal && kind != kS3) return Damaged("unknown filesystem '" + kind + "'");
  ListedFiles listed;
  for (const auto& file : object["files"]) {
    if (!file.is_object() || !file.contains("path") || !file["path"].is_string() ||
        !file.contains("size") || !file["size"].is_number_integer() || !file.contains("base_dir") ||
        !file["base_dir"].is_string()) {
      return Damaged("a damaged file entry");
    }
    ListedFile entry;
    entry.info = arrow::fs::FileInfo(file["path"].get<std::string>(), arrow::fs::FileType::File);
    entry.info.set_size(file["size"].get<int64_t>());
    entry.base_dir = file["base_dir"].get<std::string>();
    if (entry.path().empty()) return Damaged("an empty path");
    listed.files.push_back(std::move(entry));
  }
  // The filesystem of the first file; every file of one source is on the same one. An
  // empty list (a source restricted to no split) still needs one to describe itself.
  std::string unused;
  const std::string probe = listed.files.empty() ? (kind == kS3 ? "s3://bucket" : "/")
                                                 : UriOf(kind, listed.files.front().path());
  ARROW_ASSIGN_OR_RAISE(listed.filesystem, FileSystemFromUriOrPath(probe, &unused, session));
  return listed;
}

arrow::Result<json> ParsePayload(const std::string& payload, const std::string& kind) {
  json object = json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded() || !object.is_object()) {
    return arrow::Status::Invalid("serialized ", kind, ": not a JSON object");
  }
  return object;
}

std::vector<plan::Split> WholeFileSplits(const ListedFiles& listed) {
  std::vector<plan::Split> splits;
  for (const auto& file : listed.files) {
    plan::Split split;
    split.label = file.path();
    split.payload = json{{"path", file.path()}}.dump();
    if (file.info.size() >= 0) split.bytes = file.info.size();
    splits.push_back(std::move(split));
  }
  return splits;
}

arrow::Result<ListedFiles> FilesOfSplits(const ListedFiles& listed,
                                         const std::vector<plan::Split>& splits) {
  std::map<std::string, const ListedFile*> by_path;
  for (const auto& file : listed.files) by_path.emplace(file.path(), &file);
  ListedFiles out;
  out.filesystem = listed.filesystem;
  for (const auto& split : splits) {
    ARROW_ASSIGN_OR_RAISE(json object, ParsePayload(split.payload, "file split"));
    if (!object.contains("path") || !object["path"].is_string()) {
      return arrow::Status::Invalid("serialized file split: no path");
    }
    auto found = by_path.find(object["path"].get<std::string>());
    if (found == by_path.end()) {
      return arrow::Status::Invalid("split of a file this source does not read: ",
                                    object["path"].get<std::string>());
    }
    out.files.push_back(*found->second);
  }
  return out;
}

}  // namespace sluice::io
