#include "api/compute_service.h"

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <regex>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/app_config.h"
#include "api/json_schema.h"
#include "build/sandbox.h"
#include "common/ids.h"
#include "common/names.h"

namespace ignite::api {
namespace {

constexpr uint32_t kDefaultTimeoutSecs = 120;
constexpr uint32_t kMaxTimeoutSecs = 900;
constexpr uint32_t kDefaultListLimit = 100;
constexpr uint32_t kDefaultIdleTimeoutSecs = 300;
constexpr uint32_t kMaxListLimit = 1000;
constexpr int64_t kDefaultStatsWindowMs = 24 * 60 * 60 * 1000;
constexpr uint32_t kMaxEvents = 1000;

struct Tier {
  uint32_t memory_mb;
  uint32_t cpu_millicores;
};

Tier TierLimits(pb::ResourceTier tier) {
  switch (tier) {
    case pb::RESOURCE_TIER_MEDIUM: return {512, 500};
    case pb::RESOURCE_TIER_LARGE: return {1024, 1000};
    case pb::RESOURCE_TIER_XLARGE: return {2048, 2000};
    default: return {256, 250};
  }
}

pb::ResourceTier AppliedTier(pb::ResourceTier tier) {
  return tier == pb::RESOURCE_TIER_UNSPECIFIED ? pb::RESOURCE_TIER_SMALL : tier;
}

pb::ResourceLimits AppliedLimits(const pb::AppMeta& m, uint32_t default_body_limit_mb) {
  Tier t = TierLimits(AppliedTier(m.resource_tier()));
  pb::ResourceLimits out;
  out.set_memory_mb(m.limits().memory_mb() ? m.limits().memory_mb() : t.memory_mb);
  out.set_cpu_millicores(m.limits().cpu_millicores() ? m.limits().cpu_millicores() : t.cpu_millicores);
  out.set_timeout_secs(m.limits().timeout_secs() ? m.limits().timeout_secs() : kDefaultTimeoutSecs);
  out.set_body_limit_mb(m.limits().body_limit_mb() ? m.limits().body_limit_mb() : default_body_limit_mb);
  return out;
}

// The 413 message for a body over org/app's limit: what the limit is and how to raise it.
std::string BodyTooLarge(const std::string& app_id, uint32_t limit_mb, uint32_t max_mb) {
  std::string ref = app_id;
  if (auto slash = ref.find('/'); slash != std::string::npos) ref[slash] = ':';
  return fmt::format("the request body is larger than the {} MB limit of {}; send a smaller body, or raise the "
                     "limit with `dodil ignite app update {} --body-limit-mb <MB>` (at most {})",
                     limit_mb, app_id, ref, max_mb);
}

Status ValidateConfig(const pb::AppMeta& m, uint32_t max_body_limit_mb) {
  if (m.limits().body_limit_mb() > max_body_limit_mb) {
    return InvalidArgument(fmt::format(
        "body limit {} MB is above this platform's maximum of {} MB; use --body-limit-mb {} or less (the "
        "operator raises the maximum with ignited --max-body-limit-mb)",
        m.limits().body_limit_mb(), max_body_limit_mb, max_body_limit_mb));
  }
  if (m.limits().timeout_secs() > kMaxTimeoutSecs) {
    return InvalidArgument(fmt::format("timeout {}s is above the platform maximum of {}s; use --timeout-secs {} or less",
                                       m.limits().timeout_secs(), kMaxTimeoutSecs, kMaxTimeoutSecs));
  }
  if (m.limits().memory_mb() != 0 && (m.limits().memory_mb() < 16 || m.limits().memory_mb() > 65536)) {
    return InvalidArgument("memory must be between 16 and 65536 MB");
  }
  if (m.limits().cpu_millicores() != 0 && m.limits().cpu_millicores() > 64000) {
    return InvalidArgument("cpu must be at most 64000 millicores");
  }
  uint32_t max_replicas = m.scaling().max_replicas() ? m.scaling().max_replicas() : 10;
  if (m.scaling().reserved() > max_replicas) {
    return InvalidArgument(fmt::format("reserved {} is above max_replicas {}: reserved instances count towards "
                                       "max_replicas; lower --reserved or raise --max-replicas",
                                       m.scaling().reserved(), max_replicas));
  }
  if (m.storage_mode() == pb::STORAGE_MODE_TTL && m.ttl_secs() == 0) {
    return InvalidArgument("storage mode TTL needs ttl_secs (how long stored data lives), e.g. {\"storageMode\": "
                           "\"STORAGE_MODE_TTL\", \"ttlSecs\": 3600}");
  }
  if (m.storage_mode() != pb::STORAGE_MODE_TTL && m.ttl_secs() != 0) {
    return InvalidArgument("ttl_secs applies only to storage mode STORAGE_MODE_TTL; set storageMode to "
                           "STORAGE_MODE_TTL or drop ttlSecs");
  }
  // Schemas are checked (and compiled) once here, so routes can trust them.
  IGNITE_RETURN_IF_ERROR(CompileOptionalSchema(m.input_schema(), "input_schema").status());
  IGNITE_RETURN_IF_ERROR(CompileOptionalSchema(m.output_schema(), "output_schema").status());
  static const std::regex kEnvKey("[A-Za-z_][A-Za-z0-9_]*");
  for (const auto& [k, v] : m.env()) {
    if (!std::regex_match(k, kEnvKey)) {
      return InvalidArgument(fmt::format("invalid env var name \"{}\": use letters, digits and '_', not starting with a digit", k));
    }
    if (k.rfind("IGNITE_", 0) == 0) {
      return InvalidArgument(fmt::format("env var \"{}\": names starting with IGNITE_ are reserved for the platform", k));
    }
  }
  return OkStatus();
}

// The payload check of the draft and version tests, before anything is built or started: `spec` is the
// serialized AppMeta whose input schema applies.
Status CheckPayload(const std::string& spec_bytes, const std::string& payload) {
  pb::AppMeta spec;
  spec.ParseFromString(spec_bytes);
  IGNITE_ASSIGN_OR_RETURN(auto schema, CompileOptionalSchema(spec.input_schema(), "input_schema"));
  if (!schema) return OkStatus();
  if (payload.size() > schema->max_bytes()) {
    return InvalidArgument(fmt::format("the payload is larger than the {} bytes an app with an input schema accepts",
                                       schema->max_bytes()));
  }
  return schema->Check(payload);
}

// The code path (builder registry key) of a runtime: the name of the Runtime oneof field that is set, ""
// when none is (then the registry's default applies).
std::string CodePathKey(const pb::Runtime& r) {
  if (r.kind_case() == pb::Runtime::KIND_NOT_SET) return "";
  return pb::Runtime::descriptor()->FindFieldByNumber(r.kind_case())->name();
}

// Sets the Runtime oneof field named `key` (a registered code path), keeping its settings when already set.
void SetCodePath(const std::string& key, pb::Runtime* r) {
  if (const auto* field = pb::Runtime::descriptor()->FindFieldByName(key)) {
    r->GetReflection()->MutableMessage(r, field);
  }
}

std::string JoinKeys(const std::vector<std::string>& keys) {
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : ", ") + k;
  return out;
}

Status CheckOrg(const Principal& p, const std::string& org) {
  if (p.org_name != org) {
    return PermissionDenied(fmt::format(
        "your token belongs to organization \"{}\" and cannot access organization \"{}\"", p.org_name, org));
  }
  return OkStatus();
}

pb::BuildStatus ToBuildStatus(build::JobState s) {
  switch (s) {
    case build::JobState::kPending: return pb::BUILD_STATUS_PENDING;
    case build::JobState::kRunning: return pb::BUILD_STATUS_RUNNING;
    case build::JobState::kSucceeded: return pb::BUILD_STATUS_SUCCEEDED;
    case build::JobState::kFailed: return pb::BUILD_STATUS_FAILED;
    case build::JobState::kCancelled: return pb::BUILD_STATUS_CANCELLED;
  }
  return pb::BUILD_STATUS_UNSPECIFIED;
}

pb::AppVersionInfo ToVersionInfo(const store::VersionRecord& v, uint32_t active, uint32_t default_body_limit_mb) {
  pb::AppVersionInfo info;
  info.set_version(v.version);
  info.set_code_hash(v.code_hash);
  info.set_created_at_ms(v.created_at_ms);
  info.set_status(v.version == active ? pb::VERSION_STATUS_ACTIVE : pb::VERSION_STATUS_SUPERSEDED);
  pb::AppMeta snap;
  snap.ParseFromString(v.spec);
  info.set_resource_tier(AppliedTier(snap.resource_tier()));
  info.mutable_runtime()->ParseFromString(v.runtime);
  *info.mutable_scaling() = snap.scaling();
  *info.mutable_limits() = AppliedLimits(snap, default_body_limit_mb);
  info.set_artifact_sha256(v.artifact_hash);
  info.set_artifact_size_bytes(v.artifact_size);
  info.set_build_id(v.build_id);
  return info;
}

pb::ReplicaInfo ToReplicaInfo(const runtime::ReplicaSnapshot& r) {
  pb::ReplicaInfo info;
  info.set_replica_id(r.replica_id);
  // Keys are "org/app@<version>" or "org/app@draft-<hash>" (a draft test instance: version 0).
  std::string_view v = std::string_view(r.key).substr(r.key.rfind('@') + 1);
  uint32_t version = 0;
  for (char c : v) {
    if (c < '0' || c > '9') {
      version = 0;
      break;
    }
    version = version * 10 + static_cast<uint32_t>(c - '0');
  }
  info.set_version(version);
  info.set_state(r.state);
  info.set_inflight(static_cast<uint32_t>(r.inflight));
  info.set_started_at_ms(r.started_at_ms);
  info.set_last_used_at_ms(r.last_used_at_ms);
  info.set_pid(r.pid);
  return info;
}

}  // namespace

