#pragma once

// UTF-8 checks for the text readers: Arrow's fast validation, and Python's
// errors="replace" for those who ask for it.

#include <arrow/buffer_builder.h>
#include <arrow/status.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::io {

/// Whether `text` is valid UTF-8 (Arrow's validator, several bytes per step).
bool IsValidUtf8(std::string_view text);

/// Appends `text` to `out` with each maximal invalid subsequence replaced by U+FFFD, as
/// Python's bytes.decode("utf-8", errors="replace") and the WHATWG decoder do.
arrow::Status AppendReplacingInvalidUtf8(std::string_view text, arrow::BufferBuilder* out);

/// `text` with invalid sequences replaced by U+FFFD (for messages and rejects).
std::string ReplaceInvalidUtf8(std::string_view text);

}  // namespace sluice::io
