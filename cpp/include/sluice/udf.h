#pragma once

#include <arrow/record_batch.h>
#include <arrow/result.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace sluice {

/// A user function over one batch. It may change the schema and the number of rows.
using BatchFunction = std::function<arrow::Result<std::shared_ptr<arrow::RecordBatch>>(
    const std::shared_ptr<arrow::RecordBatch>&)>;

/// Builds a BatchFunction. With an actor pool it is called once per actor, so costly set-up
/// (loading a model, opening a connection) happens once per worker instead of per batch.
using BatchFunctionFactory = std::function<arrow::Result<BatchFunction>()>;

/// A user function written as bytes for another process: `kind` names the deserializer
/// that reads it back (RegisterFunctionDeserializer), `payload` holds its bytes.
struct SerializedFunction {
  std::string kind;
  std::string payload;
};

/// How a map_batches step runs.
struct MapBatchesOptions {
  /// Label shown in explain(), stats() and error messages.
  std::string name = "MapBatches";
  /// Rows per call; batches are combined or split to this size. Unset: batches as they come.
  std::optional<int64_t> batch_size;
  /// Actor pool bounds. 0/0 means stateless tasks: the factory runs once per execution
  /// and the resulting function is shared by every worker thread.
  int min_actors = 0;
  int max_actors = 0;
  /// At most this many calls run at once (0: no limit beyond the worker count). Python
  /// functions run on every worker too; the GIL serializes their Python code while
  /// pandas, numpy and pyarrow work inside them runs in parallel.
  int max_concurrency = 0;
  /// Writes the function as bytes, set by whoever made it (the Python layer pickles its
  /// functions with cloudpickle); unset for a function that cannot leave the process, such
  /// as a C++ lambda: a plan holding one cannot be serialized.
  std::function<arrow::Result<SerializedFunction>()> serialize;
};

/// A function read back from bytes: its factory, and how to write it again.
struct DeserializedFunction {
  BatchFunctionFactory factory;
  std::function<arrow::Result<SerializedFunction>()> serialize;
};
using FunctionDeserializer =
    std::function<arrow::Result<DeserializedFunction>(const std::string& payload)>;

/// Reads back functions of `kind` in Dataset::DeserializePlan. Process-wide, like Arrow's
/// function registry: the Python module registers "python-cloudpickle" when imported.
void RegisterFunctionDeserializer(const std::string& kind, FunctionDeserializer deserializer);

}  // namespace sluice
