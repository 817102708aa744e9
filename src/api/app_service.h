// AppService: apps themselves: create (optionally with code, all or nothing), read, list, config updates
// (which re-route a published app at once), state and replicas, delete (which stops routing it and drops
// its logs and events). Methods block on the store: call them off event loops. Thread-safe.
#pragma once

#include <string>
#include <vector>

#include "api/draft_service.h"
#include "api/routing.h"
#include "api/service_context.h"

namespace ignite::api {

class AppService {
 public:
  // Everything must outlive the service.
  AppService(const ServiceContext* ctx, Routing* routing, DraftService* drafts)
      : ctx_(ctx), routing_(routing), drafts_(drafts) {}

  Result<pb::CreateAppResponse> CreateApp(const Principal& p, const pb::CreateAppRequest& req);
  Result<pb::GetAppResponse> GetApp(const Principal& p, const pb::GetAppRequest& req);
  Result<pb::ListAppsResponse> ListApps(const Principal& p, const pb::ListAppsRequest& req);
  // Replaces the config fields named in `fields` (see api/app_config.h) and keeps the rest; validated like
  // CreateApp. When a version is active its route is rebuilt at once (same key: instances keep running).
  Result<pb::UpdateAppConfigResponse> UpdateAppConfig(const Principal& p, const pb::UpdateAppConfigRequest& req,
                                                      const std::vector<std::string>& fields);
  Result<pb::GetAppStateResponse> GetAppState(const Principal& p, const pb::GetAppStateRequest& req);
  Result<pb::ListAppReplicasResponse> ListAppReplicas(const Principal& p, const pb::ListAppReplicasRequest& req);
  Result<pb::DeleteAppResponse> DeleteApp(const Principal& p, const pb::DeleteAppRequest& req);

 private:
  const ServiceContext* ctx_;
  Routing* routing_;
  DraftService* drafts_;
};

}  // namespace ignite::api
