#include "api/invocation_stats.h"

#include <spdlog/spdlog.h>

namespace ignite::api {

InvocationRecorder::InvocationRecorder(store::Store* store, const Clock* clock, InvocationRecorderOptions options)
    : store_(store), clock_(clock), options_(options) {}

InvocationRecorder::~InvocationRecorder() { Stop(); }

void InvocationRecorder::Start() {
  writer_ = std::thread([this] { Run(); });
}

void InvocationRecorder::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (writer_.joinable()) writer_.join();
  if (Status st = Flush(); !st.ok()) spdlog::error("saving the last invocation outcomes: {}", st.message());
}

void InvocationRecorder::OnInvocation(gateway::InvocationOutcome o) {
  std::lock_guard<std::mutex> l(mu_);
  if (pending_.size() >= options_.max_pending) {
    if (dropped_++ % 10000 == 0) {
      spdlog::warn("execution stats: {} invocation outcome(s) dropped, the store is not keeping up", dropped_);
    }
    return;
  }
  pending_.push_back(store::InvocationRecord{std::move(o.org_id), std::move(o.app_id), o.version, o.finished_at_ms,
                                             o.duration_ms, o.status, o.cold});
  if (pending_.size() == options_.batch_size) wake_.notify_one();
}

Status InvocationRecorder::Flush() {
  std::lock_guard<std::mutex> flush(flush_mu_);
  std::vector<store::InvocationRecord> batch;
  {
    std::lock_guard<std::mutex> l(mu_);
    batch.swap(pending_);
  }
  if (batch.empty()) return OkStatus();
  Status st = store_->PutInvocations(batch);
  if (!st.ok()) {
    // Keep them, older first, for the next attempt, within the bound.
    std::lock_guard<std::mutex> l(mu_);
    size_t room = options_.max_pending > pending_.size() ? options_.max_pending - pending_.size() : 0;
    if (batch.size() > room) {
      dropped_ += batch.size() - room;
      batch.resize(room);
    }
    pending_.insert(pending_.begin(), batch.begin(), batch.end());
  }
  return st;
}

uint64_t InvocationRecorder::dropped() const {
  std::lock_guard<std::mutex> l(mu_);
  return dropped_;
}

void InvocationRecorder::Run() {
  auto next_sweep = clock_->Now();
  std::unique_lock<std::mutex> l(mu_);
  while (!stopping_) {
    wake_.wait_for(l, options_.flush_interval,
                   [this] { return stopping_ || pending_.size() >= options_.batch_size; });
    if (stopping_) break;
    l.unlock();
    if (Status st = Flush(); !st.ok()) spdlog::warn("saving invocation outcomes (will retry): {}", st.message());
    if (clock_->Now() >= next_sweep) {
      int64_t before = clock_->NowUnixMs() - options_.retention.count();
      if (auto n = store_->DeleteInvocationsBefore(before); !n.ok()) {
        spdlog::warn("deleting expired invocation outcomes: {}", n.status().message());
      }
      next_sweep = clock_->Now() + options_.sweep_interval;
    }
    l.lock();
  }
}

}  // namespace ignite::api
