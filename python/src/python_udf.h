#pragma once

#include <nanobind/nanobind.h>

#include "sluice/udf.h"

namespace sluice::python {

/// Wraps a Python factory as a BatchFunctionFactory. `factory()` must return a callable
/// taking (schema_capsule, array_capsule) of the input batch and returning the output
/// batch's (schema_capsule, array_capsule) — the Python glue in sluice/_udf.py builds it.
/// The GIL is taken only around Python calls; Python exceptions are kept intact in the
/// returned Status so the caller re-raises the user's own exception.
BatchFunctionFactory MakePythonBatchFunctionFactory(nanobind::object factory);

/// Writes `factory` with cloudpickle (kind "python-cloudpickle"), for
/// MapBatchesOptions::serialize: plans with Python functions can go to other processes.
std::function<arrow::Result<SerializedFunction>()> MakePythonFunctionSerializer(
    nanobind::object factory);

/// Registers the deserializer of "python-cloudpickle" functions (at module import).
void RegisterPythonFunctionDeserializer();

}  // namespace sluice::python
