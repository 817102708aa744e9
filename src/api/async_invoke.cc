#include "api/async_invoke.h"

#include <boost/asio/post.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <utility>

#include "api/access.h"
#include "api/app_rules.h"
#include "api/roles.h"
#include "api/invoke_frames.h"
#include "api/proto_json.h"
#include "api/unary_route.h"
#include "common/ids.h"
#include "common/names.h"
#include "http/server.h"

namespace ignite::api {
namespace {

// The execution id returned by InvokeAsync is the one the handler sees and its log lines carry.
void PreassignExecutionId(gateway::InvokeCall& call, const std::string& id) { call.execution_id = id; }

// The handler's own error text when the body is the SDKs' {"error": "..."}; "" otherwise.
std::string HandlerError(const std::string& body) {
  auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_object()) {
    auto it = json.find("error");
    if (it != json.end() && it->is_string()) return it->get<std::string>();
  }
  return "";
}

}  // namespace

pb::Execution ToExecution(const store::ExecutionRecord& r) {
  pb::Execution e;
  e.set_execution_id(r.id);
  e.set_app_id(r.app_id);
  e.set_version(r.version);
  e.set_status(static_cast<pb::ExecutionStatus>(r.status));
  e.set_response_status(r.response_status);
  e.set_output(r.output);
  e.set_error(r.error);
  e.set_cold_start(r.cold_start);
  e.set_created_at_ms(r.created_at_ms);
  e.set_started_at_ms(r.started_at_ms);
  e.set_finished_at_ms(r.finished_at_ms);
  e.set_duration_ms(r.duration_ms);
  e.set_invocation_id(r.invocation_id);
  return e;
}

store::ExecutionRecord FinishedRecord(store::ExecutionRecord record, const Result<gateway::InvokeResult>& result,
                                      std::string output, bool overflowed, int64_t now_ms) {
  record.finished_at_ms = now_ms;
  if (!result.ok()) {
    // Refused before reaching an instance (unpublished meanwhile, no instance could start).
    record.status = pb::EXECUTION_STATUS_FAILED;
    record.error = result.status().message();
    if (record.started_at_ms > 0) record.duration_ms = now_ms - record.started_at_ms;
    return record;
  }
  const gateway::InvokeResult& r = *result;
  record.response_status = r.status;
  record.cold_start = r.cold;
  record.duration_ms = r.duration_ms;
  if (r.version > 0) record.version = r.version;
  record.invocation_id = r.execution_id;
  if (overflowed) {
    record.status = pb::EXECUTION_STATUS_FAILED;
    record.error = "output larger than 6 MiB; use Invoke for large answers";
    record.output.clear();
    return record;
  }
  record.output = std::move(output);
  if (!r.error.empty()) {
    // The platform ended it: 504 is the execution timeout, the rest (502, a cut body) are failures.
    record.status = r.status == 504 ? pb::EXECUTION_STATUS_TIMED_OUT : pb::EXECUTION_STATUS_FAILED;
    record.error = r.error;
    return record;
  }
  if (r.status >= 200 && r.status < 300) {
    record.status = pb::EXECUTION_STATUS_SUCCEEDED;
    return record;
  }
  record.status = pb::EXECUTION_STATUS_FAILED;
  record.error = HandlerError(record.output);
  if (record.error.empty()) record.error = fmt::format("the function returned HTTP {}", r.status);
  return record;
}

AsyncInvoker::AsyncInvoker(ComputeService* compute, ExecutionRecorder* recorder, const gateway::RouteTable* routes,
                           store::Store* store, const Clock* clock, AsyncOptions options)
    : compute_(compute),
      recorder_(recorder),
      routes_(routes),
      store_(store),
      clock_(clock),
      options_(options),
      pool_(std::max<size_t>(1, options.threads)) {}

AsyncInvoker::~AsyncInvoker() { Shutdown(); }

void AsyncInvoker::Shutdown() {
  if (stopping_.exchange(true)) return;
  // Waiting executions see stopping_ and fail at once; running ones finish (bounded by their timeouts).
  pool_.join();
}

ComputeService::BodyLimit AsyncInvoker::BodyLimitOf(const std::string& app_id) const {
  auto routes = routes_->Get();
  auto route = routes->find(app_id);
  if (route == routes->end() || !route->second.body_limit) return compute_->DefaultBodyLimit(app_id);
  return {route->second.body_limit, route->second.body_too_large};
}

