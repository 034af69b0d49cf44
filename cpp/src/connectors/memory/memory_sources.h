#pragma once

// Sources of rows that are already in memory or generated: from_arrow / from_pandas /
// from_items tables, and range(n).

#include <arrow/result.h>
#include <arrow/table.h>

#include <memory>
#include <string>

#include "plan/source_spec.h"

namespace sluice::io {

/// An in-memory table, cut into tasks of batch_rows rows; splits are row slices.
arrow::Result<std::shared_ptr<const plan::SourceSpec>> MakeTableSource(
    std::shared_ptr<arrow::Table> table);
/// Integers 0..n-1 in column "id", generated per task; splits are intervals.
arrow::Result<std::shared_ptr<const plan::SourceSpec>> MakeRangeSource(int64_t n);

/// Whether `kind` names a source of this file (DeserializeMemorySource reads it back).
bool IsMemorySourceKind(const std::string& kind);
/// A table or range source that SourceSpec::Serialize wrote; damaged payloads are Invalid
/// (or throw nlohmann::json exceptions, which DeserializeSource catches).
arrow::Result<std::shared_ptr<const plan::SourceSpec>> DeserializeMemorySource(
    const plan::SerializedPart& part);

}  // namespace sluice::io
