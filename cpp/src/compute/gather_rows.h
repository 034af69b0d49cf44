#pragma once

#include <arrow/array.h>
#include <arrow/compute/exec.h>
#include <arrow/record_batch.h>
#include <arrow/result.h>
#include <arrow/table.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace sluice::compute {

/// Builds one batch from rows of several batches that share `schema`: output row i is row
/// `rows[i]` of `sources[source_of[i]]`. Numbers, booleans, temporal, decimal and
/// (large) string/binary columns are copied straight from the sources into the output
/// buffers, one pass per column; other types (nested, dictionary, views) go through
/// Arrow's Take per source. Arrow's Take over a chunked column would first concatenate
/// every chunk, a full copy per call that also fails once a string column passes 2 GB,
/// and a Take per source costs a kernel call per source per column when the rows are
/// scattered over many batches (a sort's output). A run of consecutive rows of one
/// source is returned as a slice of it, without copying.
arrow::Result<std::shared_ptr<arrow::RecordBatch>> GatherRows(
    const std::shared_ptr<arrow::Schema>& schema,
    const std::vector<std::shared_ptr<arrow::RecordBatch>>& sources, const uint32_t* source_of,
    const uint32_t* rows, int64_t n, arrow::compute::ExecContext* ctx);

/// A table's rows as batches, gatherable by global row index.
class IndexedBatches {
 public:
  static arrow::Result<std::shared_ptr<const IndexedBatches>> Make(const arrow::Table& table);

  /// The rows at `indices` (each below the table's row count), in that order.
  arrow::Result<std::shared_ptr<arrow::RecordBatch>> Gather(const arrow::UInt64Array& indices,
                                                            arrow::compute::ExecContext* ctx) const;

 private:
  std::shared_ptr<arrow::Schema> schema_;
  std::vector<std::shared_ptr<arrow::RecordBatch>> batches_;
  std::vector<int64_t> starts_;
  int64_t total_ = 0;
};

}  // namespace sluice::compute
