// FakeFileSystem: the real POSIX file system with failure injection, for tests. Everything happens on disk;
// only the chosen call is made to fail, so a test sees exactly what a real failure at that step leaves.
#pragma once

#include <cerrno>
#include <mutex>

#include "blob/file_system_posix.h"

namespace ignite::blob {

// Thread-safe.
class FakeFileSystem : public PosixFileSystem {
 public:
  enum class Op { kWrite, kFsync, kRename };

  // Makes the `n`th call (1-based, counted from now) of `op` fail with `err` instead of running; every other
  // call runs for real. Replaces any failure armed before.
  void FailNth(Op op, int n, int err = EIO) {
    std::lock_guard<std::mutex> lock(mu_);
    armed_ = true;
    op_ = op;
    remaining_ = n;
    err_ = err;
    fired_ = false;
  }
  // Whether the armed failure has happened.
  bool fired() const {
    std::lock_guard<std::mutex> lock(mu_);
    return fired_;
  }

  ssize_t SysWrite(int fd, const void* buf, size_t n) override {
    if (int err = InjectedError(Op::kWrite); err != 0) {
      errno = err;
      return -1;
    }
    return PosixFileSystem::SysWrite(fd, buf, n);
  }
  int SysFsync(int fd) override {
    if (int err = InjectedError(Op::kFsync); err != 0) {
      errno = err;
      return -1;
    }
    return PosixFileSystem::SysFsync(fd);
  }
  int SysRename(const char* from, const char* to) override {
    if (int err = InjectedError(Op::kRename); err != 0) {
      errno = err;
      return -1;
    }
    return PosixFileSystem::SysRename(from, to);
  }

 private:
  // Counts a call of `op`; returns the errno to fail it with, or 0 to let it run.
  int InjectedError(Op op) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!armed_ || op != op_ || --remaining_ > 0) return 0;
    armed_ = false;
    fired_ = true;
    return err_;
  }

  mutable std::mutex mu_;
  bool armed_ = false;   // guarded by mu_
  Op op_ = Op::kWrite;   // guarded by mu_
  int remaining_ = 0;    // guarded by mu_; calls of op_ left until the failing one.
  int err_ = EIO;        // guarded by mu_
  bool fired_ = false;   // guarded by mu_
};

}  // namespace ignite::blob
