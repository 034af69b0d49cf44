#pragma once

// Which partitions a filter can match, decided from their values alone: each partition's
// values become a guarantee (year == 2015 AND marketplace == 'US') and the filter is
// simplified under it, as Arrow's dataset scanner prunes fragments. A partition stays
// unless the filter simplifies to false (or null) under its values.

#include <arrow/result.h>
#include <arrow/type_fwd.h>

#include <vector>

#include "sluice/catalog.h"
#include "sluice/expression.h"

namespace sluice::catalog {

/// The partitions of a table with `schema` that `filter` may select. With
/// `partition_columns_only`, a filter using any other column is an error (listing
/// partitions), otherwise other columns are left for the rows (reading).
arrow::Result<std::vector<PartitionInfo>> PrunePartitions(
    std::vector<PartitionInfo> partitions, const arrow::Schema& schema,
    const std::vector<std::string>& partition_cols, const Expression& filter,
    bool partition_columns_only);

}  // namespace sluice::catalog
