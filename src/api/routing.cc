#include "api/routing.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/app_rules.h"
#include "api/code_paths.h"
#include "api/json_schema.h"

namespace ignite::api {
namespace {

constexpr uint32_t kDefaultImagePort = 80;
constexpr const char* kDefaultHealthPath = "/healthz";

}  // namespace

Result<gateway::Route> Routing::RouteFor(const std::string& org_id, const std::string& org_name,
                                         const store::AppRecord& app, const std::string& key,
                                         const std::string& artifact_hash, const std::string& runtime_bytes,
                                         uint32_t version) const {
  const ServiceOptions& options = ctx_->options;
  IGNITE_ASSIGN_OR_RETURN(const build::Builder* builder, StoredCodePath(options.builders, runtime_bytes));
  pb::AppMeta spec;
  spec.ParseFromString(app.spec);
  gateway::Route r;
  r.app_id = org_name + "/" + app.name;
  r.org_id = org_id;
  r.version = version;
  r.spec.key = key;
  r.spec.app_id = r.app_id;
  IGNITE_ASSIGN_OR_RETURN(r.spec.layout, builder->Layout(ctx_->deps.blobs->PathFor(artifact_hash)));
  r.spec.start_timeout = options.instance_start_timeout;
  r.spec.hints = FailureHintsFor(r.app_id);
  if (r.spec.layout.listen == Listen::kPort) {
    // A layout that owns its server (an image) serves on the app's first port, and says it is ready on its
    // health path (reference 5.5).
    r.spec.layout.port = static_cast<uint16_t>(spec.ports_size() > 0 ? spec.ports(0) : kDefaultImagePort);
    r.spec.layout.health_path = spec.health_path().empty() ? kDefaultHealthPath : spec.health_path();
    r.spec.hints.not_ready = fmt::format(
        "the container must listen on $PORT ({}) and answer GET {} with a 2xx status once it serves",
        r.spec.layout.port, r.spec.layout.health_path);
  }
  for (const auto& [k, v] : spec.env()) r.spec.env[k] = v;
  pb::ResourceLimits limits = AppliedLimits(spec, options.default_body_limit_mb);
  r.timeout = std::chrono::seconds(limits.timeout_secs());
  r.body_limit = uint64_t{limits.body_limit_mb()} << 20;
  r.body_too_large = BodyTooLarge(r.app_id, limits.body_limit_mb(), options.max_body_limit_mb);
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

Status Routing::Route(const std::string& org_id, const std::string& org_name, const store::AppRecord& app,
                      const store::VersionRecord& version) {
  std::string key = fmt::format("{}/{}@{}", org_name, app.name, version.version);
  IGNITE_ASSIGN_OR_RETURN(gateway::Route route,
                          RouteFor(org_id, org_name, app, key, version.artifact_hash, version.runtime, version.version));
  instances::InstanceSpec spec = route.spec;
  std::string old = ctx_->deps.routes->Set(std::move(route));
  if (!old.empty() && old != key) ctx_->deps.instances->Retire(old);
  ctx_->deps.instances->SetReserved(spec);
  ctx_->deps.instances->Prewarm(spec);
  return OkStatus();
}

Status Routing::LoadRoutes() {
  store::Store* store = ctx_->deps.store;
  IGNITE_ASSIGN_OR_RETURN(auto orgs, store->ListOrgs());
  int n = 0;
  for (const auto& org : orgs) {
    std::string after;
    for (;;) {
      IGNITE_ASSIGN_OR_RETURN(auto apps, store->ListApps(org.id, after, 500));
      for (const auto& app : apps) {
        if (app.active_version == 0) continue;
        IGNITE_ASSIGN_OR_RETURN(auto v, store->GetVersion(org.id, app.name, app.active_version));
        if (Status st = Route(org.id, org.name, app, v); !st.ok()) {
          spdlog::error("{}/{} version {} is not routed: {}", org.name, app.name, v.version, st.message());
          continue;
        }
        ++n;
      }
      if (apps.size() < 500) break;
      after = apps.back().name;
    }
  }
  spdlog::info("routing {} published app(s)", n);
  return OkStatus();
}

void Routing::SetDraftKey(const std::string& app_id, const std::string& key) {
  std::lock_guard<std::mutex> l(draft_keys_mu_);
  std::string& current = draft_keys_[app_id];
  if (!current.empty() && current != key) ctx_->deps.instances->Retire(current);
  current = key;
}

void Routing::Forget(const std::string& app_id) {
  std::string old_key = ctx_->deps.routes->Remove(app_id);
  if (!old_key.empty()) ctx_->deps.instances->Retire(old_key);
  std::lock_guard<std::mutex> l(draft_keys_mu_);
  if (auto it = draft_keys_.find(app_id); it != draft_keys_.end()) {
    ctx_->deps.instances->Retire(it->second);
    draft_keys_.erase(it);
  }
}

}  // namespace ignite::api
