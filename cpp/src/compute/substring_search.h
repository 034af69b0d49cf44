#pragma once

#include <arrow/compute/function.h>

#include <memory>

namespace sluice::compute {

/// "match_substring" (case-sensitive) for string, large_string, binary and large_binary.
///
/// Arrow's kernel searches each value on its own through an indirect call per row. This one
/// searches the whole value buffer of a batch at once with memmem (vectorized in glibc) and
/// maps each hit to its row through the offsets, skipping to the next row after a match, so
/// the cost is one pass over the bytes. A hit that straddles two values is not a match and
/// the search resumes one byte after it. ignore_case=true is handed to Arrow's kernel.
/// Null in, null out.
std::shared_ptr<arrow::compute::ScalarFunction> MakeMatchSubstringFunction();

}  // namespace sluice::compute