Result<pb::InvokeAsyncResponse> AsyncInvoker::InvokeAsync(const Principal& p, const std::string& org,
                                                          const std::string& app, gateway::InvokeCall call) {
  if (stopping_) return Unavailable("ignited is shutting down; invoke again once it is back");
  IGNITE_RETURN_IF_ERROR(CheckOrgAccess(p, org));
  const std::string app_id = org + "/" + app;
  auto routes = routes_->Get();
  auto route = routes->find(app_id);
  if (route == routes->end()) {
    // Only this error path reads the store, to say whether the app is missing or just unpublished.
    auto rec = store_->GetApp(p.org_id, app);
    if (!rec.ok() && rec.status().code() == StatusCode::kNotFound) {
      return NotFound(fmt::format("app {} does not exist; create it with `dodil ignite app create {}:{}`", app_id,
                                  org, app));
    }
    IGNITE_RETURN_IF_ERROR(rec.status());
    return FailedPrecondition(fmt::format(
        "{} has no published version to invoke; {}", app_id, PublishHint(app_id)));
  }
  if (route->second.body_limit && call.payload.size() > route->second.body_limit) {
    return PayloadTooLarge(route->second.body_too_large);
  }
  if (const auto& check = route->second.input_check) {
    // The app's input schema: a payload that does not match is refused now, not as a failed execution.
    if (call.payload.size() > check->max_bytes()) {
      return InvalidArgument(fmt::format("the payload is larger than the {} bytes an app with an input schema "
                                         "accepts",
                                         check->max_bytes()));
    }
    IGNITE_RETURN_IF_ERROR(check->Check(call.payload));
  }
  call.check_input = false;
  const uint64_t payload_bytes = call.payload.size();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queued_ >= options_.max_queued || queued_bytes_ + payload_bytes > options_.max_queued_payload_bytes) {
      return ResourceExhausted(fmt::format(
          "{} asynchronous executions are already waiting to run; try again later", queued_));
    }
    ++queued_;
    queued_bytes_ += payload_bytes;
  }
  const int64_t now = clock_->NowUnixMs();
  store::ExecutionRecord record;
  record.id = NewUlid(now);
  record.org_id = p.org_id;
  record.app_id = app_id;
  record.version = route->second.version;
  record.status = pb::EXECUTION_STATUS_PENDING;
  record.created_at_ms = now;
  PreassignExecutionId(call, record.id);
  recorder_->Begin(record);

  pb::InvokeAsyncResponse resp;
  resp.set_execution_id(record.id);
  boost::asio::post(pool_, [this, p, org, app, call = std::move(call), record = std::move(record)]() mutable {
    Run(p, org, app, std::move(call), std::move(record));
  });
  return resp;
}

void AsyncInvoker::Run(const Principal& p, const std::string& org, const std::string& app, gateway::InvokeCall call,
                       store::ExecutionRecord record) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    --queued_;
    queued_bytes_ -= call.payload.size();
  }
  if (stopping_) {
    record.status = pb::EXECUTION_STATUS_FAILED;
    record.error = "ignited stopped before this execution started; invoke the app again";
    record.finished_at_ms = clock_->NowUnixMs();
    recorder_->Finish(std::move(record));
    return;
  }
  record.status = pb::EXECUTION_STATUS_RUNNING;
  record.started_at_ms = clock_->NowUnixMs();
  recorder_->Update(record);

  std::string output;
  bool overflowed = false;
  gateway::InvokeSink sink;
  sink.on_head = [](const gateway::InvokeResult&) {};
  sink.on_body = [&](std::string_view data) {
    if (output.size() + data.size() > options_.max_output_bytes) {
      overflowed = true;
      return false;  // abandons the call: the instance is not read further
    }
    output.append(data);
    return true;
  };
  Result<gateway::InvokeResult> result = Internal("the invocation did not run");
  try {
    result = compute_->Invoke(p, org, app, std::move(call), &sink);
  } catch (const std::exception& e) {
    result = Internal(fmt::format("the invocation failed: {}", e.what()));
  }
  recorder_->Finish(FinishedRecord(std::move(record), result, std::move(output), overflowed, clock_->NowUnixMs()));
}

Result<store::ExecutionRecord> AsyncInvoker::Load(const Principal& p, const std::string& id) {
  auto rec = recorder_->Get(id);
  if ((!rec.ok() && rec.status().code() == StatusCode::kNotFound) || (rec.ok() && rec->org_id != p.org_id)) {
    // Another org's execution looks exactly like a missing one.
    return NotFound(fmt::format("execution {} does not exist (records are kept for 7 days)", id));
  }
  return rec;
}

Result<pb::GetExecutionResponse> AsyncInvoker::GetExecution(const Principal& p, const pb::GetExecutionRequest& req) {
  IGNITE_ASSIGN_OR_RETURN(store::ExecutionRecord rec, Load(p, req.execution_id()));
  pb::GetExecutionResponse resp;
  *resp.mutable_execution() = ToExecution(rec);
  return resp;
}

Result<bool> AsyncInvoker::WatchExecution(const Principal& p, const pb::WatchExecutionRequest& req,
                                          std::function<bool(const pb::Execution&)> send) {
  IGNITE_RETURN_IF_ERROR(Load(p, req.execution_id()).status());
  // Only status changes are sent: the recorder may repeat a state.
  auto last_status = std::make_shared<int>(-1);
  return recorder_->Watch(req.execution_id(), [send = std::move(send), last_status](const store::ExecutionRecord& r) {
    if (r.status == *last_status) return true;
    *last_status = r.status;
    return send(ToExecution(r));
  });
}

