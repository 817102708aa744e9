#include "instances/instance_manager.h"

#include <gtest/gtest.h>

#include <atomic>
#include <list>
#include <optional>
#include <thread>

namespace ignite::instances {
namespace {

struct FakeState {
  int launched = 0;
  int stopped = 0;
  bool fail_launch = false;
};

class FakeProcess : public Process {
 public:
  FakeProcess(FakeState* s, pid_t pid) : s_(s), pid_(pid), path_("/fake/" + std::to_string(pid)) {}
  pid_t pid() const override { return pid_; }
  const std::string& socket_path() const override { return path_; }
  bool Exited(std::string* d) override {
    if (dead && d) *d = "exit status 2";
    return dead;
  }
  void Stop(int) override {
    if (!dead) ++s_->stopped;
    dead = true;
  }
  bool Ready() override { return ready; }
  bool dead = false;
  bool ready = false;  // the readiness signal

 private:
  FakeState* s_;
  pid_t pid_;
  std::string path_;
};

class FakeLauncher : public Launcher {
 public:
  explicit FakeLauncher(FakeState* s) : s_(s) {}
  Result<std::unique_ptr<Process>> Launch(const InstanceSpec&, const std::string&) override {
    if (s_->fail_launch) return Internal("no");
    auto p = std::make_unique<FakeProcess>(s_, ++s_->launched);
    last = p.get();
    return std::unique_ptr<Process>(std::move(p));
  }
  FakeProcess* last = nullptr;

 private:
  FakeState* s_;
};

InstanceSpec Spec(std::string key) {
  InstanceSpec s;
  s.key = key;
  s.app_id = "org/hello";
  s.layout = ArtifactLayout::Executable("/bin/true");
  return s;
}

TEST(InstanceManagerTest, ColdThenWarm) {
  FakeState st;
  FakeLauncher launcher(&st);
  FakeClock clock;
  InstanceManager m(&launcher, &clock, std::chrono::milliseconds(0));
  {
    auto a = m.Acquire(Spec("org/hello@1"));
    ASSERT_TRUE(a.ok());
    EXPECT_TRUE(a->cold());
    EXPECT_EQ(a->instance().replica_id.rfind("hello-", 0), 0u);
  }
  auto b = m.Acquire(Spec("org/hello@1"));
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->cold());
  EXPECT_EQ(st.launched, 1);
  EXPECT_EQ(m.LiveCount("org/hello@1"), 1);
}

TEST(InstanceManagerTest, DeadInstanceIsReplaced) {
  FakeState st;
  FakeLauncher launcher(&st);
  FakeClock clock;
  InstanceManager m(&launcher, &clock, std::chrono::milliseconds(0));
  { ASSERT_TRUE(m.Acquire(Spec("k")).ok()); }
  launcher.last->dead = true;
  auto b = m.Acquire(Spec("k"));
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->cold());
  EXPECT_EQ(st.launched, 2);
}

TEST(InstanceManagerTest, CheckExitedRetiresADeadInstanceInUse) {
  FakeState st;
  FakeLauncher launcher(&st);
  FakeClock clock;
  InstanceManager m(&launcher, &clock, std::chrono::milliseconds(0));
  auto a = m.Acquire(Spec("k"));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(m.CheckExited(a->instance()), "");
  launcher.last->dead = true;
  EXPECT_EQ(m.CheckExited(a->instance()), "exit status 2");
  auto b = m.Acquire(Spec("k"));
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->cold());
}

TEST(InstanceManagerTest, RetireWaitsForInflightRequests) {
  FakeState st;
  FakeLauncher launcher(&st);
  FakeClock clock;
  InstanceManager m(&launcher, &clock, std::chrono::milliseconds(0));
  auto a = m.Acquire(Spec("v1"));
  ASSERT_TRUE(a.ok());
  m.Retire("v1");
  EXPECT_EQ(st.stopped, 0);  // still serving its in-flight request
  EXPECT_EQ(m.LiveCount("v1"), 0);
  { Lease done = std::move(a).value(); }
  EXPECT_EQ(st.stopped, 1);
  // Retiring an idle version stops it at once.
  { ASSERT_TRUE(m.Acquire(Spec("v2")).ok()); }
  m.Retire("v2");
  EXPECT_EQ(st.stopped, 2);
}

