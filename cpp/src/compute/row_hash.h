#pragma once

#include <arrow/array.h>
#include <arrow/result.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace sluice::compute {

/// Hashes each row of `columns` (all of one length) into `hashes` (resized to that
/// length). Rows equal in every column hash equal. Integer columns hash by value whatever
/// their width or signedness, and float32 like float64, so keys typed int32 on one side of
/// a join and int64 on the other meet in the same partition. -0.0 hashes like 0.0, every
/// NaN alike, and nulls alike. `seed` gives an independent hash: recursive partitioning
/// uses a new seed at each level, so rows that shared a partition split apart.
///
/// Supported: boolean, integers, floating point, dates, times, timestamps, durations,
/// decimals, fixed-size binary, and (large / view) string and binary. Other types give
/// Status::NotImplemented naming the type.
arrow::Status HashRows(const std::vector<std::shared_ptr<arrow::Array>>& columns, uint64_t seed,
                       std::vector<uint64_t>* hashes);

}  // namespace sluice::compute
