// ComputeService: the transport-independent implementation of the ComputeService RPCs. The HTTP binding
// (http_routes.cc) and, later, gRPC both call these methods, so behaviour is defined once.
//
// Every method takes the authenticated principal and a request whose organization_name and app_name were
// already validated by the binding, and returns the response message or a Status whose code is the API
// error. Methods block (database, builds): call them from a blocking pool, never an event loop. Thread-safe.
#pragma once

#include <atomic>
#include <memory>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "api/auth.h"
#include "api/invocation_stats.h"
#include "archive/archive.h"
#include "blob/blob_store.h"
#include "build/build_queue.h"
#include "build/builder.h"
#include "common/clock.h"
#include "dodil/ignite/v1/ignite_compute.pb.h"
#include "gateway/invoker.h"
#include "gateway/route_table.h"
#include "runtime/app_events.h"
#include "runtime/cgroups.h"
#include "runtime/instance_manager.h"
#include "runtime/log_collector.h"
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
  std::chrono::milliseconds instance_start_timeout{10'000};  // see runtime::InstanceSpec::start_timeout
  // Request bodies of invocations and tests: the limit of apps that set none, and the most one may set (MiB).
  uint32_t default_body_limit_mb = 100;
  uint32_t max_body_limit_mb = 1024;
  std::string sandbox_description = "off";   // how instances are isolated, for HealthCheck
  std::string limits_description = "none";   // how their limits are enforced, for HealthCheck
  // Each build gets a group with kBuildMemoryBytes and kBuildPids (no CPU limit) for its duration. Must
  // outlive the service; nullptr: builds are not limited.
  runtime::CgroupManager* cgroups = nullptr;
  // Run every build step in the build sandbox (build/sandbox.h). Without a working bubblewrap the
  // service logs that once at construction and builds unsandboxed.
  bool sandbox_builds = false;
};

// The limits of one build's cgroup (ServiceOptions::cgroups): the go command and every compiler and linker it
// runs. 2 GiB holds the parallel compiles of a large module on a many-core host; past it the kernel kills
// a compiler and the build fails saying so. 1024 tasks (processes and threads) stops a runaway, not a build.
inline constexpr uint64_t kBuildMemoryBytes = uint64_t{2} << 30;
inline constexpr uint32_t kBuildPids = 1024;

struct Deps {
  store::Store* store;
  blob::BlobStore* blobs;
  gateway::RouteTable* routes;
  runtime::InstanceManager* instances;
  const gateway::Invoker* invoker;
  runtime::LogCollector* logs;
  const Clock* clock;
  InvocationRecorder* invocations = nullptr;  // GetExecutionStats (nullptr: it answers zeros)
  runtime::AppEventLog* events = nullptr;     // GetAppEvents/StreamAppEvents and build/publish events
};

class ComputeService {
 public:
  ComputeService(ServiceOptions options, Deps deps);

  // Loads the active version of every app into the route table (at start-up).
  Status LoadRoutes();

  Result<pb::CreateAppResponse> CreateApp(const Principal& p, const pb::CreateAppRequest& req);
  Result<pb::GetAppResponse> GetApp(const Principal& p, const pb::GetAppRequest& req);
  Result<pb::ListAppsResponse> ListApps(const Principal& p, const pb::ListAppsRequest& req);
  // Replaces the config fields named in `fields` (see api/app_config.h) and keeps the rest; validated like
  // CreateApp. When a version is active its route is rebuilt at once (same key: instances keep running).
  Result<pb::UpdateAppConfigResponse> UpdateAppConfig(const Principal& p, const pb::UpdateAppConfigRequest& req,
                                                      const std::vector<std::string>& fields);
  Result<pb::GetAppStateResponse> GetAppState(const Principal& p, const pb::GetAppStateRequest& req);
  Result<pb::ListAppReplicasResponse> ListAppReplicas(const Principal& p, const pb::ListAppReplicasRequest& req);
  Result<pb::DeleteAppResponse> DeleteApp(const Principal& p, const pb::DeleteAppRequest& req);
  Result<pb::SaveDraftResponse> SaveDraft(const Principal& p, const pb::SaveDraftRequest& req);
  Result<pb::GetDraftInfoResponse> GetDraftInfo(const Principal& p, const pb::GetDraftInfoRequest& req);
  Result<pb::PublishDraftResponse> PublishDraft(const Principal& p, const pb::PublishDraftRequest& req);
  Result<pb::ListAppVersionsResponse> ListAppVersions(const Principal& p, const pb::ListAppVersionsRequest& req);
  Result<pb::GetAppVersionResponse> GetAppVersion(const Principal& p, const pb::GetAppVersionRequest& req);
  Result<pb::RollbackAppResponse> RollbackApp(const Principal& p, const pb::RollbackAppRequest& req);
  // Runs the invocation; a handler's own error is a result (status 500), not a Status.
  Result<gateway::InvokeResult> Invoke(const Principal& p, const std::string& org, const std::string& app,
                                       gateway::InvokeCall call, const gateway::InvokeSink* sink = nullptr);
  // The parts of Invoke around the streaming gateway call (Invoker::Start) that HTTP runs on its event loop:
  // whether `p` may invoke apps of `org` (no I/O), and, on the error path only, why an app is not routed:
  // NotFound when it does not exist, else `not_routed` (reads the store: call it off the loop).
  Status CheckInvoke(const Principal& p, const std::string& org) const;
  Status WhyNotRouted(const Principal& p, const std::string& org, const std::string& app, Status not_routed);
  const gateway::Invoker* invoker() const { return deps_.invoker; }
  // The request body limit of org/app's invocations and tests, from its config (else the platform default),
  // read before a body is: its bytes and the 413 message for a body over it. Errors: NotFound (no such app).
  struct BodyLimit {
    uint64_t bytes = 0;
    std::string message;
  };
  Result<BodyLimit> BodyLimitOf(const Principal& p, const std::string& org, const std::string& app);
  // The same for an app whose config is not at hand (it has no route): the platform default.
  BodyLimit DefaultBodyLimit(const std::string& app_id) const;
  pb::HealthCheckResponse HealthCheck() const;

