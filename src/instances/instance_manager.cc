#include "instances/instance_manager.h"

#include <algorithm>
#include <atomic>

#include <fmt/format.h>

#include "common/ids.h"
#include "instances/readiness.h"

namespace ignite::instances {

Lease::~Lease() {
  if (manager_ && instance_) manager_->Release(instance_);
}

InstanceManager::InstanceManager(Launcher* launcher, const Clock* clock, std::chrono::milliseconds reap_every,
                                 ReadinessProbe probe)
    : launcher_(launcher), clock_(clock), probe_(std::move(probe)) {
  if (!probe_) {
    // The probe talks to a real socket on real time: it gets what is left of the clock's deadline.
    probe_ = [clock](Instance& inst, std::chrono::steady_clock::time_point deadline) {
      return ProbeReady(inst.process->socket_path(),
                        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock->Now()));
    };
  }
  if (reap_every.count() > 0) {
    // Reserved instances are started and probed here, a long-lived thread (instances die with the thread
    // that spawned them, see the SDK's parent-death signal), so probes never hold up reaping.
    warmer_ = std::thread([this, reap_every] {
      std::unique_lock<std::mutex> l(mu_);
      while (!stopping_) {
        wake_warmer_.wait_for(l, reap_every * 5, [this] { return stopping_ || warm_wanted_; });
        if (stopping_) break;
        warm_wanted_ = false;
        std::vector<InstanceSpec> prepare;
        prepare.swap(to_prepare_);
        l.unlock();
        for (const auto& spec : prepare) {
          // Ahead of the first call; a failure shows (and is retried) when that call launches.
          Status prepared = launcher_->Prepare(spec);
          (void)prepared;
        }
        WarmReserved();
        l.lock();
      }
    });
    // Reaps every `reap_every` by the clock. The wait itself is on real time, for what is left by the clock;
    // when it ends the clock decides whether a round is due (a FakeClock that stands still never reaps).
    reaper_ = std::thread([this, reap_every] {
      std::unique_lock<std::mutex> l(mu_);
      auto next_reap = clock_->Now() + reap_every;
      while (!stopping_) {
        stop_reaper_.wait_for(l, next_reap - clock_->Now(), [this] { return stopping_ || !to_stop_.empty(); });
        if (stopping_) break;
        std::vector<std::shared_ptr<Instance>> stop;
        stop.swap(to_stop_);
        l.unlock();
        for (auto& inst : stop) inst->process->Stop(2000);
        stop.clear();
        if (clock_->Now() >= next_reap) {
          ReapIdle();
          next_reap = clock_->Now() + reap_every;
        }
        l.lock();
      }
    });
  }
}

InstanceManager::~InstanceManager() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  stop_reaper_.notify_all();
  wake_warmer_.notify_all();
  if (reaper_.joinable()) reaper_.join();
  if (warmer_.joinable()) warmer_.join();
  for (auto& inst : to_stop_) inst->process->Stop(2000);
  to_stop_.clear();
  StopAll();
}

void InstanceManager::EventLocked(Instance& instance, std::string_view type, std::string message, bool ends) {
  if (!events_ || instance.ended) return;
  if (ends) instance.ended = true;
  AppEvent e;
  e.type = std::string(type);
  e.replica_id = instance.replica_id;
  e.version = VersionOfKey(instance.key);
  e.message = std::move(message);
  events_->Emit(AppIdOfKey(instance.key), std::move(e));
}

void InstanceManager::StopSoon(std::shared_ptr<Instance> instance) {
  instance->connections.Clear();
  {
    std::lock_guard<std::mutex> l(mu_);
    if (reaper_.joinable() && !stopping_) {
      to_stop_.push_back(std::move(instance));
      stop_reaper_.notify_all();
      return;
    }
  }
  instance->process->Stop(2000);
}

std::optional<Lease> InstanceManager::TryAcquire(const InstanceSpec& spec) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = pools_.find(spec.key);
  if (it == pools_.end()) return std::nullopt;
  if (auto w = waiting_.find(spec.key); w != waiting_.end() && w->second > 0) return std::nullopt;
  std::shared_ptr<Instance> best;
  for (auto& inst : it->second) {
    if (inst->retired) continue;
    if (inst->inflight < std::max(1, spec.max_concurrency) && (!best || inst->inflight < best->inflight)) best = inst;
  }
  if (!best) return std::nullopt;
  ++best->inflight;
  return Lease(this, best, false, !best->served);
}

