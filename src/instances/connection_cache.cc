#include "instances/connection_cache.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace ignite::instances {
bool ConnectionCache::Reusable(int fd) {
  char b;
  ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

ConnectionCache::~ConnectionCache() { Clear(); }

int ConnectionCache::Take() {
  for (;;) {
    int fd;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (fds_.empty()) return -1;
      fd = fds_.back();
      fds_.pop_back();
    }
    if (Reusable(fd)) return fd;
    close(fd);
  }
}

void ConnectionCache::Put(int fd) {
  if (fd < 0) return;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!cleared_ && fds_.size() < max_idle_) {
      fds_.push_back(fd);
      return;
    }
  }
  close(fd);
}

void ConnectionCache::Clear() {
  std::vector<int> fds;
  {
    std::lock_guard<std::mutex> l(mu_);
    cleared_ = true;
    fds.swap(fds_);
  }
  for (int fd : fds) close(fd);
}

size_t ConnectionCache::size() const {
  std::lock_guard<std::mutex> l(mu_);
  return fds_.size();
}

}  // namespace ignite::instances
