#include "api/grpc_api.h"

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>

#include <fmt/format.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>

#include "api/app_config.h"
#include "api/executions.h"
#include "api/proto_json.h"
#include "api/roles.h"
#include "common/names.h"
#include "dodil/ignite/v1/ignite_auth.grpc.pb.h"
#include "dodil/ignite/v1/ignite_secret.grpc.pb.h"
#include "dodil/ignite/v1/ignite_compute.grpc.pb.h"

namespace ignite::api {
namespace {

grpc::Status ToGrpc(const Status& st) {
  if (st.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(st.code()), std::string(st.message()));
}

// The organization_name / app_name of any request that has them, checked as HTTP checks its path.
Status ValidateNames(const google::protobuf::Message& req) {
  const auto* d = req.GetDescriptor();
  const auto* r = req.GetReflection();
  if (const auto* f = d->FindFieldByName("organization_name")) {
    IGNITE_RETURN_IF_ERROR(ValidateOrgName(r->GetString(req, f)));
  }
  if (const auto* f = d->FindFieldByName("app_name")) {
    IGNITE_RETURN_IF_ERROR(ValidateAppName(r->GetString(req, f)));
  }
  return OkStatus();
}

template <typename Map>
gateway::Headers ToHeaders(const Map& headers) {
  gateway::Headers out;
  for (const auto& [k, v] : headers) out.emplace_back(k, v);
  return out;
}

// Identity, then role, then the names: an unauthenticated or unauthorized caller learns nothing about the
// request's validity.
Result<Principal> Authorize(Authenticator* auth, grpc::ServerContext* c, std::string_view rpc,
                            const google::protobuf::Message& req) {
  std::string_view header;
  const auto& md = c->client_metadata();
  if (auto it = md.find("authorization"); it != md.end()) header = std::string_view(it->second.data(), it->second.size());
  IGNITE_ASSIGN_OR_RETURN(Principal p, auth->Authenticate(header));
  IGNITE_RETURN_IF_ERROR(CheckRole(p, rpc));
  IGNITE_RETURN_IF_ERROR(ValidateNames(req));
  return p;
}

template <typename Req, typename Resp, typename Fn>
grpc::Status Answer(Authenticator* auth, grpc::ServerContext* c, std::string_view rpc, const Req& req, Resp* out,
                    Fn fn) {
  auto p = Authorize(auth, c, rpc, req);
  if (!p.ok()) return ToGrpc(p.status());
  Result<Resp> result = fn(*p, req);
  if (!result.ok()) return ToGrpc(result.status());
  *out = std::move(*result);
  return grpc::Status::OK;
}

}  // namespace

class GrpcApi::AuthRpcs final : public pb::AuthService::Service {
 public:
  AuthRpcs(AuthService* accounts, Authenticator* auth) : accounts_(accounts), auth_(auth) {}

  grpc::Status CreateServiceAccount(grpc::ServerContext* c, const pb::CreateServiceAccountRequest* r,
                                    pb::CreateServiceAccountResponse* o) override {
    return Answer(auth_, c, "CreateServiceAccount", *r, o, [this](const Principal& p, const auto& req) {
      return accounts_->CreateServiceAccount(p, req);
    });
  }
  grpc::Status ListServiceAccounts(grpc::ServerContext* c, const pb::ListServiceAccountsRequest* r,
                                   pb::ListServiceAccountsResponse* o) override {
    return Answer(auth_, c, "ListServiceAccounts", *r, o, [this](const Principal& p, const auto& req) {
      return accounts_->ListServiceAccounts(p, req);
    });
  }
  grpc::Status DeleteServiceAccount(grpc::ServerContext* c, const pb::DeleteServiceAccountRequest* r,
                                    pb::DeleteServiceAccountResponse* o) override {
    return Answer(auth_, c, "DeleteServiceAccount", *r, o, [this](const Principal& p, const auto& req) {
      return accounts_->DeleteServiceAccount(p, req);
    });
  }
  grpc::Status WhoAmI(grpc::ServerContext* c, const pb::WhoAmIRequest* r, pb::WhoAmIResponse* o) override {
    return Answer(auth_, c, "WhoAmI", *r, o,
                  [this](const Principal& p, const auto& req) { return accounts_->WhoAmI(p, req); });
  }
  grpc::Status IssueToken(grpc::ServerContext*, const pb::IssueTokenRequest* r, pb::IssueTokenResponse* o) override {
    // No bearer: the id and secret are the credentials.
    auto result = accounts_->IssueToken(*r);
    if (!result.ok()) return ToGrpc(result.status());
    *o = std::move(*result);
    return grpc::Status::OK;
  }

