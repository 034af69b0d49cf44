#pragma once

// Serializes the commits of writers to one table. A commit reads the manifest, publishes
// files and writes the next manifest; two commits interleaving would lose one writer's
// files from the manifest, so each holds the table's lock from reading to writing it.

#include <arrow/result.h>
#include <arrow/status.h>

#include <memory>
#include <string>

namespace sluice::io {

class CommitLock {
 public:
  virtual ~CommitLock() = default;
  /// Blocks until the lock is held; an error when it cannot be had in reasonable time.
  virtual arrow::Status Acquire() = 0;
  /// Releases a held lock; does nothing otherwise.
  virtual void Release() = 0;
};

/// The name of the lock file inside a local target directory (hidden from readers).
inline constexpr char kLocalLockFileName[] = "_sluice_commit.lock";

/// An flock(2) on `dir`/_sluice_commit.lock: held by one process (and one thread) at a
/// time, released by the kernel when a holder dies. Waits up to `timeout_seconds`.
std::unique_ptr<CommitLock> MakeLocalCommitLock(std::string dir, double timeout_seconds = 600);

}  // namespace sluice::io
