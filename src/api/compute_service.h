// ComputeService: the transport-independent implementation of the ComputeService RPCs. The HTTP binding
// (http_routes.cc) and, later, gRPC both call these methods, so behaviour is defined once.
//
// Every method takes the authenticated principal and a request whose organization_name and app_name were
// already validated by the binding, and returns the response message or a Status whose code is the API
// error. Methods block (database, builds): call them from a blocking pool, never an event loop. Thread-safe.
#pragma once

#include <memory>
#include <semaphore>
#include <string>

#include "api/auth.h"
#include "archive/archive.h"
#include "blob/blob_store.h"
#include "build/go/go_builder.h"
#include "common/clock.h"
#include "dodil/ignite/v1/ignite_compute.pb.h"
#include "gateway/invoker.h"
#include "gateway/route_table.h"
#include "runtime/instance_manager.h"
#include "store/store.h"

namespace ignite::api {

namespace pb = ::dodil::ignite::v1;

struct ServiceOptions {
  std::string data_dir;             // builds/ and tmp/ are created below it
  build::GoToolchain go;
  archive::Limits limits;
  int max_concurrent_builds = 2;
  std::chrono::milliseconds build_timeout{10 * 60 * 1000};
};

struct Deps {
  store::Store* store;
  blob::BlobStore* blobs;
  gateway::RouteTable* routes;
  runtime::InstanceManager* instances;
  const gateway::Invoker* invoker;
  const Clock* clock;
};

class ComputeService {
 public:
  ComputeService(ServiceOptions options, Deps deps);

  // Loads the active version of every app into the route table (at start-up).
  Status LoadRoutes();

  Result<pb::CreateAppResponse> CreateApp(const Principal& p, const pb::CreateAppRequest& req);
  Result<pb::GetAppResponse> GetApp(const Principal& p, const pb::GetAppRequest& req);
  Result<pb::ListAppsResponse> ListApps(const Principal& p, const pb::ListAppsRequest& req);
  Result<pb::DeleteAppResponse> DeleteApp(const Principal& p, const pb::DeleteAppRequest& req);
  Result<pb::SaveDraftResponse> SaveDraft(const Principal& p, const pb::SaveDraftRequest& req);
  Result<pb::GetDraftInfoResponse> GetDraftInfo(const Principal& p, const pb::GetDraftInfoRequest& req);
  Result<pb::PublishDraftResponse> PublishDraft(const Principal& p, const pb::PublishDraftRequest& req);
  Result<pb::ListAppVersionsResponse> ListAppVersions(const Principal& p, const pb::ListAppVersionsRequest& req);
  Result<pb::GetAppVersionResponse> GetAppVersion(const Principal& p, const pb::GetAppVersionRequest& req);
  Result<pb::RollbackAppResponse> RollbackApp(const Principal& p, const pb::RollbackAppRequest& req);
  // Runs the invocation; a handler's own error is a result (status 500), not a Status.
  Result<gateway::InvokeResult> Invoke(const Principal& p, const std::string& org, const std::string& app,
                                       gateway::InvokeCall call);
  pb::HealthCheckResponse HealthCheck() const;

 private:
  Result<store::AppRecord> LoadApp(const Principal& p, const std::string& org, const std::string& app);
  pb::AppMeta ToAppMeta(const Principal& p, const store::AppRecord& rec) const;
  // Builds the draft's code unless a successful build of exactly that code exists. Returns the build.
  Result<store::BuildRecord> EnsureBuilt(const Principal& p, const std::string& app, const store::DraftRecord& draft);
  // Points traffic for the app at `version` and retires the instances of the version it replaces.
  Status Route(const std::string& org_id, const std::string& org_name, const store::AppRecord& app,
               const store::VersionRecord& version);

  ServiceOptions options_;
  Deps deps_;
  std::counting_semaphore<1024> build_slots_;
  int64_t started_ms_;
};

}  // namespace ignite::api
