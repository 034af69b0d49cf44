#pragma once

// The options byte of the reader fuzz targets: the input's last byte picks reader options
// and how short the file's reads are, the rest is the file. libFuzzer mutates both, so
// one corpus covers every combination; make_corpus.py appends the byte to its seeds.

#include <cstdint>

namespace sluice::fuzz {

/// Bits 6-7 of the options byte: the most a read of the file returns (0: no limit).
inline int64_t MaxReadBytes(uint8_t options) {
  constexpr int64_t kChoices[] = {0, 1, 13, 4096};
  return kChoices[options >> 6];
}

}  // namespace sluice::fuzz