 private:
  AuthService* accounts_;
  Authenticator* auth_;
};

class GrpcApi::Service final : public pb::ComputeService::Service {
 public:
  Service(ComputeService* service, AsyncInvoker* async, Authenticator* auth)
      : service_(service), async_(async), auth_(auth) {}

  grpc::Status CreateApp(grpc::ServerContext* c, const pb::CreateAppRequest* r, pb::CreateAppResponse* o) override {
    return Unary(c, "CreateApp", *r, o, &ComputeService::CreateApp);
  }
  grpc::Status GetApp(grpc::ServerContext* c, const pb::GetAppRequest* r, pb::GetAppResponse* o) override {
    return Unary(c, "GetApp", *r, o, &ComputeService::GetApp);
  }
  grpc::Status ListApps(grpc::ServerContext* c, const pb::ListAppsRequest* r, pb::ListAppsResponse* o) override {
    return Unary(c, "ListApps", *r, o, &ComputeService::ListApps);
  }
  grpc::Status DeleteApp(grpc::ServerContext* c, const pb::DeleteAppRequest* r, pb::DeleteAppResponse* o) override {
    return Unary(c, "DeleteApp", *r, o, &ComputeService::DeleteApp);
  }
  grpc::Status SaveDraft(grpc::ServerContext* c, const pb::SaveDraftRequest* r, pb::SaveDraftResponse* o) override {
    return Unary(c, "SaveDraft", *r, o, &ComputeService::SaveDraft);
  }
  grpc::Status GetDraftInfo(grpc::ServerContext* c, const pb::GetDraftInfoRequest* r,
                            pb::GetDraftInfoResponse* o) override {
    return Unary(c, "GetDraftInfo", *r, o, &ComputeService::GetDraftInfo);
  }
  grpc::Status PublishDraft(grpc::ServerContext* c, const pb::PublishDraftRequest* r,
                            pb::PublishDraftResponse* o) override {
    return Unary(c, "PublishDraft", *r, o, &ComputeService::PublishDraft);
  }
  grpc::Status ListAppVersions(grpc::ServerContext* c, const pb::ListAppVersionsRequest* r,
                               pb::ListAppVersionsResponse* o) override {
    return Unary(c, "ListAppVersions", *r, o, &ComputeService::ListAppVersions);
  }
  grpc::Status GetAppVersion(grpc::ServerContext* c, const pb::GetAppVersionRequest* r,
                             pb::GetAppVersionResponse* o) override {
    return Unary(c, "GetAppVersion", *r, o, &ComputeService::GetAppVersion);
  }
  grpc::Status RollbackApp(grpc::ServerContext* c, const pb::RollbackAppRequest* r,
                           pb::RollbackAppResponse* o) override {
    return Unary(c, "RollbackApp", *r, o, &ComputeService::RollbackApp);
  }
  grpc::Status CompileDraft(grpc::ServerContext* c, const pb::CompileDraftRequest* r,
                            pb::CompileDraftResponse* o) override {
    return Unary(c, "CompileDraft", *r, o, &ComputeService::CompileDraft);
  }
  grpc::Status CancelCompile(grpc::ServerContext* c, const pb::CancelCompileRequest* r,
                             pb::CancelCompileResponse* o) override {
    return Unary(c, "CancelCompile", *r, o, &ComputeService::CancelCompile);
  }
  grpc::Status GetAppCode(grpc::ServerContext* c, const pb::GetAppCodeRequest* r, pb::GetAppCodeResponse* o) override {
    return Unary(c, "GetAppCode", *r, o, &ComputeService::GetAppCode);
  }
  grpc::Status GetBuildLog(grpc::ServerContext* c, const pb::GetBuildLogRequest* r,
                           pb::GetBuildLogResponse* o) override {
    return Unary(c, "GetBuildLog", *r, o, &ComputeService::GetBuildLog);
  }
  grpc::Status GetAppState(grpc::ServerContext* c, const pb::GetAppStateRequest* r,
                           pb::GetAppStateResponse* o) override {
    return Unary(c, "GetAppState", *r, o, &ComputeService::GetAppState);
  }
  grpc::Status ListAppReplicas(grpc::ServerContext* c, const pb::ListAppReplicasRequest* r,
                               pb::ListAppReplicasResponse* o) override {
    return Unary(c, "ListAppReplicas", *r, o, &ComputeService::ListAppReplicas);
  }
  grpc::Status GetAppLogs(grpc::ServerContext* c, const pb::GetAppLogsRequest* r, pb::GetAppLogsResponse* o) override {
    return Unary(c, "GetAppLogs", *r, o, &ComputeService::GetAppLogs);
  }
  grpc::Status GetExecutionStats(grpc::ServerContext* c, const pb::GetExecutionStatsRequest* r,
                                 pb::GetExecutionStatsResponse* o) override {
    return Unary(c, "GetExecutionStats", *r, o, &ComputeService::GetExecutionStats);
  }
  grpc::Status GetAppEvents(grpc::ServerContext* c, const pb::GetAppEventsRequest* r,
                            pb::GetAppEventsResponse* o) override {
    return Unary(c, "GetAppEvents", *r, o, &ComputeService::GetAppEvents);
  }
  grpc::Status UpdateAppConfig(grpc::ServerContext* c, const pb::UpdateAppConfigRequest* r,
                               pb::UpdateAppConfigResponse* o) override {
    return UnaryWith<pb::UpdateAppConfigRequest, pb::UpdateAppConfigResponse>(
        c, "UpdateAppConfig", *r, o, [this](const Principal& p,
                                         const pb::UpdateAppConfigRequest& req) -> Result<pb::UpdateAppConfigResponse> {
          // Without a mask, the fields set to a non-default value (the JSON mapping omits the others).
          IGNITE_ASSIGN_OR_RETURN(auto fields, req.update_mask().paths_size() > 0
                                                   ? ConfigFieldsInMask(req.update_mask())
                                                   : ConfigFieldsInBody(MessageToJson(req)));
          return service_->UpdateAppConfig(p, req, fields);
        });
  }
  grpc::Status HealthCheck(grpc::ServerContext*, const pb::HealthCheckRequest*, pb::HealthCheckResponse* o) override {
    *o = service_->HealthCheck();  // no token needed, as over HTTP
    return grpc::Status::OK;
  }
  grpc::Status InvokeAsync(grpc::ServerContext* c, const pb::InvokeAsyncRequest* r,
                           pb::InvokeAsyncResponse* o) override {
    return UnaryWith<pb::InvokeAsyncRequest, pb::InvokeAsyncResponse>(
        c, "InvokeAsync", *r, o, [this](const Principal& p, const pb::InvokeAsyncRequest& req) {
          gateway::InvokeCall call;
          call.payload = req.payload();
          call.headers = ToHeaders(req.headers());
          return async_->InvokeAsync(p, req.organization_name(), req.app_name(), std::move(call));
        });
  }
  grpc::Status GetExecution(grpc::ServerContext* c, const pb::GetExecutionRequest* r,
                            pb::GetExecutionResponse* o) override {
    return UnaryWith<pb::GetExecutionRequest, pb::GetExecutionResponse>(
        c, "GetExecution", *r, o,
        [this](const Principal& p, const pb::GetExecutionRequest& req) { return async_->GetExecution(p, req); });
  }