int InstanceManager::ReapIdle() {
  std::vector<std::shared_ptr<Instance>> idle;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto now = clock_->Now();
    for (auto it = pools_.begin(); it != pools_.end();) {
      auto& pool = it->second;
      // Reserved instances stay however idle they are: only those beyond the reserve are reaped.
      int above_reserve = -ReservedFor(it->first);
      for (const auto& inst : pool) above_reserve += inst->retired ? 0 : 1;
      for (auto i = pool.begin(); i != pool.end();) {
        auto& inst = *i;
        // Only idle instances are looked at: busy ones are never reaped, so no waitpid for them.
        bool idle_too_long = now - inst->last_used > inst->idle_timeout && (inst->retired || above_reserve > 0);
        std::string how;
        if (inst->inflight == 0 && (idle_too_long || inst->process->Exited(&how))) {
          if (how.empty()) {
            EventLocked(*inst, event::kInstanceStoppedIdle,
                        fmt::format("stopped after {}s without requests", inst->idle_timeout.count() / 1000), true);
          } else {
            CountCrash(*inst, how);  // it died with no request in flight
            EventLocked(*inst, event::kInstanceCrashed, "exited with " + how, true);
          }
          if (!inst->retired) --above_reserve;
          inst->retired = true;
          idle.push_back(inst);
          i = pool.erase(i);
        } else {
          ++i;
        }
      }
      it = pool.empty() ? pools_.erase(it) : std::next(it);
    }
  }
  for (auto& inst : idle) {
    inst->connections.Clear();
    inst->process->Stop(2000);
  }
  return static_cast<int>(idle.size());
}

Result<Lease> InstanceManager::Acquire(const InstanceSpec& spec) {
  return Acquire(spec, clock_->Now() + std::chrono::seconds(120));
}

Result<Lease> InstanceManager::Acquire(const InstanceSpec& spec, std::chrono::steady_clock::time_point deadline) {
  // What a cold start needs beyond a process start (a zygote) is made here, outside mu_, so a slow one holds
  // up only this key's callers.
  IGNITE_RETURN_IF_ERROR(launcher_->Prepare(spec));
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    auto& pool = pools_[spec.key];
    // Drop instances whose process has died since the last request.
    pool.erase(std::remove_if(pool.begin(), pool.end(),
                              [this](const auto& i) {
                                std::string how;
                                if (i->inflight != 0 || !i->process->Exited(&how)) return false;
                                CountCrash(*i, how);  // it died with no request in flight
                                EventLocked(*i, event::kInstanceCrashed, "exited with " + how, true);
                                return true;
                              }),
               pool.end());
    std::shared_ptr<Instance> best;
    int live = 0;
    for (auto& inst : pool) {
      if (inst->retired) continue;
      ++live;
      if (inst->inflight < std::max(1, spec.max_concurrency) && (!best || inst->inflight < best->inflight)) best = inst;
    }
    if (best) {
      ++best->inflight;
      return Lease(this, best, false, !best->served);
    }
    if (live < std::max(1, spec.max_replicas)) break;  // start another instance below
    int& waiting = waiting_[spec.key];
    if (waiting >= spec.queue_limit) {
      return ResourceExhausted(fmt::format(
          "{} is at capacity: {} instances each running {} executions, and {} requests already waiting; retry "
          "later, or raise max_replicas / max_concurrency",
          spec.app_id, live, spec.max_concurrency, waiting));
    }
    ++waiting;
    // The deadline is the clock's: wait on real time for what is left by the clock, and let the clock say
    // whether it passed when the wait times out (else wait again, as after a spurious wake-up).
    auto left = deadline - clock_->Now();
    bool woke = left.count() > 0 && capacity_.wait_for(l, left) == std::cv_status::no_timeout;
    --waiting_[spec.key];
    if (!woke && clock_->Now() >= deadline) {
      return DeadlineExceeded(fmt::format("no instance of {} had room before the execution timeout; raise "
                                          "max_replicas or max_concurrency",
                                          spec.app_id));
    }
  }
  auto inst = LaunchLocked(spec);
  if (!inst.ok()) return inst.status();
  (*inst)->inflight = 1;
  return Lease(this, *inst, true, true);
}

Result<std::shared_ptr<Instance>> InstanceManager::LaunchLocked(const InstanceSpec& spec) {
  auto& pool = pools_[spec.key];
  if (auto c = crashes_.find(spec.key); c != crashes_.end() && c->second.consecutive >= kCrashesBeforeBackoff) {
    auto now = clock_->Now();
    if (now < c->second.next_start) {
      auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(c->second.next_start - now);
      return Unavailable(WithHint(fmt::format("{} keeps crashing on start ({} times in a row, last: {}); the next "
                                              "start is allowed in {}.{}s",
                                              spec.app_id, c->second.consecutive, c->second.last_exit,
                                              wait.count() / 1000, (wait.count() % 1000) / 100),
                                  spec.hints.logs));
    }
  }
  // Replica ids name the app and are unique per process lifetime, like pod names.
  std::string app_name = spec.app_id.substr(spec.app_id.find('/') + 1);
  std::string replica = fmt::format("{}-{}", app_name, NewUlid().substr(16));
  auto process = launcher_->Launch(spec, replica);
  if (!process.ok()) return process.status();
  auto inst = std::make_shared<Instance>();
  inst->key = spec.key;
  inst->replica_id = replica;
  static std::atomic<uint64_t> next_serial{1};
  inst->serial = next_serial++;
  inst->process = std::move(process).value();
  inst->idle_timeout = spec.idle_timeout;
  inst->started_at_ms = clock_->NowUnixMs();
  inst->spawned = clock_->Now();
  inst->last_used = clock_->Now();
  pool.push_back(inst);
  EventLocked(*inst, event::kInstanceStarted, fmt::format("started (pid {})", inst->process->pid()), false);
  return inst;
}

