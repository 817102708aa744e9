// InvocationRecorder: the outcome of every invocation of an app's serving version (Invoke, InvokeAsync, the
// per-app URL; not draft or version tests), kept for GetExecutionStats without SQL on the invoke path.
//
// The gateway reports each finished invocation (gateway::InvocationObserver): a push onto an in-memory
// buffer under a mutex. One writer thread saves the buffer in batches, one SQLite transaction each, every
// `flush_interval` or as soon as `batch_size` outcomes wait, like ExecutionRecorder. Memory is bounded: past
// `max_pending` unsaved outcomes (the store failing or far behind) new ones are dropped and counted in a
// warning. Outcomes older than `retention` are deleted every `sweep_interval`. A crash loses at most the last
// interval's outcomes. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "gateway/payload_check.h"
#include "store/store.h"

namespace ignite::api {

struct InvocationRecorderOptions {
  std::chrono::milliseconds flush_interval{100};
  size_t batch_size = 1000;
  size_t max_pending = 100000;
  std::chrono::milliseconds retention{std::chrono::hours(24 * 7)};
  std::chrono::milliseconds sweep_interval{std::chrono::hours(1)};
};

class InvocationRecorder : public gateway::InvocationObserver {
 public:
  // `store` and `clock` must outlive the recorder.
  InvocationRecorder(store::Store* store, const Clock* clock, InvocationRecorderOptions options = {});
  ~InvocationRecorder() override;  // Stop()
  InvocationRecorder(const InvocationRecorder&) = delete;
  InvocationRecorder& operator=(const InvocationRecorder&) = delete;

  // Starts the writer thread (which sweeps expired outcomes first). Call once.
  void Start();
  // Saves what is pending and stops the writer thread. Idempotent.
  void Stop();

  void OnInvocation(gateway::InvocationOutcome outcome) override;
  // Saves the pending outcomes now on the caller's thread (a stats read sees every finished invocation).
  Status Flush();
  // Outcomes dropped because too many were unsaved (diagnostics, tests).
  uint64_t dropped() const;

 private:
  void Run();

  store::Store* store_;
  const Clock* clock_;
  const InvocationRecorderOptions options_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::vector<store::InvocationRecord> pending_;  // guarded by mu_
  uint64_t dropped_ = 0;                          // guarded by mu_
  bool stopping_ = false;                         // guarded by mu_
  std::mutex flush_mu_;                           // one write at a time, in order
  std::thread writer_;
};

}  // namespace ignite::api
