// The rules of an app's config: tiers and the limits they apply, validation of a config before it is
// stored, the request body limit and its 413 message, and the payload check of tests. Pure functions of
// the config (no I/O); shared by the services of the ComputeService split.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "instances/launcher.h"
#include "dodil/ignite/v1/ignite_compute.pb.h"

namespace ignite::api {

namespace pb = ::dodil::ignite::v1;

inline constexpr uint32_t kDefaultIdleTimeoutSecs = 300;

// The tier an app runs with: its own, or small when it set none.
pb::ResourceTier AppliedTier(pb::ResourceTier tier);
// The limits an app runs with: its explicit limits, else its tier's, else the platform defaults.
pb::ResourceLimits AppliedLimits(const pb::AppMeta& m, uint32_t default_body_limit_mb);
// The 413 message for a body over org/app's limit: what the limit is and how to raise it.
std::string BodyTooLarge(const std::string& app_id, uint32_t limit_mb, uint32_t max_mb);
// What users are told to do when org/app's instances fail (instances::FailureHints), and when it has no
// published version to run: the CLI commands are spelled here, not below the API.
instances::FailureHints FailureHintsFor(const std::string& app_id);
std::string PublishHint(const std::string& app_id);
// Whether a config may be stored: every problem as InvalidArgument saying how to fix it. Schemas are
// compiled here once, so routes can trust them.
Status ValidateConfig(const pb::AppMeta& m, uint32_t max_body_limit_mb);
// The payload check of the draft and version tests, before anything is built or started: `spec_bytes` is the
// serialized AppMeta whose input schema applies.
Status CheckPayload(const std::string& spec_bytes, const std::string& payload);

}  // namespace ignite::api