ComputeService::ComputeService(ServiceOptions options, Deps deps)
    : options_(std::move(options)),
      deps_(deps),
      started_ms_(deps.clock->NowUnixMs()),
      builds_(options_.max_concurrent_builds, deps.clock) {
  if (options_.sandbox_builds) {
    auto bwrap = build::DetectBuildSandbox();
    if (bwrap.ok()) {
      build_bwrap_ = *bwrap;
      spdlog::info("build sandbox: {}", build::DescribeBuildSandbox(build_bwrap_));
    } else {
      options_.sandbox_builds = false;
      spdlog::warn("builds run WITHOUT a sandbox: {}", bwrap.status().message());
    }
  }
}

Result<store::AppRecord> ComputeService::LoadApp(const Principal& p, const std::string& org, const std::string& app) {
  IGNITE_RETURN_IF_ERROR(CheckOrg(p, org));
  auto rec = deps_.store->GetApp(p.org_id, app);
  if (!rec.ok() && rec.status().code() == StatusCode::kNotFound) {
    return NotFound(fmt::format("app {}/{} does not exist; create it with `dodil ignite app create {}:{}`", org, app,
                                org, app));
  }
  return rec;
}

pb::AppMeta ComputeService::ToAppMeta(const Principal& p, const store::AppRecord& rec) const {
  pb::AppMeta m;
  m.ParseFromString(rec.spec);
  m.set_id(p.org_name + "/" + rec.name);
  m.set_name(rec.name);
  m.set_organization_name(p.org_name);
  m.set_organization_id(rec.org_id);
  m.set_active_version(rec.active_version);
  m.set_version(rec.latest_version);
  m.set_created_at_ms(rec.created_at_ms);
  m.set_updated_at_ms(rec.updated_at_ms);
  m.set_resource_tier(AppliedTier(m.resource_tier()));
  *m.mutable_applied_limits() = AppliedLimits(m, options_.default_body_limit_mb);
  m.set_deployment_state(rec.active_version > 0 ? pb::DEPLOYMENT_STATE_ACTIVE : pb::DEPLOYMENT_STATE_CREATED);
  m.set_deployment_mode(pb::DEPLOYMENT_MODE_COMPILE);
  return m;
}

Result<pb::CreateAppResponse> ComputeService::CreateApp(const Principal& p, const pb::CreateAppRequest& req) {
  IGNITE_RETURN_IF_ERROR(CheckOrg(p, req.organization_name()));
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
  IGNITE_RETURN_IF_ERROR(ValidateConfig(spec, options_.max_body_limit_mb));

  store::AppRecord rec;
  rec.org_id = p.org_id;
  rec.name = req.name();
  rec.spec = spec.SerializeAsString();
  rec.created_at_ms = rec.updated_at_ms = deps_.clock->NowUnixMs();
  Status st = deps_.store->CreateApp(rec);
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
    auto saved = SaveDraft(p, save);
    if (!saved.ok()) {
      if (Status del = deps_.store->DeleteApp(p.org_id, rec.name); !del.ok()) {
        spdlog::error("removing {}/{} after its inline code was refused: {}", p.org_name, rec.name, del.message());
      }
      return saved.status();
    }
    *resp.mutable_draft() = saved->draft();
  }
  *resp.mutable_app() = ToAppMeta(p, rec);
  resp.set_app_id(resp.app().id());
  resp.set_deployment_state(resp.app().deployment_state());
  resp.set_applied_tier(resp.app().resource_tier());
  *resp.mutable_applied_limits() = resp.app().applied_limits();
  return resp;
}

Result<pb::GetAppResponse> ComputeService::GetApp(const Principal& p, const pb::GetAppRequest& req) {
  IGNITE_ASSIGN_OR_RETURN(auto rec, LoadApp(p, req.organization_name(), req.app_name()));
  pb::GetAppResponse resp;
  *resp.mutable_app() = ToAppMeta(p, rec);
  return resp;
}

Result<pb::UpdateAppConfigResponse> ComputeService::UpdateAppConfig(const Principal& p,
                                                                    const pb::UpdateAppConfigRequest& req,
                                                                    const std::vector<std::string>& fields) {
  IGNITE_ASSIGN_OR_RETURN(auto rec, LoadApp(p, req.organization_name(), req.app_name()));
  pb::AppMeta spec;
  spec.ParseFromString(rec.spec);
  ApplyConfigFields(req, fields, &spec);
  IGNITE_RETURN_IF_ERROR(ValidateConfig(spec, options_.max_body_limit_mb));
  rec.spec = spec.SerializeAsString();
  rec.updated_at_ms = deps_.clock->NowUnixMs();
  IGNITE_RETURN_IF_ERROR(deps_.store->UpdateAppSpec(p.org_id, rec.name, rec.spec, rec.updated_at_ms));
  if (rec.active_version > 0) {
    // The same key as before, so Route retires nothing: running instances keep serving, and the new limits
    // (concurrency, replicas, timeout) govern requests from now on; env reaches instances started from now on.
    IGNITE_ASSIGN_OR_RETURN(auto v, deps_.store->GetVersion(p.org_id, rec.name, rec.active_version));
    IGNITE_RETURN_IF_ERROR(Route(p.org_id, p.org_name, rec, v));
  }
  spdlog::info("{}/{} config updated ({} field(s))", p.org_name, rec.name, fields.size());
  std::string names;
  for (const auto& f : fields) names += (names.empty() ? "" : ", ") + f;
  Event(p.org_name + "/" + rec.name, runtime::event::kConfigUpdated, rec.active_version,
        fmt::format("config updated: {}", names.empty() ? "(no fields)" : names));
  pb::UpdateAppConfigResponse resp;
  *resp.mutable_app() = ToAppMeta(p, rec);
  return resp;
}

