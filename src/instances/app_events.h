// App events: lifecycle events of an app's instances, builds and versions (GetAppEvents, StreamAppEvents).
//
// Producers (InstanceManager, the API's build and publish code) call AppEventSink::Emit; AppEventLog keeps
// the newest `per_app` events of each app in memory (a ring), and serves reads and followers. Events are not
// persisted: they are gone after a restart, as the reference says of the hosted platform's pod events.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"

namespace ignite::instances {

// Event types (AppEvent.type). Instance events carry the replica id.
namespace event {
inline constexpr std::string_view kInstanceStarted = "INSTANCE_STARTED";        // spawned (cold start or reserve)
inline constexpr std::string_view kInstanceReady = "INSTANCE_READY";            // answered its first request
inline constexpr std::string_view kInstanceStoppedIdle = "INSTANCE_STOPPED_IDLE";  // scale to zero
inline constexpr std::string_view kInstanceCrashed = "INSTANCE_CRASHED";        // exited on its own (message: how)
inline constexpr std::string_view kInstanceStartTimeout = "INSTANCE_START_TIMEOUT";  // not ready in time
inline constexpr std::string_view kInstanceRetired = "INSTANCE_RETIRED";        // version replaced, app deleted, hung
inline constexpr std::string_view kBuildStarted = "BUILD_STARTED";
inline constexpr std::string_view kBuildSucceeded = "BUILD_SUCCEEDED";
inline constexpr std::string_view kBuildFailed = "BUILD_FAILED";  // also a cancelled build (message says so)
inline constexpr std::string_view kVersionPublished = "VERSION_PUBLISHED";
inline constexpr std::string_view kVersionRolledBack = "VERSION_ROLLED_BACK";
inline constexpr std::string_view kConfigUpdated = "CONFIG_UPDATED";
}  // namespace event

struct AppEvent {
  int64_t timestamp_ms = 0;
  std::string type;        // one of event::k*
  std::string replica_id;  // instance events only
  uint32_t version = 0;    // the app version concerned; 0 for a draft (test instance, build) or none
  std::string message;
};

// Where producers send events. Emit must not block and may be called with the caller's locks held.
class AppEventSink {
 public:
  virtual ~AppEventSink() = default;
  // `app_id` is "org/app". timestamp_ms 0 is filled with the current time.
  virtual void Emit(const std::string& app_id, AppEvent event) = 0;
};

// The app id ("org/app") and version of an instance pool key ("org/app@3", "org/app@draft-<hash>": 0).
std::string AppIdOfKey(std::string_view key);
uint32_t VersionOfKey(std::string_view key);

// Thread-safe.
class AppEventLog : public AppEventSink {
 public:
  explicit AppEventLog(const Clock* clock, size_t per_app = 1000);

  void Emit(const std::string& app_id, AppEvent event) override;
  // The newest `limit` events of an app (oldest first), optionally only those of one replica.
  std::vector<AppEvent> Read(const std::string& app_id, size_t limit, const std::string& replica_id = "") const;
  // Returns the newest `limit` events (as Read) and, atomically with that, registers `on_event` for every
  // later event of the app (unfiltered). on_event runs on the emitting thread under the log's lock: it must
  // only queue the event. Once Unfollow returns, on_event is not called again.
  struct Followed {
    uint64_t id;
    std::vector<AppEvent> tail;
  };
  Followed Follow(const std::string& app_id, size_t limit, const std::string& replica_id,
                  std::function<void(const AppEvent&)> on_event);
  void Unfollow(uint64_t id);
  // Forgets an app's events (app deleted).
  void Remove(const std::string& app_id);

 private:
  std::vector<AppEvent> ReadLocked(const std::string& app_id, size_t limit, const std::string& replica_id) const;

  const Clock* clock_;
  const size_t per_app_;
  mutable std::mutex mu_;
  std::map<std::string, std::deque<AppEvent>, std::less<>> events_;  // guarded by mu_
  struct Follower {
    std::string app_id;
    std::function<void(const AppEvent&)> on_event;
  };
  std::map<uint64_t, Follower> followers_;  // guarded by mu_
  uint64_t next_follower_ = 1;             // guarded by mu_
};

}  // namespace ignite::instances
