#pragma once

#include <arrow/record_batch.h>
#include <arrow/result.h>

#include <memory>
#include <vector>

#include "sluice/dataset.h"

namespace sluice::compute {

/// Orders rows of batches that share a schema by sort keys, exactly as Arrow's
/// SortIndices does: per key ascending or descending, nulls first or last, and NaN next
/// to the nulls (between the numbers and the nulls). A merge of runs sorted by
/// SortIndices with this comparator therefore gives the order a single SortIndices over
/// all the rows would have given; ties are the caller's to break (by run, for stability).
class RowComparator {
 public:
  /// Fails, naming the column, for a missing key or a type it cannot order (nested types,
  /// dictionaries).
  static arrow::Result<RowComparator> Make(const arrow::Schema& schema,
                                           const std::vector<SortKey>& keys);

  /// The key columns of one batch, in key order.
  using KeyColumns = std::vector<const arrow::ArrayData*>;
  KeyColumns KeysOf(const arrow::RecordBatch& batch) const;

  /// Negative, zero or positive as row `i` of `a` sorts before, with or after row `j` of `b`.
  int Compare(const KeyColumns& a, int64_t i, const KeyColumns& b, int64_t j) const;

 private:
  using ValueCompare = int (*)(const arrow::ArrayData&, int64_t, const arrow::ArrayData&, int64_t);
  /// NaN test for floating-point keys (null for other types).
  using NanTest = bool (*)(const arrow::ArrayData&, int64_t);
  struct Key {
    int column = 0;
    bool descending = false;
    bool nulls_first = false;
    ValueCompare compare = nullptr;
    NanTest is_nan = nullptr;
  };
  std::vector<Key> keys_;
};

}  // namespace sluice::compute