Result<pb::GetAppStateResponse> ComputeService::GetAppState(const Principal& p, const pb::GetAppStateRequest& req) {
  IGNITE_ASSIGN_OR_RETURN(auto rec, LoadApp(p, req.organization_name(), req.app_name()));
  pb::GetAppStateResponse resp;
  resp.set_deployment_state(rec.active_version > 0 ? pb::DEPLOYMENT_STATE_ACTIVE : pb::DEPLOYMENT_STATE_CREATED);
  resp.set_active_version(rec.active_version);
  std::string prefix = fmt::format("{}/{}@", p.org_name, rec.name);
  if (rec.active_version > 0) {
    std::string key = prefix + std::to_string(rec.active_version);
    resp.set_live_replicas(static_cast<uint32_t>(deps_.instances->LiveCount(key)));
    resp.set_waiting_requests(static_cast<uint32_t>(deps_.instances->WaitingCount(key)));
  }
  for (const auto& r : deps_.instances->Replicas(prefix)) *resp.add_replicas() = ToReplicaInfo(r);
  return resp;
}

Result<pb::ListAppReplicasResponse> ComputeService::ListAppReplicas(const Principal& p,
                                                                    const pb::ListAppReplicasRequest& req) {
  IGNITE_ASSIGN_OR_RETURN(auto rec, LoadApp(p, req.organization_name(), req.app_name()));
  pb::ListAppReplicasResponse resp;
  for (const auto& r : deps_.instances->Replicas(fmt::format("{}/{}@", p.org_name, rec.name))) {
    *resp.add_replicas() = ToReplicaInfo(r);
  }
  return resp;
}

Result<pb::ListAppsResponse> ComputeService::ListApps(const Principal& p, const pb::ListAppsRequest& req) {
  IGNITE_RETURN_IF_ERROR(CheckOrg(p, req.organization_name()));
  uint32_t limit = req.limit() == 0 ? kDefaultListLimit : std::min(req.limit(), kMaxListLimit);
  IGNITE_ASSIGN_OR_RETURN(auto apps, deps_.store->ListApps(p.org_id, req.cursor(), limit + 1));
  pb::ListAppsResponse resp;
  for (size_t i = 0; i < apps.size() && i < limit; ++i) *resp.add_apps() = ToAppMeta(p, apps[i]);
  if (apps.size() > limit) resp.set_next_cursor(apps[limit - 1].name);
  return resp;
}

Result<pb::DeleteAppResponse> ComputeService::DeleteApp(const Principal& p, const pb::DeleteAppRequest& req) {
  IGNITE_ASSIGN_OR_RETURN(auto rec, LoadApp(p, req.organization_name(), req.app_name()));
  IGNITE_RETURN_IF_ERROR(deps_.store->DeleteApp(p.org_id, rec.name));
  std::string app_id = req.organization_name() + "/" + req.app_name();
  std::string old_key = deps_.routes->Remove(app_id);
  if (!old_key.empty()) deps_.instances->Retire(old_key);
  {
    std::lock_guard<std::mutex> l(draft_keys_mu_);
    if (auto it = draft_keys_.find(app_id); it != draft_keys_.end()) {
      deps_.instances->Retire(it->second);
      draft_keys_.erase(it);
    }
  }
  deps_.logs->Remove(app_id);
  if (deps_.events) deps_.events->Remove(app_id);
  pb::DeleteAppResponse resp;
  resp.set_app_id(app_id);
  return resp;
}

Result<pb::SaveDraftResponse> ComputeService::SaveDraft(const Principal& p, const pb::SaveDraftRequest& req) {
  IGNITE_ASSIGN_OR_RETURN(auto app, LoadApp(p, req.organization_name(), req.app_name()));
  if (!req.has_code()) return InvalidArgument("missing \"code\": send {\"code\": {\"compile\": {\"sourceCode\": <base64>}}}");
  IGNITE_RETURN_IF_ERROR(CompileOptionalSchema(req.input_schema(), "input_schema").status());
  IGNITE_RETURN_IF_ERROR(CompileOptionalSchema(req.output_schema(), "output_schema").status());
  if (req.code().has_image()) {
    return Unimplemented("container image sources are not supported yet; use the compile path (code.compile)");
  }
  const auto& src = req.code().compile();
  pb::Runtime runtime = src.runtime();
  std::string key = CodePathKey(runtime);
  const build::Builder* builder = options_.builders ? options_.builders->Find(key) : nullptr;
  if (!builder) {
    std::string known = options_.builders ? JoinKeys(options_.builders->keys()) : "";
    return Unimplemented(fmt::format("the {} runtime is not supported by this platform; it builds {}", key,
                                     known.empty() ? "nothing (no code path is configured)" : known));
  }
  if (key.empty()) SetCodePath(options_.builders->default_key(), &runtime);
  if (src.source_code().empty()) {
    return InvalidArgument("code.compile.sourceCode is empty: upload a source file, or a zip / tar.gz of your code");
  }
  // Reject bad archives and layouts before anything is stored.
  std::filesystem::path scratch = std::filesystem::path(options_.data_dir) / "tmp";
  std::filesystem::create_directories(scratch);
  build::CheckContext check;
  check.scratch_dir = scratch.string();
  check.limits = options_.limits;
  check.isolation.bwrap = build_bwrap_;
  IGNITE_RETURN_IF_ERROR(builder->Check(build::Source{src.source_code(), src.file_name()}, check));

  IGNITE_ASSIGN_OR_RETURN(std::string hash, deps_.blobs->Put(src.source_code()));
  IGNITE_ASSIGN_OR_RETURN(auto previous, deps_.store->GetDraft(p.org_id, app.name));
  int64_t now = deps_.clock->NowUnixMs();
  store::DraftRecord d;
  d.code_hash = hash;
  d.code_size = static_cast<int64_t>(src.source_code().size());
  d.runtime = runtime.SerializeAsString();
  d.file_name = src.file_name();
  d.created_at_ms = now;
  d.updated_at_ms = now;
  // Saving identical code again keeps its build, so publishing does not rebuild it.
  if (previous && previous->code_hash == hash) {
    d.build_id = previous->build_id;
    d.created_at_ms = previous->created_at_ms;
  }
  IGNITE_RETURN_IF_ERROR(deps_.store->PutDraft(p.org_id, app.name, d));
  if (!req.input_schema().empty() || !req.output_schema().empty()) {
    pb::AppMeta spec;
    spec.ParseFromString(app.spec);
    if (!req.input_schema().empty()) spec.set_input_schema(req.input_schema());
    if (!req.output_schema().empty()) spec.set_output_schema(req.output_schema());
    app.spec = spec.SerializeAsString();
    app.updated_at_ms = now;
    IGNITE_RETURN_IF_ERROR(deps_.store->UpdateAppSpec(p.org_id, app.name, app.spec, now));
    if (app.active_version > 0) {
      // The schemas are app config: the serving route checks payloads against the new input schema at once.
      IGNITE_ASSIGN_OR_RETURN(auto v, deps_.store->GetVersion(p.org_id, app.name, app.active_version));
      IGNITE_RETURN_IF_ERROR(Route(p.org_id, p.org_name, app, v));
    }
  }
  pb::GetDraftInfoRequest info_req;
  info_req.set_organization_name(req.organization_name());
  info_req.set_app_name(req.app_name());
  IGNITE_ASSIGN_OR_RETURN(auto info, GetDraftInfo(p, info_req));
  pb::SaveDraftResponse resp;
  *resp.mutable_draft() = info.draft();
  return resp;
}

