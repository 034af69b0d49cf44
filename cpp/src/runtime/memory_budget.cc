#include "runtime/memory_budget.h"

#include <algorithm>

namespace sluice::exec {

MemoryBudget::MemoryBudget(arrow::MemoryPool* upstream) : upstream_(upstream) {}

MemoryBudget::MemoryBudget(MemoryBudget* parent) : parent_(parent), upstream_(parent) {}

MemoryBudget* MemoryBudget::MakeUnder(MemoryBudget* parent) { return new MemoryBudget(parent); }

void MemoryBudget::Release() { Unref(); }

void MemoryBudget::Unref() {
  // Nothing may touch the budget after the decrement but the one that reached zero.
  if (refs_.fetch_sub(1) == 1) delete this;
}

namespace {
/// jemalloc when Arrow has it: it hands freed memory back to the system steadily, while
/// the wheel's default (mimalloc) keeps per-thread pages that inflated the resident size
/// of a streaming job to several times the bytes actually allocated.
arrow::MemoryPool* UpstreamPool() {
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
  // malloc, which AddressSanitizer intercepts: it then sees the bounds of every buffer.
  return arrow::system_memory_pool();
#else
  arrow::MemoryPool* jemalloc = nullptr;
  if (arrow::jemalloc_memory_pool(&jemalloc).ok() && jemalloc) return jemalloc;
  return arrow::default_memory_pool();
#endif
}
}  // namespace

MemoryBudget* MemoryBudget::Process() {
  // Leaked on purpose: buffers may outlive static destruction order at exit.
  static auto* pool = new MemoryBudget(UpstreamPool());
  return pool;
}

bool MemoryBudget::HasRoom(double fraction) const {
  const int64_t limit = limit_.load();
  if (limit > 0 && allocated_.load() >= static_cast<int64_t>(limit * fraction)) return false;
  return parent_ == nullptr || parent_->HasRoom(fraction);
}

bool MemoryBudget::TryReserve(int64_t bytes, bool force) {
  if (!TryReserveHere(bytes, force)) return false;
  if (parent_ != nullptr && !parent_->TryReserve(bytes, force)) {
    reserved_.fetch_sub(bytes);
    return false;
  }
  return true;
}

void MemoryBudget::Unreserve(int64_t bytes) {
  reserved_.fetch_sub(bytes);
  if (parent_ != nullptr) parent_->Unreserve(bytes);
}

bool MemoryBudget::TryReserveHere(int64_t bytes, bool force) {
  const int64_t limit = limit_.load();
  if (force || limit <= 0) {
    reserved_.fetch_add(bytes);
    return true;
  }
  const auto share = static_cast<int64_t>(limit * kOperatorShare);
  int64_t current = reserved_.load();
  while (true) {
    if (current + bytes > share) return false;
    if (reserved_.compare_exchange_weak(current, current + bytes)) return true;
  }
}

bool MemoryReservation::TryGrow(int64_t bytes) {
  if (bytes <= 0) return true;
  if (!budget_->TryReserve(bytes, /*force=*/held_ == 0)) return false;
  held_ += bytes;
  if (peak_sink_) {
    int64_t peak = peak_sink_->load();
    while (held_ > peak && !peak_sink_->compare_exchange_weak(peak, held_)) {
    }
  }
  return true;
}

void MemoryReservation::Shrink(int64_t bytes) {
  bytes = std::min(bytes, held_);
  if (bytes <= 0) return;
  budget_->Unreserve(bytes);
  held_ -= bytes;
}

void MemoryBudget::Track(int64_t delta) {
  const int64_t now = allocated_.fetch_add(delta) + delta;
  int64_t peak = peak_.load();
  while (now > peak && !peak_.compare_exchange_weak(peak, now)) {
  }
}

arrow::Status MemoryBudget::Allocate(int64_t size, int64_t alignment, uint8_t** out) {
  refs_.fetch_add(1);
  arrow::Status allocated = upstream_->Allocate(size, alignment, out);
  if (!allocated.ok()) {
    Unref();
    return allocated;
  }
  Track(size);
  total_.fetch_add(size);
  count_.fetch_add(1);
  return arrow::Status::OK();
}

arrow::Status MemoryBudget::Reallocate(int64_t old_size, int64_t new_size, int64_t alignment,
                                       uint8_t** ptr) {
  ARROW_RETURN_NOT_OK(upstream_->Reallocate(old_size, new_size, alignment, ptr));
  Track(new_size - old_size);
  if (new_size > old_size) total_.fetch_add(new_size - old_size);
  count_.fetch_add(1);
  return arrow::Status::OK();
}

void MemoryBudget::Free(uint8_t* buffer, int64_t size, int64_t alignment) {
  upstream_->Free(buffer, size, alignment);
  Track(-size);
  Unref();
}

}  // namespace sluice::exec
