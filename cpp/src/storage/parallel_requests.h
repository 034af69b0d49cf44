#pragma once

// Many small filesystem requests (S3 copies, deletes, HEADs) are latency-bound: issuing
// them one after another makes a commit of 1,000 files take 1,000 round trips.

#include <arrow/status.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace sluice::io {

/// Calls `request(i)` for every i in [0, count) on up to `max_in_flight` threads (on the
/// calling thread alone when that is 1). Every request runs even after one fails; returns
/// the error of the lowest failing index, so the error reported does not depend on timing.
inline arrow::Status ForEachInParallel(int64_t count, int max_in_flight,
                                       const std::function<arrow::Status(int64_t)>& request) {
  const int threads = static_cast<int>(std::clamp<int64_t>(count, 0, std::max(1, max_in_flight)));
  std::mutex mutex;
  int64_t first_failed = count;
  arrow::Status first_error;
  std::atomic<int64_t> next{0};
  auto work = [&] {
    for (int64_t i = next++; i < count; i = next++) {
      arrow::Status status = request(i);
      if (status.ok()) continue;
      std::lock_guard<std::mutex> lock(mutex);
      if (i < first_failed) {
        first_failed = i;
        first_error = std::move(status);
      }
    }
  };
  if (threads <= 1) {
    work();
  } else {
    std::vector<std::thread> pool;
    pool.reserve(threads);
    for (int t = 0; t < threads; ++t) pool.emplace_back(work);
    for (auto& thread : pool) thread.join();
  }
  return first_error;
}

}  // namespace sluice::io
