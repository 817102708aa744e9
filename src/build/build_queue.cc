#include "build/build_queue.h"

#include <algorithm>

namespace ignite::build {

JobState BuildJob::state() const {
  std::lock_guard<std::mutex> l(mu_);
  return state_;
}

bool BuildJob::finished() const {
  auto s = state();
  return s != JobState::kPending && s != JobState::kRunning;
}

Status BuildJob::result() const {
  std::lock_guard<std::mutex> l(mu_);
  return result_;
}

uint32_t BuildJob::queue_position() const {
  std::lock_guard<std::mutex> l(mu_);
  return state_ == JobState::kPending ? position_ : 0;
}

bool BuildJob::ReadLog(size_t from, std::vector<LogEntry>* out, std::chrono::milliseconds wait) const {
  std::unique_lock<std::mutex> l(mu_);
  auto done = [&] { return state_ != JobState::kPending && state_ != JobState::kRunning; };
  if (from >= log_.size() && !done()) {
    changed_.wait_for(l, wait, [&] { return from < log_.size() || done(); });
  }
  for (size_t i = from; i < log_.size(); ++i) out->push_back(log_[i]);
  return done();
}

void BuildJob::Wait() const {
  std::unique_lock<std::mutex> l(mu_);
  changed_.wait(l, [&] { return state_ != JobState::kPending && state_ != JobState::kRunning; });
}

void BuildJob::Cancel() {
  cancel_ = true;
  std::function<void()> cancel_pending;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (state_ == JobState::kPending) cancel_pending = on_cancel_pending_;
  }
  if (cancel_pending) cancel_pending();
}

void BuildJob::Log(std::string_view line) {
  std::lock_guard<std::mutex> l(mu_);
  log_.push_back(LogEntry{clock_->NowUnixMs(), std::string(line)});
  changed_.notify_all();
}

void BuildJob::Finish(JobState state, Status result) {
  std::lock_guard<std::mutex> l(mu_);
  state_ = state;
  result_ = std::move(result);
  on_cancel_pending_ = nullptr;
  changed_.notify_all();
}

BuildQueue::BuildQueue(int slots, const Clock* clock) : clock_(clock) {
  for (int i = 0; i < std::max(1, slots); ++i) threads_.emplace_back([this] { Worker(); });
}

BuildQueue::~BuildQueue() {
  std::vector<std::shared_ptr<BuildJob>> all;
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
    for (auto& [id, job] : jobs_) all.push_back(job);
  }
  for (auto& job : all) job->Cancel();
  work_.notify_all();
  for (auto& t : threads_) t.join();
}

std::shared_ptr<BuildJob> BuildQueue::Submit(std::string id, RunFn run, FinishFn finish) {
  auto job = std::make_shared<BuildJob>(id, clock_);
  {
    std::lock_guard<std::mutex> l(mu_);
    // Forget jobs that finished long ago; their records live in the store.
    auto now = std::chrono::steady_clock::now();
    for (auto it = finished_at_.begin(); it != finished_at_.end();) {
      if (now - it->second > std::chrono::minutes(10)) {
        jobs_.erase(it->first);
        it = finished_at_.erase(it);
      } else {
        ++it;
      }
    }
    {
      std::lock_guard<std::mutex> jl(job->mu_);
      job->on_cancel_pending_ = [this, id] { CancelPending(id); };
    }
    jobs_[id] = job;
    pending_.push_back(Entry{job, std::move(run), std::move(finish)});
    Renumber();
  }
  work_.notify_one();
  return job;
}

std::shared_ptr<BuildJob> BuildQueue::Find(const std::string& id) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : it->second;
}

void BuildQueue::Renumber() {
  uint32_t n = 0;
  for (auto& e : pending_) {
    std::lock_guard<std::mutex> jl(e.job->mu_);
    e.job->position_ = ++n;
  }
}

void BuildQueue::CancelPending(const std::string& id) {
  Entry entry;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = std::find_if(pending_.begin(), pending_.end(), [&](const Entry& e) { return e.job->id() == id; });
    if (it == pending_.end()) return;  // a worker took it first; it sees the cancel flag instead
    entry = std::move(*it);
    pending_.erase(it);
    Renumber();
    finished_at_[id] = std::chrono::steady_clock::now();
  }
  Status st(StatusCode::kCancelled, "build cancelled before it started");
  entry.job->Log("==> cancelled while waiting for a build slot");
  entry.finish(*entry.job, st);
  entry.job->Finish(JobState::kCancelled, st);
}

void BuildQueue::Worker() {
  for (;;) {
    Entry entry;
    {
      std::unique_lock<std::mutex> l(mu_);
      work_.wait(l, [&] { return stopping_ || !pending_.empty(); });
      if (pending_.empty()) return;
      entry = std::move(pending_.front());
      pending_.pop_front();
      Renumber();
      std::lock_guard<std::mutex> jl(entry.job->mu_);
      entry.job->state_ = JobState::kRunning;
      entry.job->on_cancel_pending_ = nullptr;
      entry.job->changed_.notify_all();
    }
    Status st = entry.job->cancel_flag()->load() ? Status(StatusCode::kCancelled, "build cancelled")
                                                 : entry.run(*entry.job);
    entry.finish(*entry.job, st);
    JobState final_state = st.ok() ? JobState::kSucceeded
                                   : st.code() == StatusCode::kCancelled ? JobState::kCancelled : JobState::kFailed;
    {
      std::lock_guard<std::mutex> l(mu_);
      finished_at_[entry.job->id()] = std::chrono::steady_clock::now();
    }
    entry.job->Finish(final_state, st);
  }
}

}  // namespace ignite::build