  Result<pb::CompileDraftResponse> CompileDraft(const Principal& p, const pb::CompileDraftRequest& req);
  // Sends the build's log from the start and follows it until the build ends; the last entry carries the final
  // status. `send` returns false when the receiver is gone (the stream then stops). An error returned before
  // the first send means nothing was sent.
  Status StreamCompileLogs(const Principal& p, const pb::StreamCompileLogsRequest& req,
                           const std::function<bool(const pb::CompileLogEntry&)>& send);
  Result<pb::CancelCompileResponse> CancelCompile(const Principal& p, const pb::CancelCompileRequest& req);
  // Runs the draft (building it first if needed) without publishing; like Invoke otherwise.
  Result<gateway::InvokeResult> TestDraft(const Principal& p, const std::string& org, const std::string& app,
                                          gateway::InvokeCall call, const gateway::InvokeSink* sink = nullptr);
  // Runs a published version without making it active.
  Result<gateway::InvokeResult> TestAppVersion(const Principal& p, const std::string& org, const std::string& app,
                                               uint32_t version, gateway::InvokeCall call,
                                               const gateway::InvokeSink* sink = nullptr);
  Result<pb::GetAppCodeResponse> GetAppCode(const Principal& p, const pb::GetAppCodeRequest& req);
  Result<pb::GetBuildLogResponse> GetBuildLog(const Principal& p, const pb::GetBuildLogRequest& req);
  Result<pb::GetAppLogsResponse> GetAppLogs(const Principal& p, const pb::GetAppLogsRequest& req);
  // Sends the newest lines, then each new line as it is written (filtered by replica and execution when
  // given). `send(nullptr)` is an idle tick, about once a second without lines. Ends when `send` returns
  // false (the receiver is gone), or with Unavailable once BeginShutdown was called. A receiver slower than
  // the app's logging loses lines beyond 10,000 queued, and is told how many in a "platform" line. Errors
  // before the first send: those of GetAppLogs.
  Status StreamAppLogs(const Principal& p, const pb::StreamAppLogsRequest& req,
                       const std::function<bool(const pb::LogLine*)>& send);
  // Aggregates over the app's invocations since req.since_ms (0: the last 24 hours), never counting those before
  // the app was created (a re-created app starts from zero). Reads the store after saving what is pending.
  Result<pb::GetExecutionStatsResponse> GetExecutionStats(const Principal& p, const pb::GetExecutionStatsRequest& req);
  // The app's newest lifecycle events (memory only; see runtime/app_events.h).
  Result<pb::GetAppEventsResponse> GetAppEvents(const Principal& p, const pb::GetAppEventsRequest& req);
  // Like StreamAppLogs, for events: the newest `tail`, then each new event; send(nullptr) is an idle tick about
  // once a second. Ends when `send` returns false, or with Unavailable once BeginShutdown was called.
  Status StreamAppEvents(const Principal& p, const pb::StreamAppEventsRequest& req,
                         const std::function<bool(const pb::AppEvent*)>& send);
  // Streams that follow something open-ended (app logs) end soon after this, so a drain is not held up.
  void BeginShutdown() { shutting_down_ = true; }

 private:
  Result<store::AppRecord> LoadApp(const Principal& p, const std::string& org, const std::string& app);
  pb::AppMeta ToAppMeta(const Principal& p, const store::AppRecord& rec) const;
  struct BuildRef {
    std::string id;
    std::shared_ptr<build::BuildJob> job;  // nullptr when a finished successful build is reused
  };
  // Starts the build of the draft's code unless a build of exactly that code succeeded or is under way.
  Result<BuildRef> StartBuild(const Principal& p, const std::string& app, const store::DraftRecord& draft);
  // Waits for the build; its record when it succeeded, else why it did not.
  Result<store::BuildRecord> AwaitBuild(const BuildRef& ref);
  Result<store::BuildRecord> BuildDraft(const Principal& p, const std::string& app);
  // The build of `deploy_id`, if it belongs to the caller's org (NotFound otherwise, without saying more).
  Result<store::BuildRecord> LoadBuild(const Principal& p, const std::string& deploy_id);
  gateway::Route RouteFor(const std::string& org_id, const std::string& org_name, const store::AppRecord& app,
                          const std::string& key, const std::string& artifact_hash, uint32_t version) const;
  // Points traffic for the app at `version` and retires the instances of the version it replaces.
  Status Route(const std::string& org_id, const std::string& org_name, const store::AppRecord& app,
               const store::VersionRecord& version);
  // Sends an app event when there is an event log.
  void Event(const std::string& app_id, std::string_view type, uint32_t version, std::string message);

  ServiceOptions options_;
  std::string build_bwrap_;  // bubblewrap when builds are sandboxed, else empty; set by the constructor
  std::atomic<bool> shutting_down_{false};
  Deps deps_;
  int64_t started_ms_;
  build::BuildQueue builds_;
  std::mutex start_build_mu_;  // makes "find or start the draft's build" atomic
  std::mutex draft_keys_mu_;
  std::map<std::string, std::string> draft_keys_;  // guarded by draft_keys_mu_: app id -> test instance key
};

}  // namespace ignite::api
