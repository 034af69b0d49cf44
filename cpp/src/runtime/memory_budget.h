#pragma once

#include <arrow/memory_pool.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace sluice::exec {

/// A memory pool that counts what goes through it, with an optional limit. Budgets nest:
/// an execution's budget sits under its session's, which sits under the process's, and
/// every allocation counts at each level (so an execution knows its own peak, a session
/// its own use, and the process the total). Producers hold back while a budget on the
/// chain has no room, which is what keeps streaming pipelines inside it.
///
/// Lifetime: a buffer keeps a raw pointer to its pool and may outlive the execution or
/// the session that allocated it (a table handed to the caller). So a budget is made on
/// the heap, its owner calls Release() instead of deleting it, and it deletes itself
/// when the owner has released it and its last buffer is freed.
class MemoryBudget : public arrow::MemoryPool {
 public:
  /// A budget under `parent`: allocations and claims count in both. Owned by the caller
  /// until it calls Release().
  static MemoryBudget* MakeUnder(MemoryBudget* parent);
  /// The owner is done with the budget; it goes once its buffers are freed.
  void Release();

  /// The process's budget, under which every session's sits (no limit of its own).
  static MemoryBudget* Process();

  /// 0: no limit of its own (the budgets above it still apply).
  void set_limit(int64_t bytes) { limit_.store(bytes); }
  int64_t limit() const { return limit_.load(); }
  MemoryBudget* parent() const { return parent_; }
  /// True while allocated bytes are under `fraction` of the limit, here and above.
  bool HasRoom(double fraction = 0.75) const;
  void ResetPeak() { peak_.store(bytes_allocated()); }

  /// Claims `bytes` for rows an operator holds on to (a sort's unsorted rows, the
  /// partitions of a group-by). Refused when the claims of all operators would pass
  /// kOperatorShare of the limit: the operator spills instead. (Not refused for
  /// allocations elsewhere: batches in flight come and go, and counting them would cut
  /// a sort's runs to a batch or two whenever readers are busy.)
  /// `force` grants it regardless (an operator holding nothing may always take a batch).
  /// The claim must fit here and in every budget above.
  bool TryReserve(int64_t bytes, bool force);
  void Unreserve(int64_t bytes);
  int64_t reserved() const { return reserved_.load(); }
  /// The share of the limit operators may hold; the rest is for batches in flight
  /// between operators, readers' and writers' buffers and the operators' working memory
  /// (a hash table built over held rows).
  static constexpr double kOperatorShare = 0.5;

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
  explicit MemoryBudget(arrow::MemoryPool* upstream);
  explicit MemoryBudget(MemoryBudget* parent);
  ~MemoryBudget() override = default;
  void Track(int64_t delta);
  bool TryReserveHere(int64_t bytes, bool force);
  /// Drops one reference (the owner's or a buffer's); the last one deletes the budget.
  void Unref();

  MemoryBudget* parent_ = nullptr;
  /// Where allocations go: the parent, or the system allocator for the process budget.
  arrow::MemoryPool* upstream_;
  std::atomic<int64_t> limit_{0};
  std::atomic<int64_t> allocated_{0};
  std::atomic<int64_t> peak_{0};
  std::atomic<int64_t> total_{0};
  std::atomic<int64_t> count_{0};
  std::atomic<int64_t> reserved_{0};
  /// The owner (until Release) plus one per buffer not yet freed.
  std::atomic<int64_t> refs_{1};
};

/// One operator's claim on the memory budget, grown before it buffers more rows and
/// released when it spills them or finishes. Used by one thread at a time.
class MemoryReservation {
 public:
  /// `peak_sink`, when given, receives the largest claim (an operator's stats counter).
  explicit MemoryReservation(MemoryBudget* budget, std::atomic<int64_t>* peak_sink = nullptr)
      : budget_(budget), peak_sink_(peak_sink) {}
  ~MemoryReservation() { Release(); }
  MemoryReservation(const MemoryReservation&) = delete;
  MemoryReservation& operator=(const MemoryReservation&) = delete;

  /// Claims `bytes` more; false means the operator should spill what it holds. An empty
  /// reservation's claim is always granted, so an operator always makes progress.
  bool TryGrow(int64_t bytes);
  void Shrink(int64_t bytes);
  void Release() { Shrink(held_); }
  int64_t bytes() const { return held_; }

 private:
  MemoryBudget* budget_;
  std::atomic<int64_t>* peak_sink_;
  int64_t held_ = 0;
};

}  // namespace sluice::exec
