#include "api/invoke_service.h"

#include <fmt/format.h>

#include "api/access.h"
#include "api/app_rules.h"
#include "common/names.h"

namespace ignite::api {
namespace {

Status WithPublishHint(const Status& not_routed, const std::string& app_id) {
  return Status(not_routed.code(), instances::WithHint(not_routed.message(), PublishHint(app_id)));
}

}  // namespace

Result<gateway::InvokeResult> InvokeService::Invoke(const Principal& p, const std::string& org, const std::string& app,
                                                     gateway::InvokeCall call, const gateway::InvokeSink* sink) {
  IGNITE_RETURN_IF_ERROR(CheckInvokeAccess(p, org, app));
  call.app_id = org + "/" + app;
  auto result = ctx_->deps.invoker->Invoke(std::move(call), sink);
  if (!result.ok() && result.status().code() == StatusCode::kFailedPrecondition) {
    // Not routed: say whether the app is missing or just unpublished (only this error path reads the store).
    IGNITE_RETURN_IF_ERROR(WhyNotRouted(p, org, app, result.status()));
  }
  return result;
}

Result<InvokeService::BodyLimit> InvokeService::BodyLimitOf(const Principal& p, const std::string& org,
                                                              const std::string& app) {
  IGNITE_ASSIGN_OR_RETURN(auto rec, ctx_->LoadApp(p, org, app));
  pb::AppMeta spec;
  spec.ParseFromString(rec.spec);
  uint32_t mb = AppliedLimits(spec, ctx_->options.default_body_limit_mb).body_limit_mb();
  return BodyLimit{uint64_t{mb} << 20, BodyTooLarge(org + "/" + app, mb, ctx_->options.max_body_limit_mb)};
}

InvokeService::BodyLimit InvokeService::DefaultBodyLimit(const std::string& app_id) const {
  return BodyLimit{uint64_t{ctx_->options.default_body_limit_mb} << 20,
                   BodyTooLarge(app_id, ctx_->options.default_body_limit_mb, ctx_->options.max_body_limit_mb)};
}

Status InvokeService::WhyNotRouted(const Principal& p, const std::string& org, const std::string& app,
                                    Status not_routed) {
  if (org == kPublicOrg && p.org_name != org) {
    // Another org's caller of a public app: whether it exists, without the rights LoadApp checks.
    auto public_org = ctx_->deps.store->GetOrgByName(org);
    if (!public_org.ok() || ctx_->deps.store->GetApp(public_org->id, app).status().code() == StatusCode::kNotFound) {
      return NotFound(fmt::format("app {}/{} does not exist", org, app));
    }
    return WithPublishHint(not_routed, org + "/" + app);
  }
  IGNITE_RETURN_IF_ERROR(ctx_->LoadApp(p, org, app).status());
  return WithPublishHint(not_routed, org + "/" + app);
}

Result<gateway::InvokeResult> InvokeService::TestDraft(const Principal& p, const std::string& org,
                                                        const std::string& app, gateway::InvokeCall call,
                                                        const gateway::InvokeSink* sink) {
  IGNITE_ASSIGN_OR_RETURN(auto rec, ctx_->LoadApp(p, org, app));
  IGNITE_RETURN_IF_ERROR(CheckPayload(rec.spec, call.payload));
  call.check_input = false;
  call.count = false;
  IGNITE_ASSIGN_OR_RETURN(auto built, drafts_->BuildDraft(p, app));
  const store::BuildRecord& build = built.build;
  // Draft instances are keyed by artifact, so re-testing the same code reuses a warm instance and testing
  // new code retires the previous draft instance.
  std::string key = fmt::format("{}/{}@draft-{}", org, app, build.artifact_hash.substr(0, 16));
  IGNITE_ASSIGN_OR_RETURN(auto route,
                          routing_->RouteFor(p.org_id, org, rec, key, build.artifact_hash, built.runtime, 0));
  routing_->SetDraftKey(org + "/" + app, key);
  call.app_id = org + "/" + app;
  return ctx_->deps.invoker->InvokeRoute(std::move(route), std::move(call), sink);
}

Result<gateway::InvokeResult> InvokeService::TestAppVersion(const Principal& p, const std::string& org,
                                                             const std::string& app, uint32_t version,
                                                             gateway::InvokeCall call,
                                                             const gateway::InvokeSink* sink) {
  IGNITE_ASSIGN_OR_RETURN(auto rec, ctx_->LoadApp(p, org, app));
  auto v = ctx_->deps.store->GetVersion(p.org_id, app, version);
  if (!v.ok() && v.status().code() == StatusCode::kNotFound) {
    return NotFound(fmt::format("{}/{} has no version {}; list them with `dodil ignite version list {}:{}`", org, app,
                                version, org, app));
  }
  if (!v.ok()) return v.status();
  // The version's own config (its snapshot) decides the input schema, as it decides everything else here.
  IGNITE_RETURN_IF_ERROR(CheckPayload(v->spec, call.payload));
  call.check_input = false;
  call.count = false;
  // The same key as the route of an active version, so testing the active version reuses its instances.
  std::string key = fmt::format("{}/{}@{}", org, app, version);
  store::AppRecord snapshot = rec;
  snapshot.spec = v->spec;
  call.app_id = org + "/" + app;
  IGNITE_ASSIGN_OR_RETURN(auto route,
                          routing_->RouteFor(p.org_id, org, snapshot, key, v->artifact_hash, v->runtime, version));
  return ctx_->deps.invoker->InvokeRoute(std::move(route), std::move(call), sink);
}

}  // namespace ignite::api
