// InstanceManager: which instances run for which app version, and who is using them.
//
// The first Acquire for a version starts an instance (a cold start); later ones reuse it while its process
// lives (warm). When a version stops serving (publish, rollback, delete) it is retired: its instances get no
// new requests and stop as soon as their in-flight requests finish. Thread-safe.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <string>
#include <vector>

#include "common/clock.h"
#include "instances/app_events.h"
#include "instances/connection_cache.h"
#include "instances/launcher.h"

namespace ignite::instances {

class InstanceManager;

// Which in-flight request has sent an instance the most body bytes: the one an out-of-memory kill of the
// instance is blamed on (cgroups cannot attribute memory to a request). The blamed caller is told the
// memory limit; the others that were in flight learn that another invocation took the instance down.
// Thread-safe; a body piece costs one relaxed load unless it makes its call the largest.
class BodyBlame {
 public:
  // Bodies smaller than this are never blamed: an instance that dies serving only small requests ran out of
  // memory on its own, and every caller then hears about the limit.
  static constexpr uint64_t kMinBytes = uint64_t{1} << 20;
  // Call `call` (a nonzero id unique among the instance's calls) has sent `sent` bytes of its body so far.
  void Note(uint64_t call, uint64_t sent) {
    if (sent < kMinBytes || sent <= bytes_.load(std::memory_order_relaxed)) return;
    std::lock_guard<std::mutex> l(mu_);
    if (sent <= bytes_.load(std::memory_order_relaxed)) return;
    bytes_.store(sent, std::memory_order_relaxed);
    call_.store(call, std::memory_order_relaxed);
  }
  // Call `call` finished with the instance alive: it is no longer a suspect.
  void Forget(uint64_t call) {
    if (call_.load(std::memory_order_relaxed) != call) return;
    std::lock_guard<std::mutex> l(mu_);
    if (call_.load(std::memory_order_relaxed) != call) return;
    call_.store(0, std::memory_order_relaxed);
    bytes_.store(0, std::memory_order_relaxed);
  }
  // Whether an out-of-memory kill is `call`'s doing: it sent the largest body, or nobody sent a large one.
  bool Blames(uint64_t call) const {
    uint64_t c = call_.load(std::memory_order_relaxed);
    return c == 0 || c == call;
  }

 private:
  std::mutex mu_;  // serializes updates of the pair
  std::atomic<uint64_t> call_{0};
  std::atomic<uint64_t> bytes_{0};
};

struct Instance {
  std::string key;
  std::string replica_id;
  uint64_t serial = 0;  // unique per ignited process, never reused (unlike the Instance's address)
  std::unique_ptr<Process> process;
  std::chrono::milliseconds idle_timeout{0};
  int64_t started_at_ms = 0;  // wall clock, when it was spawned
  std::chrono::steady_clock::time_point spawned;  // the same, for deadlines
  int inflight = 0;      // guarded by InstanceManager::mu_
  bool retired = false;  // guarded by InstanceManager::mu_
  std::chrono::steady_clock::time_point last_used;  // guarded by InstanceManager::mu_
  bool served = false;   // guarded by InstanceManager::mu_: answered at least one request
  bool counted = false;  // guarded by InstanceManager::mu_: its death was judged for the crash-loop back-off
  bool ended = false;    // guarded by InstanceManager::mu_: its last lifecycle event (stopped, crashed…) was sent
  ConnectionCache connections;  // idle keep-alive connections to it; cleared when it stops
  BodyBlame bodies;             // who an out-of-memory kill is blamed on
};

// A claim on an instance for one request; releases it when destroyed.
class Lease {
 public:
  Lease(InstanceManager* m, std::shared_ptr<Instance> i, bool cold, bool starting)
      : manager_(m), instance_(std::move(i)), cold_(cold), starting_(starting) {}
  Lease(Lease&& o) noexcept
      : manager_(o.manager_), instance_(std::move(o.instance_)), cold_(o.cold_), starting_(o.starting_) {
    o.manager_ = nullptr;
  }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease();
  Instance& instance() const { return *instance_; }
  bool cold() const { return cold_; }
  // The instance had not answered anything yet when leased (it may still be starting): the caller holds it
  // to the spec's start timeout, counted from instance().spawned.
  bool starting() const { return starting_; }

