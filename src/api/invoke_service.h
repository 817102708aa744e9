// InvokeService: running code: invocations of an app's active version through the gateway, and the tests of
// a draft (built first if needed) or of a published version without making it active. The hot path reads
// nothing from the store: only the error path of an unrouted app does, to say why. Blocking forms: call
// them off event loops. Thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "api/draft_service.h"
#include "api/routing.h"
#include "api/service_context.h"

namespace ignite::api {

class InvokeService {
 public:
  // Everything must outlive the service.
  InvokeService(const ServiceContext* ctx, Routing* routing, DraftService* drafts)
      : ctx_(ctx), routing_(routing), drafts_(drafts) {}

  // Runs the invocation; a handler's own error is a result (status 500), not a Status.
  Result<gateway::InvokeResult> Invoke(const Principal& p, const std::string& org, const std::string& app,
                                       gateway::InvokeCall call, const gateway::InvokeSink* sink = nullptr);
  // On the error path of a streaming invocation only: why org/app is not routed: NotFound when it does not
  // exist, else `not_routed`. Reads the store: call it off the loop.
  Status WhyNotRouted(const Principal& p, const std::string& org, const std::string& app, Status not_routed);
  const gateway::Invoker* invoker() const { return ctx_->deps.invoker; }
  // The request body limit of org/app's invocations and tests, from its config (else the platform default),
  // read before a body is: its bytes and the 413 message for a body over it. Errors: NotFound (no such app).
  struct BodyLimit {
    uint64_t bytes = 0;
    std::string message;
  };
  Result<BodyLimit> BodyLimitOf(const Principal& p, const std::string& org, const std::string& app);
  // The same for an app whose config is not at hand (it has no route): the platform default.
  BodyLimit DefaultBodyLimit(const std::string& app_id) const;
  // Runs the draft (building it first if needed) without publishing; like Invoke otherwise.
  Result<gateway::InvokeResult> TestDraft(const Principal& p, const std::string& org, const std::string& app,
                                          gateway::InvokeCall call, const gateway::InvokeSink* sink = nullptr);
  // Runs a published version without making it active.
  Result<gateway::InvokeResult> TestAppVersion(const Principal& p, const std::string& org, const std::string& app,
                                               uint32_t version, gateway::InvokeCall call,
                                               const gateway::InvokeSink* sink = nullptr);

 private:
  const ServiceContext* ctx_;
  Routing* routing_;
  DraftService* drafts_;
};

}  // namespace ignite::api
