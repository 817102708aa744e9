#include "api/http_api.h"

#include <boost/asio/post.hpp>

#include <fmt/format.h>

#include "api/access.h"
#include "api/app_config.h"
#include "api/invoke_frames.h"
#include "api/on_loop.h"
#include "api/roles.h"
#include "api/proto_json.h"
#include "api/unary_route.h"
#include "common/names.h"
#include "http/server.h"

namespace ignite::api {

HttpApi::HttpApi(ComputeService* service, Authenticator* auth, boost::asio::thread_pool* pool)
    : service_(service), auth_(auth), pool_(pool) {}

template <typename Svc, typename Req, typename Resp>
void HttpApi::Unary(http::Router* router, const char* method, const char* pattern, const char* name,
                    Result<Resp> (Svc::*fn)(const Principal&, const Req&)) {
  UnaryWith<Req, Resp>(router, method, pattern, name,
                       [this, fn](const Principal& p, const Req& msg, const http::Request&) {
                         return (service_->*fn)(p, msg);
                       });
}

template <typename Req, typename Resp>
void HttpApi::UnaryWith(http::Router* router, const char* method, const char* pattern, const char* name,
                        std::function<Result<Resp>(const Principal&, const Req&, const http::Request&)> fn) {
  AddUnaryRoute<Req, Resp>(router, pool_, auth_, method, pattern, name, std::move(fn));
}

void HttpApi::InvokeLike(http::Router* router, const char* pattern, const char* name, InvokeFn fn) {
  router->Add("POST", pattern, [this, fn, name](std::shared_ptr<http::Request> req, http::Responder respond) {
    boost::asio::post(*pool_, [this, fn, name, req = std::move(req), respond = std::move(respond)] {
      // Frames go out as the instance answers: the head when its status line arrives, then each body chunk.
      std::shared_ptr<http::BodyStream> body;
      const std::string function_id = req->params.at("organization_name") + "/" + req->params.at("app_name");
      gateway::InvokeSink sink;
      sink.on_head = [&](const gateway::InvokeResult& r) {
        body = std::make_shared<http::BodyStream>(4 << 20);
        http::Response out;
        out.content_type = kNdjsonContentType;
        out.headers.emplace_back("x-ignite-execution-id", r.execution_id);
        out.stream = body;
        respond(std::move(out));
        body->Push(HeadFrame(r, function_id));
      };
      sink.on_body = [&](std::string_view data) {
        return body->Push(ChunkFrame(data));
      };
      auto run = [&]() -> Result<gateway::InvokeResult> {
        IGNITE_ASSIGN_OR_RETURN(Principal p, auth_->Authenticate(req->Header("authorization")));
        IGNITE_RETURN_IF_ERROR(CheckRole(p, name));
        IGNITE_RETURN_IF_ERROR(ValidatePathNames(req->params));
        gateway::InvokeCall call;
        call.payload = std::move(req->raw.body());
        for (const auto& f : req->raw) call.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
        return fn(p, *req, std::move(call), &sink);
      };
      auto result = run();
      if (!body) {
        // Nothing was sent yet, so the failure can still be an ordinary HTTP error.
        return respond(http::ErrorResponse(result.ok() ? Internal("the invocation produced no answer")
                                                       : result.status()));
      }
      if (!result.ok()) {
        body->Push(ErrorFrame(result.status()));
      } else {
        body->Push(TrailerFrame(*result));
      }
      body->Close();
    });
  }, name, [this, name](const http::Request& head, std::function<void(Result<http::BodyLimit>)> done) {
    // The app's own limit, read before the body is (so an oversized test upload is refused before it is
    // sent); the caller is authenticated first, so only those who may run the test learn the limit.
    boost::asio::post(*pool_, [this, name, authorization = head.Header("authorization"), params = head.params,
                               done = std::move(done)] {
      auto limit = [&]() -> Result<http::BodyLimit> {
        IGNITE_ASSIGN_OR_RETURN(Principal p, auth_->Authenticate(authorization));
        IGNITE_RETURN_IF_ERROR(CheckRole(p, name));
        IGNITE_RETURN_IF_ERROR(ValidatePathNames(params));
        IGNITE_ASSIGN_OR_RETURN(auto l, service_->BodyLimitOf(p, params.at("organization_name"), params.at("app_name")));
        return http::BodyLimit{l.bytes, std::move(l.message)};
      };
      done(limit());
    });
  });
}

// The hot path, all on the connection's event loop: the request body streams to the instance as the client
// sends it, and frames go out as the instance answers (the head when its status line arrives, then each body
// piece, then the trailer). Only an uncached token or the not-routed error path visit the pool.
void HttpApi::Invoke(std::shared_ptr<http::Request> req, std::shared_ptr<http::Exchange> ex) {
  auto executor = ex->executor();
  AuthenticateOnLoop(auth_, pool_, executor, req->Header("authorization"), [this, req, ex](Result<Principal> p) {
    if (!p.ok()) return ex->Respond(http::ErrorResponse(p.status()));
    Status st = CheckRole(*p, "Invoke");
    if (st.ok()) st = ValidatePathNames(req->params);
    const std::string& org = req->params.at("organization_name");
    const std::string& app = req->params.at("app_name");
    if (st.ok()) st = CheckInvokeAccess(*p, org, app);
    if (!st.ok()) return ex->Respond(http::ErrorResponse(st));
    gateway::InvokeCall call;
    call.app_id = org + "/" + app;
    for (const auto& f : req->raw) call.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    gateway::StreamSink sink;
    sink.on_head = [ex, function_id = call.app_id](const gateway::InvokeResult& r) {
      http::Response out;
      out.content_type = kNdjsonContentType;
      out.headers.emplace_back("x-ignite-execution-id", r.execution_id);
      ex->StartStream(out);
      ex->Send(HeadFrame(r, function_id));
    };
    sink.on_body = [ex](std::string_view data, std::function<void(bool)> next) {
      ex->Send(ChunkFrame(data));
      ex->WhenWritable(std::move(next));
    };
    sink.on_done = [this, ex, principal = *p, org, app](Result<gateway::InvokeResult> r) {
      if (!r.ok()) {
        // Nothing was sent yet, so the failure is an ordinary HTTP error.
        if (r.status().code() != StatusCode::kFailedPrecondition) return ex->Respond(http::ErrorResponse(r.status()));
        auto executor = ex->executor();
        boost::asio::post(*pool_, [this, ex, executor, principal, org, app, st = r.status()] {
          Status why = service_->WhyNotRouted(principal, org, app, st);
          boost::asio::post(executor, [ex, why] { ex->Respond(http::ErrorResponse(why)); });
        });
        return;
      }
      ex->Send(TrailerFrame(*r));
      ex->End(true);
    };
    service_->invoker()->Start(ex->executor(), std::move(call), std::make_shared<ExchangeBody>(ex), std::move(sink));
  });
}

// Holds a pool thread for as long as the caller follows; a blank line every ~15 s keeps proxies from
// closing a quiet stream and lets us notice a caller that went away.
template <typename Svc, typename Req, typename Item>
void HttpApi::Follow(const char* name, std::shared_ptr<http::Request> req, http::Responder respond,
                     Status (Svc::*fn)(const Principal&, const Req&,
                                                  const std::function<bool(const Item*)>&)) {
  boost::asio::post(*pool_, [this, name, fn, req = std::move(req), respond = std::move(respond)] {
    std::shared_ptr<http::BodyStream> body;
    int idle_ticks = 0;
    auto send = [&](const Item* item) {
      if (!body) {
        body = std::make_shared<http::BodyStream>();
        http::Response r;
        r.content_type = kNdjsonContentType;
        r.stream = body;
        respond(std::move(r));
      }
      if (item) return body->Push(ResultFrame(*item));
      if (++idle_ticks % 15 == 0) return body->Push("\n");
      return !body->aborted();
    };
    auto run = [&]() -> Status {
      IGNITE_ASSIGN_OR_RETURN(Principal p, auth_->Authenticate(req->Header("authorization")));
      IGNITE_RETURN_IF_ERROR(CheckRole(p, name));
      Req msg;
      IGNITE_RETURN_IF_ERROR(SetFields(req->query, &msg));
      IGNITE_RETURN_IF_ERROR(ValidatePathNames(req->params));
      IGNITE_RETURN_IF_ERROR(SetFields(req->params, &msg));
      return (service_->*fn)(p, msg, send);
    };
    Status st = run();
    if (!body) return respond(http::ErrorResponse(st));
    if (!st.ok()) body->Push(ErrorFrame(st));
    body->Close();
  });
}

void HttpApi::StreamCompileLogs(std::shared_ptr<http::Request> req, http::Responder respond) {
  boost::asio::post(*pool_, [this, req = std::move(req), respond = std::move(respond)] {
    std::shared_ptr<http::BodyStream> body;
    auto send = [&](const pb::CompileLogEntry& e) {
      if (!body) {
        // Headers go out with the first entry, so errors found before it get a proper HTTP status.
        body = std::make_shared<http::BodyStream>();
        http::Response r;
        r.content_type = kNdjsonContentType;
        r.stream = body;
        respond(std::move(r));
      }
      return body->Push(ResultFrame(e));
    };
    auto run = [&]() -> Status {
      IGNITE_ASSIGN_OR_RETURN(Principal p, auth_->Authenticate(req->Header("authorization")));
      IGNITE_RETURN_IF_ERROR(CheckRole(p, "StreamCompileLogs"));
      pb::StreamCompileLogsRequest msg;
      IGNITE_RETURN_IF_ERROR(SetFields(req->params, &msg));
      return service_->StreamCompileLogs(p, msg, send);
    };
    Status st = run();
    if (!body) return respond(http::ErrorResponse(st));
    if (!st.ok()) {
      body->Push(ErrorFrame(st));
    }
    body->Close();
  });
}

void HttpApi::Register(http::Router* router) {
  using S = ComputeService;
  // More specific patterns first: the router takes the first match.
  Unary(router, "POST", "/v1/ignite/app/{organization_name}/{app_name}/draft/publish", "PublishDraft", &S::PublishDraft);
  Unary(router, "POST", "/v1/ignite/app/{organization_name}/{app_name}/draft", "SaveDraft", &S::SaveDraft);
  Unary(router, "GET", "/v1/ignite/app/{organization_name}/{app_name}/draft", "GetDraftInfo", &S::GetDraftInfo);
  Unary(router, "GET", "/v1/ignite/app/{organization_name}/{app_name}/versions/{version}", "GetAppVersion",
        &S::GetAppVersion);
  Unary(router, "GET", "/v1/ignite/app/{organization_name}/{app_name}/versions", "ListAppVersions",
        &S::ListAppVersions);
  Unary(router, "POST", "/v1/ignite/app/{organization_name}/{app_name}/rollback", "RollbackApp", &S::RollbackApp);
  router->AddStream("POST", "/v1/ignite/app/{organization_name}/{app_name}/invoke",
                    [this](std::shared_ptr<http::Request> req, std::shared_ptr<http::Exchange> ex) {
                      Invoke(std::move(req), std::move(ex));
                    }, "Invoke");
  InvokeLike(router, "/v1/ignite/app/{organization_name}/{app_name}/draft/test", "TestDraft",
             [this](const Principal& p, const http::Request& req, gateway::InvokeCall call,
                    const gateway::InvokeSink* sink) {
               return service_->TestDraft(p, req.params.at("organization_name"), req.params.at("app_name"),
                                          std::move(call), sink);
             });
  InvokeLike(router, "/v1/ignite/app/{organization_name}/{app_name}/versions/{version}/test", "TestAppVersion",
             [this](const Principal& p, const http::Request& req, gateway::InvokeCall call,
                    const gateway::InvokeSink* sink) -> Result<gateway::InvokeResult> {
               pb::TestAppVersionRequest msg;
               IGNITE_RETURN_IF_ERROR(SetFields(req.params, &msg));
               return service_->TestAppVersion(p, msg.organization_name(), msg.app_name(), msg.version(),
                                               std::move(call), sink);
             });
  Unary(router, "POST", "/v1/ignite/app/{organization_name}/{app_name}/draft/compile", "CompileDraft",
        &S::CompileDraft);
  Unary(router, "GET", "/v1/ignite/app/{organization_name}/{app_name}/code/versions/{version}", "GetAppCode",
        &S::GetAppCode);
  Unary(router, "GET", "/v1/ignite/app/{organization_name}/{app_name}/builds/{build_id}/log", "GetBuildLog",
        &S::GetBuildLog);
  Unary(router, "GET", "/v1/ignite/app/{organization_name}/{app_name}/logs", "GetAppLogs", &S::GetAppLogs);
  router->Add("GET", "/v1/ignite/app/{organization_name}/{app_name}/logs/stream",
              [this](std::shared_ptr<http::Request> req, http::Responder respond) {
                Follow("StreamAppLogs", std::move(req), std::move(respond), &ComputeService::StreamAppLogs);
              }, "StreamAppLogs");
  Unary(router, "GET", "/v1/ignite/app/{organization_name}/{app_name}/events", "GetAppEvents", &S::GetAppEvents);
  router->Add("GET", "/v1/ignite/app/{organization_name}/{app_name}/events/stream",
              [this](std::shared_ptr<http::Request> req, http::Responder respond) {
                Follow("StreamAppEvents", std::move(req), std::move(respond), &ComputeService::StreamAppEvents);
              }, "StreamAppEvents");
  Unary(router, "GET", "/v1/ignite/app/{organization_name}/{app_name}/stats/executions", "GetExecutionStats",
        &S::GetExecutionStats);
  UnaryWith<pb::UpdateAppConfigRequest, pb::UpdateAppConfigResponse>(
      router, "PATCH", "/v1/ignite/app/{organization_name}/{app_name}/config", "UpdateAppConfig",
      [this](const Principal& p, const pb::UpdateAppConfigRequest& msg, const http::Request& req)
          -> Result<pb::UpdateAppConfigResponse> {
        // The body was parsed into `msg` already; its update_mask, or else its keys, say which fields to replace.
        IGNITE_ASSIGN_OR_RETURN(auto fields, msg.update_mask().paths_size() > 0 ? ConfigFieldsInMask(msg.update_mask())
                                                                                 : ConfigFieldsInBody(req.raw.body()));
        return service_->UpdateAppConfig(p, msg, fields);
      });
  Unary(router, "GET", "/v1/ignite/app/{organization_name}/{app_name}/state", "GetAppState", &S::GetAppState);
  Unary(router, "GET", "/v1/ignite/app/{organization_name}/{app_name}/replicas", "ListAppReplicas",
        &S::ListAppReplicas);
  Unary(router, "POST", "/v1/ignite/compile/{deploy_id}/cancel", "CancelCompile", &S::CancelCompile);
  router->Add("GET", "/v1/ignite/compile/{deploy_id}/logs",
              [this](std::shared_ptr<http::Request> req, http::Responder respond) {
                StreamCompileLogs(std::move(req), std::move(respond));
              }, "StreamCompileLogs");
  Unary(router, "GET", "/v1/ignite/app/{organization_name}/{app_name}", "GetApp", &S::GetApp);
  Unary(router, "DELETE", "/v1/ignite/app/{organization_name}/{app_name}", "DeleteApp", &S::DeleteApp);
  Unary(router, "POST", "/v1/ignite/app/{organization_name}", "CreateApp", &S::CreateApp);
  Unary(router, "GET", "/v1/ignite/app/{organization_name}", "ListApps", &S::ListApps);
  router->Add("GET", "/v1/ignite/health", [this](std::shared_ptr<http::Request>, http::Responder respond) {
    respond(JsonResponse(service_->HealthCheck()));
  }, "HealthCheck");
}

}  // namespace ignite::api
