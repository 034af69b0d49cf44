#include "operators/map_batches_operator.h"

#include <arrow/table.h>

#include <condition_variable>
#include <mutex>
#include <vector>

#include "runtime/exec_context.h"

namespace sluice::operators {

namespace {

/// The functions calls may use: one shared function, or a pool of actors.
class FunctionPool : public exec::OperatorState {
 public:
  FunctionPool(BatchFunctionFactory factory, int max_functions, int max_concurrency)
      : factory_(std::move(factory)),
        max_functions_(max_functions),
        max_concurrency_(max_concurrency) {}

  arrow::Status Prestart(int count) {
    for (int i = 0; i < count; ++i) {
      ARROW_ASSIGN_OR_RAISE(BatchFunction fn, factory_());
      std::lock_guard<std::mutex> lock(mutex_);
      idle_.push_back(std::move(fn));
      ++created_;
    }
    return arrow::Status::OK();
  }

  /// Borrows a function, building one if the pool may grow; waits otherwise.
  arrow::Result<BatchFunction> Acquire(exec::ExecContext* ctx) {
    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
      const bool under_concurrency = max_concurrency_ <= 0 || in_use_ < max_concurrency_;
      if (under_concurrency && shared_) {
        ++in_use_;
        return *shared_;
      }
      if (under_concurrency && !idle_.empty()) {
        BatchFunction fn = std::move(idle_.back());
        idle_.pop_back();
        ++in_use_;
        return fn;
      }
      if (under_concurrency && created_ < max_functions_) {
        ++created_;
        ++in_use_;
        lock.unlock();
        auto fn = factory_();
        if (!fn.ok()) {
          std::lock_guard<std::mutex> relock(mutex_);
          --created_;
          --in_use_;
          cv_.notify_all();
        }
        return fn;
      }
      if (ctx->cancelled()) return arrow::Status::Cancelled("execution cancelled");
      cv_.wait_for(lock, std::chrono::milliseconds(100));
    }
  }

  void Release(BatchFunction fn) {
    std::lock_guard<std::mutex> lock(mutex_);
    --in_use_;
    if (!shared_) idle_.push_back(std::move(fn));
    cv_.notify_one();
  }

  /// Stateless mode: one function shared by all calls.
  arrow::Status MakeShared() {
    ARROW_ASSIGN_OR_RAISE(BatchFunction fn, factory_());
    shared_ = std::move(fn);
    return arrow::Status::OK();
  }

 private:
  BatchFunctionFactory factory_;
  int max_functions_;
  int max_concurrency_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::optional<BatchFunction> shared_;
  std::vector<BatchFunction> idle_;
  int created_ = 0;
  int in_use_ = 0;
};

struct RebatchState : exec::OperatorState {
  std::vector<exec::BatchPtr> pending;
  int64_t pending_rows = 0;
};

arrow::Result<exec::BatchPtr> Concatenate(const std::vector<exec::BatchPtr>& batches,
                                          arrow::MemoryPool* pool) {
  if (batches.size() == 1) return batches[0];
  ARROW_ASSIGN_OR_RAISE(auto table, arrow::Table::FromRecordBatches(batches));
  ARROW_ASSIGN_OR_RAISE(auto combined, table->CombineChunksToBatch(pool));
  return combined;
}

}  // namespace

arrow::Result<std::shared_ptr<MapBatchesOperator>> MapBatchesOperator::Make(
    BatchFunctionFactory factory, MapBatchesOptions options) {
  if (!factory) return arrow::Status::Invalid(options.name, ": no function given");
  if (options.batch_size && *options.batch_size <= 0) {
    return arrow::Status::Invalid(options.name, ": batch_size must be positive");
  }
  if (options.min_actors < 0 || options.max_actors < options.min_actors) {
    return arrow::Status::Invalid(options.name, ": need 0 <= min_actors <= max_actors");
  }
  return std::shared_ptr<MapBatchesOperator>(
      new MapBatchesOperator(std::move(factory), std::move(options)));
}

arrow::Result<std::shared_ptr<exec::OperatorState>> MapBatchesOperator::MakeGlobalState(
    exec::ExecContext*) const {
  const bool actors = options_.max_actors > 0;
  auto pool = std::make_shared<FunctionPool>(factory_, actors ? options_.max_actors : 0,
                                             options_.max_concurrency);
  if (actors) {
    ARROW_RETURN_NOT_OK(pool->Prestart(options_.min_actors));
  } else {
    ARROW_RETURN_NOT_OK(pool->MakeShared());
  }
  return pool;
}

arrow::Result<std::unique_ptr<exec::OperatorState>> MapBatchesOperator::MakeTaskState(
    exec::ExecContext*, exec::OperatorState*) const {
  return std::make_unique<RebatchState>();
}

arrow::Status MapBatchesOperator::Call(exec::ExecContext* ctx, exec::OperatorState* global,
                                       exec::BatchPtr batch, const exec::EmitFn& emit) const {
  auto* pool = static_cast<FunctionPool*>(global);
  ARROW_ASSIGN_OR_RAISE(BatchFunction fn, pool->Acquire(ctx));
  auto result = fn(batch);
  pool->Release(std::move(fn));
  if (!result.ok()) {
    return result.status().WithMessage(options_.name, ": ", result.status().message());
  }
  if (*result == nullptr) {
    return arrow::Status::Invalid(options_.name, ": the function returned no batch");
  }
  return emit(std::move(*result));
}

arrow::Status MapBatchesOperator::Push(exec::ExecContext* ctx, exec::OperatorState* global,
                                       exec::OperatorState* task, exec::BatchPtr batch,
                                       const exec::EmitFn& emit) const {
  if (!options_.batch_size) return Call(ctx, global, std::move(batch), emit);
  auto* state = static_cast<RebatchState*>(task);
  const int64_t size = *options_.batch_size;
  int64_t offset = 0;
  while (offset < batch->num_rows()) {
    const int64_t take = std::min(size - state->pending_rows, batch->num_rows() - offset);
    state->pending.push_back(batch->Slice(offset, take));
    state->pending_rows += take;
    offset += take;
    if (state->pending_rows == size) {
      ARROW_ASSIGN_OR_RAISE(auto combined, Concatenate(state->pending, ctx->pool()));
      state->pending.clear();
      state->pending_rows = 0;
      ARROW_RETURN_NOT_OK(Call(ctx, global, std::move(combined), emit));
    }
  }
  return arrow::Status::OK();
}

arrow::Status MapBatchesOperator::Finish(exec::ExecContext* ctx, exec::OperatorState* global,
                                         exec::OperatorState* task,
                                         const exec::EmitFn& emit) const {
  if (!options_.batch_size) return arrow::Status::OK();
  auto* state = static_cast<RebatchState*>(task);
  if (state->pending_rows == 0) return arrow::Status::OK();
  ARROW_ASSIGN_OR_RAISE(auto combined, Concatenate(state->pending, ctx->pool()));
  state->pending.clear();
  state->pending_rows = 0;
  return Call(ctx, global, std::move(combined), emit);
}

}  // namespace sluice::operators
