#pragma once

#include <arrow/status.h>

#include <cstdint>
#include <string>

namespace sluice {

/// A session's engine settings (sluice/session.h); Configure() sets the default session's.
struct EngineConfig {
  /// Worker threads per pipeline; 0 means one per hardware core.
  int num_threads = 0;
  /// Memory budget in bytes; 0 means half of physical RAM. Operators that hold rows
  /// (sort, group-by, join) may claim half of it and spill to `spill_dir` beyond that.
  int64_t memory_limit_bytes = 0;
  /// Target rows per batch produced by readers.
  int64_t batch_rows = 64 * 1024;
  /// Draw a progress line on stderr while a job runs (only when stderr is a terminal).
  bool progress = true;
  /// Where sorts, group-bys, joins and repartitions that outgrow the memory budget write
  /// their spill files (each execution in a subdirectory of its own, removed when it
  /// ends); empty means $TMPDIR, else /tmp.
  std::string spill_dir;
  /// S3-compatible endpoint for s3:// paths, "host:port" or "http://host:port" (the
  /// scheme, when given, sets s3_scheme); empty means AWS. A path's own
  /// `?endpoint_override=` query wins over it.
  std::string s3_endpoint;
  /// Region for s3:// paths; empty means the AWS SDK's choice (environment, profile).
  std::string s3_region;
  /// "http" or "https"; empty means https (or the scheme spelled in s3_endpoint).
  std::string s3_scheme;
  /// The SQLite file of the table catalog; empty means ~/.sluice/catalog.db.
  std::string catalog_path;
  /// A structured log of the session's execution events (sluice/events.h): "json:PATH"
  /// appends one JSON object per event to PATH; empty means none.
  std::string log;
};

/// Replaces the default session's configuration. Invalid values give Status::Invalid.
arrow::Status Configure(const EngineConfig& config);

/// The configuration in force, with defaults resolved (num_threads and memory_limit_bytes
/// are never 0 in the returned value).
EngineConfig CurrentConfig();

/// Closes process-wide connections (the AWS SDK behind s3:// paths). Call once before the
/// process exits; the CLI and the Python module do. Later s3:// access fails.
void ReleaseProcessResources();

/// Parses sizes such as "2GB", "512MiB", "100k" or "1048576" into bytes.
arrow::Result<int64_t> ParseByteSize(const std::string& text);

/// A byte count for people: "512 B", "1.5 KiB", "12.3 MiB", "2.0 GiB".
std::string FormatByteSize(int64_t bytes);

}  // namespace sluice
