#pragma once

#include <arrow/compute/exec.h>
#include <arrow/datum.h>
#include <arrow/record_batch.h>
#include <arrow/result.h>

#include <memory>
#include <string>

namespace sluice::compute {

/// The rows of `batch` where `mask` is true: `mask` is what a predicate evaluated to, a
/// boolean array or scalar (null counts as false). Returns `batch` itself when every row
/// is kept and null when none is; a mask of another type is a TypeError naming
/// `predicate`. Shared by the filter operator and the Parquet scan's pushed-down filter.
arrow::Result<std::shared_ptr<arrow::RecordBatch>> SelectRows(
    const std::shared_ptr<arrow::RecordBatch>& batch, const arrow::Datum& mask,
    const std::string& predicate, arrow::compute::ExecContext* ctx);

}  // namespace sluice::compute
