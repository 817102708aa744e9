// AsyncInvoker: the InvokeAsync, GetExecution and WatchExecution RPCs (reference 2.8, 6.1), transport-
// independent like ComputeService's methods, plus their HTTP routes (RegisterAsyncRoutes).
//
// InvokeAsync checks the caller's org and that the app is routed (the route table: no SQL), records the
// execution as PENDING in the ExecutionRecorder (memory only) and returns its id at once. A pool of
// `threads` background threads runs each execution through ComputeService::Invoke (RUNNING), collects the
// response body up to `max_output_bytes`, and finishes the record:
//   handler 2xx -> SUCCEEDED; 504 made by the platform (execution timeout) -> TIMED_OUT; anything else ->
//   FAILED with `error` set (the platform's message, the handler's {"error": "..."} text, or "the function
//   returned HTTP <n>"). A larger answer is abandoned and FAILED with "output larger than 6 MiB; use Invoke
//   for large answers".
// At most `max_queued` executions wait for a thread (and `max_queued_payload_bytes` of payloads); beyond
// that InvokeAsync answers ResourceExhausted (HTTP 429).
//
// An execution is visible only to tokens of its own org: others get NotFound, as for an unknown id.
//
// Thread-safe. Shutdown() (also run by the destructor) stops accepting, fails the executions still waiting
// for a thread ("ignited stopped before this execution started") and waits for the running ones.
#pragma once

#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "api/auth.h"
#include "api/compute_service.h"
#include "api/executions.h"
#include "common/clock.h"
#include "dodil/ignite/v1/ignite_compute.pb.h"
#include "gateway/invoker.h"
#include "gateway/route_table.h"
#include "http/router.h"
#include "store/store.h"

namespace ignite::api {

struct AsyncOptions {
  size_t threads = 32;
  size_t max_queued = 10000;
  uint64_t max_queued_payload_bytes = 512ull << 20;
  size_t max_output_bytes = 6u << 20;
};

// The API message of a record.
pb::Execution ToExecution(const store::ExecutionRecord& record);

// The final record of an execution from Invoke's outcome (the status rule above). `output` is the collected
// body, `overflowed` whether it passed the limit; `record` carries the fields set before the call.
store::ExecutionRecord FinishedRecord(store::ExecutionRecord record, const Result<gateway::InvokeResult>& result,
                                      std::string output, bool overflowed, int64_t now_ms);

class AsyncInvoker {
 public:
  // All must outlive the AsyncInvoker.
  AsyncInvoker(ComputeService* compute, ExecutionRecorder* recorder, const gateway::RouteTable* routes,
               store::Store* store, const Clock* clock, AsyncOptions options = {});
  ~AsyncInvoker();
  AsyncInvoker(const AsyncInvoker&) = delete;
  AsyncInvoker& operator=(const AsyncInvoker&) = delete;

  // `org`/`app` were validated by the binding. Errors before anything runs: PermissionDenied (another org),
  // NotFound (no such app), FailedPrecondition (not published), ResourceExhausted (queue full, or
  // PayloadTooLarge: a payload over the app's body limit), Unavailable (shutting down).
  Result<pb::InvokeAsyncResponse> InvokeAsync(const Principal& p, const std::string& org, const std::string& app,
                                              gateway::InvokeCall call);
  // The request body limit of app_id's InvokeAsync, from its route (no I/O): the platform default when the
  // app has none (InvokeAsync then refuses it as unpublished).
  ComputeService::BodyLimit BodyLimitOf(const std::string& app_id) const;
  // NotFound for an unknown id or another org's execution.
  Result<pb::GetExecutionResponse> GetExecution(const Principal& p, const pb::GetExecutionRequest& req);
  // Calls `send` with the execution now (before returning), then each time its status changes, from the
  // thread making the change; calls never overlap, and the last one has a terminal status. `send` returns
  // false when the receiver is gone (no more calls then) and must not block. Returns true when calls may
  // still follow, false when the one already made was the last. NotFound (nothing sent) as GetExecution.
  Result<bool> WatchExecution(const Principal& p, const pb::WatchExecutionRequest& req,
                              std::function<bool(const pb::Execution&)> send);

  void Shutdown();

 private:
  void Run(const Principal& p, const std::string& org, const std::string& app, gateway::InvokeCall call,
           store::ExecutionRecord record);
  // The record if it exists and belongs to the caller's org.
  Result<store::ExecutionRecord> Load(const Principal& p, const std::string& id);

  ComputeService* compute_;
  ExecutionRecorder* recorder_;
  const gateway::RouteTable* routes_;
  store::Store* store_;
  const Clock* clock_;
  const AsyncOptions options_;
  boost::asio::thread_pool pool_;
  std::mutex mu_;
  size_t queued_ = 0;               // guarded by mu_: accepted, not yet started
  uint64_t queued_bytes_ = 0;       // guarded by mu_
  std::atomic<bool> stopping_{false};
};

// POST /v1/ignite/app/{organization_name}/{app_name}/invoke-async (raw payload body, like Invoke),
// GET /v1/ignite/executions/{execution_id}, and GET /v1/ignite/executions/{execution_id}/watch (NDJSON:
// {"result": Execution} per state, or a final {"error": ...}). Requests are authenticated and started on
// `pool`; a watch holds no thread while it waits. All must outlive the router.
void RegisterAsyncRoutes(http::Router* router, AsyncInvoker* invoker, Authenticator* auth,
                         boost::asio::thread_pool* pool);

}  // namespace ignite::api
