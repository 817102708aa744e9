#include "api/views.h"

#include "api/app_rules.h"
#include "api/code_paths.h"

namespace ignite::api {

pb::AppMeta ToAppMeta(const std::string& org_name, const store::AppRecord& rec, uint32_t default_body_limit_mb) {
  pb::AppMeta m;
  m.ParseFromString(rec.spec);
  m.set_id(org_name + "/" + rec.name);
  m.set_name(rec.name);
  m.set_organization_name(org_name);
  m.set_organization_id(rec.org_id);
  m.set_active_version(rec.active_version);
  m.set_version(rec.latest_version);
  m.set_created_at_ms(rec.created_at_ms);
  m.set_updated_at_ms(rec.updated_at_ms);
  m.set_resource_tier(AppliedTier(m.resource_tier()));
  *m.mutable_applied_limits() = AppliedLimits(m, default_body_limit_mb);
  m.set_deployment_state(rec.active_version > 0 ? pb::DEPLOYMENT_STATE_ACTIVE : pb::DEPLOYMENT_STATE_CREATED);
  // The mode follows the saved code, as the runtime does (reference 2.6).
  m.set_deployment_mode(m.runtime().has_image() ? pb::DEPLOYMENT_MODE_IMAGE : pb::DEPLOYMENT_MODE_COMPILE);
  return m;
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
  info.set_code_kind(CodeKindOf(info.runtime()));
  if (info.runtime().has_image()) info.set_image_ref(info.runtime().image().image_ref());
  return info;
}

pb::ReplicaInfo ToReplicaInfo(const instances::ReplicaSnapshot& r) {
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

}  // namespace ignite::api
