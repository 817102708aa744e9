#include "api/executions.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "dodil/ignite/v1/ignite_common.pb.h"

namespace ignite::api {

namespace pb = ::dodil::ignite::v1;

bool IsTerminalExecutionStatus(int status) {
  return status != pb::EXECUTION_STATUS_PENDING && status != pb::EXECUTION_STATUS_RUNNING;
}

ExecutionRecorder::ExecutionRecorder(store::Store* store, const Clock* clock, RecorderOptions options)
    : store_(store), clock_(clock), options_(options) {}

ExecutionRecorder::~ExecutionRecorder() { Stop(); }

Status ExecutionRecorder::Start() {
  auto failed = store_->FailUnfinishedExecutions(
      "ignited stopped before this execution finished; invoke the app again", clock_->NowUnixMs());
  if (!failed.ok()) return failed.status();
  if (*failed > 0) spdlog::warn("marked {} interrupted execution(s) as failed", *failed);
  auto swept = Sweep();
  if (!swept.ok()) return swept.status();
  started_ = true;
  writer_ = std::thread([this] { Run(); });
  return OkStatus();
}

void ExecutionRecorder::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (writer_.joinable()) writer_.join();
  if (!started_) return;
  Status st = Flush();
  if (!st.ok()) spdlog::error("could not save the last execution records: {}", st.message());
}

void ExecutionRecorder::Begin(store::ExecutionRecord record) { Put(std::move(record)); }
void ExecutionRecorder::Update(store::ExecutionRecord record) { Put(std::move(record)); }
void ExecutionRecorder::Finish(store::ExecutionRecord record) { Put(std::move(record)); }

void ExecutionRecorder::Put(store::ExecutionRecord record) {
  auto rec = std::make_shared<const store::ExecutionRecord>(std::move(record));
  std::shared_ptr<Channel> channel;
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Entry& e = entries_[rec->id];
    e.record = rec;
    ++e.seq;
    bool was_idle = unsaved_.empty();
    unsaved_.insert(rec->id);
    channel = e.channel;
    wake = was_idle || unsaved_.size() >= options_.batch_size;
    if (unsaved_.size() > options_.max_unsaved) ShedLocked();
  }
  if (wake) wake_.notify_all();
  if (channel) Notify(*channel, *rec);
}

void ExecutionRecorder::Notify(Channel& channel, const store::ExecutionRecord& record) {
  std::lock_guard<std::mutex> lock(channel.mu);
  if (channel.closed) return;
  auto& ls = channel.listeners;
  ls.erase(std::remove_if(ls.begin(), ls.end(), [&](const Listener& l) { return !l(record); }), ls.end());
  if (IsTerminalExecutionStatus(record.status)) {
    ls.clear();
    channel.closed = true;
  }
}

void ExecutionRecorder::ShedLocked() {
  std::vector<std::pair<int64_t, std::string>> finished;
  for (const std::string& id : unsaved_) {
    const Entry& e = entries_.at(id);
    if (IsTerminalExecutionStatus(e.record->status)) finished.emplace_back(e.record->created_at_ms, id);
  }
  std::sort(finished.begin(), finished.end());
  // Down to 90%, so shedding is not repeated on every change while the store stays down.
  const size_t target = options_.max_unsaved - options_.max_unsaved / 10;
  size_t dropped = 0;
  for (const auto& [created, id] : finished) {
    if (unsaved_.size() <= target) break;
    unsaved_.erase(id);
    entries_.erase(id);
    ++dropped;
  }
  if (dropped > 0) {
    spdlog::error("the store keeps failing: dropped {} finished execution record(s) that could not be saved",
                  dropped);
  }
}

Result<store::ExecutionRecord> ExecutionRecorder::Get(std::string_view id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(std::string(id));
    if (it != entries_.end()) return *it->second.record;
  }
  // Records leave memory only after their final state is saved, so a miss here is answered by the store.
  return store_->GetExecution(id);
}