int InstanceManager::ReservedFor(const std::string& key) const {
  auto it = reserved_.find(key);
  return it == reserved_.end() ? 0 : std::min(it->second.reserved, std::max(1, it->second.max_replicas));
}

void InstanceManager::Prewarm(const InstanceSpec& spec) {
  {
    std::lock_guard<std::mutex> l(mu_);
    to_prepare_.push_back(spec);
    warm_wanted_ = true;
  }
  wake_warmer_.notify_all();
}

void InstanceManager::SetReserved(const InstanceSpec& spec) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (spec.reserved <= 0) {
      reserved_.erase(spec.key);
      return;
    }
    reserved_[spec.key] = spec;
    warm_wanted_ = true;
  }
  wake_warmer_.notify_all();
}

int InstanceManager::WarmReserved() {
  std::vector<std::shared_ptr<Instance>> started;
  std::vector<InstanceSpec> specs;
  std::vector<InstanceSpec> reserved;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [key, spec] : reserved_) reserved.push_back(spec);
  }
  for (const auto& spec : reserved) {
    // A failure shows when the launch below fails the same way (and counts towards the back-off there).
    Status prepared = launcher_->Prepare(spec);
    (void)prepared;
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [key, spec] : reserved_) {
      int live = 0;
      if (auto it = pools_.find(key); it != pools_.end()) {
        for (const auto& inst : it->second) {
          if (!inst->retired && !inst->process->Exited(nullptr)) ++live;
        }
      }
      for (int i = live; i < ReservedFor(key); ++i) {
        auto inst = LaunchLocked(spec);
        if (!inst.ok()) break;  // back-off or a launch failure: the next round tries again
        started.push_back(*inst);
        specs.push_back(spec);
      }
    }
  }
  int ready = 0;
  for (size_t i = 0; i < started.size(); ++i) {
    auto& inst = started[i];
    Status st = probe_(*inst, inst->spawned + specs[i].start_timeout);
    if (st.ok()) {
      MarkServed(*inst);
      ++ready;
      continue;
    }
    std::string how;
    if (!inst->process->Exited(&how)) {
      FailStart(*inst, "did not become ready: " + st.message());
    } else {
      CheckExited(*inst);
    }
    // Nobody leased it (or whoever did is told by its own call, and its release stops it): stop it now.
    bool idle;
    {
      std::lock_guard<std::mutex> l(mu_);
      idle = inst->inflight == 0;
      if (idle) {
        auto& pool = pools_[inst->key];
        pool.erase(std::remove(pool.begin(), pool.end(), inst), pool.end());
        if (pool.empty()) pools_.erase(inst->key);
      }
    }
    if (idle) StopSoon(inst);
  }
  return ready;
}

std::string InstanceManager::CheckExited(Instance& instance) {
  std::string how;
  if (!instance.process->Exited(&how)) return "";
  bool ready = BecameReady(instance);
  std::lock_guard<std::mutex> l(mu_);
  instance.retired = true;
  capacity_.notify_all();
  if (!ready || instance.inflight == 0) {
    CountCrash(instance, how);  // see the crash-loop rule in the header
  } else {
    instance.counted = true;  // judged: a failure of the request it served, not of the app
  }
  EventLocked(instance, event::kInstanceCrashed,
              "exited with " + how + (ready && instance.inflight > 0 ? " while serving a request" : ""), true);
  return how;
}

bool InstanceManager::BecameReady(Instance& instance) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (instance.served) return true;
  }
  return instance.process->Ready();
}

void InstanceManager::FailStart(Instance& instance, const std::string& why) {
  std::lock_guard<std::mutex> l(mu_);
  EventLocked(instance, event::kInstanceStartTimeout, why, true);
  instance.retired = true;
  capacity_.notify_all();
  CountCrash(instance, why);
}