Result<pb::GetDraftInfoResponse> ComputeService::GetDraftInfo(const Principal& p, const pb::GetDraftInfoRequest& req) {
  IGNITE_ASSIGN_OR_RETURN(auto app, LoadApp(p, req.organization_name(), req.app_name()));
  IGNITE_ASSIGN_OR_RETURN(auto draft, deps_.store->GetDraft(p.org_id, app.name));
  pb::GetDraftInfoResponse resp;
  if (!draft) return resp;
  auto* d = resp.mutable_draft();
  d->set_status(pb::VERSION_STATUS_DRAFT);
  d->set_code_hash(draft->code_hash);
  d->set_created_at_ms(draft->created_at_ms);
  d->set_updated_at_ms(draft->updated_at_ms);
  d->set_code_kind(pb::CODE_KIND_SDK);
  d->set_code_size_bytes(draft->code_size);
  d->mutable_runtime()->ParseFromString(draft->runtime);
  d->set_deploy_id(draft->build_id);
  if (!draft->build_id.empty()) {
    auto build = deps_.store->GetBuild(draft->build_id);
    if (build.ok()) {
      d->set_build_status(static_cast<pb::BuildStatus>(build->status));
      d->set_error(build->error);
    }
    if (auto job = builds_.Find(draft->build_id); job && !job->finished()) {
      d->set_build_status(ToBuildStatus(job->state()));
      d->set_queue_position(job->queue_position());
    }
  }
  return resp;
}

Result<ComputeService::BuildRef> ComputeService::StartBuild(const Principal& p, const std::string& app,
                                                              const store::DraftRecord& draft) {
  std::lock_guard<std::mutex> l(start_build_mu_);
  // Re-read under the lock: another request may have started the build since the caller loaded the draft.
  IGNITE_ASSIGN_OR_RETURN(auto current, deps_.store->GetDraft(p.org_id, app));
  const store::DraftRecord& d = current && current->code_hash == draft.code_hash ? *current : draft;
  if (!d.build_id.empty()) {
    auto job = builds_.Find(d.build_id);
    if (job && !job->finished()) return BuildRef{d.build_id, job};
    auto prev = deps_.store->GetBuild(d.build_id);
    if (prev.ok() && prev->status == pb::BUILD_STATUS_SUCCEEDED && deps_.blobs->Contains(prev->artifact_hash)) {
      return BuildRef{d.build_id, nullptr};
    }
  }
  pb::Runtime runtime;
  runtime.ParseFromString(d.runtime);
  const build::Builder* builder = options_.builders ? options_.builders->Find(CodePathKey(runtime)) : nullptr;
  if (!builder) {
    return FailedPrecondition(fmt::format("the draft of {}/{} is for the {} runtime, which this platform no longer "
                                          "builds; save the code again for one of: {}",
                                          p.org_name, app, CodePathKey(runtime),
                                          options_.builders ? JoinKeys(options_.builders->keys()) : ""));
  }
  store::BuildRecord b;
  b.id = NewUlid();
  b.org_id = p.org_id;
  b.app_name = app;
  b.code_hash = d.code_hash;
  b.status = pb::BUILD_STATUS_PENDING;
  b.created_at_ms = deps_.clock->NowUnixMs();
  IGNITE_RETURN_IF_ERROR(deps_.store->PutBuild(b));
  IGNITE_RETURN_IF_ERROR(deps_.store->SetDraftBuild(p.org_id, app, d.code_hash, b.id));

  struct Outcome {
    std::string artifact_hash;
    int64_t artifact_size = 0;
    std::string sdk_version;
  };
  auto outcome = std::make_shared<Outcome>();
  std::string file_name = d.file_name;
  std::string org_name = p.org_name;
  auto work = std::filesystem::path(options_.data_dir) / "builds" / b.id;
  auto run = [this, b, outcome, file_name, org_name, work, app, builder](build::BuildJob& job) mutable -> Status {
    b.status = pb::BUILD_STATUS_RUNNING;
    IGNITE_RETURN_IF_ERROR(deps_.store->PutBuild(b));
    IGNITE_ASSIGN_OR_RETURN(std::string code, deps_.blobs->Get(b.code_hash));
    std::filesystem::create_directories(work);
    build::BuildContext ctx;
    ctx.app_name = app;
    ctx.work_dir = work.string();
    ctx.timeout = options_.build_timeout;
    ctx.limits = options_.limits;
    ctx.on_log = [&job](std::string_view line) { job.Log(line); };
    ctx.cancel = job.cancel_flag();
    ctx.isolation.bwrap = build_bwrap_;
    // The build's own group for its duration; destroying it kills whatever the build left behind.
    std::unique_ptr<runtime::Cgroup> cgroup;
    if (options_.cgroups) {
      auto made = options_.cgroups->Create(b.id, runtime::ResourceLimits{kBuildMemoryBytes, 0, kBuildPids});
      if (!made.ok()) return Internal("cannot create the build's cgroup: " + made.status().message());
      cgroup = std::move(*made);
      ctx.isolation.cgroup_procs = cgroup->procs_paths();
    }
    spdlog::info("build {} of {}/{} started", b.id, org_name, app);
    Event(org_name + "/" + app, runtime::event::kBuildStarted, 0, fmt::format("build {} started", b.id));
    auto built = builder->Build(build::Source{code, file_name}, ctx);
    if (!built.ok() && cgroup && cgroup->OomKilled()) {
      return ResourceExhausted(fmt::format("the build ran out of memory: it exceeded the {} GiB build memory limit "
                                           "and the compiler was killed ({}); make the build lighter or split the app",
                                           kBuildMemoryBytes >> 30, built.status().message()));
    }
    IGNITE_ASSIGN_OR_RETURN(auto out, std::move(built));
    IGNITE_ASSIGN_OR_RETURN(outcome->artifact_hash, deps_.blobs->PutFile(out.artifact_path, out.executable));
    outcome->artifact_size = static_cast<int64_t>(out.artifact_size);
    outcome->sdk_version = out.sdk_version;
    job.Log(fmt::format("==> artifact {} ({} bytes, SDK {})", outcome->artifact_hash, out.artifact_size,
                        out.sdk_version));
    return OkStatus();
  };
  auto finish = [this, b, outcome, org_name, work, app](build::BuildJob& job, const Status& st) mutable {
    b.status = st.ok() ? pb::BUILD_STATUS_SUCCEEDED
                       : st.code() == StatusCode::kCancelled ? pb::BUILD_STATUS_CANCELLED : pb::BUILD_STATUS_FAILED;
    b.error = st.ok() ? "" : st.message();
    b.artifact_hash = outcome->artifact_hash;
    b.artifact_size = outcome->artifact_size;
    b.sdk_version = outcome->sdk_version;
    std::vector<build::LogEntry> entries;
    job.ReadLog(0, &entries, std::chrono::milliseconds(0));
    for (const auto& e : entries) b.log += e.line + "\n";
    b.finished_at_ms = deps_.clock->NowUnixMs();
    if (auto put = deps_.store->PutBuild(b); !put.ok()) spdlog::error("recording build {}: {}", b.id, put.message());
    std::error_code ec;
    std::filesystem::remove_all(work, ec);
    spdlog::info("build {} of {}/{} {}", b.id, org_name, app, st.ok() ? "succeeded" : st.ToString());
    Event(org_name + "/" + app, st.ok() ? runtime::event::kBuildSucceeded : runtime::event::kBuildFailed, 0,
          st.ok() ? fmt::format("build {} succeeded", b.id)
                  : fmt::format("build {} {}: {}", b.id, st.code() == StatusCode::kCancelled ? "was cancelled" : "failed",
                                st.message()));
  };
  return BuildRef{b.id, builds_.Submit(b.id, std::move(run), std::move(finish))};
}

Result<store::BuildRecord> ComputeService::AwaitBuild(const BuildRef& ref) {
  if (ref.job) {
    ref.job->Wait();
    if (!ref.job->result().ok()) return ref.job->result();
  }
  IGNITE_ASSIGN_OR_RETURN(auto rec, deps_.store->GetBuild(ref.id));
  if (rec.status != pb::BUILD_STATUS_SUCCEEDED) {
    return FailedPrecondition(fmt::format("build {} did not succeed: {}", ref.id, rec.error));
  }
  return rec;
}

