#pragma once

// Arrow C Data Interface capsules (the PyCapsule protocol used by __arrow_c_stream__,
// __arrow_c_array__ and __arrow_c_schema__): how batches, tables and schemas cross the
// Python boundary without copies and without linking pyarrow's C++ layer.

#include <arrow/record_batch.h>
#include <arrow/type.h>
#include <nanobind/nanobind.h>

#include <memory>

namespace sluice::python {

nanobind::capsule ExportSchemaCapsule(const arrow::Schema& schema);
nanobind::capsule ExportTypeCapsule(const arrow::DataType& type);
/// (schema capsule, array capsule) for one batch, as __arrow_c_array__ returns.
nanobind::tuple ExportBatchCapsules(const arrow::RecordBatch& batch);
/// A stream capsule that owns `reader`. Reading releases the GIL so engine workers that
/// call back into Python can run.
nanobind::capsule ExportStreamCapsule(std::shared_ptr<arrow::RecordBatchReader> reader);

std::shared_ptr<arrow::Schema> ImportSchemaCapsule(nanobind::handle capsule);
std::shared_ptr<arrow::DataType> ImportTypeCapsule(nanobind::handle capsule);
/// Imports an array-like capsule pair as an Array (any type).
std::shared_ptr<arrow::Array> ImportArrayCapsules(nanobind::handle schema, nanobind::handle array);
std::shared_ptr<arrow::RecordBatch> ImportBatchCapsules(nanobind::handle schema,
                                                        nanobind::handle array);
std::shared_ptr<arrow::RecordBatchReader> ImportStreamCapsule(nanobind::handle capsule);

}  // namespace sluice::python