  grpc::Status Invoke(grpc::ServerContext* c, const pb::InvokeRequest* r,
                      grpc::ServerWriter<pb::InvokeResponse>* w) override {
    return InvokeLike(c, "Invoke", *r, w, [this](const Principal& p, gateway::InvokeCall call,
                                                  const gateway::InvokeSink* sink, const pb::InvokeRequest& req) {
      return service_->Invoke(p, req.organization_name(), req.app_name(), std::move(call), sink);
    });
  }
  grpc::Status TestDraft(grpc::ServerContext* c, const pb::TestDraftRequest* r,
                         grpc::ServerWriter<pb::InvokeResponse>* w) override {
    return InvokeLike(c, "TestDraft", *r, w, [this](const Principal& p, gateway::InvokeCall call,
                                                     const gateway::InvokeSink* sink, const pb::TestDraftRequest& req) {
      return service_->TestDraft(p, req.organization_name(), req.app_name(), std::move(call), sink);
    });
  }
  grpc::Status TestAppVersion(grpc::ServerContext* c, const pb::TestAppVersionRequest* r,
                              grpc::ServerWriter<pb::InvokeResponse>* w) override {
    return InvokeLike(c, "TestAppVersion", *r, w,
                      [this](const Principal& p, gateway::InvokeCall call, const gateway::InvokeSink* sink,
                             const pb::TestAppVersionRequest& req) {
                        return service_->TestAppVersion(p, req.organization_name(), req.app_name(), req.version(),
                                                        std::move(call), sink);
                      });
  }

