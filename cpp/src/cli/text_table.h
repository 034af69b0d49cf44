#pragma once

// Rendering rows as an aligned plain-text table for a terminal (`sluice head`).

#include <arrow/record_batch.h>
#include <arrow/result.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace sluice::cli {

struct TextTableOptions {
  /// Cells longer than this many characters are cut and end with an ellipsis.
  size_t max_cell_width = 40;
};

/// The rows of `batches` (all with `schema`) as a table: a header of column names, a rule,
/// then one line per row. Nulls print as "null", line breaks and other control characters
/// inside values are escaped so each row stays on one line, and numbers are right-aligned.
arrow::Result<std::string> FormatTextTable(
    const arrow::Schema& schema, const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches,
    const TextTableOptions& options = {});

}  // namespace sluice::cli
