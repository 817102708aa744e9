#include "api/app_service.h"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/access.h"
#include "api/app_config.h"
#include "api/app_rules.h"
#include "api/views.h"
#include "common/names.h"

namespace ignite::api {
namespace {

constexpr uint32_t kDefaultListLimit = 100;
constexpr uint32_t kMaxListLimit = 1000;

}  // namespace

Result<pb::CreateAppResponse> AppService::CreateApp(const Principal& p, const pb::CreateAppRequest& req) {
  IGNITE_RETURN_IF_ERROR(CheckOrgAccess(p, req.organization_name()));
  IGNITE_RETURN_IF_ERROR(ValidateAppName(req.name()));
  pb::AppMeta spec;
  *spec.mutable_runtime() = req.runtime();
  spec.set_resource_tier(req.resource_tier());
  *spec.mutable_limits() = req.limits();
  *spec.mutable_env() = req.env();
  *spec.mutable_scaling() = req.scaling();
  spec.set_storage_mode(req.storage_mode() == pb::STORAGE_MODE_UNSPECIFIED ? pb::STORAGE_MODE_PERSISTENT
                                                                            : req.storage_mode());
  spec.set_ttl_secs(req.ttl_secs());
  spec.set_description(req.description());
  spec.set_input_schema(req.input_schema());
  spec.set_output_schema(req.output_schema());
  spec.set_mcp_enabled(req.mcp_enabled());
  spec.set_max_concurrency(req.max_concurrency());
  spec.set_allow_unauthenticated(req.allow_unauthenticated());
  *spec.mutable_ports() = req.ports();
  spec.set_health_path(req.health_path());
  IGNITE_RETURN_IF_ERROR(ValidateConfig(spec, ctx_->options.max_body_limit_mb));

  store::AppRecord rec;
  rec.org_id = p.org_id;
  rec.name = req.name();
  rec.spec = spec.SerializeAsString();
  rec.created_at_ms = rec.updated_at_ms = ctx_->deps.clock->NowUnixMs();
  Status st = ctx_->deps.store->CreateApp(rec);
  if (st.code() == StatusCode::kAlreadyExists) {
    return AlreadyExists(fmt::format("app {}/{} already exists; pick another name or delete it first",
                                     req.organization_name(), req.name()));
  }
  IGNITE_RETURN_IF_ERROR(st);
  pb::CreateAppResponse resp;
  if (req.has_code()) {
    // CreateApp + SaveDraft in one call, all or nothing: code that SaveDraft refuses removes the new app again.
    pb::SaveDraftRequest save;
    save.set_organization_name(req.organization_name());
    save.set_app_name(req.name());
    *save.mutable_code() = req.code();
    auto saved = drafts_->SaveDraft(p, save);
    if (!saved.ok()) {
      if (Status del = ctx_->deps.store->DeleteApp(p.org_id, rec.name); !del.ok()) {
        spdlog::error("removing {}/{} after its inline code was refused: {}", p.org_name, rec.name, del.message());
      }
      return saved.status();
    }
    *resp.mutable_draft() = saved->draft();
  }
  *resp.mutable_app() = ToAppMeta(p.org_name, rec, ctx_->options.default_body_limit_mb);
  resp.set_app_id(resp.app().id());
  resp.set_deployment_state(resp.app().deployment_state());
  resp.set_applied_tier(resp.app().resource_tier());
  *resp.mutable_applied_limits() = resp.app().applied_limits();
  return resp;
}

Result<pb::GetAppResponse> AppService::GetApp(const Principal& p, const pb::GetAppRequest& req) {
  IGNITE_ASSIGN_OR_RETURN(auto rec, ctx_->LoadApp(p, req.organization_name(), req.app_name()));
  pb::GetAppResponse resp;
  *resp.mutable_app() = ToAppMeta(p.org_name, rec, ctx_->options.default_body_limit_mb);
  return resp;
}

Result<pb::UpdateAppConfigResponse> AppService::UpdateAppConfig(const Principal& p,
                                                                    const pb::UpdateAppConfigRequest& req,
                                                                    const std::vector<std::string>& fields) {
  IGNITE_ASSIGN_OR_RETURN(auto rec, ctx_->LoadApp(p, req.organization_name(), req.app_name()));
  pb::AppMeta spec;
  spec.ParseFromString(rec.spec);
  ApplyConfigFields(req, fields, &spec);
  IGNITE_RETURN_IF_ERROR(ValidateConfig(spec, ctx_->options.max_body_limit_mb));
  rec.spec = spec.SerializeAsString();
  rec.updated_at_ms = ctx_->deps.clock->NowUnixMs();
  IGNITE_RETURN_IF_ERROR(ctx_->deps.store->UpdateAppSpec(p.org_id, rec.name, rec.spec, rec.updated_at_ms));
  if (rec.active_version > 0) {
    // The same key as before, so Route retires nothing: running instances keep serving, and the new limits
    // (concurrency, replicas, timeout) govern requests from now on; env reaches instances started from now on.
    IGNITE_ASSIGN_OR_RETURN(auto v, ctx_->deps.store->GetVersion(p.org_id, rec.name, rec.active_version));
    IGNITE_RETURN_IF_ERROR(routing_->Route(p.org_id, p.org_name, rec, v));
  }
  spdlog::info("{}/{} config updated ({} field(s))", p.org_name, rec.name, fields.size());
  std::string names;
  for (const auto& f : fields) names += (names.empty() ? "" : ", ") + f;
  ctx_->Event(p.org_name + "/" + rec.name, instances::event::kConfigUpdated, rec.active_version,
        fmt::format("config updated: {}", names.empty() ? "(no fields)" : names));
  pb::UpdateAppConfigResponse resp;
  *resp.mutable_app() = ToAppMeta(p.org_name, rec, ctx_->options.default_body_limit_mb);
  return resp;
}

Result<pb::GetAppStateResponse> AppService::GetAppState(const Principal& p, const pb::GetAppStateRequest& req) {
  IGNITE_ASSIGN_OR_RETURN(auto rec, ctx_->LoadApp(p, req.organization_name(), req.app_name()));
  pb::GetAppStateResponse resp;
  resp.set_deployment_state(rec.active_version > 0 ? pb::DEPLOYMENT_STATE_ACTIVE : pb::DEPLOYMENT_STATE_CREATED);
  resp.set_active_version(rec.active_version);
  std::string prefix = fmt::format("{}/{}@", p.org_name, rec.name);
  if (rec.active_version > 0) {
    std::string key = prefix + std::to_string(rec.active_version);
    resp.set_live_replicas(static_cast<uint32_t>(ctx_->deps.instances->LiveCount(key)));
    resp.set_waiting_requests(static_cast<uint32_t>(ctx_->deps.instances->WaitingCount(key)));
  }
  for (const auto& r : ctx_->deps.instances->Replicas(prefix)) *resp.add_replicas() = ToReplicaInfo(r);
  return resp;
}

Result<pb::ListAppReplicasResponse> AppService::ListAppReplicas(const Principal& p,
                                                                    const pb::ListAppReplicasRequest& req) {
  IGNITE_ASSIGN_OR_RETURN(auto rec, ctx_->LoadApp(p, req.organization_name(), req.app_name()));
  pb::ListAppReplicasResponse resp;
  for (const auto& r : ctx_->deps.instances->Replicas(fmt::format("{}/{}@", p.org_name, rec.name))) {
    *resp.add_replicas() = ToReplicaInfo(r);
  }
  return resp;
}

Result<pb::ListAppsResponse> AppService::ListApps(const Principal& p, const pb::ListAppsRequest& req) {
  IGNITE_RETURN_IF_ERROR(CheckOrgAccess(p, req.organization_name()));
  uint32_t limit = req.limit() == 0 ? kDefaultListLimit : std::min(req.limit(), kMaxListLimit);
  IGNITE_ASSIGN_OR_RETURN(auto apps, ctx_->deps.store->ListApps(p.org_id, req.cursor(), limit + 1));
  pb::ListAppsResponse resp;
  for (size_t i = 0; i < apps.size() && i < limit; ++i) *resp.add_apps() = ToAppMeta(p.org_name, apps[i], ctx_->options.default_body_limit_mb);
  if (apps.size() > limit) resp.set_next_cursor(apps[limit - 1].name);
  return resp;
}

Result<pb::DeleteAppResponse> AppService::DeleteApp(const Principal& p, const pb::DeleteAppRequest& req) {
  IGNITE_ASSIGN_OR_RETURN(auto rec, ctx_->LoadApp(p, req.organization_name(), req.app_name()));
  IGNITE_RETURN_IF_ERROR(ctx_->deps.store->DeleteApp(p.org_id, rec.name));
  std::string app_id = req.organization_name() + "/" + req.app_name();
  routing_->Forget(app_id);
  ctx_->deps.logs->Remove(app_id);
  if (ctx_->deps.events) ctx_->deps.events->Remove(app_id);
  pb::DeleteAppResponse resp;
  resp.set_app_id(app_id);
  return resp;
}


}  // namespace ignite::api
