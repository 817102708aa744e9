// VersionService: immutable numbered versions: publish (build the draft if needed, store the version, make
// it active and route it), list, read, and roll back to an earlier one. Methods block (store, builds): call
// them off event loops. Thread-safe.
#pragma once

#include "api/draft_service.h"
#include "api/routing.h"
#include "api/service_context.h"

namespace ignite::api {

class VersionService {
 public:
  // Everything must outlive the service.
  VersionService(const ServiceContext* ctx, Routing* routing, DraftService* drafts)
      : ctx_(ctx), routing_(routing), drafts_(drafts) {}

  Result<pb::PublishDraftResponse> PublishDraft(const Principal& p, const pb::PublishDraftRequest& req);
  Result<pb::ListAppVersionsResponse> ListAppVersions(const Principal& p, const pb::ListAppVersionsRequest& req);
  Result<pb::GetAppVersionResponse> GetAppVersion(const Principal& p, const pb::GetAppVersionRequest& req);
  Result<pb::RollbackAppResponse> RollbackApp(const Principal& p, const pb::RollbackAppRequest& req);

 private:
  const ServiceContext* ctx_;
  Routing* routing_;
  DraftService* drafts_;
};

}  // namespace ignite::api
