#pragma once

// Factories for every source the engine reads. Each returns an immutable SourceSpec that
// has already listed its files and resolved its schema, so planning errors (missing
// paths, unreadable footers, inconsistent schemas) surface when the dataset is created.

#include <memory>
#include <string>
#include <vector>

#include "plan/source_spec.h"
#include "sluice/options.h"

namespace sluice::io {

arrow::Result<std::shared_ptr<const plan::SourceSpec>> MakeParquetSource(
    const std::vector<std::string>& paths, const ReadParquetOptions& options);
arrow::Result<std::shared_ptr<const plan::SourceSpec>> MakeCsvSource(
    const std::vector<std::string>& paths, const ReadCsvOptions& options);
arrow::Result<std::shared_ptr<const plan::SourceSpec>> MakeJsonSource(
    const std::vector<std::string>& paths, const ReadJsonOptions& options);
arrow::Result<std::shared_ptr<const plan::SourceSpec>> MakeTextSource(
    const std::vector<std::string>& paths, const ReadTextOptions& options);
arrow::Result<std::shared_ptr<const plan::SourceSpec>> MakeTableSource(
    std::shared_ptr<arrow::Table> table);
arrow::Result<std::shared_ptr<const plan::SourceSpec>> MakeRangeSource(int64_t n);

}  // namespace sluice::io
