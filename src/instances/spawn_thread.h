// SpawnThread: runs functions one at a time on a single thread that lives exactly as long as the object.
//
// Why: a child's PR_SET_PDEATHSIG (which instances set so they die with ignited) fires when the *thread* that
// spawned it exits, not the process. Callers of Launch include threads that come and go (gRPC's sync-server
// threads, for one), so every spawn goes through this one long-lived thread instead.
//
// Thread-safe. Run blocks the caller until the function has run and returns its result. The destructor runs
// what is queued, then joins.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <type_traits>

namespace ignite::instances {

class SpawnThread {
 public:
  SpawnThread();
  ~SpawnThread();
  SpawnThread(const SpawnThread&) = delete;
  SpawnThread& operator=(const SpawnThread&) = delete;

  // Queues `work` to run on the thread after what is queued already, without waiting for it.
  void Post(std::function<void()> work);

  template <typename F>
  std::invoke_result_t<F> Run(F&& fn) {
    if (std::this_thread::get_id() == thread_.get_id()) return fn();  // already on it
    std::packaged_task<std::invoke_result_t<F>()> task(std::forward<F>(fn));
    auto result = task.get_future();
    Post([&task] { task(); });
    return result.get();
  }

 private:
  void Loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::thread thread_;                       // last: starts after the fields above exist
};

}  // namespace ignite::instances
