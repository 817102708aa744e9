// Routing: turns a version (or a draft's build) into a gateway route and keeps the route table and the
// instance pools in step with what is published: publish, rollback, config updates and deletes all point
// traffic through here, so the rule "a replaced version's instances are retired" lives in one place. The
// route's instance layout comes from the version's code path (Builder::Layout), so nothing here knows
// what runs. Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "api/service_context.h"

namespace ignite::api {

class Routing {
 public:
  explicit Routing(const ServiceContext* ctx) : ctx_(ctx) {}

  // The route of org/app serving `artifact_hash` (built by the code path of `runtime_bytes`, a serialized
  // pb::Runtime) under pool key `key`, with `app`'s config. FailedPrecondition when no registered code
  // path runs it.
  Result<gateway::Route> RouteFor(const std::string& org_id, const std::string& org_name, const store::AppRecord& app,
                                  const std::string& key, const std::string& artifact_hash,
                                  const std::string& runtime_bytes, uint32_t version) const;
  // Points traffic for the app at `version` and retires the instances of the version it replaces.
  Status Route(const std::string& org_id, const std::string& org_name, const store::AppRecord& app,
               const store::VersionRecord& version);
  // Loads the active version of every app into the route table (at start-up). An app whose route cannot be
  // made is logged and left unrouted; only store errors fail.
  Status LoadRoutes();
  // Records `key` as the app's draft test instance pool, retiring the previous draft pool when it differs.
  void SetDraftKey(const std::string& app_id, const std::string& key);
  // Stops routing the app: removes its route and retires its instances, draft test instances included.
  void Forget(const std::string& app_id);

 private:
  const ServiceContext* ctx_;
  std::mutex draft_keys_mu_;
  std::map<std::string, std::string> draft_keys_;  // guarded by draft_keys_mu_: app id -> draft pool key
};

}  // namespace ignite::api