 private:
  InstanceManager* manager_;
  std::shared_ptr<Instance> instance_;
  bool cold_;
  bool starting_;
};

// What an instance is doing, for state reporting.
struct ReplicaSnapshot {
  std::string key;  // its pool key, "org/app@3"
  std::string replica_id;
  std::string state;  // "starting" (not answered yet), "ready", "busy" (in flight), "retiring"
  int inflight = 0;
  int64_t started_at_ms = 0;
  int64_t last_used_at_ms = 0;
  pid_t pid = 0;
};

// Whether a freshly started instance serves: OK, or why not. Called without locks; may block until `deadline`,
// a time of the manager's clock.
using ReadinessProbe = std::function<Status(Instance& instance, std::chrono::steady_clock::time_point deadline)>;

class InstanceManager {
 public:
  // launcher and clock must outlive the manager. With `reap_every` > 0 a background thread stops idle
  // instances that often, and a second one keeps reserved instances running; tests pass 0 and call ReapIdle
  // and WarmReserved themselves. `probe` checks instances started ahead of requests (default: ProbeReady
  // on the instance's socket).
  InstanceManager(Launcher* launcher, const Clock* clock,
                  std::chrono::milliseconds reap_every = std::chrono::milliseconds(200), ReadinessProbe probe = nullptr);
  ~InstanceManager();  // Stops every instance.

  // Where lifecycle events of instances go (started, ready, stopped idle, crashed, start timeout, retired);
  // nullptr (the default) sends none. Call before the first Acquire; `sink` must outlive the manager.
  void SetEventSink(AppEventSink* sink) { events_ = sink; }

  // An instance of spec.key with room for one more execution: the least busy live one, else a new one while
  // fewer than max_replicas run, else it waits (at most queue_limit callers per key) until one frees up or
  // `deadline` (a time of the manager's clock) passes. Errors: the launcher's; Unavailable during crash-loop
  // back-off; ResourceExhausted when the wait queue is full; DeadlineExceeded when no capacity freed up in
  // time. The wait is on real time for what is left by the clock, which then decides whether the deadline
  // passed: with a FakeClock, a waiter times out only once the clock was moved past its deadline.
  Result<Lease> Acquire(const InstanceSpec& spec, std::chrono::steady_clock::time_point deadline);
  // Same, with a deadline 120 s from now by the clock.
  Result<Lease> Acquire(const InstanceSpec& spec);
  // The warm path, which never blocks: a lease on a live instance of spec.key with room, when one exists
  // and nobody is already waiting for that key (waiters are served first); nullopt otherwise, and the
  // caller falls back to Acquire on a thread that may block.
  std::optional<Lease> TryAcquire(const InstanceSpec& spec);
  // Called after a request to the instance failed at the transport level. If the process has exited, it is
  // dropped so the next Acquire starts a new one, and the exit is described ("exit status 2"); else "".
  //
  // The crash-loop rule: a death counts towards the back-off only when the instance never became ready
  // (no readiness signal, no answer) or when no request was in flight. After kCrashesBeforeBackoff
  // consecutive ones, new starts of that key back off exponentially (kFirstBackoff doubling up to
  // kMaxBackoff) and Acquire answers Unavailable saying so, instead of spawning a crashing binary in a loop.
  // A ready instance that dies serving a request (a request that made it run out of memory, say) is that
  // request's failure: it does not count, so one caller cannot lock an app out for the others.
  std::string CheckExited(Instance& instance);
  // Called when an instance did not answer within its spec's start timeout: it is taken out of service (it
  // stops once its leases are released) and counts as a crash on start, like an exit before answering.
  void FailStart(Instance& instance, const std::string& why);
  // Called after an instance answered a request: it is healthy, so its key's crash count resets.
  void MarkServed(Instance& instance);
  // Whether the instance became ready: it answered a request or gave the readiness signal (Process::Ready).
  bool BecameReady(Instance& instance);

