#include "sluice/config.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "exec/session_state.h"
#include "io/filesystems.h"

namespace sluice {

arrow::Status Configure(const EngineConfig& config) {
  return exec::SessionState::Default()->Configure(config);
}

EngineConfig CurrentConfig() { return exec::SessionState::Default()->config(); }

void ReleaseProcessResources() { io::FinalizeFileSystems(); }

arrow::Result<int64_t> ParseByteSize(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  size_t start = i;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  if (i == start) return arrow::Status::Invalid("cannot read a size from '", text, "'");
  // strtod, not stod: a lone "." or "1.2.3" is bad input to report, not an exception.
  const std::string digits = text.substr(start, i - start);
  char* end = nullptr;
  const double number = std::strtod(digits.c_str(), &end);
  if (end != digits.c_str() + digits.size()) {
    return arrow::Status::Invalid("cannot read a size from '", text, "'");
  }
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
  const double bytes = number * scale;
  // Casting a double past int64's range is undefined behaviour.
  if (!(bytes < static_cast<double>(std::numeric_limits<int64_t>::max()))) {
    return arrow::Status::Invalid("size '", text, "' is too large");
  }
  return static_cast<int64_t>(bytes);
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
