// UniqueFd: sole ownership of a file descriptor, closed when the owner goes away (RAII in place of close()
// cascades on every error path). Move-only; not thread-safe (like the descriptor it holds).
#pragma once

#include <unistd.h>

#include <utility>

namespace ignite {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  // Gives the descriptor up without closing it; the caller owns it now.
  [[nodiscard]] int release() { return std::exchange(fd_, -1); }
  // Closes the held descriptor (if any) and holds `fd` instead.
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// A pipe as two owned ends. Returns false (errno set) when pipe2 fails.
struct Pipe {
  UniqueFd read, write;
  [[nodiscard]] bool Open(int flags) {
    int fds[2];
    if (pipe2(fds, flags) != 0) return false;
    read.reset(fds[0]);
    write.reset(fds[1]);
    return true;
  }
};

}  // namespace ignite
