// ConnectionCache: idle keep-alive connections to one instance, kept as raw descriptors so that any of the
// gateway's event loops can take one and adopt it. Reusing a connection saves the connect/accept and the
// instance's per-connection setup on every warm request.
//
// Thread-safe. The cache owns the descriptors it holds and closes them on Clear() and destruction; Take()
// hands ownership to the caller.
#pragma once

#include <mutex>
#include <vector>

namespace ignite::instances {

class ConnectionCache {
 public:
  explicit ConnectionCache(size_t max_idle = 64) : max_idle_(max_idle) {}
  ~ConnectionCache();
  ConnectionCache(const ConnectionCache&) = delete;
  ConnectionCache& operator=(const ConnectionCache&) = delete;

  // An idle connection whose far end is still open and has sent nothing unasked (most recently used first),
  // or -1 when there is none. Stale ones found on the way are closed.
  int Take();
  // Caches an idle connection after a complete exchange; closes it instead when max_idle are cached already
  // or the cache was cleared (its instance is stopping).
  void Put(int fd);
  // Closes every cached connection; later Puts close theirs at once.
  void Clear();
  size_t size() const;
  // Whether an idle connection is still usable: its far end neither closed it nor sent anything unasked
  // (a non-blocking peek finds nothing to read).
  static bool Reusable(int fd);

 private:
  const size_t max_idle_;
  mutable std::mutex mu_;
  std::vector<int> fds_;  // guarded by mu_
  bool cleared_ = false;  // guarded by mu_
};

}  // namespace ignite::instances
