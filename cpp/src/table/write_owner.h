#pragma once

// Who is writing into a staging directory, spelled in its name, so that the next write or
// `sluice vacuum` can tell a live write from one whose process died (killed, crashed,
// machine lost) without any lock or heartbeat:
//
//   _sluice_staging_{write_id}.{pid}.{process start ticks}.{unix start}.{host}
//
// A staging directory is abandoned when its host is this host and that process no longer
// runs (the start ticks tell a reused pid apart), or when its host is another machine and
// it started longer ago than the retention period.

#include <cstdint>
#include <optional>
#include <string>

namespace sluice::io {

inline constexpr char kStagingPrefix[] = "_sluice_staging_";

struct WriteOwner {
  std::string write_id;
  int64_t pid = 0;
  /// Start time of the process in clock ticks since boot (/proc/PID/stat field 22).
  int64_t start_ticks = 0;
  /// When the write began, seconds since the Unix epoch.
  int64_t started_unix = 0;
  std::string host;
};

/// This process as the owner of write `write_id`.
WriteOwner CurrentWriteOwner(const std::string& write_id);

/// The staging directory name for `owner` (no slashes).
std::string StagingDirName(const WriteOwner& owner);

/// The owner spelled in a staging directory name; nullopt for other names.
std::optional<WriteOwner> ParseStagingDirName(const std::string& name);

/// Whether the write can no longer finish: see the header comment.
bool IsAbandoned(const WriteOwner& owner, int64_t retention_seconds);

/// A random (version 4) UUID. Names from different writes to the same target must not
/// collide, even across processes and machines.
std::string RandomUuid();

}  // namespace sluice::io
