// BuildQueue: runs builds on a fixed number of slots; the rest wait in order with a visible position. Each
// build is a BuildJob whose log can be read while it grows (for live compile-log streams) and which can be
// cancelled whether it is waiting or running.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace ignite::build {

struct LogEntry {
  int64_t timestamp_ms = 0;
  std::string line;
};

enum class JobState { kPending, kRunning, kSucceeded, kFailed, kCancelled };

// The shared state of one build. Thread-safe.
class BuildJob {
 public:
  BuildJob(std::string id, const Clock* clock) : id_(std::move(id)), clock_(clock) {}
  const std::string& id() const { return id_; }
  JobState state() const;
  bool finished() const;
  // The build's outcome once finished: OK, or why it failed or was cancelled.
  Status result() const;
  // 1-based place in the queue while pending; 0 otherwise.
  uint32_t queue_position() const;

  // Appends entries from index `from` to `out`; waits up to `wait` when there is nothing new and the job is
  // still running. Returns true when the job has finished and `out` now reaches the end of its log.
  bool ReadLog(size_t from, std::vector<LogEntry>* out, std::chrono::milliseconds wait) const;
  // Blocks until the job has finished.
  void Wait() const;
  // Requests cancellation: a pending job finishes at once as cancelled; a running one sees cancel_flag().
  void Cancel();

  // For the build function.
  void Log(std::string_view line);
  const std::atomic<bool>* cancel_flag() const { return &cancel_; }

 private:
  friend class BuildQueue;
  void Finish(JobState state, Status result);

  const std::string id_;
  const Clock* clock_;
  std::atomic<bool> cancel_{false};
  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  JobState state_ = JobState::kPending;  // guarded by mu_
  Status result_;                        // guarded by mu_
  std::vector<LogEntry> log_;            // guarded by mu_
  uint32_t position_ = 0;                // guarded by mu_
  std::function<void()> on_cancel_pending_;  // guarded by mu_; set by the queue
};

class BuildQueue {
 public:
  // `run` does the build (on a slot thread); `finish` records the outcome and is called exactly once: after
  // `run`, or on the cancelling thread when a job is cancelled before it started.
  using RunFn = std::function<Status(BuildJob&)>;
  using FinishFn = std::function<void(BuildJob&, const Status&)>;

  BuildQueue(int slots, const Clock* clock);
  // Cancels every job and waits for running ones to return.
  ~BuildQueue();

  std::shared_ptr<BuildJob> Submit(std::string id, RunFn run, FinishFn finish);
  // A job submitted to this queue (finished ones are kept for 10 minutes), or nullptr.
  std::shared_ptr<BuildJob> Find(const std::string& id) const;

 private:
  struct Entry {
    std::shared_ptr<BuildJob> job;
    RunFn run;
    FinishFn finish;
  };
  void Worker();
  void Renumber();  // requires mu_
  void CancelPending(const std::string& id);

  const Clock* clock_;
  mutable std::mutex mu_;
  std::condition_variable work_;
  std::deque<Entry> pending_;                                   // guarded by mu_
  std::map<std::string, std::shared_ptr<BuildJob>> jobs_;       // guarded by mu_
  std::map<std::string, std::chrono::steady_clock::time_point> finished_at_;  // guarded by mu_
  bool stopping_ = false;                                       // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace ignite::build