  grpc::Status StreamCompileLogs(grpc::ServerContext* c, const pb::StreamCompileLogsRequest* r,
                                 grpc::ServerWriter<pb::CompileLogEntry>* w) override {
    auto p = Authorize(c, "StreamCompileLogs", *r);
    if (!p.ok()) return ToGrpc(p.status());
    return ToGrpc(service_->StreamCompileLogs(*p, *r, [w](const pb::CompileLogEntry& e) { return w->Write(e); }));
  }
  grpc::Status StreamAppLogs(grpc::ServerContext* c, const pb::StreamAppLogsRequest* r,
                             grpc::ServerWriter<pb::LogLine>* w) override {
    auto p = Authorize(c, "StreamAppLogs", *r);
    if (!p.ok()) return ToGrpc(p.status());
    // Idle ticks (nullptr) only check that the caller is still there.
    return ToGrpc(service_->StreamAppLogs(*p, *r, [c, w](const pb::LogLine* line) {
      return line ? w->Write(*line) : !c->IsCancelled();
    }));
  }
  grpc::Status StreamAppEvents(grpc::ServerContext* c, const pb::StreamAppEventsRequest* r,
                               grpc::ServerWriter<pb::AppEvent>* w) override {
    auto p = Authorize(c, "StreamAppEvents", *r);
    if (!p.ok()) return ToGrpc(p.status());
    return ToGrpc(service_->StreamAppEvents(*p, *r, [c, w](const pb::AppEvent* event) {
      return event ? w->Write(*event) : !c->IsCancelled();
    }));
  }
  grpc::Status WatchExecution(grpc::ServerContext* c, const pb::WatchExecutionRequest* r,
                              grpc::ServerWriter<pb::Execution>* w) override {
    auto p = Authorize(c, "WatchExecution", *r);
    if (!p.ok()) return ToGrpc(p.status());
    // The recorder calls `send` from whichever thread changes the execution, and it must not block: states go
    // through a queue that this thread drains into the stream.
    struct Queue {
      std::mutex mu;
      std::condition_variable cv;
      std::deque<pb::Execution> states;  // guarded by mu
      bool last_queued = false;          // guarded by mu
      bool gone = false;                 // guarded by mu
    };
    auto q = std::make_shared<Queue>();
    auto more = async_->WatchExecution(*p, *r, [q](const pb::Execution& e) {
      std::lock_guard lock(q->mu);
      if (q->gone) return false;
      q->states.push_back(e);
      if (IsTerminalExecutionStatus(e.status())) q->last_queued = true;
      q->cv.notify_one();
      return true;
    });
    if (!more.ok()) return ToGrpc(more.status());
    std::unique_lock lock(q->mu);
    if (!*more) q->last_queued = true;
    while (true) {
      q->cv.wait_for(lock, std::chrono::seconds(1), [&] { return !q->states.empty() || q->last_queued; });
      if (q->states.empty()) {
        if (q->last_queued) return grpc::Status::OK;
        if (c->IsCancelled()) break;
        continue;
      }
      pb::Execution e = std::move(q->states.front());
      q->states.pop_front();
      lock.unlock();
      const bool written = w->Write(e);
      lock.lock();
      if (!written) break;
    }
    q->gone = true;
    return grpc::Status(grpc::StatusCode::CANCELLED, "the caller went away");
  }

 private:
  Result<Principal> Authorize(grpc::ServerContext* c, std::string_view rpc, const google::protobuf::Message& req) {
    return api::Authorize(auth_, c, rpc, req);
  }
  template <typename Req, typename Resp>
  grpc::Status UnaryWith(grpc::ServerContext* c, std::string_view rpc, const Req& req, Resp* out,
                         const std::function<Result<Resp>(const Principal&, const Req&)>& fn) {
    return Answer(auth_, c, rpc, req, out, fn);
  }
  template <typename Svc, typename Req, typename Resp>
  grpc::Status Unary(grpc::ServerContext* c, std::string_view rpc, const Req& req, Resp* out,
                     Result<Resp> (Svc::*fn)(const Principal&, const Req&)) {
    return UnaryWith<Req, Resp>(c, rpc, req, out,
                                [this, fn](const Principal& p, const Req& r) { return (service_->*fn)(p, r); });
  }

