#include "operators/repartition_operator.h"

#include "runtime/pipeline.h"
#include "operators/materialized_tasks.h"
#include "operators/hash_partitioner.h"

namespace sluice::operators {

namespace {

/// Drains the input into a HashPartitioner on the first request; task i then reads
/// partition i.
class HashRepartitionTaskSource : public exec::TaskSource {
 public:
  HashRepartitionTaskSource(exec::ExecContext* ctx, std::unique_ptr<exec::TaskSource> input,
                            int num_blocks, std::vector<std::string> keys,
                            exec::OperatorCounters* counters)
      : ctx_(ctx),
        input_(std::move(input)),
        num_blocks_(num_blocks),
        keys_(std::move(keys)),
        counters_(counters) {}

  arrow::Result<std::optional<exec::ScanTask>> NextTask() override {
    if (!partitioned_) ARROW_RETURN_NOT_OK(Partition());
    if (next_ >= rows_.partitions.size()) return std::nullopt;
    const spill::HashPartition* partition = &rows_.partitions[next_];
    exec::ScanTask task;
    task.label = "repartition block " + std::to_string(next_++);
    task.open = [partition, pool = ctx_->pool()]() { return partition->Open(pool); };
    return task;
  }

 private:
  arrow::Status Partition() {
    partitioned_ = true;
    ARROW_ASSIGN_OR_RAISE(auto runner, exec::PipelineRunner::Start(ctx_, std::move(input_)));
    std::unique_ptr<spill::HashPartitioner> partitioner;
    while (true) {
      ARROW_ASSIGN_OR_RAISE(exec::BatchPtr batch, runner->Next());
      if (!batch) break;
      if (!partitioner) {
        ARROW_ASSIGN_OR_RAISE(
            partitioner, spill::HashPartitioner::Make(ctx_, batch->schema(), keys_, num_blocks_,
                                                      /*seed=*/0, counters_, "repartition"));
      }
      if (counters_) {
        counters_->rows_in.fetch_add(batch->num_rows());
        counters_->rows_out.fetch_add(batch->num_rows());
      }
      ARROW_RETURN_NOT_OK(partitioner->Add(batch));
    }
    if (partitioner) {
      ARROW_ASSIGN_OR_RAISE(rows_, partitioner->Finish());
    }
    return arrow::Status::OK();
  }

  exec::ExecContext* ctx_;
  std::unique_ptr<exec::TaskSource> input_;
  int num_blocks_;
  std::vector<std::string> keys_;
  exec::OperatorCounters* counters_;
  bool partitioned_ = false;
  spill::PartitionedRows rows_;
  size_t next_ = 0;
};

}  // namespace

arrow::Result<std::unique_ptr<exec::TaskSource>> MakeRepartitionTaskSource(
    exec::ExecContext* ctx, std::unique_ptr<exec::TaskSource> input, int num_blocks,
    std::vector<std::string> keys, exec::OperatorCounters* counters) {
  if (num_blocks <= 0) return arrow::Status::Invalid("repartition: num_blocks must be positive");
  if (!keys.empty()) {
    return std::make_unique<HashRepartitionTaskSource>(ctx, std::move(input), num_blocks,
                                                       std::move(keys), counters);
  }
  auto shared_input = std::make_shared<std::unique_ptr<exec::TaskSource>>(std::move(input));
  auto produce = [ctx, shared_input, counters]() -> arrow::Result<MaterializedRows> {
    ARROW_ASSIGN_OR_RAISE(auto table,
                          CollectInput(ctx, std::move(*shared_input), nullptr, counters));
    return MaterializedRows{std::move(table), nullptr};
  };
  auto rows_per_task = [num_blocks](int64_t total) {
    return (total + num_blocks - 1) / num_blocks;
  };
  return MakeMaterializedTaskSource(ctx, "repartition", std::move(produce), rows_per_task,
                                    counters);
}

}  // namespace sluice::operators