void InstanceManager::CountCrash(Instance& instance, const std::string& how) {
  if (instance.counted) return;
  instance.counted = true;
  CrashState& c = crashes_[instance.key];
  ++c.consecutive;
  c.last_exit = how;
  if (c.consecutive >= kCrashesBeforeBackoff) {
    auto backoff = kFirstBackoff * (1 << std::min(c.consecutive - kCrashesBeforeBackoff, 7));
    c.next_start = clock_->Now() + std::min<std::chrono::milliseconds>(backoff, kMaxBackoff);
  }
}

void InstanceManager::MarkServed(Instance& instance) {
  std::lock_guard<std::mutex> l(mu_);
  if (instance.served) return;
  instance.served = true;
  instance.process->Ready();  // consumes the readiness signal, if any, which releases its descriptor
  crashes_.erase(instance.key);
  EventLocked(instance, event::kInstanceReady,
              fmt::format("ready {} ms after its start",
                          std::chrono::duration_cast<std::chrono::milliseconds>(clock_->Now() - instance.spawned).count()),
              false);
}

void InstanceManager::Release(const std::shared_ptr<Instance>& instance) {
  std::shared_ptr<Instance> to_stop;
  {
    std::lock_guard<std::mutex> l(mu_);
    instance->last_used = clock_->Now();
    --instance->inflight;
    capacity_.notify_all();
    if (instance->inflight > 0 || !instance->retired) return;
    auto& pool = pools_[instance->key];
    pool.erase(std::remove(pool.begin(), pool.end(), instance), pool.end());
    if (pool.empty()) pools_.erase(instance->key);
    to_stop = instance;
  }
  StopSoon(std::move(to_stop));
}

void InstanceManager::RetireInstance(Instance& instance) {
  std::lock_guard<std::mutex> l(mu_);
  if (!instance.retired) {
    EventLocked(instance, event::kInstanceRetired, "taken out of service (it hung or misbehaved)", true);
  }
  instance.retired = true;
  capacity_.notify_all();
}

void InstanceManager::Retire(const std::string& key) {
  launcher_->Retire(key);
  std::vector<std::shared_ptr<Instance>> idle;
  {
    std::lock_guard<std::mutex> l(mu_);
    reserved_.erase(key);
    auto it = pools_.find(key);
    if (it == pools_.end()) return;
    std::vector<std::shared_ptr<Instance>> busy;
    for (auto& inst : it->second) {
      EventLocked(*inst, event::kInstanceRetired,
                  inst->inflight == 0 ? "retired: its version no longer serves"
                                      : fmt::format("retired: its version no longer serves; stops after {} in-flight "
                                                    "execution(s)", inst->inflight),
                  true);
      inst->retired = true;
      (inst->inflight == 0 ? idle : busy).push_back(inst);
    }
    if (busy.empty()) {
      pools_.erase(it);
    } else {
      it->second = std::move(busy);
    }
  }
  for (auto& inst : idle) {
    inst->connections.Clear();
    inst->process->Stop(2000);
  }
}

void InstanceManager::StopAll() {
  std::map<std::string, std::vector<std::shared_ptr<Instance>>> all;
  {
    std::lock_guard<std::mutex> l(mu_);
    all.swap(pools_);
    reserved_.clear();  // nothing is started again after this
  }
  for (auto& [key, pool] : all) {
    for (auto& inst : pool) {
      inst->connections.Clear();
      inst->process->Stop(2000);
    }
  }
}

std::vector<ReplicaSnapshot> InstanceManager::Replicas(const std::string& key_prefix) {
  std::vector<ReplicaSnapshot> out;
  std::lock_guard<std::mutex> l(mu_);
  auto now = clock_->Now();
  int64_t now_ms = clock_->NowUnixMs();
  for (auto it = pools_.lower_bound(key_prefix); it != pools_.end() && it->first.starts_with(key_prefix); ++it) {
    for (const auto& inst : it->second) {
      if (inst->process->Exited(nullptr)) continue;
      ReplicaSnapshot r;
      r.key = inst->key;
      r.replica_id = inst->replica_id;
      r.state = inst->retired ? "retiring" : !inst->served ? "starting" : inst->inflight > 0 ? "busy" : "ready";
      r.inflight = inst->inflight;
      r.started_at_ms = inst->started_at_ms;
      r.last_used_at_ms =
          now_ms - std::chrono::duration_cast<std::chrono::milliseconds>(now - inst->last_used).count();
      r.pid = inst->process->pid();
      out.push_back(std::move(r));
    }
  }
  return out;
}

int InstanceManager::WaitingCount(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = waiting_.find(key);
  return it == waiting_.end() ? 0 : it->second;
}

int InstanceManager::LiveCount(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = pools_.find(key);
  if (it == pools_.end()) return 0;
  int n = 0;
  for (auto& inst : it->second) {
    if (!inst->retired && !inst->process->Exited(nullptr)) ++n;
  }
  return n;
}

}  // namespace ignite::instances
