// RouteTable: where each app's traffic goes. Readers take an immutable snapshot (no lock held while routing);
// writers (publish, rollback, delete, start-up) copy, modify and swap it. The invoke path therefore never
// touches the database.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "gateway/payload_check.h"
#include "instances/launcher.h"

namespace ignite::gateway {

struct Route {
  std::string app_id;   // "org/app"
  std::string org_id;   // Stable organization id, passed to handlers.
  uint32_t version = 0;
  instances::InstanceSpec spec;
  std::chrono::seconds timeout{120};
  bool allow_unauthenticated = false;  // Per-app URL callable without a token (with permissive CORS).
  // Request bodies larger than this many bytes are refused (0: no limit), answered with `body_too_large`
  // (which names the limit and how to raise it) as a PayloadTooLarge status: a declared length before
  // anything is read or forwarded, a chunked body once it passes the limit.
  uint64_t body_limit = 0;
  std::string body_too_large;
  // The app's input schema, compiled when the route was built; nullptr when the app has none (then the
  // payload is never parsed).
  std::shared_ptr<const PayloadCheck> input_check;
};

class RouteTable {
 public:
  using Snapshot = std::shared_ptr<const std::map<std::string, Route>>;
  Snapshot Get() const;
  // Sets or replaces the route of route.app_id; returns the replaced route's instance key, or "".
  std::string Set(Route route);
  // Removes an app's route; returns its instance key, or "".
  std::string Remove(const std::string& app_id);

 private:
  mutable std::mutex mu_;
  Snapshot routes_ = std::make_shared<const std::map<std::string, Route>>();  // guarded by mu_
};

}  // namespace ignite::gateway