  // Invoke and the test RPCs: frames go out as the instance answers (head, body chunks, trailer).
  template <typename Req, typename Fn>
  grpc::Status InvokeLike(grpc::ServerContext* c, std::string_view rpc, const Req& req,
                          grpc::ServerWriter<pb::InvokeResponse>* w, Fn fn) {
    auto p = Authorize(c, rpc, req);
    if (!p.ok()) return ToGrpc(p.status());
    gateway::InvokeCall call;
    call.payload = req.payload();
    call.headers = ToHeaders(req.headers());
    const std::string function_id = req.organization_name() + "/" + req.app_name();
    gateway::InvokeSink sink;
    sink.on_head = [&](const gateway::InvokeResult& r) {
      pb::InvokeResponse frame;
      auto* head = frame.mutable_head();
      head->set_status(r.status);
      for (const auto& [k, v] : r.headers) (*head->mutable_headers())[k] = v;
      head->set_execution_id(r.execution_id);
      head->set_function_id(function_id);
      head->set_version(r.version);
      w->Write(frame);
    };
    sink.on_body = [&](std::string_view data) {
      pb::InvokeResponse frame;
      frame.mutable_chunk()->set_data(std::string(data));
      return w->Write(frame);
    };
    auto result = fn(*p, std::move(call), &sink, req);
    if (!result.ok()) return ToGrpc(result.status());
    pb::InvokeResponse frame;
    auto* trailer = frame.mutable_trailer();
    trailer->set_duration_ms(result->duration_ms);
    trailer->set_cold_start(result->cold);
    trailer->set_error(result->error);
    w->Write(frame);
    return grpc::Status::OK;
  }

  ComputeService* service_;
  AsyncInvoker* async_;
  Authenticator* auth_;
};

// SecretService (api/secret_service.h): the same methods as the HTTP routes (api/secret_http.h).
class GrpcApi::SecretRpcs final : public pb::SecretService::Service {
 public:
  SecretRpcs(SecretService* secrets, Authenticator* auth) : secrets_(secrets), auth_(auth) {}

  grpc::Status CreateSecret(grpc::ServerContext* c, const pb::CreateSecretRequest* r,
                            pb::CreateSecretResponse* o) override {
    return Answer(auth_, c, "CreateSecret", *r, o,
                  [this](const Principal& p, const auto& req) { return secrets_->CreateSecret(p, req); });
  }
  grpc::Status GetSecret(grpc::ServerContext* c, const pb::GetSecretRequest* r, pb::GetSecretResponse* o) override {
    return Answer(auth_, c, "GetSecret", *r, o,
                  [this](const Principal& p, const auto& req) { return secrets_->GetSecret(p, req); });
  }
  grpc::Status ListSecrets(grpc::ServerContext* c, const pb::ListSecretsRequest* r,
                           pb::ListSecretsResponse* o) override {
    return Answer(auth_, c, "ListSecrets", *r, o,
                  [this](const Principal& p, const auto& req) { return secrets_->ListSecrets(p, req); });
  }
  grpc::Status DeleteSecret(grpc::ServerContext* c, const pb::DeleteSecretRequest* r,
                            pb::DeleteSecretResponse* o) override {
    return Answer(auth_, c, "DeleteSecret", *r, o,
                  [this](const Principal& p, const auto& req) { return secrets_->DeleteSecret(p, req); });
  }

 private:
  SecretService* secrets_;
  Authenticator* auth_;
};

GrpcApi::GrpcApi(ComputeService* service, AsyncInvoker* async, AuthService* accounts, SecretService* secrets,
                 Authenticator* auth)
    : service_(std::make_unique<Service>(service, async, auth)),
      auth_rpcs_(std::make_unique<AuthRpcs>(accounts, auth)),
      secret_rpcs_(std::make_unique<SecretRpcs>(secrets, auth)) {}

GrpcApi::~GrpcApi() { Stop(std::chrono::milliseconds(0)); }

Status GrpcApi::Start(const std::string& host, uint16_t port) {
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int selected = 0;
  builder.AddListeningPort(fmt::format("{}:{}", host, port), grpc::InsecureServerCredentials(), &selected);
  builder.RegisterService(service_.get());
  builder.RegisterService(auth_rpcs_.get());
  builder.RegisterService(secret_rpcs_.get());
  // Payloads and answers of Invoke travel in single messages: allow the platform's body sizes.
  builder.SetMaxReceiveMessageSize(64 << 20);
  builder.SetMaxSendMessageSize(64 << 20);
  server_ = builder.BuildAndStart();
  if (!server_ || selected == 0) {
    server_.reset();
    return Status(StatusCode::kUnavailable,
                  fmt::format("cannot listen for gRPC on {}:{}; pick another --grpc-listen address", host, port));
  }
  port_ = static_cast<uint16_t>(selected);
  return OkStatus();
}

void GrpcApi::Stop(std::chrono::milliseconds grace) {
  if (!server_) return;
  server_->Shutdown(std::chrono::system_clock::now() + grace);
  server_->Wait();
  server_.reset();
}

}  // namespace ignite::api