Result<store::BuildRecord> ComputeService::BuildDraft(const Principal& p, const std::string& app) {
  IGNITE_ASSIGN_OR_RETURN(auto draft, deps_.store->GetDraft(p.org_id, app));
  if (!draft) {
    return FailedPrecondition(fmt::format("{}/{} has no draft; save code first with "
                                          "`dodil ignite draft save {}:{} --code <dir>`",
                                          p.org_name, app, p.org_name, app));
  }
  IGNITE_ASSIGN_OR_RETURN(auto ref, StartBuild(p, app, *draft));
  return AwaitBuild(ref);
}

gateway::Route ComputeService::RouteFor(const std::string& org_id, const std::string& org_name,
                                        const store::AppRecord& app, const std::string& key,
                                        const std::string& artifact_hash, uint32_t version) const {
  pb::AppMeta spec;
  spec.ParseFromString(app.spec);
  gateway::Route r;
  r.app_id = org_name + "/" + app.name;
  r.org_id = org_id;
  r.version = version;
  r.spec.key = key;
  r.spec.app_id = r.app_id;
  r.spec.binary_path = deps_.blobs->PathFor(artifact_hash);
  r.spec.start_timeout = options_.instance_start_timeout;
  for (const auto& [k, v] : spec.env()) r.spec.env[k] = v;
  pb::ResourceLimits limits = AppliedLimits(spec, options_.default_body_limit_mb);
  r.timeout = std::chrono::seconds(limits.timeout_secs());
  r.body_limit = uint64_t{limits.body_limit_mb()} << 20;
  r.body_too_large = BodyTooLarge(r.app_id, limits.body_limit_mb(), options_.max_body_limit_mb);
  r.spec.memory_mb = limits.memory_mb();
  r.spec.cpu_millicores = limits.cpu_millicores();
  r.allow_unauthenticated = spec.allow_unauthenticated();
  if (auto schema = CompileOptionalSchema(spec.input_schema(), "input_schema"); schema.ok()) {
    r.input_check = *schema;
  } else {
    // Stored configs were validated; only a schema stored before validation existed can land here.
    spdlog::warn("{}: input schema ignored: {}", r.app_id, schema.status().message());
  }
  if (spec.max_concurrency() > 0) r.spec.max_concurrency = static_cast<int>(spec.max_concurrency());
  if (spec.scaling().max_replicas() > 0) r.spec.max_replicas = static_cast<int>(spec.scaling().max_replicas());
  r.spec.idle_timeout = std::chrono::seconds(spec.scaling().idle_timeout_secs() ? spec.scaling().idle_timeout_secs()
                                                                                 : kDefaultIdleTimeoutSecs);
  r.spec.reserved = static_cast<int>(spec.scaling().reserved());
  return r;
}

Status ComputeService::Route(const std::string& org_id, const std::string& org_name, const store::AppRecord& app,
                             const store::VersionRecord& version) {
  std::string key = fmt::format("{}/{}@{}", org_name, app.name, version.version);
  gateway::Route route = RouteFor(org_id, org_name, app, key, version.artifact_hash, version.version);
  runtime::InstanceSpec spec = route.spec;
  std::string old = deps_.routes->Set(std::move(route));
  if (!old.empty() && old != key) deps_.instances->Retire(old);
  deps_.instances->SetReserved(spec);
  return OkStatus();
}

Result<pb::PublishDraftResponse> ComputeService::PublishDraft(const Principal& p, const pb::PublishDraftRequest& req) {
  IGNITE_ASSIGN_OR_RETURN(auto app, LoadApp(p, req.organization_name(), req.app_name()));
  IGNITE_ASSIGN_OR_RETURN(auto build, BuildDraft(p, app.name));
  IGNITE_ASSIGN_OR_RETURN(auto draft, deps_.store->GetDraft(p.org_id, app.name));
  store::VersionRecord v;
  v.code_hash = build.code_hash;
  v.artifact_hash = build.artifact_hash;
  v.artifact_size = build.artifact_size;
  v.build_id = build.id;
  v.spec = app.spec;
  v.runtime = draft && draft->code_hash == build.code_hash ? draft->runtime : pb::Runtime().SerializeAsString();
  v.created_at_ms = deps_.clock->NowUnixMs();
  IGNITE_ASSIGN_OR_RETURN(uint32_t number, deps_.store->PublishVersion(p.org_id, app.name, v));
  v.version = number;
  IGNITE_RETURN_IF_ERROR(Route(p.org_id, p.org_name, app, v));
  spdlog::info("{}/{} version {} published and active", p.org_name, app.name, number);
  Event(p.org_name + "/" + app.name, runtime::event::kVersionPublished, number,
        fmt::format("version {} published and active (build {})", number, build.id));
  pb::PublishDraftResponse resp;
  resp.set_version(number);
  *resp.mutable_version_info() = ToVersionInfo(v, number, options_.default_body_limit_mb);
  return resp;
}

Result<pb::ListAppVersionsResponse> ComputeService::ListAppVersions(const Principal& p,
                                                                    const pb::ListAppVersionsRequest& req) {
  IGNITE_ASSIGN_OR_RETURN(auto app, LoadApp(p, req.organization_name(), req.app_name()));
  IGNITE_ASSIGN_OR_RETURN(auto versions, deps_.store->ListVersions(p.org_id, app.name));
  pb::ListAppVersionsResponse resp;
  for (const auto& v : versions) *resp.add_versions() = ToVersionInfo(v, app.active_version, options_.default_body_limit_mb);
  return resp;
}

Result<pb::GetAppVersionResponse> ComputeService::GetAppVersion(const Principal& p, const pb::GetAppVersionRequest& req) {
  IGNITE_ASSIGN_OR_RETURN(auto app, LoadApp(p, req.organization_name(), req.app_name()));
  auto v = deps_.store->GetVersion(p.org_id, app.name, req.version());
  if (!v.ok() && v.status().code() == StatusCode::kNotFound) {
    return NotFound(fmt::format("{}/{} has no version {}; list them with `dodil ignite version list {}:{}`",
                                req.organization_name(), app.name, req.version(), req.organization_name(), app.name));
  }
  if (!v.ok()) return v.status();
  pb::GetAppVersionResponse resp;
  store::AppRecord snapshot = app;
  snapshot.spec = v->spec;
  *resp.mutable_app() = ToAppMeta(p, snapshot);
  resp.mutable_app()->set_version(v->version);
  resp.mutable_app()->mutable_runtime()->ParseFromString(v->runtime);
  *resp.mutable_version_info() = ToVersionInfo(*v, app.active_version, options_.default_body_limit_mb);
  return resp;
}

Result<pb::RollbackAppResponse> ComputeService::RollbackApp(const Principal& p, const pb::RollbackAppRequest& req) {
  IGNITE_ASSIGN_OR_RETURN(auto app, LoadApp(p, req.organization_name(), req.app_name()));
  if (req.version() == 0) return InvalidArgument("version must be 1 or more: the version to make active");
  auto v = deps_.store->GetVersion(p.org_id, app.name, req.version());
  if (!v.ok() && v.status().code() == StatusCode::kNotFound) {
    return NotFound(fmt::format("{}/{} has no version {}; list them with `dodil ignite version list {}:{}`",
                                req.organization_name(), app.name, req.version(), req.organization_name(), app.name));
  }
  if (!v.ok()) return v.status();
  if (!deps_.blobs->Contains(v->artifact_hash)) {
    return FailedPrecondition(fmt::format("the artifact of version {} is missing from the blob store", req.version()));
  }
  IGNITE_RETURN_IF_ERROR(deps_.store->SetActiveVersion(p.org_id, app.name, req.version()));
  IGNITE_RETURN_IF_ERROR(Route(p.org_id, p.org_name, app, *v));
  spdlog::info("{}/{} rolled back from version {} to {}", p.org_name, app.name, app.active_version, req.version());
  Event(p.org_name + "/" + app.name, runtime::event::kVersionRolledBack, req.version(),
        fmt::format("rolled back from version {} to {}", app.active_version, req.version()));
  pb::RollbackAppResponse resp;
  resp.set_active_version(req.version());
  resp.set_previous_version(app.active_version);
  return resp;
}

