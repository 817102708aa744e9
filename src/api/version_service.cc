#include "api/version_service.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/code_paths.h"
#include "api/views.h"

namespace ignite::api {

Result<pb::PublishDraftResponse> VersionService::PublishDraft(const Principal& p, const pb::PublishDraftRequest& req) {
  IGNITE_ASSIGN_OR_RETURN(auto app, ctx_->LoadApp(p, req.organization_name(), req.app_name()));
  IGNITE_ASSIGN_OR_RETURN(auto built, drafts_->BuildDraft(p, app.name));
  const store::BuildRecord& build = built.build;
  store::VersionRecord v;
  v.code_hash = build.code_hash;
  v.artifact_hash = build.artifact_hash;
  v.artifact_size = build.artifact_size;
  v.build_id = build.id;
  v.spec = app.spec;
  v.runtime = PinnedRuntime(built.runtime, build.source_ref);
  v.created_at_ms = ctx_->deps.clock->NowUnixMs();
  IGNITE_ASSIGN_OR_RETURN(uint32_t number, ctx_->deps.store->PublishVersion(p.org_id, app.name, v));
  v.version = number;
  IGNITE_RETURN_IF_ERROR(routing_->Route(p.org_id, p.org_name, app, v));
  spdlog::info("{}/{} version {} published and active", p.org_name, app.name, number);
  ctx_->Event(p.org_name + "/" + app.name, instances::event::kVersionPublished, number,
        fmt::format("version {} published and active (build {})", number, build.id));
  pb::PublishDraftResponse resp;
  resp.set_version(number);
  *resp.mutable_version_info() = ToVersionInfo(v, number, ctx_->options.default_body_limit_mb);
  return resp;
}

Result<pb::ListAppVersionsResponse> VersionService::ListAppVersions(const Principal& p,
                                                                    const pb::ListAppVersionsRequest& req) {
  IGNITE_ASSIGN_OR_RETURN(auto app, ctx_->LoadApp(p, req.organization_name(), req.app_name()));
  IGNITE_ASSIGN_OR_RETURN(auto versions, ctx_->deps.store->ListVersions(p.org_id, app.name));
  pb::ListAppVersionsResponse resp;
  for (const auto& v : versions) *resp.add_versions() = ToVersionInfo(v, app.active_version, ctx_->options.default_body_limit_mb);
  return resp;
}

Result<pb::GetAppVersionResponse> VersionService::GetAppVersion(const Principal& p, const pb::GetAppVersionRequest& req) {
  IGNITE_ASSIGN_OR_RETURN(auto app, ctx_->LoadApp(p, req.organization_name(), req.app_name()));
  auto v = ctx_->deps.store->GetVersion(p.org_id, app.name, req.version());
  if (!v.ok() && v.status().code() == StatusCode::kNotFound) {
    return NotFound(fmt::format("{}/{} has no version {}; list them with `dodil ignite version list {}:{}`",
                                req.organization_name(), app.name, req.version(), req.organization_name(), app.name));
  }
  if (!v.ok()) return v.status();
  pb::GetAppVersionResponse resp;
  store::AppRecord snapshot = app;
  snapshot.spec = v->spec;
  *resp.mutable_app() = ToAppMeta(p.org_name, snapshot, ctx_->options.default_body_limit_mb);
  resp.mutable_app()->set_version(v->version);
  resp.mutable_app()->mutable_runtime()->ParseFromString(v->runtime);
  *resp.mutable_version_info() = ToVersionInfo(*v, app.active_version, ctx_->options.default_body_limit_mb);
  return resp;
}

Result<pb::RollbackAppResponse> VersionService::RollbackApp(const Principal& p, const pb::RollbackAppRequest& req) {
  IGNITE_ASSIGN_OR_RETURN(auto app, ctx_->LoadApp(p, req.organization_name(), req.app_name()));
  if (req.version() == 0) return InvalidArgument("version must be 1 or more: the version to make active");
  auto v = ctx_->deps.store->GetVersion(p.org_id, app.name, req.version());
  if (!v.ok() && v.status().code() == StatusCode::kNotFound) {
    return NotFound(fmt::format("{}/{} has no version {}; list them with `dodil ignite version list {}:{}`",
                                req.organization_name(), app.name, req.version(), req.organization_name(), app.name));
  }
  if (!v.ok()) return v.status();
  if (!ctx_->deps.blobs->Contains(v->artifact_hash)) {
    return FailedPrecondition(fmt::format("the artifact of version {} is missing from the blob store", req.version()));
  }
  IGNITE_RETURN_IF_ERROR(ctx_->deps.store->SetActiveVersion(p.org_id, app.name, req.version()));
  IGNITE_RETURN_IF_ERROR(routing_->Route(p.org_id, p.org_name, app, *v));
  spdlog::info("{}/{} rolled back from version {} to {}", p.org_name, app.name, app.active_version, req.version());
  ctx_->Event(p.org_name + "/" + app.name, instances::event::kVersionRolledBack, req.version(),
        fmt::format("rolled back from version {} to {}", app.active_version, req.version()));
  pb::RollbackAppResponse resp;
  resp.set_active_version(req.version());
  resp.set_previous_version(app.active_version);
  return resp;
}


}  // namespace ignite::api
