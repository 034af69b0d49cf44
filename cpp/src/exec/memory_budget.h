#pragma once

#include <arrow/memory_pool.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace sluice::exec {

/// The process-wide memory pool. Every engine allocation goes through it so the bytes
/// the executor holds are known; producers wait in WaitForRoom() while the budget is
/// exhausted, which is what keeps streaming pipelines inside the budget.
class MemoryBudget : public arrow::MemoryPool {
 public:
  explicit MemoryBudget(arrow::MemoryPool* upstream);

  /// The pool all engine code allocates from.
  static MemoryBudget* Global();

  void set_limit(int64_t bytes) { limit_.store(bytes); }
  int64_t limit() const { return limit_.load(); }
  /// True while allocated bytes are under `fraction` of the limit.
  bool HasRoom(double fraction = 0.75) const;
  void ResetPeak() { peak_.store(bytes_allocated()); }

  arrow::Status Allocate(int64_t size, int64_t alignment, uint8_t** out) override;
  arrow::Status Reallocate(int64_t old_size, int64_t new_size, int64_t alignment,
                           uint8_t** ptr) override;
  void Free(uint8_t* buffer, int64_t size, int64_t alignment) override;
  int64_t bytes_allocated() const override { return allocated_.load(); }
  int64_t max_memory() const override { return peak_.load(); }
  int64_t total_bytes_allocated() const override { return total_.load(); }
  int64_t num_allocations() const override { return count_.load(); }
  std::string backend_name() const override { return upstream_->backend_name(); }

 private:
  void Track(int64_t delta);

  arrow::MemoryPool* upstream_;
  std::atomic<int64_t> limit_{0};
  std::atomic<int64_t> allocated_{0};
  std::atomic<int64_t> peak_{0};
  std::atomic<int64_t> total_{0};
  std::atomic<int64_t> count_{0};
};

}  // namespace sluice::exec