Result<gateway::InvokeResult> ComputeService::Invoke(const Principal& p, const std::string& org, const std::string& app,
                                                     gateway::InvokeCall call, const gateway::InvokeSink* sink) {
  IGNITE_RETURN_IF_ERROR(CheckInvoke(p, org));
  call.app_id = org + "/" + app;
  auto result = deps_.invoker->Invoke(std::move(call), sink);
  if (!result.ok() && result.status().code() == StatusCode::kFailedPrecondition) {
    // Not routed: say whether the app is missing or just unpublished (only this error path reads the store).
    IGNITE_RETURN_IF_ERROR(WhyNotRouted(p, org, app, result.status()));
  }
  return result;
}

// Apps of the `public` organization are invocable by a token of any organization (decisions.md); everything
// else only by the app's own organization.
Result<ComputeService::BodyLimit> ComputeService::BodyLimitOf(const Principal& p, const std::string& org,
                                                              const std::string& app) {
  IGNITE_ASSIGN_OR_RETURN(auto rec, LoadApp(p, org, app));
  pb::AppMeta spec;
  spec.ParseFromString(rec.spec);
  uint32_t mb = AppliedLimits(spec, options_.default_body_limit_mb).body_limit_mb();
  return BodyLimit{uint64_t{mb} << 20, BodyTooLarge(org + "/" + app, mb, options_.max_body_limit_mb)};
}

ComputeService::BodyLimit ComputeService::DefaultBodyLimit(const std::string& app_id) const {
  return BodyLimit{uint64_t{options_.default_body_limit_mb} << 20,
                   BodyTooLarge(app_id, options_.default_body_limit_mb, options_.max_body_limit_mb)};
}

Status ComputeService::CheckInvoke(const Principal& p, const std::string& org) const {
  return org == kPublicOrg ? OkStatus() : CheckOrg(p, org);
}

Status ComputeService::WhyNotRouted(const Principal& p, const std::string& org, const std::string& app,
                                    Status not_routed) {
  if (org == kPublicOrg && p.org_name != org) {
    // Another org's caller of a public app: whether it exists, without the rights LoadApp checks.
    auto public_org = deps_.store->GetOrgByName(org);
    if (!public_org.ok() || deps_.store->GetApp(public_org->id, app).status().code() == StatusCode::kNotFound) {
      return NotFound(fmt::format("app {}/{} does not exist", org, app));
    }
    return not_routed;
  }
  IGNITE_RETURN_IF_ERROR(LoadApp(p, org, app).status());
  return not_routed;
}

pb::HealthCheckResponse ComputeService::HealthCheck() const {
  pb::HealthCheckResponse r;
  r.set_status("SERVING");
  r.set_version(IGNITE_VERSION);
  r.set_uptime_ms(deps_.clock->NowUnixMs() - started_ms_);
  r.set_sandbox(options_.sandbox_description);
  r.set_limits(options_.limits_description);
  return r;
}

Status ComputeService::LoadRoutes() {
  IGNITE_ASSIGN_OR_RETURN(auto orgs, deps_.store->ListOrgs());
  int n = 0;
  for (const auto& org : orgs) {
    std::string after;
    for (;;) {
      IGNITE_ASSIGN_OR_RETURN(auto apps, deps_.store->ListApps(org.id, after, 500));
      for (const auto& app : apps) {
        if (app.active_version == 0) continue;
        IGNITE_ASSIGN_OR_RETURN(auto v, deps_.store->GetVersion(org.id, app.name, app.active_version));
        IGNITE_RETURN_IF_ERROR(Route(org.id, org.name, app, v));
        ++n;
      }
      if (apps.size() < 500) break;
      after = apps.back().name;
    }
  }
  spdlog::info("routing {} published app(s)", n);
  return OkStatus();
}

Result<store::BuildRecord> ComputeService::LoadBuild(const Principal& p, const std::string& deploy_id) {
  auto rec = deps_.store->GetBuild(deploy_id);
  if ((!rec.ok() && rec.status().code() == StatusCode::kNotFound) || (rec.ok() && rec->org_id != p.org_id)) {
    return NotFound(fmt::format("build {} does not exist; `dodil ignite draft info <app>` shows the latest build id",
                                deploy_id));
  }
  return rec;
}

Result<pb::CompileDraftResponse> ComputeService::CompileDraft(const Principal& p, const pb::CompileDraftRequest& req) {
  IGNITE_ASSIGN_OR_RETURN(auto app, LoadApp(p, req.organization_name(), req.app_name()));
  IGNITE_ASSIGN_OR_RETURN(auto draft, deps_.store->GetDraft(p.org_id, app.name));
  if (!draft) {
    return FailedPrecondition(fmt::format("{}/{} has no draft to compile; save code first with "
                                          "`dodil ignite draft save {}:{} --code <dir>`",
                                          req.organization_name(), app.name, req.organization_name(), app.name));
  }
  IGNITE_ASSIGN_OR_RETURN(auto ref, StartBuild(p, app.name, *draft));
  pb::CompileDraftResponse resp;
  resp.set_deploy_id(ref.id);
  if (ref.job) {
    resp.set_status(ToBuildStatus(ref.job->state()));
    resp.set_queue_position(ref.job->queue_position());
  } else {
    resp.set_status(pb::BUILD_STATUS_SUCCEEDED);
  }
  return resp;
}

Status ComputeService::StreamCompileLogs(const Principal& p, const pb::StreamCompileLogsRequest& req,
                                         const std::function<bool(const pb::CompileLogEntry&)>& send) {
  IGNITE_ASSIGN_OR_RETURN(auto rec, LoadBuild(p, req.deploy_id()));
  auto job = builds_.Find(rec.id);
  if (!job) {
    // Finished (or interrupted by a restart): replay what was persisted.
    std::string_view log = rec.log;
    size_t pos = 0;
    while (pos < log.size()) {
      size_t nl = log.find('\n', pos);
      if (nl == std::string_view::npos) nl = log.size();
      pb::CompileLogEntry e;
      e.set_timestamp_ms(rec.finished_at_ms);
      e.set_line(std::string(log.substr(pos, nl - pos)));
      e.set_status(static_cast<pb::BuildStatus>(rec.status));
      if (!send(e)) return OkStatus();
      pos = nl + 1;
    }
    pb::CompileLogEntry last;
    last.set_timestamp_ms(rec.finished_at_ms);
    last.set_status(static_cast<pb::BuildStatus>(rec.status));
    last.set_error(rec.error);
    if (rec.status == pb::BUILD_STATUS_FAILED) last.set_error_code(static_cast<int>(StatusCode::kInvalidArgument));
    if (rec.status == pb::BUILD_STATUS_CANCELLED) last.set_error_code(static_cast<int>(StatusCode::kCancelled));
    send(last);
    return OkStatus();
  }
  size_t next = 0;
  uint32_t last_position = 0;
  for (;;) {
    std::vector<build::LogEntry> entries;
    bool done = job->ReadLog(next, &entries, std::chrono::milliseconds(500));
    next += entries.size();
    pb::BuildStatus status = ToBuildStatus(job->state());
    uint32_t position = job->queue_position();
    for (const auto& entry : entries) {
      pb::CompileLogEntry e;
      e.set_timestamp_ms(entry.timestamp_ms);
      e.set_line(entry.line);
      e.set_status(done ? pb::BUILD_STATUS_RUNNING : status);
      if (!send(e)) return OkStatus();
    }
    if (done) break;
    if (position != last_position) {
      // Waiting for a slot: say where in the queue the build is whenever that changes.
      pb::CompileLogEntry e;
      e.set_timestamp_ms(deps_.clock->NowUnixMs());
      e.set_status(status);
      e.set_queue_position(position);
      if (!send(e)) return OkStatus();
      last_position = position;
    }
  }
  Status result = job->result();
  pb::CompileLogEntry last;
  last.set_timestamp_ms(deps_.clock->NowUnixMs());
  last.set_status(ToBuildStatus(job->state()));
  if (!result.ok()) {
    last.set_error(result.message());
    last.set_error_code(static_cast<int>(result.code()));
  }
  send(last);
  return OkStatus();
}

