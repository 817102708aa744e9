// Invoker: runs one invocation against an app's active version (or an explicit route, for tests of drafts
// and versions): picks or starts an instance, forwards the request with the platform's identity headers, and
// streams the instance's answer back.
//
// The hot path is asynchronous and runs on the caller's event loop (Start): a warm instance is leased
// without blocking (InstanceManager::TryAcquire), an idle keep-alive connection to it is reused (kept per
// event-loop thread, still registered with the loop), the request body is forwarded piece by piece as the client sends it, and the
// answer piece by piece as the instance writes it, each piece only after the caller took the previous one.
// Only a cold start or a wait for capacity leaves the loop: that Acquire runs on the blocking pool and the
// call continues on the loop. No SQL, no payload parsing.
//
// Invoke/InvokeRoute are the blocking form of the same code (their own event loop on the calling thread),
// for callers that already run on a pool thread: async executions, draft and version tests.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/thread_pool.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "gateway/route_table.h"
#include "instances/instance_manager.h"
#include "instances/log_collector.h"

namespace ignite::gateway {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct InvokeCall {
  std::string app_id;
  std::string method = "POST";
  std::string target = "/";
  std::string payload;  // The request body, unless a BodySource is given.
  Headers headers;  // Client headers; x-ignite-*, hop-by-hop and Authorization are not forwarded.
  std::string execution_id;  // Empty: the invoker mints one (a ULID).
  // Check the payload against the route's input_check (when it has one) before anything runs: the body is
  // then read whole first (at most input_check->max_bytes()) and a mismatch ends the call with
  // InvalidArgument. False for the per-app URL, which forwards arbitrary HTTP requests.
  bool check_input = true;
  // Report the outcome to the invoker's InvocationObserver (execution stats). False for draft and version
  // tests.
  bool count = true;
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
  // The answer the caller got is cut short: the instance failed (or the caller went away) after the
  // instance's own head was sent, so `error` could not become the answer. A platform-made answer (a 502 head
  // and its {"error"} body) is complete.
  bool cut_short = false;
};

// A request body read piece by piece on the invoking event loop (the client connection's, see
// http::Exchange::ReadBody, whose contract this is).
class BodySource {
 public:
  virtual ~BodySource() = default;
  // The declared length, or nullopt when unknown (then forwarded chunked).
  virtual std::optional<uint64_t> length() const = 0;
  virtual void Read(std::function<void(Status, std::string_view data, bool end)> cb) = 0;
};

// Receives an answer on the invoking event loop.
struct StreamSink {
  // The head: the instance's status and headers, or the platform's 502/504.
  std::function<void(const InvokeResult& head)> on_head;
  // A piece of the body, valid until `next` is called. Call next(true) for the following piece once this
  // one is taken (back-pressure), next(false) to abandon the call (the caller went away).
  std::function<void(std::string_view data, std::function<void(bool)> next)> on_body;
  // Called exactly once, last. An error status means no head was produced and the caller answers with an
  // ordinary HTTP error; a result carries duration, cold and `error` (see InvokeResult), also when the
  // instance failed after its head was sent.
  std::function<void(Result<InvokeResult>)> on_done;
};

// Receives an answer in the blocking form. on_head is called once, before any body; on_body returns false to
// abandon the call (the caller went away). Both run on the invoking thread.
struct InvokeSink {
  std::function<void(const InvokeResult& head)> on_head;
  std::function<bool(std::string_view chunk)> on_body;
};

class Invoker {
 public:
  // All must outlive the invoker. `blocking` runs the Acquires that may block (cold starts, waits for
  // capacity) for Start; with nullptr they run on the loop (tests).
  // `logs` (nullable) gets the platform's own lines about instances (one that failed to start).
  // `clock` measures durations and sets deadlines (execution and start timeouts, the wait for capacity);
  // it must be the clock `instances` was made with. Timeouts still wait on real time (asio timers) for what
  // is left by the clock, and the clock decides when they have passed.
  Invoker(const RouteTable* routes, instances::InstanceManager* instances, boost::asio::thread_pool* blocking = nullptr,
          instances::LogCollector* logs = nullptr, const Clock* clock = &SystemClock());
  // Where finished invocations are reported (calls with InvokeCall::count); nullptr: nowhere. Call before the
  // first invocation; `observer` must outlive the invoker.
  void SetObserver(InvocationObserver* observer) { observer_ = observer; }

  // Invokes the active version of call.app_id on `executor`; `body` (nullable: call.payload is sent)
  // supplies the request body. Errors (through on_done): FailedPrecondition (no route: the app is missing or
  // unpublished), Unavailable (no instance could be started, or the crash-loop back-off), ResourceExhausted
  // (the wait queue is full), InvalidArgument (the payload does not pass the route's input check, see
  // InvokeCall::check_input). Everything after the request reached an instance is a result, like a reverse
  // proxy's: the handler's own status (500 for a handler error), 502 when the instance died or closed the
  // connection (the next call gets a new instance), 504 when the app's execution timeout passed (the stuck
  // instance is replaced), 503 when a new instance answered nothing within its start timeout (it is stopped,
  // counts as a crash on start, and the app's log says so). Callbacks run on `executor`, never inside this
  // call.
  void Start(boost::asio::any_io_executor executor, InvokeCall call, std::shared_ptr<BodySource> body,
             StreamSink sink) const;
  // Same, against an explicit route.
  void StartRoute(boost::asio::any_io_executor executor, std::shared_ptr<const Route> route, InvokeCall call,
                  std::shared_ptr<BodySource> body, StreamSink sink) const;

  // The blocking form, on the calling thread. Without a sink the body is collected into the result; with one
  // it goes to the sink, and the returned result carries the duration and `error`.
  Result<InvokeResult> Invoke(InvokeCall call, const InvokeSink* sink = nullptr) const;
  Result<InvokeResult> InvokeRoute(const Route& route, InvokeCall call, const InvokeSink* sink = nullptr) const;

 private:
  // Starts a call on `route` (kept alive by `owner`): the observer's wrapper, the payload check, then Call.
  void Run(boost::asio::any_io_executor executor, std::shared_ptr<const void> owner, const Route* route,
           InvokeCall call, std::shared_ptr<BodySource> body, StreamSink sink) const;

  const RouteTable* routes_;
  instances::InstanceManager* instances_;
  boost::asio::thread_pool* blocking_;
  instances::LogCollector* logs_;
  const Clock* clock_;
  InvocationObserver* observer_ = nullptr;
};

}  // namespace ignite::gateway
