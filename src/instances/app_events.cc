#include "instances/app_events.h"

namespace ignite::instances {

std::string AppIdOfKey(std::string_view key) {
  size_t at = key.rfind('@');
  return std::string(at == std::string_view::npos ? key : key.substr(0, at));
}

uint32_t VersionOfKey(std::string_view key) {
  size_t at = key.rfind('@');
  if (at == std::string_view::npos || at + 1 == key.size()) return 0;
  uint32_t v = 0;
  for (char c : key.substr(at + 1)) {
    if (c < '0' || c > '9') return 0;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  return v;
}

AppEventLog::AppEventLog(const Clock* clock, size_t per_app) : clock_(clock), per_app_(per_app == 0 ? 1 : per_app) {}

void AppEventLog::Emit(const std::string& app_id, AppEvent event) {
  if (event.timestamp_ms == 0) event.timestamp_ms = clock_->NowUnixMs();
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& [id, f] : followers_) {
    if (f.app_id == app_id) f.on_event(event);
  }
  auto& ring = events_[app_id];
  ring.push_back(std::move(event));
  while (ring.size() > per_app_) ring.pop_front();
}

std::vector<AppEvent> AppEventLog::ReadLocked(const std::string& app_id, size_t limit,
                                              const std::string& replica_id) const {
  std::vector<AppEvent> out;
  auto it = events_.find(app_id);
  if (it == events_.end() || limit == 0) return out;
  for (auto e = it->second.rbegin(); e != it->second.rend() && out.size() < limit; ++e) {
    if (replica_id.empty() || e->replica_id == replica_id) out.push_back(*e);
  }
  return {out.rbegin(), out.rend()};
}

std::vector<AppEvent> AppEventLog::Read(const std::string& app_id, size_t limit, const std::string& replica_id) const {
  std::lock_guard<std::mutex> l(mu_);
  return ReadLocked(app_id, limit, replica_id);
}

AppEventLog::Followed AppEventLog::Follow(const std::string& app_id, size_t limit, const std::string& replica_id,
                                          std::function<void(const AppEvent&)> on_event) {
  std::lock_guard<std::mutex> l(mu_);
  Followed out{next_follower_++, ReadLocked(app_id, limit, replica_id)};
  followers_[out.id] = Follower{app_id, std::move(on_event)};
  return out;
}

void AppEventLog::Unfollow(uint64_t id) {
  std::lock_guard<std::mutex> l(mu_);
  followers_.erase(id);
}

void AppEventLog::Remove(const std::string& app_id) {
  std::lock_guard<std::mutex> l(mu_);
  events_.erase(app_id);
}

}  // namespace ignite::instances
