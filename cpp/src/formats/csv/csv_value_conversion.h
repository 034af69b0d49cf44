#pragma once

// Converting CSV field text to a column's type one value at a time in effect, so that a
// value that does not convert marks its own row bad instead of failing the whole block
// (on_bad_lines "skip" and "collect"). Conversion is Arrow's own CSV converter, so the
// values that convert read exactly as they would without bad-record handling.

#include <arrow/array.h>
#include <arrow/csv/options.h>
#include <arrow/result.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sluice::io {

struct ConvertedCsvColumn {
  /// The converted values; null at the rows that failed.
  std::shared_ptr<arrow::Array> values;
  /// Rows that did not convert, ascending, with Arrow's reason.
  std::vector<std::pair<int64_t, std::string>> failures;
};

/// Converts `fields` (the fields' text as Arrow's CSV reader returns it for a binary
/// column: null where the text is one of `options.null_values`) to `type` as Arrow's
/// CSV reader would have with `options`.
arrow::Result<ConvertedCsvColumn> ConvertCsvFields(const arrow::BinaryArray& fields,
                                                   const std::shared_ptr<arrow::DataType>& type,
                                                   const arrow::csv::ConvertOptions& options,
                                                   arrow::MemoryPool* pool);

}  // namespace sluice::io