void RegisterAsyncRoutes(http::Router* router, AsyncInvoker* invoker, Authenticator* auth,
                         boost::asio::thread_pool* pool) {
  router->Add("POST", "/v1/ignite/app/{organization_name}/{app_name}/invoke-async",
              [=](std::shared_ptr<http::Request> req, http::Responder respond) {
    boost::asio::post(*pool, [=, req = std::move(req), respond = std::move(respond)] {
      auto run = [&]() -> Result<pb::InvokeAsyncResponse> {
        IGNITE_ASSIGN_OR_RETURN(Principal p, auth->Authenticate(req->Header("authorization")));
        IGNITE_RETURN_IF_ERROR(CheckRole(p, "InvokeAsync"));
        const std::string& org = req->params.at("organization_name");
        const std::string& app = req->params.at("app_name");
        IGNITE_RETURN_IF_ERROR(ValidateOrgName(org));
        IGNITE_RETURN_IF_ERROR(ValidateAppName(app));
        gateway::InvokeCall call;
        call.payload = std::move(req->raw.body());
        for (const auto& f : req->raw) call.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
        return invoker->InvokeAsync(p, org, app, std::move(call));
      };
      auto result = run();
      if (!result.ok()) return respond(http::ErrorResponse(result.status()));
      http::Response out = JsonResponse(*result);
      out.headers.emplace_back("x-ignite-execution-id", result->execution_id());
      respond(std::move(out));
    });
  }, "InvokeAsync", [invoker](const http::Request& head, std::function<void(Result<http::BodyLimit>)> done) {
    // The route's limit, from memory (no SQL): an unpublished app is refused later, whatever its body.
    auto limit = invoker->BodyLimitOf(head.params.at("organization_name") + "/" + head.params.at("app_name"));
    done(http::BodyLimit{limit.bytes, std::move(limit.message)});
  });

  router->Add("GET", "/v1/ignite/executions/{execution_id}",
              [=](std::shared_ptr<http::Request> req, http::Responder respond) {
    boost::asio::post(*pool, [=, req = std::move(req), respond = std::move(respond)] {
      auto run = [&]() -> Result<pb::GetExecutionResponse> {
        IGNITE_ASSIGN_OR_RETURN(Principal p, auth->Authenticate(req->Header("authorization")));
        IGNITE_RETURN_IF_ERROR(CheckRole(p, "GetExecution"));
        pb::GetExecutionRequest msg;
        IGNITE_RETURN_IF_ERROR(SetFields(req->params, &msg));
        return invoker->GetExecution(p, msg);
      };
      auto result = run();
      respond(result.ok() ? JsonResponse(*result) : http::ErrorResponse(result.status()));
    });
  }, "GetExecution");

  router->Add("GET", "/v1/ignite/executions/{execution_id}/watch",
              [=](std::shared_ptr<http::Request> req, http::Responder respond) {
    boost::asio::post(*pool, [=, req = std::move(req), respond = std::move(respond)] {
      // Shared with the recorder's later calls (other threads; never two at once).
      struct Watch {
        http::Responder respond;
        std::shared_ptr<http::BodyStream> body;
      };
      auto watch = std::make_shared<Watch>();
      watch->respond = respond;
      auto send = [watch](const pb::Execution& e) {
        if (!watch->body) {
          // Headers go out with the first state, so errors found before it get a proper HTTP status. Room
          // for every frame of an execution (a few, one with up to 6 MiB of output), so Push never waits.
          watch->body = std::make_shared<http::BodyStream>(64u << 20);
          http::Response r;
          r.content_type = kNdjsonContentType;
          r.stream = watch->body;
          watch->respond(std::move(r));
        }
        bool open = watch->body->Push(ResultFrame(e));
        if (IsTerminalExecutionStatus(e.status())) watch->body->Close();
        return open;
      };
      auto run = [&]() -> Result<bool> {
        IGNITE_ASSIGN_OR_RETURN(Principal p, auth->Authenticate(req->Header("authorization")));
        IGNITE_RETURN_IF_ERROR(CheckRole(p, "WatchExecution"));
        pb::WatchExecutionRequest msg;
        IGNITE_RETURN_IF_ERROR(SetFields(req->params, &msg));
        return invoker->WatchExecution(p, msg, send);
      };
      auto more = run();
      if (!more.ok()) {
        if (!watch->body) return respond(http::ErrorResponse(more.status()));
        watch->body->Push(ErrorFrame(more.status()));
        watch->body->Close();
      } else if (!*more && watch->body) {
        watch->body->Close();  // the state sent was the last there will be
      }
    });
  }, "WatchExecution");
}

}  // namespace ignite::api
