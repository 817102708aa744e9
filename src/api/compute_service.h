// ComputeService: the transport-independent implementation of the ComputeService RPCs. The HTTP binding
// (http_api.h) and gRPC (grpc_api.h) both call these methods, so behaviour is defined once.
//
// It is the composition of small services with one concern each, which it owns and whose methods it
// exposes as its own: AppService (apps and their config), DraftService (drafts and builds), VersionService
// (versions, publish, rollback), InvokeService (invocations and tests) and ObserveService (logs, events,
// stats, health), over one ServiceContext and one Routing. Each is tested on its own against fakes
// (src/testing/).
//
// Every method takes the authenticated principal and a request whose organization_name and app_name were
// already validated by the binding, and returns the response message or a Status whose code is the API
// error. Methods block (database, builds): call them from a blocking pool, never an event loop. Thread-safe.
#pragma once

#include "api/app_service.h"
#include "api/draft_service.h"
#include "api/invoke_service.h"
#include "api/observe_service.h"
#include "api/routing.h"
#include "api/service_context.h"
#include "api/version_service.h"

namespace ignite::api {

// The state the services share, as a base so it is constructed before them.
struct ComputeServiceCore {
  ComputeServiceCore(ServiceOptions options, Deps deps) : ctx(std::move(options), deps), routing(&ctx) {}
  ServiceContext ctx;
  Routing routing;
};

class ComputeService : private ComputeServiceCore,
                       public DraftService,
                       public AppService,
                       public VersionService,
                       public InvokeService,
                       public ObserveService {
 public:
  ComputeService(ServiceOptions options, Deps deps);
  ComputeService(const ComputeService&) = delete;
  ComputeService& operator=(const ComputeService&) = delete;

  // Loads the active version of every app into the route table (at start-up).
  Status LoadRoutes() { return routing.LoadRoutes(); }
};

}  // namespace ignite::api
