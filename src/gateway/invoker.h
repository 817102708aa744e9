// Invoker: runs one invocation against an app's active version (or an explicit route, for tests of drafts
// and versions): picks or starts an instance, forwards the payload with the platform's identity headers,
// and returns the instance's answer.
//
// Current shape: blocking, one connection per call, run on the API's blocking pool. The request body is
// forwarded from memory without copies; the response streams through an InvokeSink as it arrives, so a large
// answer is never held whole. The event-loop version (issue 4) replaces this behind the same contract.
#pragma once

#include <functional>
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
  std::string execution_id;  // Empty: the invoker mints one (a ULID).
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

// Receives an answer as it arrives. on_head is called once, before any body; on_body returns false to
// abandon the call (the caller went away). Both run on the invoking thread.
struct InvokeSink {
  std::function<void(const InvokeResult& head)> on_head;
  std::function<bool(std::string_view chunk)> on_body;
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
  // Without a sink the body is collected into the result; with one it goes to the sink, and the returned
  // result carries the duration and `error` (set also when the instance failed after the head was sent).
  Result<InvokeResult> Invoke(InvokeCall call, const InvokeSink* sink = nullptr) const;
  // Same, against an explicit route.
  Result<InvokeResult> InvokeRoute(const Route& route, InvokeCall call, const InvokeSink* sink = nullptr) const;

 private:
  const RouteTable* routes_;
  runtime::InstanceManager* instances_;
};

}  // namespace ignite::gateway
