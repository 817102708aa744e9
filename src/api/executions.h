// ExecutionRecorder: keeps the records of asynchronous executions (InvokeAsync) without putting the database
// on the invocation path.
//
// Callers hand it records in memory (Begin, Update, Finish: a map insert under a mutex, no I/O). One writer
// thread saves changed records to the store in batches, each batch one transaction: every `flush_interval`,
// or as soon as `batch_size` records have changed. Until a record's latest state is saved, reads (Get, Watch)
// are served from memory; records still running stay in memory until they finish, so the store only ever
// holds the newest state written. The writer also deletes records older than `retention` every
// `sweep_interval`.
//
// Thread-safety: every method is thread-safe. Changes to one execution must come from one logical flow in
// order (Begin, then Update(s), then Finish), which is how AsyncInvoker drives them; changes to different
// executions may run concurrently.
//
// Durability: a change is in the store at most `flush_interval` (plus the write) after it was made; Stop()
// writes everything still pending. A crash loses at most the last interval of changes; Start() marks records
// a previous process left PENDING or RUNNING as FAILED.
//
// When the store fails, the batch stays in memory and is retried at the next interval (a warning is logged).
// If failures persist past `max_unsaved` pending records, the oldest finished ones are dropped with an error
// log so memory stays bounded.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "common/clock.h"
#include "common/result.h"
#include "store/store.h"

namespace ignite::api {

struct RecorderOptions {
  std::chrono::milliseconds flush_interval{100};
  size_t batch_size = 200;  // Flush early once this many records changed; also the most per transaction.
  std::chrono::milliseconds retention{std::chrono::hours(24 * 7)};
  std::chrono::milliseconds sweep_interval{std::chrono::hours(1)};
  size_t max_unsaved = 100000;
};

// PENDING and RUNNING are live; SUCCEEDED, FAILED and TIMED_OUT (and anything else) are terminal.
bool IsTerminalExecutionStatus(int status);

class ExecutionRecorder {
 public:
  // `store` and `clock` must outlive the recorder.
  ExecutionRecorder(store::Store* store, const Clock* clock, RecorderOptions options = {});
  // Stop().
  ~ExecutionRecorder();
  ExecutionRecorder(const ExecutionRecorder&) = delete;
  ExecutionRecorder& operator=(const ExecutionRecorder&) = delete;

  // Marks records a previous process left unfinished as FAILED, deletes expired records, and starts the
  // writer thread. Returns the store's error if the first two fail (nothing is started then). Call once,
  // before the first Begin.
  Status Start();
  // Stops the writer thread after writing every pending change (a failed final write is logged). Listeners
  // still registered are dropped without a further call. Idempotent; changes made after Stop are kept in
  // memory only.
  void Stop();

  // A new execution (normally PENDING). Its id must be new.
  void Begin(store::ExecutionRecord record);
  // A later state of an execution begun before (e.g. RUNNING with started_at_ms).
  void Update(store::ExecutionRecord record);
  // The final state (a terminal status). Listeners get it, then are dropped.
  void Finish(store::ExecutionRecord record);

  // The newest state: from memory when the record has changes not yet written (or is still running), else
  // from the store. NotFound when neither has it; the store's error otherwise. No org check: callers
  // compare org_id.
  Result<store::ExecutionRecord> Get(std::string_view id);

  // Called with the record's state; returns false to stop receiving calls.
  using Listener = std::function<bool(const store::ExecutionRecord&)>;
  // Calls `listener` with the current state before returning, then after each change of the execution until
  // a terminal state (the last call) or until the listener returns false. Calls for one execution never
  // overlap and come in order; one may repeat the state the previous call had. Later calls run on the
  // thread making the change, so a listener must not block or call back into the recorder.
  // Returns true when further calls may follow, false when the first call was the last (a terminal state,
  // the listener declined, or a record left unfinished by a previous process that will not change).
  // NotFound (with no call) when the execution is unknown.
  Result<bool> Watch(std::string_view id, Listener listener);

  // Writes the pending changes now, on the caller's thread (tests, shutdown). The store's error if it fails.
  Status Flush();
  // Deletes the records older than the retention period now; returns how many.
  Result<int> Sweep();

  // Records held in memory (live or not yet written), for tests and diagnostics.
  size_t InMemory() const;

 private:
  // The listeners of one execution. `mu` orders their calls; taken after the recorder's mu_, never before.
  struct Channel {
    std::mutex mu;
    std::vector<Listener> listeners;  // guarded by mu
    bool closed = false;              // guarded by mu: a terminal state was delivered
  };
  struct Entry {
    std::shared_ptr<const store::ExecutionRecord> record;
    uint64_t seq = 0;        // Bumped by every change.
    uint64_t saved_seq = 0;  // The change last written to the store.
    std::shared_ptr<Channel> channel;  // nullptr until someone watches
  };

  void Put(store::ExecutionRecord record);
  // Delivers `record` to the channel's listeners (under the channel's lock).
  static void Notify(Channel& channel, const store::ExecutionRecord& record);
  void Run();
  // Drops the oldest finished unsaved records beyond max_unsaved. Requires mu_.
  void ShedLocked();

  store::Store* store_;
  const Clock* clock_;
  const RecorderOptions options_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::unordered_map<std::string, Entry> entries_;  // guarded by mu_
  std::unordered_set<std::string> unsaved_;         // guarded by mu_: ids whose seq != saved_seq
  bool stopping_ = false;                           // guarded by mu_
  std::mutex flush_mu_;                             // one flush at a time (writer thread or Flush())
  std::thread writer_;
  bool started_ = false;
};

}  // namespace ignite::api
