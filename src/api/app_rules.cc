#include "api/app_rules.h"

#include <regex>

#include <fmt/format.h>

#include "api/json_schema.h"

namespace ignite::api {
namespace {

constexpr uint32_t kDefaultTimeoutSecs = 120;
constexpr uint32_t kMaxTimeoutSecs = 900;

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

}  // namespace

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

std::string BodyTooLarge(const std::string& app_id, uint32_t limit_mb, uint32_t max_mb) {
  std::string ref = app_id;
  if (auto slash = ref.find('/'); slash != std::string::npos) ref[slash] = ':';
  return fmt::format("the request body is larger than the {} MB limit of {}; send a smaller body, or raise the "
                     "limit with `dodil ignite app update {} --body-limit-mb <MB>` (at most {})",
                     limit_mb, app_id, ref, max_mb);
}

instances::FailureHints FailureHintsFor(const std::string& app_id) {
  instances::FailureHints h;
  h.logs = fmt::format("see `dodil ignite app logs {}` for what it printed", app_id);
  h.raise_memory = fmt::format("raise the limit with `dodil ignite app update {} --memory <MB>` or a larger --tier",
                               app_id);
  h.not_ready = fmt::format("check what it does before it starts serving (docs/instance-protocol.md), and "
                            "`dodil ignite app logs {}`",
                            app_id);
  h.republish = fmt::format("publish the app again with `dodil ignite draft publish {}`", app_id);
  return h;
}

std::string PublishHint(const std::string& app_id) {
  return fmt::format("publish one with `dodil ignite draft publish {}`", app_id);
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
  if (!m.health_path().empty()) {
    static const std::regex kPath("/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]{0,255}");
    if (!std::regex_match(m.health_path(), kPath)) {
      return InvalidArgument(fmt::format("invalid health path \"{}\": give a URL path starting with '/', e.g. "
                                         "--health-path /healthz", m.health_path()));
    }
  }
  if (m.ports_size() > 8) return InvalidArgument("an app declares at most 8 ports");
  for (int i = 0; i < m.ports_size(); ++i) {
    if (m.ports(i) == 0 || m.ports(i) > 65535) {
      return InvalidArgument(fmt::format("port {} is not a TCP port: use 1..65535", m.ports(i)));
    }
    for (int j = 0; j < i; ++j) {
      if (m.ports(j) == m.ports(i)) return InvalidArgument(fmt::format("port {} is declared twice", m.ports(i)));
    }
  }
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

}  // namespace ignite::api
