#pragma once

// The screen in front of Arrow's CSV reader (see screened_input_stream.h).

#include <arrow/csv/options.h>
#include <arrow/memory_pool.h>

#include <cstdint>
#include <memory>

#include "formats/bad_records.h"
#include "storage/screened_input_stream.h"
#include "sluice/options.h"

namespace sluice::io {

struct CsvScreenOptions {
  /// How records are delimited: line breaks, and with newlines_in_values quoting too.
  arrow::csv::ParseOptions parse;
  EncodingErrors encoding_errors = EncodingErrors::kStrict;
  /// Records before the header, passed on unchecked (Arrow skips them; empty lines count).
  int64_t skip_rows = 0;
  /// The first non-empty record after them holds the column names.
  bool header = true;
  /// Prefix each data record with its physical line number and the delimiter, and the
  /// header with `line_column` and the delimiter, so the rows Arrow parses carry the
  /// line they came from (bad-record modes).
  bool number_lines = false;
  std::string line_column;
};

/// Checks that each record is UTF-8 (a record that is not goes to `sink`, which fails or
/// drops it) or repairs it with U+FFFD (EncodingErrors::kReplace), and numbers the
/// records if asked. Empty lines pass unchanged, as Arrow skips them.
std::unique_ptr<RecordScreen> MakeCsvRecordScreen(CsvScreenOptions options,
                                                  std::shared_ptr<BadRecordSink> sink,
                                                  arrow::MemoryPool* pool);

}  // namespace sluice::io
