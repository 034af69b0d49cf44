#include "table/write_owner.h"

#include <charconv>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <random>
#include <sstream>
#include <unistd.h>

namespace sluice::io {

namespace {

/// Field 22 of /proc/PID/stat, or -1 when the process does not exist. The command name
/// (field 2) may hold spaces and parentheses, so fields are counted after its last ')'.
int64_t ProcessStartTicks(int64_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return -1;
  std::string line;
  std::getline(stat, line);
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(line.substr(close + 1));
  std::string field;
  // After ')' come fields 3 (state) .. 22 (starttime).
  for (int index = 3; index <= 22; ++index) {
    if (!(fields >> field)) return -1;
  }
  try {
    return std::stoll(field);
  } catch (...) {
    return -1;
  }
}

std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "localhost";
  std::string host = name;
  // Keep the name parseable and valid in a path on every store.
  for (char& c : host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.';
    if (!ok) c = '-';
  }
  return host;
}

bool ParseInt(const std::string& text, int64_t* value) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  auto [ptr, error] = std::from_chars(text.data(), end, *value);
  return error == std::errc() && ptr == end && *value >= 0;
}

}  // namespace

WriteOwner CurrentWriteOwner(const std::string& write_id) {
  WriteOwner owner;
  owner.write_id = write_id;
  owner.pid = static_cast<int64_t>(getpid());
  owner.start_ticks = ProcessStartTicks(owner.pid);
  owner.started_unix = static_cast<int64_t>(std::time(nullptr));
  owner.host = HostName();
  return owner;
}

std::string StagingDirName(const WriteOwner& owner) {
  return std::string(kStagingPrefix) + owner.write_id + "." + std::to_string(owner.pid) + "." +
         std::to_string(owner.start_ticks) + "." + std::to_string(owner.started_unix) + "." +
         owner.host;
}

std::optional<WriteOwner> ParseStagingDirName(const std::string& name) {
  const std::string prefix = kStagingPrefix;
  if (name.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  std::string rest = name.substr(prefix.size());
  WriteOwner owner;
  std::string parts[4];
  for (auto& part : parts) {
    const size_t dot = rest.find('.');
    if (dot == std::string::npos) return std::nullopt;
    part = rest.substr(0, dot);
    rest = rest.substr(dot + 1);
  }
  owner.write_id = parts[0];
  owner.host = rest;
  if (owner.write_id.empty() || owner.host.empty() || !ParseInt(parts[1], &owner.pid) ||
      !ParseInt(parts[2], &owner.start_ticks) || !ParseInt(parts[3], &owner.started_unix)) {
    return std::nullopt;
  }
  return owner;
}

bool IsAbandoned(const WriteOwner& owner, int64_t retention_seconds) {
  if (owner.host == HostName()) {
    const int64_t ticks = ProcessStartTicks(owner.pid);
    return ticks < 0 || ticks != owner.start_ticks;
  }
  return static_cast<int64_t>(std::time(nullptr)) - owner.started_unix > retention_seconds;
}

std::string RandomUuid() {
  std::random_device device;
  std::mt19937_64 generator((static_cast<uint64_t>(device()) << 32) ^ device());
  uint64_t high = generator();
  uint64_t low = generator();
  high = (high & ~0xF000ULL) | 0x4000ULL;                // version 4
  low = (low & ~(0xC000ULL << 48)) | (0x8000ULL << 48);  // RFC 4122 variant
  char text[37];
  std::snprintf(text, sizeof(text), "%08x-%04x-%04x-%04x-%012llx",
                static_cast<unsigned>(high >> 32), static_cast<unsigned>((high >> 16) & 0xFFFF),
                static_cast<unsigned>(high & 0xFFFF), static_cast<unsigned>(low >> 48),
                static_cast<unsigned long long>(low & 0xFFFFFFFFFFFFULL));
  return text;
}

}  // namespace sluice::io
