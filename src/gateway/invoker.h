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
  // Set when the platform, not the handler, produced the answer: 502 when the instance died or dropped the
  // connection, 504 when the execution timeout passed. The body is then {"error": error}.
  std::string error;
};

class Invoker {
 public:
  // Both must outlive the invoker.
  Invoker(const RouteTable* routes, runtime::InstanceManager* instances);

  // Invokes the active version of call.app_id. Errors: FailedPrecondition (no route: the app is missing or
  // unpublished), Unavailable (no instance could be started). Everything after the request reached an
  // instance is a result, like a reverse proxy's: the handler's own status (500 for a handler error), 502
  // when the instance died or closed the connection (the next call gets a new instance), 504 when the
  // app's execution timeout passed (the stuck instance is replaced). See InvokeResult::error.
  Result<InvokeResult> Invoke(const InvokeCall& call) const;
  // Same, against an explicit route.
  Result<InvokeResult> InvokeRoute(const Route& route, const InvokeCall& call) const;

 private:
  const RouteTable* routes_;
  runtime::InstanceManager* instances_;
};

}  // namespace ignite::gateway
