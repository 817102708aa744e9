// ServiceContext: what every service of the ComputeService split (app_service.h, draft_service.h,
// version_service.h, invoke_service.h, observe_service.h) shares: the platform's options, the dependencies
// the wiring hands over, and the few helpers all of them use. Owned by ComputeService, which outlives the
// services; immutable after construction apart from `shutting_down` (thread-safe).
#pragma once

#include <atomic>
#include <functional>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/auth.h"
#include "api/invocation_stats.h"
#include "archive/archive.h"
#include "blob/blob_store.h"
#include "build/builder.h"
#include "common/clock.h"
#include "dodil/ignite/v1/ignite_compute.pb.h"
#include "gateway/invoker.h"
#include "gateway/route_table.h"
#include "instances/app_events.h"
#include "instances/cgroups.h"
#include "instances/instance_manager.h"
#include "instances/log_collector.h"
#include "store/store.h"

namespace ignite::api {

namespace pb = ::dodil::ignite::v1;

struct ServiceOptions {
  std::string data_dir;             // builds/ and tmp/ are created below it
  // The code paths, by the CodeSource runtime they build (filled by ignited's wiring); must outlive the service.
  const build::BuilderRegistry* builders = nullptr;
  archive::Limits limits;
  int max_concurrent_builds = 2;
  std::chrono::milliseconds build_timeout{10 * 60 * 1000};
  std::chrono::milliseconds instance_start_timeout{10'000};  // see instances::InstanceSpec::start_timeout
  // Request bodies of invocations and tests: the limit of apps that set none, and the most one may set (MiB).
  uint32_t default_body_limit_mb = 100;
  uint32_t max_body_limit_mb = 1024;
  std::string sandbox_description = "off";   // how instances are isolated, for HealthCheck
  std::string limits_description = "none";   // how their limits are enforced, for HealthCheck
  std::string images_description = "off";    // whether container images run, for HealthCheck
  // A secret of an org by name, for checks and builds that use one (api/secret_service.h Resolve); empty:
  // no secrets.
  std::function<Result<build::SecretValue>(const std::string& org_id, std::string_view name)> resolve_secret;
  // Each build gets a group with kBuildMemoryBytes and kBuildPids (no CPU limit) for its duration. Must
  // outlive the service; nullptr: builds are not limited.
  instances::CgroupManager* cgroups = nullptr;
  // Run every build step in the build sandbox (build/sandbox.h). Without a working bubblewrap the
  // service logs that once at construction and builds unsandboxed.
  bool sandbox_builds = false;
};

// The limits of one build's cgroup (ServiceOptions::cgroups): the toolchain and every compiler and linker it
// runs. 2 GiB holds the parallel compiles of a large module on a many-core host; past it the kernel kills
// a compiler and the build fails saying so. 1024 tasks (processes and threads) stops a runaway, not a build.
inline constexpr uint64_t kBuildMemoryBytes = uint64_t{2} << 30;
inline constexpr uint32_t kBuildPids = 1024;

// Everything must outlive the services; the optional ones may be nullptr.
struct Deps {
  store::Store* store;
  blob::BlobStore* blobs;
  gateway::RouteTable* routes;
  instances::InstanceManager* instances;
  const gateway::Invoker* invoker;
  instances::LogCollector* logs;
  const Clock* clock;
  InvocationRecorder* invocations = nullptr;  // GetExecutionStats (nullptr: it answers zeros)
  instances::AppEventLog* events = nullptr;     // GetAppEvents/StreamAppEvents and build/publish events
};

struct ServiceContext {
  ServiceContext(ServiceOptions options, Deps deps);

  // The app, after checking `p` may see `org`; NotFound saying how to create it.
  Result<store::AppRecord> LoadApp(const Principal& p, const std::string& org, const std::string& app) const;
  // Sends an app event when there is an event log.
  void Event(const std::string& app_id, std::string_view type, uint32_t version, std::string message) const;

  ServiceOptions options;
  const Deps deps;
  const int64_t started_ms;
  std::string build_bwrap;  // bubblewrap when builds are sandboxed, else empty; set by the constructor
  // Streams that follow something open-ended end soon after this is set (ComputeService::BeginShutdown).
  std::atomic<bool> shutting_down{false};
};

}  // namespace ignite::api
