#include "sluice/config.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <unistd.h>

#include "exec/memory_budget.h"
#include "io/filesystems.h"
#include <sys/stat.h>

namespace sluice {

namespace {
std::mutex g_mutex;
EngineConfig g_config;

int64_t PhysicalMemory() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_size <= 0) return int64_t{8} << 30;
  return static_cast<int64_t>(pages) * page_size;
}

EngineConfig Resolve(EngineConfig c) {
  if (c.num_threads <= 0) c.num_threads = std::max(1u, std::thread::hardware_concurrency());
  // Half of RAM: room for an in-memory sort of a few GB on a laptop, while leaving the
  // rest to the OS page cache and the process around the engine (DuckDB takes 80%).
  if (c.memory_limit_bytes <= 0) c.memory_limit_bytes = PhysicalMemory() / 2;
  if (c.spill_dir.empty()) {
    const char* tmpdir = std::getenv("TMPDIR");
    c.spill_dir = (tmpdir != nullptr && *tmpdir != '\0') ? tmpdir : "/tmp";
  }
  if (c.catalog_path.empty()) {
    const char* home = std::getenv("HOME");
    c.catalog_path =
        std::string(home != nullptr && *home != '\0' ? home : ".") + "/.sluice/catalog.db";
  }
  return c;
}
}  // namespace

arrow::Status Configure(const EngineConfig& config) {
  if (config.num_threads < 0) {
    return arrow::Status::Invalid("num_threads must be >= 0, got ", config.num_threads);
  }
  if (config.memory_limit_bytes < 0) {
    return arrow::Status::Invalid("memory_limit must be >= 0, got ", config.memory_limit_bytes);
  }
  if (config.batch_rows <= 0) {
    return arrow::Status::Invalid("batch_rows must be positive, got ", config.batch_rows);
  }
  if (!config.spill_dir.empty()) {
    // A missing directory is created at the first spill; one that cannot be a directory
    // is reported now rather than in the middle of a large job.
    struct stat info {};
    if (stat(config.spill_dir.c_str(), &info) == 0 && !S_ISDIR(info.st_mode)) {
      return arrow::Status::Invalid("spill_dir '", config.spill_dir, "' is not a directory");
    }
  }
  if (!config.s3_scheme.empty() && config.s3_scheme != "http" && config.s3_scheme != "https") {
    return arrow::Status::Invalid("s3_scheme must be 'http' or 'https', got '", config.s3_scheme,
                                  "'");
  }
  if (const auto sep = config.s3_endpoint.find("://"); sep != std::string::npos) {
    const std::string scheme = config.s3_endpoint.substr(0, sep);
    if (scheme != "http" && scheme != "https") {
      return arrow::Status::Invalid("s3_endpoint '", config.s3_endpoint,
                                    "': the scheme must be http:// or https://");
    }
    if (!config.s3_scheme.empty() && config.s3_scheme != scheme) {
      return arrow::Status::Invalid("s3_endpoint '", config.s3_endpoint, "' says ", scheme,
                                    " but s3_scheme is '", config.s3_scheme, "'");
    }
  }
  std::lock_guard<std::mutex> lock(g_mutex);
  g_config = config;
  exec::MemoryBudget::Global()->set_limit(Resolve(g_config).memory_limit_bytes);
  return arrow::Status::OK();
}

EngineConfig CurrentConfig() {
  std::lock_guard<std::mutex> lock(g_mutex);
  EngineConfig resolved = Resolve(g_config);
  exec::MemoryBudget::Global()->set_limit(resolved.memory_limit_bytes);
  return resolved;
}

void ReleaseProcessResources() { io::FinalizeFileSystems(); }

arrow::Result<int64_t> ParseByteSize(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  size_t start = i;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  if (i == start) return arrow::Status::Invalid("cannot read a size from '", text, "'");
  const double number = std::stod(text.substr(start, i - start));
  std::string unit;
  for (; i < text.size(); ++i) {
    if (!std::isspace(static_cast<unsigned char>(text[i]))) {
      unit += static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
    }
  }
  double scale = 1;
  if (unit.empty() || unit == "b") {
    scale = 1;
  } else if (unit == "k" || unit == "kb" || unit == "kib") {
    scale = 1024.0;
  } else if (unit == "m" || unit == "mb" || unit == "mib") {
    scale = 1024.0 * 1024;
  } else if (unit == "g" || unit == "gb" || unit == "gib") {
    scale = 1024.0 * 1024 * 1024;
  } else if (unit == "t" || unit == "tb" || unit == "tib") {
    scale = 1024.0 * 1024 * 1024 * 1024;
  } else {
    return arrow::Status::Invalid("unknown size unit '", unit, "' in '", text,
                                  "'; use B, KB, MB, GB or TB");
  }
  return static_cast<int64_t>(number * scale);
}

std::string FormatByteSize(int64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = static_cast<double>(bytes) / 1024;
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f %s", value, kUnits[unit]);
  return text;
}

}  // namespace sluice
