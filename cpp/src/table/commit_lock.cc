#include "table/commit_lock.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <thread>
#include <unistd.h>

#include <sys/file.h>

namespace sluice::io {

namespace {

class LocalCommitLock : public CommitLock {
 public:
  LocalCommitLock(std::string dir, double timeout_seconds)
      : path_(std::move(dir) + "/" + kLocalLockFileName), timeout_seconds_(timeout_seconds) {}
  ~LocalCommitLock() override { Release(); }

  arrow::Status Acquire() override {
    if (fd_ >= 0) return arrow::Status::OK();
    // O_NOFOLLOW: a link planted under the lock's name must not make us create or lock
    // a file outside the target.
    fd_ = open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd_ < 0) {
      return arrow::Status::IOError("cannot open the commit lock '", path_,
                                    "': ", std::strerror(errno));
    }
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds_);
    // Polling rather than a blocking flock so that a wedged holder gives an error.
    while (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK && errno != EINTR) {
        const int error = errno;
        close(fd_);
        fd_ = -1;
        return arrow::Status::IOError("cannot lock '", path_, "': ", std::strerror(error));
      }
      if (std::chrono::steady_clock::now() > deadline) {
        close(fd_);
        fd_ = -1;
        return arrow::Status::IOError("another write has held the commit lock '", path_,
                                      "' for more than ", timeout_seconds_, " s");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return arrow::Status::OK();
  }

  void Release() override {
    if (fd_ < 0) return;
    flock(fd_, LOCK_UN);
    close(fd_);
    fd_ = -1;
  }

 private:
  std::string path_;
  double timeout_seconds_;
  int fd_ = -1;
};

}  // namespace

std::unique_ptr<CommitLock> MakeLocalCommitLock(std::string dir, double timeout_seconds) {
  return std::make_unique<LocalCommitLock>(std::move(dir), timeout_seconds);
}

}  // namespace sluice::io
