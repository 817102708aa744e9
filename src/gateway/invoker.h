// Invoker: runs one invocation against an app's active version (or an explicit route, for tests of drafts
// and versions): picks or starts an instance, forwards the payload with the platform's identity headers,
// and returns the instance's answer.
//
// Current shape: blocking and fully buffered, one connection per call, run on the API's blocking pool. The
// streaming, event-loop version replaces this behind the same Invoke() contract.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "gateway/route_table.h"
#include "runtime/instance_manager.h"

namespace ignite::gateway {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct InvokeCall {
  std::string app_id;
  std::string method = "POST";
  std::string target = "/";
  std::string payload;
  Headers headers;  // Client headers; x-ignite-*, hop-by-hop and Authorization are not forwarded.
};

struct InvokeResult {
  unsigned status = 0;
  Headers headers;
  std::string body;
  std::string execution_id;
  uint32_t version = 0;
  bool cold = false;
  int64_t duration_ms = 0;
};

class Invoker {
 public:
  // Both must outlive the invoker.
  Invoker(const RouteTable* routes, runtime::InstanceManager* instances);

  // Invokes the active version of call.app_id. Errors: NotFound (no such routed app), Unavailable (the
  // instance could not be started or died mid-request: the message says how it ended), DeadlineExceeded
  // (the app's execution timeout passed; the instance is replaced). A handler error is not an error here:
  // it is a result with status 500.
  Result<InvokeResult> Invoke(const InvokeCall& call) const;
  // Same, against an explicit route.
  Result<InvokeResult> InvokeRoute(const Route& route, const InvokeCall& call) const;

 private:
  const RouteTable* routes_;
  runtime::InstanceManager* instances_;
};

}  // namespace ignite::gateway
