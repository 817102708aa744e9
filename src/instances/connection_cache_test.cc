#include "instances/connection_cache.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <thread>
#include <utility>
#include <vector>

namespace ignite::instances {
namespace {

// A connected pair of descriptors: `first` goes into the cache, `second` plays the instance's end.
std::pair<int, int> Pair() {
  int fds[2] = {-1, -1};
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0) << errno;
  return {fds[0], fds[1]};
}

bool IsOpen(int fd) { return fcntl(fd, F_GETFD) != -1; }

// True when `fd` is no longer a valid descriptor. Checked right after the cache closed it, before this test
// opens anything else, so the number cannot have been reused yet.
bool IsClosed(int fd) {
  errno = 0;
  return fcntl(fd, F_GETFD) == -1 && errno == EBADF;
}

TEST(ConnectionCacheTest, TakeOnAnEmptyCacheReturnsMinusOne) {
  ConnectionCache cache;
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.Take(), -1);
}

TEST(ConnectionCacheTest, PutThenTakeReturnsTheSameLiveConnection) {
  auto [ours, peer] = Pair();
  ConnectionCache cache;
  cache.Put(ours);
  EXPECT_EQ(cache.size(), 1u);
  int fd = cache.Take();
  ASSERT_EQ(fd, ours);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.Take(), -1);
  // The caller owns it now, and it still works both ways.
  ASSERT_TRUE(IsOpen(fd));
  ASSERT_EQ(write(fd, "ping", 4), 4);
  char buf[8] = {};
  ASSERT_EQ(read(peer, buf, sizeof buf), 4);
  EXPECT_EQ(std::string(buf, 4), "ping");
  ASSERT_EQ(write(peer, "pong", 4), 4);
  ASSERT_EQ(read(fd, buf, sizeof buf), 4);
  EXPECT_EQ(std::string(buf, 4), "pong");
  close(fd);
  close(peer);
}

TEST(ConnectionCacheTest, TakeGivesTheMostRecentlyPutFirst) {
  auto [a, pa] = Pair();
  auto [b, pb] = Pair();
  ConnectionCache cache;
  cache.Put(a);
  cache.Put(b);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.Take(), b);
  EXPECT_EQ(cache.Take(), a);
  EXPECT_EQ(cache.Take(), -1);
  for (int fd : {a, pa, b, pb}) close(fd);
}

TEST(ConnectionCacheTest, AConnectionWhosePeerClosedIsDiscarded) {
  auto [ours, peer] = Pair();
  ConnectionCache cache;
  cache.Put(ours);
  close(peer);
  EXPECT_EQ(cache.Take(), -1);
  EXPECT_TRUE(IsClosed(ours));
  EXPECT_EQ(cache.size(), 0u);
}

TEST(ConnectionCacheTest, AConnectionWhosePeerShutItsWritingSideIsDiscarded) {
  auto [ours, peer] = Pair();
  ConnectionCache cache;
  cache.Put(ours);
  ASSERT_EQ(shutdown(peer, SHUT_WR), 0);
  EXPECT_EQ(cache.Take(), -1);
  EXPECT_TRUE(IsClosed(ours));
  close(peer);
}

TEST(ConnectionCacheTest, AConnectionWithUnreadDataFromThePeerIsDiscarded) {
  auto [ours, peer] = Pair();
  ConnectionCache cache;
  cache.Put(ours);
  ASSERT_EQ(write(peer, "x", 1), 1);  // an answer nobody asked for: the connection is out of step
  EXPECT_EQ(cache.Take(), -1);
  EXPECT_TRUE(IsClosed(ours));
  EXPECT_EQ(cache.size(), 0u);
  close(peer);
}