Result<bool> ExecutionRecorder::Watch(std::string_view id, Listener listener) {
  std::unique_lock<std::mutex> lock(mu_);
  auto it = entries_.find(std::string(id));
  if (it != entries_.end()) {
    Entry& e = it->second;
    if (!e.channel) e.channel = std::make_shared<Channel>();
    std::shared_ptr<Channel> channel = e.channel;
    std::shared_ptr<const store::ExecutionRecord> current = e.record;
    // Take the channel before letting go of mu_: a change made after the snapshot notifies only after this
    // listener is registered, so calls stay in order.
    std::lock_guard<std::mutex> channel_lock(channel->mu);
    lock.unlock();
    bool more = listener(*current) && !IsTerminalExecutionStatus(current->status) && !channel->closed;
    if (more) channel->listeners.push_back(std::move(listener));
    return more;
  }
  lock.unlock();
  IGNITE_ASSIGN_OR_RETURN(store::ExecutionRecord saved, store_->GetExecution(id));
  listener(saved);
  return false;
}

Status ExecutionRecorder::Flush() {
  std::lock_guard<std::mutex> flush_lock(flush_mu_);
  std::vector<std::pair<std::shared_ptr<const store::ExecutionRecord>, uint64_t>> pending;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending.reserve(unsaved_.size());
    for (const std::string& id : unsaved_) {
      const Entry& e = entries_.at(id);
      pending.emplace_back(e.record, e.seq);
    }
  }
  const size_t batch = std::max<size_t>(1, options_.batch_size);
  for (size_t begin = 0; begin < pending.size(); begin += batch) {
    size_t end = std::min(pending.size(), begin + batch);
    std::vector<store::ExecutionRecord> records;
    records.reserve(end - begin);
    for (size_t i = begin; i < end; ++i) records.push_back(*pending[i].first);
    IGNITE_RETURN_IF_ERROR(store_->PutExecutions(records));
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = begin; i < end; ++i) {
      const std::string& id = pending[i].first->id;
      auto it = entries_.find(id);
      if (it == entries_.end()) continue;
      Entry& e = it->second;
      e.saved_seq = std::max(e.saved_seq, pending[i].second);
      if (e.seq != e.saved_seq) continue;  // changed again meanwhile: the next flush saves that
      unsaved_.erase(id);
      // Finished and saved: the store answers from now on. Live records stay for their watchers.
      if (IsTerminalExecutionStatus(e.record->status)) entries_.erase(it);
    }
  }
  return OkStatus();
}

Result<int> ExecutionRecorder::Sweep() {
  return store_->DeleteExecutionsBefore(clock_->NowUnixMs() - options_.retention.count());
}

size_t ExecutionRecorder::InMemory() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

void ExecutionRecorder::Run() {
  auto next_sweep = std::chrono::steady_clock::now() + options_.sweep_interval;
  bool failing = false;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    // Idle until something changes, a sweep is due, or Stop.
    wake_.wait_until(lock, next_sweep, [this] { return stopping_ || !unsaved_.empty(); });
    if (!stopping_ && !unsaved_.empty()) {
      // Let the batch fill for up to one interval, unless it is full already.
      wake_.wait_for(lock, options_.flush_interval,
                     [this] { return stopping_ || unsaved_.size() >= options_.batch_size; });
    }
    if (stopping_) break;
    bool have_changes = !unsaved_.empty();
    lock.unlock();
    if (have_changes) {
      Status st = Flush();
      if (!st.ok()) {
        if (!failing) spdlog::warn("saving execution records failed (will retry): {}", st.message());
        failing = true;
        lock.lock();
        // Back off one interval rather than spinning on a full batch.
        wake_.wait_for(lock, options_.flush_interval, [this] { return stopping_; });
        lock.unlock();
      } else if (failing) {
        spdlog::info("saving execution records works again");
        failing = false;
      }
    }
    if (std::chrono::steady_clock::now() >= next_sweep) {
      auto swept = Sweep();
      if (!swept.ok()) {
        spdlog::warn("deleting expired execution records failed: {}", swept.status().message());
      } else if (*swept > 0) {
        spdlog::info("deleted {} execution record(s) past retention", *swept);
      }
      next_sweep = std::chrono::steady_clock::now() + options_.sweep_interval;
    }
    lock.lock();
  }
}

}  // namespace ignite::api
