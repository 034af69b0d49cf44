#pragma once

#include <arrow/array.h>
#include <arrow/compute/api_vector.h>
#include <arrow/compute/exec.h>
#include <arrow/record_batch.h>
#include <arrow/result.h>

#include <memory>
#include <vector>

#include "sluice/dataset.h"

namespace sluice::compute {

/// Sluice's sort keys as Arrow's SortOptions (ascending/descending, nulls first/last per key).
arrow::compute::SortOptions ArrowSortOptions(const std::vector<SortKey>& keys);

/// The stable sorted order of the rows of `batches` (which share `schema`), as indices into
/// their concatenation, equal to what Arrow's SortIndices gives for the same rows.
///
/// Arrow sorts a chunked table single-threaded and merges its chunks pairwise through a
/// chunk resolver, which costs more than the sort itself when a scan left thousands of
/// small batches. Here the rows are cut into `threads` contiguous parts; each part's key
/// columns are concatenated and sorted by SortIndices on its own thread, and the sorted
/// parts are merged pairwise by RowComparator, every merge split into `threads` output
/// ranges found by binary search (the merge path) so it runs in parallel too. Keys that
/// RowComparator cannot order (nested, dictionary) fall back to one SortIndices.
arrow::Result<std::shared_ptr<arrow::UInt64Array>> SortIndicesInParallel(
    const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches,
    const std::shared_ptr<arrow::Schema>& schema, const std::vector<SortKey>& keys, int threads,
    arrow::compute::ExecContext* ctx);

}  // namespace sluice::compute
