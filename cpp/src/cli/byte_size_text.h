#pragma once

#include <cstdint>
#include <string>

namespace sluice::cli {

/// A byte count for people: "512 B", "1.5 KiB", "12.3 MiB", "2.0 GiB".
std::string FormatByteSize(int64_t bytes);

}  // namespace sluice::cli
