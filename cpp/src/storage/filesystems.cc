#include "storage/filesystems.h"

#include <arrow/filesystem/localfs.h>
#include <arrow/filesystem/s3fs.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <vector>

#include "storage/read_buffering.h"
#include "sluice/config.h"

namespace sluice::io {

namespace {

/// An S3 filesystem shared by the calls of one session with the same settings, so its
/// connection pool is reused. Each session has its own: the filesystem reads into the
/// session's budget. Entries of sessions that are gone are dropped at the next lookup.
struct SharedS3FileSystem {
  std::weak_ptr<exec::SessionState> session;
  std::shared_ptr<arrow::fs::FileSystem> filesystem;
};

std::mutex g_s3_mutex;
std::map<std::string, SharedS3FileSystem>& SharedS3FileSystems() {
  static auto* filesystems = new std::map<std::string, SharedS3FileSystem>();
  return *filesystems;
}

bool HasQueryKey(const std::vector<std::string>& params, const std::string& key) {
  for (const auto& param : params) {
    if (param.compare(0, key.size() + 1, key + "=") == 0) return true;
  }
  return false;
}

std::vector<std::string> SplitQuery(const std::string& query) {
  std::vector<std::string> params;
  size_t start = 0;
  while (start < query.size()) {
    size_t amp = query.find('&', start);
    if (amp == std::string::npos) amp = query.size();
    if (amp > start) params.push_back(query.substr(start, amp - start));
    start = amp + 1;
  }
  return params;
}

/// `uri` with the configured endpoint, scheme and region added to its query where the URI
/// does not set them itself.
std::string WithConfiguredS3Settings(const std::string& uri, const EngineConfig& config) {
  const size_t question = uri.find('?');
  const std::string location = uri.substr(0, question);
  std::vector<std::string> params =
      SplitQuery(question == std::string::npos ? "" : uri.substr(question + 1));
  std::string endpoint = config.s3_endpoint;
  std::string scheme = config.s3_scheme;
  if (const auto sep = endpoint.find("://"); sep != std::string::npos) {
    scheme = endpoint.substr(0, sep);
    endpoint = endpoint.substr(sep + 3);
  }
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  std::vector<std::string> added;
  if (!endpoint.empty() && !HasQueryKey(params, "endpoint_override")) {
    added.push_back("endpoint_override=" + endpoint);
  }
  if (!scheme.empty() && !HasQueryKey(params, "scheme")) added.push_back("scheme=" + scheme);
  std::string region = config.s3_region;
  // Without a region Arrow asks AWS where the bucket is, which an S3-compatible server
  // on another endpoint cannot answer.
  if (region.empty() && (!endpoint.empty() || HasQueryKey(params, "endpoint_override"))) {
    const char* env_region = std::getenv("AWS_DEFAULT_REGION");
    region = env_region != nullptr && *env_region != '\0' ? env_region : "us-east-1";
  }
  if (!region.empty() && !HasQueryKey(params, "region")) added.push_back("region=" + region);
  params.insert(params.end(), added.begin(), added.end());
  std::string result = location;
  for (size_t i = 0; i < params.size(); ++i) result += (i == 0 ? "?" : "&") + params[i];
  return result;
}

arrow::Result<std::shared_ptr<arrow::fs::FileSystem>> S3FileSystemFor(
    const std::string& uri, std::string* out_path,
    const std::shared_ptr<exec::SessionState>& session) {
  const std::string configured = WithConfiguredS3Settings(uri, session->config());
  {
    // S3Options builds the SDK's credential chain, which needs the SDK started.
    std::lock_guard<std::mutex> lock(g_s3_mutex);
    ARROW_RETURN_NOT_OK(arrow::fs::EnsureS3Initialized());
  }
  ARROW_ASSIGN_OR_RAISE(auto options, arrow::fs::S3Options::FromUri(configured, out_path));
  // The SDK's default is one second; a busy server or a long network path needs more.
  options.connect_timeout = 10;
  options.request_timeout = 60;
  // Everything that decides which server and account the filesystem talks to.
  const char* key_id = std::getenv("AWS_ACCESS_KEY_ID");
  const char* profile = std::getenv("AWS_PROFILE");
  const std::string cache_key =
      std::to_string(session->id()) + "|" + options.region + "|" + options.endpoint_override + "|" + options.scheme + "|" +
      (key_id ? key_id : "") + "|" + (profile ? profile : "") + "|" +
      configured.substr(configured.find('?') == std::string::npos ? configured.size()
                                                                  : configured.find('?'));
  std::lock_guard<std::mutex> lock(g_s3_mutex);
  auto& shared = SharedS3FileSystems();
  for (auto it = shared.begin(); it != shared.end();) {
    it = it->second.session.expired() ? shared.erase(it) : std::next(it);
  }
  if (auto it = shared.find(cache_key); it != shared.end()) return it->second.filesystem;
  ARROW_ASSIGN_OR_RAISE(std::shared_ptr<arrow::fs::FileSystem> filesystem,
                        arrow::fs::S3FileSystem::Make(options, BudgetedIOContext(session)));
  shared.emplace(cache_key, SharedS3FileSystem{session, filesystem});
  return filesystem;
}

}  // namespace

arrow::Result<std::shared_ptr<arrow::fs::FileSystem>> FileSystemFromUriOrPath(
    const std::string& uri_or_path, std::string* out_path,
    const std::shared_ptr<exec::SessionState>& session_or_null) {
  const std::shared_ptr<exec::SessionState>& session =
      session_or_null ? session_or_null : exec::SessionState::Default();
  if (uri_or_path.rfind("s3://", 0) == 0) return S3FileSystemFor(uri_or_path, out_path, session);
  const arrow::io::IOContext io_context = BudgetedIOContext(session);
  ARROW_ASSIGN_OR_RAISE(
      auto fs, arrow::fs::FileSystemFromUriOrPath(uri_or_path, io_context, out_path));
  // Arrow makes local filesystems with its default IO context whatever it is given, so
  // every buffer read from a local file would land outside the budget.
  if (fs->io_context().pool() != io_context.pool() && IsLocalFileSystem(*fs)) {
    const auto& local = static_cast<const arrow::fs::LocalFileSystem&>(*fs);
    fs = std::make_shared<arrow::fs::LocalFileSystem>(local.options(), io_context);
  }
  return fs;
}

std::string NormalizeUriOrPath(const std::string& path) {
  std::string normalized = path;
  if (path.find("://") == std::string::npos) {
    std::error_code ec;
    const std::filesystem::path absolute = std::filesystem::absolute(path, ec);
    if (!ec) normalized = absolute.lexically_normal().string();
  }
  while (normalized.size() > 1 && normalized.back() == '/') normalized.pop_back();
  return normalized;
}

bool IsLocalFileSystem(const arrow::fs::FileSystem& filesystem) {
  return filesystem.type_name() == "local";
}

void FinalizeFileSystems() {
  {
    std::lock_guard<std::mutex> lock(g_s3_mutex);
    SharedS3FileSystems().clear();
  }
  if (arrow::fs::IsS3Initialized() && !arrow::fs::IsS3Finalized()) {
    ARROW_UNUSED(arrow::fs::FinalizeS3());
  }
}

}  // namespace sluice::io