Result<pb::CancelCompileResponse> ComputeService::CancelCompile(const Principal& p,
                                                                const pb::CancelCompileRequest& req) {
  IGNITE_ASSIGN_OR_RETURN(auto rec, LoadBuild(p, req.deploy_id()));
  auto job = builds_.Find(rec.id);
  if (!job || job->finished()) {
    return FailedPrecondition(fmt::format("build {} has already finished ({})", rec.id,
                                          pb::BuildStatus_Name(static_cast<pb::BuildStatus>(rec.status))));
  }
  job->Cancel();
  // A running build stops within moments; answer with the state it reached.
  for (int i = 0; i < 100 && !job->finished(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  pb::CancelCompileResponse resp;
  resp.set_status(ToBuildStatus(job->state()));
  return resp;
}

Result<gateway::InvokeResult> ComputeService::TestDraft(const Principal& p, const std::string& org,
                                                        const std::string& app, gateway::InvokeCall call,
                                                        const gateway::InvokeSink* sink) {
  IGNITE_ASSIGN_OR_RETURN(auto rec, LoadApp(p, org, app));
  IGNITE_RETURN_IF_ERROR(CheckPayload(rec.spec, call.payload));
  call.check_input = false;
  call.count = false;
  IGNITE_ASSIGN_OR_RETURN(auto build, BuildDraft(p, app));
  // Draft instances are keyed by artifact, so re-testing the same code reuses a warm instance and testing
  // new code retires the previous draft instance.
  std::string key = fmt::format("{}/{}@draft-{}", org, app, build.artifact_hash.substr(0, 16));
  {
    std::lock_guard<std::mutex> l(draft_keys_mu_);
    std::string& current = draft_keys_[org + "/" + app];
    if (!current.empty() && current != key) deps_.instances->Retire(current);
    current = key;
  }
  call.app_id = org + "/" + app;
  return deps_.invoker->InvokeRoute(RouteFor(p.org_id, org, rec, key, build.artifact_hash, 0), std::move(call), sink);
}

Result<gateway::InvokeResult> ComputeService::TestAppVersion(const Principal& p, const std::string& org,
                                                             const std::string& app, uint32_t version,
                                                             gateway::InvokeCall call,
                                                             const gateway::InvokeSink* sink) {
  IGNITE_ASSIGN_OR_RETURN(auto rec, LoadApp(p, org, app));
  auto v = deps_.store->GetVersion(p.org_id, app, version);
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
  return deps_.invoker->InvokeRoute(RouteFor(p.org_id, org, snapshot, key, v->artifact_hash, version),
                                    std::move(call), sink);
}

Result<pb::GetAppCodeResponse> ComputeService::GetAppCode(const Principal& p, const pb::GetAppCodeRequest& req) {
  IGNITE_ASSIGN_OR_RETURN(auto app, LoadApp(p, req.organization_name(), req.app_name()));
  pb::GetAppCodeResponse resp;
  std::string hash;
  if (req.version() == 0) {
    IGNITE_ASSIGN_OR_RETURN(auto draft, deps_.store->GetDraft(p.org_id, app.name));
    if (!draft) return NotFound(fmt::format("{}/{} has no draft", req.organization_name(), app.name));
    hash = draft->code_hash;
    resp.set_file_name(draft->file_name);
  } else {
    auto v = deps_.store->GetVersion(p.org_id, app.name, req.version());
    if (!v.ok() && v.status().code() == StatusCode::kNotFound) {
      return NotFound(fmt::format("{}/{} has no version {}", req.organization_name(), app.name, req.version()));
    }
    if (!v.ok()) return v.status();
    hash = v->code_hash;
    // Versions do not keep the upload's file name; the draft does, while it still holds the same code.
    if (auto d = deps_.store->GetDraft(p.org_id, app.name); d.ok() && *d && (*d)->code_hash == hash) {
      resp.set_file_name((*d)->file_name);
    }
  }
  IGNITE_ASSIGN_OR_RETURN(std::string code, deps_.blobs->Get(hash));
  resp.set_source_code(std::move(code));
  resp.set_code_hash(hash);
  resp.set_version(req.version());
  return resp;
}

Result<pb::GetBuildLogResponse> ComputeService::GetBuildLog(const Principal& p, const pb::GetBuildLogRequest& req) {
  IGNITE_ASSIGN_OR_RETURN(auto app, LoadApp(p, req.organization_name(), req.app_name()));
  IGNITE_ASSIGN_OR_RETURN(auto rec, LoadBuild(p, req.build_id()));
  if (rec.app_name != app.name) {
    return NotFound(fmt::format("build {} is not a build of {}/{}", req.build_id(), req.organization_name(), app.name));
  }
  pb::GetBuildLogResponse resp;
  resp.set_build_id(rec.id);
  resp.set_status(static_cast<pb::BuildStatus>(rec.status));
  resp.set_error(rec.error);
  resp.set_code_hash(rec.code_hash);
  resp.set_sdk_version(rec.sdk_version);
  resp.set_created_at_ms(rec.created_at_ms);
  resp.set_finished_at_ms(rec.finished_at_ms);
  resp.set_artifact_sha256(rec.artifact_hash);
  resp.set_artifact_size_bytes(rec.artifact_size);
  // A build still running has its log in memory only.
  if (auto job = builds_.Find(rec.id); job && !job->finished()) {
    std::vector<build::LogEntry> entries;
    job->ReadLog(0, &entries, std::chrono::milliseconds(0));
    for (const auto& e : entries) resp.mutable_log()->append(e.line + "\n");
    resp.set_status(ToBuildStatus(job->state()));
  } else {
    resp.set_log(rec.log);
  }
  return resp;
}

Result<pb::GetAppLogsResponse> ComputeService::GetAppLogs(const Principal& p, const pb::GetAppLogsRequest& req) {
  IGNITE_ASSIGN_OR_RETURN(auto app, LoadApp(p, req.organization_name(), req.app_name()));
  uint32_t limit = req.limit() == 0 ? 1000 : std::min<uint32_t>(req.limit(), 10000);
  pb::GetAppLogsResponse resp;
  for (auto& line : deps_.logs->Read(req.organization_name() + "/" + app.name, limit, req.replica_id(),
                                     req.execution_id())) {
    auto* l = resp.add_lines();
    l->set_timestamp_ms(line.timestamp_ms);
    l->set_replica_id(std::move(line.replica_id));
    l->set_stream(std::move(line.stream));
    l->set_execution_id(std::move(line.execution_id));
    l->set_message(std::move(line.message));
  }
  return resp;
}

Status ComputeService::StreamAppLogs(const Principal& p, const pb::StreamAppLogsRequest& req,
                                     const std::function<bool(const pb::LogLine*)>& send) {
  IGNITE_ASSIGN_OR_RETURN(auto app, LoadApp(p, req.organization_name(), req.app_name()));
  const std::string app_id = req.organization_name() + "/" + app.name;
  constexpr size_t kMaxQueued = 10000;
  struct Queue {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<runtime::LogLine> lines;  // guarded by mu
    size_t dropped = 0;                  // guarded by mu
  };
  auto queue = std::make_shared<Queue>();
  auto wanted = [&req](const runtime::LogLine& l) {
    return (req.replica_id().empty() || l.replica_id == req.replica_id()) &&
           (req.execution_id().empty() || l.execution_id == req.execution_id());
  };
  uint32_t tail = req.tail() == 0 ? 100 : std::min<uint32_t>(req.tail(), 10000);
  auto followed = deps_.logs->Follow(app_id, tail, req.replica_id(), req.execution_id(),
                                     [queue, wanted](const runtime::LogLine& l) {
                                       if (!wanted(l)) return;
                                       std::lock_guard<std::mutex> lock(queue->mu);
                                       if (queue->lines.size() >= kMaxQueued) {
                                         ++queue->dropped;
                                         return;
                                       }
                                       queue->lines.push_back(l);
                                       queue->cv.notify_one();
                                     });
  struct Unfollow {
    runtime::LogCollector* logs;
    uint64_t id;
    ~Unfollow() { logs->Unfollow(id); }
  } unfollow{deps_.logs, followed.id};
  auto to_proto = [](const runtime::LogLine& l) {
    pb::LogLine out;
    out.set_timestamp_ms(l.timestamp_ms);
    out.set_replica_id(l.replica_id);
    out.set_stream(l.stream);
    out.set_execution_id(l.execution_id);
    out.set_message(l.message);
    return out;
  };
  for (const auto& l : followed.tail) {
    auto line = to_proto(l);
    if (!send(&line)) return OkStatus();
  }
  if (!send(nullptr)) return OkStatus();  // the head goes out now, even when the app is quiet
  for (;;) {
    std::deque<runtime::LogLine> batch;
    size_t dropped;
    {
      std::unique_lock<std::mutex> lock(queue->mu);
      queue->cv.wait_for(lock, std::chrono::seconds(1), [&] { return !queue->lines.empty(); });
      batch.swap(queue->lines);
      dropped = std::exchange(queue->dropped, 0);
    }
    if (shutting_down_) return Unavailable("ignited is stopping; follow the logs again once it is back");
    if (dropped > 0) {
      pb::LogLine note;
      note.set_timestamp_ms(deps_.clock->NowUnixMs());
      note.set_stream("platform");
      note.set_message(fmt::format("ignite: {} lines were dropped because this reader fell behind", dropped));
      if (!send(&note)) return OkStatus();
    }
    if (batch.empty() && !send(nullptr)) return OkStatus();
    for (const auto& l : batch) {
      auto line = to_proto(l);
      if (!send(&line)) return OkStatus();
    }
  }
}

void ComputeService::Event(const std::string& app_id, std::string_view type, uint32_t version, std::string message) {
  if (!deps_.events) return;
  runtime::AppEvent e;
  e.type = std::string(type);
  e.version = version;
  e.message = std::move(message);
  deps_.events->Emit(app_id, std::move(e));
}

Result<pb::GetExecutionStatsResponse> ComputeService::GetExecutionStats(const Principal& p,
                                                                        const pb::GetExecutionStatsRequest& req) {
  IGNITE_ASSIGN_OR_RETURN(auto app, LoadApp(p, req.organization_name(), req.app_name()));
  if (req.since_ms() < 0) return InvalidArgument("since_ms must be a Unix time in milliseconds (or 0 for 24 hours ago)");
  const int64_t now = deps_.clock->NowUnixMs();
  pb::GetExecutionStatsResponse resp;
  resp.set_app_id(req.organization_name() + "/" + app.name);
  resp.set_since_ms(std::max(req.since_ms() == 0 ? now - kDefaultStatsWindowMs : req.since_ms(), app.created_at_ms));
  resp.set_until_ms(now + 1);
  if (!deps_.invocations) return resp;
  // Invocations that finished before this call are counted, even those not yet saved by the writer.
  IGNITE_RETURN_IF_ERROR(deps_.invocations->Flush());
  IGNITE_ASSIGN_OR_RETURN(auto stats,
                          deps_.store->InvocationStatsFor(p.org_id, resp.app_id(), resp.since_ms(), resp.until_ms()));
  resp.set_total(stats.total);
  resp.set_succeeded(stats.succeeded);
  resp.set_failed(stats.total - stats.succeeded);
  resp.set_error_rate(stats.total ? static_cast<double>(stats.total - stats.succeeded) / static_cast<double>(stats.total)
                                  : 0.0);
  resp.set_p50_duration_ms(stats.p50_ms);
  resp.set_p95_duration_ms(stats.p95_ms);
  resp.set_p99_duration_ms(stats.p99_ms);
  resp.set_max_duration_ms(stats.max_ms);
  resp.set_mean_duration_ms(stats.mean_ms);
  resp.set_cold_starts(stats.cold_starts);
  return resp;
}

namespace {

pb::AppEvent ToProto(const runtime::AppEvent& e) {
  pb::AppEvent out;
  out.set_timestamp_ms(e.timestamp_ms);
  out.set_type(e.type);
  out.set_replica_id(e.replica_id);
  out.set_version(e.version);
  out.set_message(e.message);
  return out;
}

}  // namespace

Result<pb::GetAppEventsResponse> ComputeService::GetAppEvents(const Principal& p, const pb::GetAppEventsRequest& req) {
  IGNITE_ASSIGN_OR_RETURN(auto app, LoadApp(p, req.organization_name(), req.app_name()));
  pb::GetAppEventsResponse resp;
  if (!deps_.events) return resp;
  uint32_t limit = req.limit() == 0 ? kMaxEvents : std::min(req.limit(), kMaxEvents);
  for (const auto& e : deps_.events->Read(req.organization_name() + "/" + app.name, limit, req.replica_id())) {
    *resp.add_events() = ToProto(e);
  }
  return resp;
}

Status ComputeService::StreamAppEvents(const Principal& p, const pb::StreamAppEventsRequest& req,
                                       const std::function<bool(const pb::AppEvent*)>& send) {
  IGNITE_ASSIGN_OR_RETURN(auto app, LoadApp(p, req.organization_name(), req.app_name()));
  if (!deps_.events) return Unavailable("app events are not kept by this server");
  struct Queue {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<runtime::AppEvent> events;  // guarded by mu; bounded by the producers' rate, at most kMaxEvents
    size_t dropped = 0;                    // guarded by mu
  };
  auto queue = std::make_shared<Queue>();
  const std::string replica = req.replica_id();
  uint32_t tail = req.tail() == 0 ? 100 : std::min(req.tail(), kMaxEvents);
  auto followed = deps_.events->Follow(req.organization_name() + "/" + app.name, tail, replica,
                                       [queue, replica](const runtime::AppEvent& e) {
                                         if (!replica.empty() && e.replica_id != replica) return;
                                         std::lock_guard<std::mutex> lock(queue->mu);
                                         if (queue->events.size() >= kMaxEvents) {
                                           ++queue->dropped;
                                           return;
                                         }
                                         queue->events.push_back(e);
                                         queue->cv.notify_one();
                                       });
  struct Unfollow {
    runtime::AppEventLog* events;
    uint64_t id;
    ~Unfollow() { events->Unfollow(id); }
  } unfollow{deps_.events, followed.id};
  for (const auto& e : followed.tail) {
    auto event = ToProto(e);
    if (!send(&event)) return OkStatus();
  }
  if (!send(nullptr)) return OkStatus();  // the head goes out now, even when nothing happens
  for (;;) {
    std::deque<runtime::AppEvent> batch;
    size_t dropped;
    {
      std::unique_lock<std::mutex> lock(queue->mu);
      queue->cv.wait_for(lock, std::chrono::seconds(1), [&] { return !queue->events.empty(); });
      batch.swap(queue->events);
      dropped = std::exchange(queue->dropped, 0);
    }
    if (shutting_down_) return Unavailable("ignited is stopping; follow the events again once it is back");
    if (dropped > 0) {
      pb::AppEvent note;
      note.set_timestamp_ms(deps_.clock->NowUnixMs());
      note.set_type("EVENTS_DROPPED");
      note.set_message(fmt::format("{} events were dropped because this reader fell behind", dropped));
      if (!send(&note)) return OkStatus();
    }
    if (batch.empty() && !send(nullptr)) return OkStatus();
    for (const auto& e : batch) {
      auto event = ToProto(e);
      if (!send(&event)) return OkStatus();
    }
  }
}

}  // namespace ignite::api
