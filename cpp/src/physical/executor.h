#pragma once

#include <arrow/record_batch.h>

#include <memory>

#include "core/batch_stream.h"
#include "runtime/exec_context.h"
#include "plan/logical_plan.h"

namespace sluice::exec {

/// Turns an optimized logical plan into the task source of its final pipeline. Streaming
/// nodes (filter, project, map_batches) wrap the tasks below them; pipeline breakers (sort,
/// aggregate, limit, repartition, join) run their input pipelines and hand out new tasks.
arrow::Result<std::unique_ptr<TaskSource>> BuildTaskSource(ExecContext* ctx,
                                                           const plan::PlanNodePtr& node);

/// A RecordBatchReader over a running plan. It owns the execution: destroying it (or
/// Close()) cancels the workers. Batches are in plan order; a batch whose schema differs
/// from the first is cast to it or rejected with an error naming both schemas.
class PlanReader : public arrow::RecordBatchReader {
 public:
  /// Optimizes nothing: pass an optimized plan. `stats_out`, if given, receives the
  /// execution counters when the reader finishes or is destroyed. Runs in `session`
  /// (null: the default session).
  static arrow::Result<std::shared_ptr<PlanReader>> Open(
      const plan::PlanNodePtr& plan, std::shared_ptr<ExecutionStats> stats_out = nullptr,
      std::shared_ptr<SessionState> session = nullptr);
  ~PlanReader() override;

  std::shared_ptr<arrow::Schema> schema() const override { return schema_; }
  arrow::Status ReadNext(std::shared_ptr<arrow::RecordBatch>* batch) override;
  arrow::Status Close() override;

 private:
  PlanReader() = default;
  void PublishStats();

  std::unique_ptr<ExecContext> ctx_;
  std::unique_ptr<BatchStream> runner_;
  std::shared_ptr<arrow::Schema> schema_;
  BatchPtr peeked_;
  std::shared_ptr<ExecutionStats> stats_out_;
  bool finished_ = false;
};

}  // namespace sluice::exec