  static constexpr std::chrono::milliseconds kFirstBackoff{250};
  static constexpr std::chrono::milliseconds kMaxBackoff{30'000};
  static constexpr int kCrashesBeforeBackoff = 2;
  // Keeps min(spec.reserved, spec.max_replicas) instances of spec.key running even when idle: they are
  // started ahead of requests, probed for readiness (one that fails the probe within spec.start_timeout is
  // stopped and counts as a crash on start), exempt from idle reaping, and replaced when they die.
  // spec.reserved == 0 forgets the key; so does Retire(spec.key).
  void SetReserved(const InstanceSpec& spec);
  // Has the launcher prepare what instances of `spec` need (Launcher::Prepare: a zygote) on the warmer
  // thread, ahead of the first call, so that call is a plain cold start. Returns at once.
  void Prewarm(const InstanceSpec& spec);
  // Starts the reserved instances that are missing (respecting the crash-loop back-off) and probes them;
  // blocks while probing. Returns how many became ready.
  int WarmReserved();
  // Stops serving `key` (see class comment).
  void Retire(const std::string& key);
  // Takes one instance out of service (it hung or misbehaved): no new requests; it stops once its in-flight
  // requests are released. Its siblings keep serving.
  void RetireInstance(Instance& instance);
  // Stops every instance now.
  void StopAll();
  // Instances currently alive for `key` (for tests and state reporting).
  int LiveCount(const std::string& key);
  // Every instance whose key starts with `key_prefix` (e.g. "org/app@"), alive or finishing, by key then
  // start time.
  std::vector<ReplicaSnapshot> Replicas(const std::string& key_prefix);
  // Callers waiting for capacity on `key`.
  int WaitingCount(const std::string& key);
  // Stops instances idle for longer than their spec's idle timeout, and drops dead ones. Returns how many
  // it stopped.
  int ReapIdle();

 private:
  friend class Lease;
  void Release(const std::shared_ptr<Instance>& instance);
  // Counts a death towards the key's crash-loop back-off, once per instance. Requires mu_.
  void CountCrash(Instance& instance, const std::string& how);
  // Spawns an instance of spec into its pool (not leased). Errors: the launcher's; Unavailable in back-off.
  Result<std::shared_ptr<Instance>> LaunchLocked(const InstanceSpec& spec);  // requires mu_
  int ReservedFor(const std::string& key) const;  // requires mu_
  // Stops an instance off the caller's thread (on the reaper thread when there is one): leases are released
  // on the gateway's event loops, which must not wait for a process to exit.
  void StopSoon(std::shared_ptr<Instance> instance);
  // Sends an instance's event; an ending one (`ends`) only once per instance. Requires mu_.
  void EventLocked(Instance& instance, std::string_view type, std::string message, bool ends);

  Launcher* launcher_;
  const Clock* clock_;
  AppEventSink* events_ = nullptr;
  std::mutex mu_;
  std::condition_variable stop_reaper_;
  bool stopping_ = false;  // guarded by mu_
  std::thread reaper_;
  std::vector<InstanceSpec> to_prepare_;  // guarded by mu_: Prewarm's specs, for the warmer thread
  bool warm_wanted_ = false;              // guarded by mu_: SetReserved or Prewarm asked the warmer to run
  std::thread warmer_;
  ReadinessProbe probe_;
  std::condition_variable wake_warmer_;
  std::map<std::string, InstanceSpec> reserved_;  // guarded by mu_: keys with reserved instances
  std::vector<std::shared_ptr<Instance>> to_stop_;  // guarded by mu_: handed to the reaper thread
  std::map<std::string, std::vector<std::shared_ptr<Instance>>> pools_;  // guarded by mu_
  struct CrashState {
    int consecutive = 0;
    std::chrono::steady_clock::time_point next_start;
    std::string last_exit;
  };
  std::map<std::string, CrashState> crashes_;  // guarded by mu_
  std::map<std::string, int> waiting_;         // guarded by mu_: callers waiting for capacity, by key
  std::condition_variable capacity_;           // signalled when an execution ends or an instance goes away
};

}  // namespace ignite::instances