TEST(ConnectionCacheTest, StaleConnectionsAreSkippedOnTheWayToALiveOne) {
  auto [good, good_peer] = Pair();
  auto [dead, dead_peer] = Pair();
  auto [noisy, noisy_peer] = Pair();
  ConnectionCache cache;
  cache.Put(good);
  cache.Put(dead);
  cache.Put(noisy);
  close(dead_peer);
  ASSERT_EQ(write(noisy_peer, "junk", 4), 4);
  EXPECT_EQ(cache.Take(), good);
  EXPECT_TRUE(IsClosed(noisy));
  EXPECT_TRUE(IsClosed(dead));
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_TRUE(IsOpen(good));
  close(good);
  close(good_peer);
  close(noisy_peer);
}

TEST(ConnectionCacheTest, MaxIdleBoundsTheCache) {
  auto [a, pa] = Pair();
  auto [b, pb] = Pair();
  auto [c, pc] = Pair();
  {
    ConnectionCache cache(2);
    cache.Put(a);
    cache.Put(b);
    EXPECT_EQ(cache.size(), 2u);
    cache.Put(c);  // one too many: closed instead of cached
    EXPECT_TRUE(IsClosed(c));
    EXPECT_EQ(cache.size(), 2u);
    EXPECT_TRUE(IsOpen(a));
    EXPECT_TRUE(IsOpen(b));
    // Taking one makes room again.
    int t = cache.Take();
    EXPECT_EQ(t, b);
    auto [d, pd] = Pair();
    cache.Put(d);
    EXPECT_EQ(cache.size(), 2u);
    EXPECT_TRUE(IsOpen(d));
    close(t);
    close(pd);
  }
  // The destructor closed what the cache held.
  EXPECT_TRUE(IsClosed(a));
  for (int fd : {pa, pb, pc}) close(fd);
}

TEST(ConnectionCacheTest, ClearClosesEverythingAndLaterPutsCloseAtOnce) {
  auto [a, pa] = Pair();
  auto [b, pb] = Pair();
  ConnectionCache cache;
  cache.Put(a);
  cache.Put(b);
  ASSERT_EQ(cache.size(), 2u);
  cache.Clear();
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_TRUE(IsClosed(a));
  EXPECT_TRUE(IsClosed(b));
  EXPECT_EQ(cache.Take(), -1);
  auto [c, pc] = Pair();
  cache.Put(c);  // its instance is stopping: not kept
  EXPECT_TRUE(IsClosed(c));
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.Take(), -1);
  for (int fd : {pa, pb, pc}) close(fd);
}

TEST(ConnectionCacheTest, TheDestructorClosesCachedConnections) {
  auto [a, pa] = Pair();
  {
    ConnectionCache cache;
    cache.Put(a);
  }
  EXPECT_TRUE(IsClosed(a));
  close(pa);
}

TEST(ConnectionCacheTest, ConcurrentPutsAndTakesLoseAndDuplicateNothing) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 16;
  ConnectionCache cache(kThreads * kPerThread);
  std::vector<std::vector<int>> ours(kThreads), peers(kThreads), taken(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      auto [o, p] = Pair();
      ours[t].push_back(o);
      peers[t].push_back(p);
    }
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 200; ++round) {
        for (int fd : ours[t]) cache.Put(fd);
        std::vector<int> got;
        for (int i = 0; i < kPerThread; ++i) {
          int fd = cache.Take();
          if (fd >= 0) got.push_back(fd);
        }
        ours[t] = got;  // whichever connections this thread holds now (possibly another thread's)
      }
      taken[t] = ours[t];
    });
  }
  for (auto& th : threads) th.join();
  // Every live connection ends up with exactly one owner: the threads or the cache.
  std::multiset<int> held;
  for (auto& v : taken) held.insert(v.begin(), v.end());
  std::vector<int> left;
  for (int fd; (fd = cache.Take()) >= 0;) left.push_back(fd);
  held.insert(left.begin(), left.end());
  EXPECT_EQ(held.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(std::set<int>(held.begin(), held.end()).size(), held.size());
  for (int fd : held) close(fd);
  for (auto& v : peers) {
    for (int fd : v) close(fd);
  }
}

}  // namespace
}  // namespace ignite::instances
