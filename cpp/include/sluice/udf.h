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
};

}  // namespace sluice
