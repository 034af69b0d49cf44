#pragma once

// Which filesystem a user's path lives on. Local paths and file:// URIs go to the local
// filesystem, s3:// URIs to Arrow's S3 filesystem configured from EngineConfig (endpoint,
// region, scheme) unless the URI's own query says otherwise; credentials come from the
// AWS SDK's usual chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE,
// ~/.aws/credentials, instance metadata). Every filesystem reads into the budgeted pool.

#include <arrow/filesystem/filesystem.h>
#include <arrow/result.h>

#include <memory>
#include <string>

#include "runtime/session_state.h"

namespace sluice::io {

/// The filesystem of `uri_or_path` (an absolute local path or a URI) and, in `out_path`,
/// the path on it ("bucket/key" for S3). S3 filesystems are shared between calls with the
/// same settings, so their connection pools are reused.
/// The S3 settings (endpoint, region, scheme) and the memory budget are the session's
/// (null: the default session).
arrow::Result<std::shared_ptr<arrow::fs::FileSystem>> FileSystemFromUriOrPath(
    const std::string& uri_or_path, std::string* out_path,
    const std::shared_ptr<exec::SessionState>& session = nullptr);

/// A user's path as FileSystemFromUriOrPath takes it: URIs as given, local paths made
/// absolute (against the working directory) and normalized; trailing '/' dropped.
std::string NormalizeUriOrPath(const std::string& path);

/// True for Arrow's local filesystem (where a move is a rename and directories exist).
bool IsLocalFileSystem(const arrow::fs::FileSystem& filesystem);

/// Drops the shared S3 filesystems and shuts the AWS SDK down. Call once before the
/// process exits (the CLI's main, the Python module's atexit hook); the SDK may crash in
/// static destructors otherwise.
void FinalizeFileSystems();

}  // namespace sluice::io
