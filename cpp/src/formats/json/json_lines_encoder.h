#pragma once

#include <arrow/record_batch.h>
#include <arrow/result.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace sluice::io {

/// Turns record batches into JSON lines: one object per row, keys in column order, every
/// column present (nulls as `null`). Arrow has no JSON writer, hence this encoder.
///
/// Values: integers and decimals as numbers; floats as the shortest text that reads back
/// to the same value (always with a '.' or exponent, so they read back as floats), NaN and
/// infinities as null; strings escaped per RFC 8259 with UTF-8 passed through; binary as
/// base64 strings; dates as "YYYY-MM-DD"; times as "HH:MM:SS[.fraction]"; timestamps as ISO
/// 8601 "YYYY-MM-DDTHH:MM:SS[.fraction]" plus, for zoned types, the UTC offset in force
/// ("Z" or "+05:30"); durations as integers in their unit; lists as arrays; structs as
/// objects; maps as objects (non-string keys written as strings); dictionaries decoded;
/// extension types as their storage; intervals as numbers (months) or objects.
///
/// The encoder works a column at a time (one type dispatch per column and batch, values
/// appended into reused buffers, no allocation per value), then interleaves the columns
/// into lines.
class JsonLinesEncoder {
 public:
  /// Fails with NotImplemented, naming the column, for a type it cannot write. Every
  /// Arrow 26 type is written (unions as the selected child's value, run-end encoded
  /// arrays decoded first); the check guards against types added later.
  static arrow::Result<std::unique_ptr<JsonLinesEncoder>> Make(
      std::shared_ptr<arrow::Schema> schema);

  /// Appends the lines of `batch`, which must have the encoder's column types, to `out`.
  arrow::Status Encode(const arrow::RecordBatch& batch, std::string* out);

 private:
  explicit JsonLinesEncoder(std::shared_ptr<arrow::Schema> schema);

  std::shared_ptr<arrow::Schema> schema_;
  /// `"name":` per column, with the separating comma for all but the first.
  std::vector<std::string> key_prefixes_;
  // Per-column scratch reused across batches: the values' text and where each ends.
  std::vector<std::string> column_text_;
  std::vector<std::vector<size_t>> column_ends_;
};

/// Convenience for tests and small outputs: the JSON lines of one batch.
arrow::Result<std::string> EncodeJsonLines(const arrow::RecordBatch& batch);

}  // namespace sluice::io