TEST(InstanceManagerTest, IdleInstancesAreStoppedAfterTheirTimeout) {
  FakeState st;
  FakeLauncher launcher(&st);
  FakeClock clock;
  InstanceManager m(&launcher, &clock, std::chrono::milliseconds(0));
  InstanceSpec spec = Spec("k");
  spec.idle_timeout = std::chrono::seconds(10);
  auto busy = m.Acquire(spec);
  ASSERT_TRUE(busy.ok());
  clock.Advance(std::chrono::seconds(60));
  EXPECT_EQ(m.ReapIdle(), 0);  // in use: never reaped
  { Lease done = std::move(busy).value(); }
  clock.Advance(std::chrono::seconds(9));
  EXPECT_EQ(m.ReapIdle(), 0);
  clock.Advance(std::chrono::seconds(2));
  EXPECT_EQ(m.ReapIdle(), 1);
  EXPECT_EQ(st.stopped, 1);
  EXPECT_EQ(m.LiveCount("k"), 0);
  auto again = m.Acquire(spec);  // scale from zero
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->cold());
}

TEST(InstanceManagerTest, CrashLoopsBackOff) {
  FakeState st;
  FakeLauncher launcher(&st);
  FakeClock clock;
  InstanceManager m(&launcher, &clock, std::chrono::milliseconds(0));
  auto crash_once = [&] {
    auto a = m.Acquire(Spec("k"));
    if (!a.ok()) return a.status();
    launcher.last->dead = true;
    EXPECT_EQ(m.CheckExited(a->instance()), "exit status 2");
    return OkStatus();
  };
  ASSERT_TRUE(crash_once().ok());
  ASSERT_TRUE(crash_once().ok());  // second crash in a row: back-off starts
  auto blocked = m.Acquire(Spec("k"));
  ASSERT_FALSE(blocked.ok());
  EXPECT_EQ(blocked.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(blocked.status().message().find("keeps crashing"), std::string::npos);
  EXPECT_EQ(st.launched, 2);
  clock.Advance(InstanceManager::kFirstBackoff);
  ASSERT_TRUE(crash_once().ok());  // allowed again; crashes again, longer back-off
  clock.Advance(InstanceManager::kFirstBackoff);
  EXPECT_FALSE(m.Acquire(Spec("k")).ok());
  clock.Advance(InstanceManager::kFirstBackoff);
  // A healthy instance clears the history.
  auto ok = m.Acquire(Spec("k"));
  ASSERT_TRUE(ok.ok());
  m.MarkServed(ok->instance());
  launcher.last->dead = true;
  m.CheckExited(ok->instance());
  EXPECT_TRUE(m.Acquire(Spec("k")).ok());
}

TEST(InstanceManagerTest, ReadyInstancesDyingInARequestDoNotCountAsCrashLoops) {
  FakeState st;
  FakeLauncher launcher(&st);
  FakeClock clock;
  InstanceManager m(&launcher, &clock, std::chrono::milliseconds(0));
  // A fresh instance that said it is ready, killed by the request it serves (before answering), again and
  // again: every caller gets its own error, and the next caller still gets a new instance.
  for (int i = 0; i < 5; ++i) {
    auto a = m.Acquire(Spec("k"));
    ASSERT_TRUE(a.ok()) << i << ": " << a.status().message();
    launcher.last->ready = true;
    launcher.last->dead = true;
    EXPECT_EQ(m.CheckExited(a->instance()), "exit status 2");
  }
  EXPECT_EQ(st.launched, 5);
  // Not ready: those do count.
  for (int i = 0; i < InstanceManager::kCrashesBeforeBackoff; ++i) {
    auto a = m.Acquire(Spec("k"));
    ASSERT_TRUE(a.ok());
    launcher.last->dead = true;
    m.CheckExited(a->instance());
  }
  EXPECT_EQ(m.Acquire(Spec("k")).status().code(), StatusCode::kUnavailable);
}

TEST(InstanceManagerTest, InstancesDyingIdleCountAsCrashLoopsEvenWhenReady) {
  FakeState st;
  FakeLauncher launcher(&st);
  FakeClock clock;
  InstanceManager m(&launcher, &clock, std::chrono::milliseconds(0));
  for (int i = 0; i < InstanceManager::kCrashesBeforeBackoff; ++i) {
    {
      auto a = m.Acquire(Spec("k"));
      ASSERT_TRUE(a.ok());
      launcher.last->ready = true;
    }  // released: idle
    launcher.last->dead = true;  // dies with no request in flight
    m.ReapIdle();
  }
  auto blocked = m.Acquire(Spec("k"));
  EXPECT_EQ(blocked.status().code(), StatusCode::kUnavailable) << blocked.status().message();
}

TEST(BodyBlameTest, BlamesTheLargestBodyOrEveryoneWhenNoneIsLarge) {
  BodyBlame b;
  EXPECT_TRUE(b.Blames(1));
  EXPECT_TRUE(b.Blames(2));
  b.Note(1, 100);  // small bodies are no suspects
  EXPECT_TRUE(b.Blames(2));
  b.Note(1, BodyBlame::kMinBytes * 3);
  b.Note(2, BodyBlame::kMinBytes * 2);
  EXPECT_TRUE(b.Blames(1));
  EXPECT_FALSE(b.Blames(2));
  EXPECT_FALSE(b.Blames(3));
  b.Forget(2);  // not the suspect: nothing changes
  EXPECT_FALSE(b.Blames(3));
  b.Forget(1);
  EXPECT_TRUE(b.Blames(3));
}

TEST(InstanceManagerTest, ScalesOutThenQueuesThenRejects) {
  FakeState st;
  FakeLauncher launcher(&st);
  FakeClock clock;
  InstanceManager m(&launcher, &clock, std::chrono::milliseconds(0));
  InstanceSpec spec = Spec("k");
  spec.max_concurrency = 2;
  spec.max_replicas = 2;
  spec.queue_limit = 1;
  std::list<Lease> leases;
  for (int i = 0; i < 4; ++i) {
    auto a = m.Acquire(spec);
    ASSERT_TRUE(a.ok()) << i;
    leases.push_back(std::move(a).value());
  }
  EXPECT_EQ(st.launched, 2);  // 2 instances x 2 executions
  // An instance fills up to max_concurrency before another starts (fewer cold starts).
  EXPECT_EQ(&leases.front().instance(), &std::next(leases.begin())->instance());
  EXPECT_NE(&leases.front().instance(), &leases.back().instance());
  // Full: one caller may wait; it gets the first slot freed.
  std::optional<Lease> waited;
  std::thread waiter([&] {
    auto w = m.Acquire(spec, clock.Now() + std::chrono::seconds(10));
    ASSERT_TRUE(w.ok());
    EXPECT_FALSE(w->cold());
    waited.emplace(std::move(w).value());
  });
  while (m.WaitingCount("k") == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto rejected = m.Acquire(spec, clock.Now() + std::chrono::seconds(10));
  EXPECT_EQ(rejected.status().code(), StatusCode::kResourceExhausted);  // the queue (1) is taken
  leases.pop_front();
  waiter.join();
  // The deadline is the clock's: the waiter gives up once the clock passes it (moved by another thread
  // while it waits), not after so much real time.
  std::thread mover([&] {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (m.WaitingCount("k") == 0 && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    clock.Advance(std::chrono::milliseconds(50));
  });
  auto late = m.Acquire(spec, clock.Now() + std::chrono::milliseconds(50));
  mover.join();
  EXPECT_EQ(late.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(st.launched, 2);
}

TEST(InstanceManagerTest, AWaitForCapacityEndsByTheClockNotByRealTime) {
  FakeState st;
  FakeLauncher launcher(&st);
  FakeClock clock;
  InstanceManager m(&launcher, &clock, std::chrono::milliseconds(0));
  InstanceSpec spec = Spec("k");
  spec.max_concurrency = 1;
  spec.max_replicas = 1;
  auto held = m.Acquire(spec);
  ASSERT_TRUE(held.ok());
  // A deadline 20 ms away by a clock that stands still: the real wait ends, the clock says it has not
  // passed, so the waiter keeps waiting, and gets the slot freed 100 ms (of real time) later.
  std::thread releaser([&] {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (m.WaitingCount("k") == 0 && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    Lease done = std::move(held).value();
  });
  auto w = m.Acquire(spec, clock.Now() + std::chrono::milliseconds(20));
  releaser.join();
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_FALSE(w->cold());
  // A deadline the clock has passed already fails without waiting.
  auto late = m.Acquire(spec, clock.Now());
  EXPECT_EQ(late.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(m.WaitingCount("k"), 0);
}

TEST(InstanceManagerTest, RetiringOneInstanceKeepsItsSiblings) {
  FakeState st;
  FakeLauncher launcher(&st);
  FakeClock clock;
  InstanceManager m(&launcher, &clock, std::chrono::milliseconds(0));
  InstanceSpec spec = Spec("k");
  spec.max_concurrency = 1;
  auto stuck = m.Acquire(spec);
  auto healthy = m.Acquire(spec);
  ASSERT_TRUE(stuck.ok() && healthy.ok());
  ASSERT_EQ(st.launched, 2);
  m.RetireInstance(stuck->instance());
  EXPECT_EQ(st.stopped, 0);  // stops when its request is released
  { Lease done = std::move(stuck).value(); }
  EXPECT_EQ(st.stopped, 1);
  EXPECT_EQ(m.LiveCount("k"), 1);
}

TEST(InstanceManagerTest, LaunchFailureIsReturned) {
  FakeState st;
  st.fail_launch = true;
  FakeLauncher launcher(&st);
  FakeClock clock;
  InstanceManager m(&launcher, &clock, std::chrono::milliseconds(0));
  auto a = m.Acquire(Spec("k"));
  EXPECT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), StatusCode::kInternal);
}

TEST(InstanceManagerTest, ReplicasReportsStateOfEveryInstanceUnderThePrefix) {
  FakeState st;
  FakeLauncher launcher(&st);
  FakeClock clock;
  InstanceManager m(&launcher, &clock, std::chrono::milliseconds(0));
  int64_t t0 = clock.NowUnixMs();
  auto a = m.Acquire(Spec("org/hello@1"));
  ASSERT_TRUE(a.ok());
  auto other = m.Acquire(Spec("org/hello2@1"));  // another app: not under "org/hello@"
  ASSERT_TRUE(other.ok());
  auto reps = m.Replicas("org/hello@");
  ASSERT_EQ(reps.size(), 1u);
  EXPECT_EQ(reps[0].key, "org/hello@1");
  EXPECT_EQ(reps[0].state, "starting");
  EXPECT_EQ(reps[0].inflight, 1);
  EXPECT_EQ(reps[0].started_at_ms, t0);
  EXPECT_EQ(reps[0].pid, 1);
  m.MarkServed(a->instance());
  EXPECT_EQ(m.Replicas("org/hello@")[0].state, "busy");
  { auto done = std::move(a).value(); }
  clock.Advance(std::chrono::milliseconds(5000));
  reps = m.Replicas("org/hello@");
  EXPECT_EQ(reps[0].state, "ready");
  EXPECT_EQ(reps[0].inflight, 0);
  EXPECT_EQ(reps[0].last_used_at_ms, t0);
  EXPECT_EQ(reps[0].started_at_ms, t0);

  // A retired instance still busy is "retiring" until it finishes; then it is gone.
  auto b = m.Acquire(Spec("org/hello@1"));
  ASSERT_TRUE(b.ok());
  m.Retire("org/hello@1");
  reps = m.Replicas("org/hello@");
  ASSERT_EQ(reps.size(), 1u);
  EXPECT_EQ(reps[0].state, "retiring");
  { auto done = std::move(b).value(); }
  EXPECT_TRUE(m.Replicas("org/hello@").empty());
}

TEST(InstanceManagerTest, TryAcquireWithoutARunningInstanceReturnsNulloptAndLaunchesNothing) {
  FakeState st;
  FakeLauncher launcher(&st);
  FakeClock clock;
  InstanceManager m(&launcher, &clock, std::chrono::milliseconds(0));
  EXPECT_FALSE(m.TryAcquire(Spec("k")).has_value());
  EXPECT_EQ(st.launched, 0);
  EXPECT_EQ(m.LiveCount("k"), 0);
  // An instance of another key does not count.
  auto other = m.Acquire(Spec("other"));
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(m.TryAcquire(Spec("k")).has_value());
  EXPECT_EQ(st.launched, 1);
}

TEST(InstanceManagerTest, TryAcquireLeasesARunningInstanceWithRoom) {
  FakeState st;
  FakeLauncher launcher(&st);
  FakeClock clock;
  InstanceManager m(&launcher, &clock, std::chrono::milliseconds(0));
  InstanceSpec spec = Spec("k");
  spec.max_concurrency = 2;
  auto first = m.Acquire(spec);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(first->cold());
  auto warm = m.TryAcquire(spec);  // the instance runs one execution of two
  ASSERT_TRUE(warm.has_value());
  EXPECT_FALSE(warm->cold());
  EXPECT_EQ(&warm->instance(), &first->instance());
  EXPECT_EQ(st.launched, 1);
  EXPECT_EQ(m.Replicas("k")[0].inflight, 2);
  warm.reset();
  EXPECT_EQ(m.Replicas("k")[0].inflight, 1);  // the lease released its slot
  { Lease done = std::move(first).value(); }
  auto idle = m.TryAcquire(spec);  // an idle live instance is warm too
  ASSERT_TRUE(idle.has_value());
  EXPECT_FALSE(idle->cold());
  EXPECT_EQ(st.launched, 1);
}

TEST(InstanceManagerTest, TryAcquireReturnsNulloptWhenEveryInstanceIsFull) {
  FakeState st;
  FakeLauncher launcher(&st);
  FakeClock clock;
  InstanceManager m(&launcher, &clock, std::chrono::milliseconds(0));
  InstanceSpec spec = Spec("k");
  spec.max_concurrency = 2;
  spec.max_replicas = 5;  // room for more instances, but TryAcquire never starts one
  std::list<Lease> leases;
  for (int i = 0; i < 2; ++i) {
    auto a = m.Acquire(spec);
    ASSERT_TRUE(a.ok());
    leases.push_back(std::move(a).value());
  }
  ASSERT_EQ(st.launched, 1);
  EXPECT_FALSE(m.TryAcquire(spec).has_value());
  EXPECT_EQ(st.launched, 1);
  leases.pop_back();
  EXPECT_TRUE(m.TryAcquire(spec).has_value());
}

TEST(InstanceManagerTest, TryAcquireSkipsRetiredInstances) {
  FakeState st;
  FakeLauncher launcher(&st);
  FakeClock clock;
  InstanceManager m(&launcher, &clock, std::chrono::milliseconds(0));
  InstanceSpec spec = Spec("k");
  spec.max_concurrency = 10;
  auto a = m.Acquire(spec);
  ASSERT_TRUE(a.ok());
  m.RetireInstance(a->instance());
  EXPECT_FALSE(m.TryAcquire(spec).has_value());
  EXPECT_EQ(st.launched, 1);
}

TEST(InstanceManagerTest, TryAcquireLeavesFreedCapacityToCallersWaitingInAcquire) {
  FakeState st;
  FakeLauncher launcher(&st);
  FakeClock clock;
  InstanceManager m(&launcher, &clock, std::chrono::milliseconds(0));
  InstanceSpec one = Spec("k");
  one.max_concurrency = 1;
  one.max_replicas = 1;
  auto held = m.Acquire(one);
  ASSERT_TRUE(held.ok());
  // The waiter's spec allows one execution per instance, so it waits. TryAcquire below asks with a spec that
  // allows two: the instance has room for it, so only the waiter can make it return nullopt.
  std::atomic<bool> waiter_ok{false};
  std::atomic<bool> waiter_cold{true};
  std::thread waiter([&] {
    auto w = m.Acquire(one, clock.Now() + std::chrono::seconds(4));
    waiter_ok = w.ok();
    if (w.ok()) waiter_cold = w->cold();
  });
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (m.WaitingCount("k") != 1 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(m.WaitingCount("k"), 1) << "the waiter never started waiting";
  InstanceSpec two = one;
  two.max_concurrency = 2;
  EXPECT_FALSE(m.TryAcquire(two).has_value());  // waiters are served first
  EXPECT_FALSE(m.TryAcquire(one).has_value());
  { Lease done = std::move(held).value(); }  // frees the slot: the waiter takes it
  waiter.join();
  EXPECT_TRUE(waiter_ok);
  EXPECT_FALSE(waiter_cold);
  EXPECT_EQ(m.WaitingCount("k"), 0);
  EXPECT_EQ(st.launched, 1);
  // With nobody waiting, the same call finds the room.
  auto warm = m.TryAcquire(two);
  ASSERT_TRUE(warm.has_value());
  EXPECT_FALSE(warm->cold());
}

// A process whose Stop takes as long as a real one's grace period, safe to use from the reaper thread.
struct SlowStopState {
  std::atomic<int> launched{0};
  std::atomic<int> stop_calls{0};
  std::atomic<bool> stopped{false};
  std::atomic<bool> stopped_on_other_thread{false};
  std::thread::id test_thread = std::this_thread::get_id();
  std::chrono::milliseconds stop_takes{1000};
};

class SlowStopProcess : public Process {
 public:
  SlowStopProcess(SlowStopState* s, pid_t pid) : s_(s), pid_(pid), path_("/fake/" + std::to_string(pid)) {}
  pid_t pid() const override { return pid_; }
  const std::string& socket_path() const override { return path_; }
  bool Exited(std::string* d) override {
    bool dead = s_->stopped.load();
    if (dead && d) *d = "signal 15";
    return dead;
  }
  void Stop(int) override {
    ++s_->stop_calls;
    if (s_->stopped) return;
    s_->stopped_on_other_thread = std::this_thread::get_id() != s_->test_thread;
    std::this_thread::sleep_for(s_->stop_takes);  // SIGTERM, then the grace period
    s_->stopped = true;
  }

 private:
  SlowStopState* s_;
  pid_t pid_;
  std::string path_;
};

class SlowStopLauncher : public Launcher {
 public:
  explicit SlowStopLauncher(SlowStopState* s) : s_(s) {}
  Result<std::unique_ptr<Process>> Launch(const InstanceSpec&, const std::string&) override {
    return std::unique_ptr<Process>(std::make_unique<SlowStopProcess>(s_, ++s_->launched));
  }

 private:
  SlowStopState* s_;
};

TEST(InstanceManagerTest, ReleasingTheLastLeaseOnARetiredInstanceStopsItOffTheReleasingThread) {
  SlowStopState st;
  st.stop_takes = std::chrono::milliseconds(1000);
  SlowStopLauncher launcher(&st);
  FakeClock clock;
  // A reaper thread, but one that would not reap on its own during the test.
  InstanceManager m(&launcher, &clock, std::chrono::seconds(60));
  auto a = m.Acquire(Spec("v1"));
  ASSERT_TRUE(a.ok());
  m.Retire("v1");
  EXPECT_EQ(st.stop_calls, 0);  // still serving its request
  auto released_at = std::chrono::steady_clock::now();
  { Lease done = std::move(a).value(); }
  auto release_took = std::chrono::steady_clock::now() - released_at;
  EXPECT_LT(release_took, std::chrono::milliseconds(300)) << "Release waited for the process to stop";
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(4);
  while (!st.stopped && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(st.stopped) << "the retired instance was never stopped";
  EXPECT_TRUE(st.stopped_on_other_thread);
  EXPECT_EQ(st.stop_calls, 1);
  EXPECT_EQ(m.LiveCount("v1"), 0);
  EXPECT_TRUE(m.Replicas("v1").empty());
}

TEST(InstanceManagerTest, ReleasingARetiredSingleInstanceStopsItOffTheReleasingThread) {
  SlowStopState st;
  st.stop_takes = std::chrono::milliseconds(1000);
  SlowStopLauncher launcher(&st);
  FakeClock clock;
  InstanceManager m(&launcher, &clock, std::chrono::seconds(60));
  InstanceSpec spec = Spec("k");
  spec.max_concurrency = 2;
  auto a = m.Acquire(spec);
  auto b = m.Acquire(spec);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(&a->instance(), &b->instance());
  m.RetireInstance(a->instance());
  { Lease done = std::move(a).value(); }
  EXPECT_EQ(st.stop_calls, 0);  // one request still in flight
  auto released_at = std::chrono::steady_clock::now();
  { Lease done = std::move(b).value(); }
  EXPECT_LT(std::chrono::steady_clock::now() - released_at, std::chrono::milliseconds(300));
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(4);
  while (!st.stopped && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(st.stopped);
  EXPECT_TRUE(st.stopped_on_other_thread);
}

}  // namespace
}  // namespace ignite::instances
