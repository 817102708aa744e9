// The CLI's view of ignited's HTTP API: one method per ComputeService route, JSON through the protobuf JSON
// mapping, errors decoded from the error body into a Status with the server's gRPC code.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/message.h>

#include "cli/compile_logs.h"
#include "cli/execution_watch.h"
#include "cli/invoke_stream.h"
#include "common/names.h"
#include "common/result.h"
#include "dodil/ignite/v1/ignite_auth.pb.h"
#include "dodil/ignite/v1/ignite_secret.pb.h"
#include "dodil/ignite/v1/ignite_compute.pb.h"
#include "http/client.h"

namespace ignite::cli {

namespace v1 = dodil::ignite::v1;

// How ApiClient reaches the server: HttpTransport in the programs, fakes in tests.
class Transport {
 public:
  virtual ~Transport() = default;
  // One HTTP exchange with the API server. With `stream` set, body bytes go to its handlers as they arrive
  // and Response::body stays empty. Failures to exchange at all are a Status (see http/client.h).
  virtual Result<http::Response> RoundTrip(http::Verb verb, const std::string& target,
                                           const http::Headers& headers, std::string_view body,
                                           const http::StreamHandlers* stream) = 0;
};

// A Transport over http::Request / http::RequestStreaming; `timeout` bounds each exchange (0 = none).
std::unique_ptr<Transport> NewHttpTransport(http::Endpoint endpoint, std::chrono::milliseconds timeout);

// The Status for a non-2xx answer: the error body's code and message ({"code": <grpc>, "message": ...}). A
// body that is not an error body (a proxy's HTML page, empty) gives the code implied by the HTTP status
// (404 NotFound, 401 Unauthenticated, 503 Unavailable, ...) and a message quoting the status and the start
// of the body.
Status StatusFromErrorBody(int http_status, std::string_view body);

class ApiClient {
 public:
  // `token` may be empty (no Authorization header is sent).
  ApiClient(std::unique_ptr<Transport> transport, std::string token)
      : transport_(std::move(transport)), token_(std::move(token)) {}

  // One JSON call: `request` (nullable: no body) is sent as JSON, a 2xx answer is parsed into `response`
  // (unknown fields ignored). Server errors keep their code; failures to reach the server are kUnknown
  // (exit 1, decisions.md) with a hint to start ignited; a timeout stays kDeadlineExceeded.
  Status Call(http::Verb verb, const std::string& target, const google::protobuf::Message* request,
              google::protobuf::Message* response);

  Result<v1::CreateAppResponse> CreateApp(const std::string& org, const v1::CreateAppRequest& request);
  Result<v1::GetAppResponse> GetApp(const AppRef& app);
  Result<v1::ListAppsResponse> ListApps(const std::string& org, uint32_t limit, const std::string& cursor);
  Result<v1::DeleteAppResponse> DeleteApp(const AppRef& app);
  // PATCH .../config with exactly the fields named in `fields` (proto names; "limits.timeout_secs",
  // "scaling.max_replicas" for one sub-field), each sent even when it is at its default value: the server
  // replaces the fields present in the body and keeps the rest.
  Result<v1::UpdateAppConfigResponse> UpdateAppConfig(const AppRef& app, const v1::UpdateAppConfigRequest& request,
                                                      const std::vector<std::string>& fields);
  Result<v1::GetAppStateResponse> GetAppState(const AppRef& app);
  Result<v1::ListAppReplicasResponse> ListAppReplicas(const AppRef& app);
  Result<v1::SaveDraftResponse> SaveDraft(const AppRef& app, const v1::SaveDraftRequest& request);
  Result<v1::GetDraftInfoResponse> GetDraftInfo(const AppRef& app);
  Result<v1::PublishDraftResponse> PublishDraft(const AppRef& app);
  Result<v1::ListAppVersionsResponse> ListAppVersions(const AppRef& app);
  Result<v1::GetAppVersionResponse> GetAppVersion(const AppRef& app, uint32_t version);
  Result<v1::RollbackAppResponse> RollbackApp(const AppRef& app, uint32_t version);

  // POST .../invoke with the raw payload; the NDJSON answer is fed to `decoder` as it arrives. Returns a
  // non-2xx answer's error, a transport failure, or decoder.Feed/Finish's first failure.
  Status Invoke(const AppRef& app, std::string_view payload, const http::Headers& extra_headers,
                InvokeStreamDecoder& decoder);
  // As Invoke, against the draft (POST .../draft/test) and one published version (POST
  // .../versions/{n}/test): same raw payload in, same NDJSON frames out.
  Status TestDraft(const AppRef& app, std::string_view payload, const http::Headers& extra_headers,
                   InvokeStreamDecoder& decoder);
  Status TestAppVersion(const AppRef& app, uint32_t version, std::string_view payload,
                        const http::Headers& extra_headers, InvokeStreamDecoder& decoder);

  // POST .../draft/compile with {}: starts (or joins) the draft's build.
  Result<v1::CompileDraftResponse> CompileDraft(const AppRef& app);
  // GET /v1/ignite/compile/{deploy_id}/logs; the NDJSON answer is fed to `decoder` as it arrives. Returns a
  // non-2xx answer's error, a transport failure before the final entry, or decoder.Feed/Finish's first
  // failure.
  Status StreamCompileLogs(const std::string& deploy_id, CompileLogDecoder& decoder);
  // POST /v1/ignite/compile/{deploy_id}/cancel with {}.
  Result<v1::CancelCompileResponse> CancelCompile(const std::string& deploy_id);
  // GET .../code/versions/{version} (0 = the draft).
  Result<v1::GetAppCodeResponse> GetAppCode(const AppRef& app, uint32_t version);
  // GET .../logs/stream: the newest `tail` lines (0: the server's default), then every new line, each
  // handed to `on_line` as it arrives, until the server ends the stream. Returns the failure that ended it:
  // a non-2xx answer's error, the server's {"error": ...} line (e.g. Unavailable when ignited stops), or a
  // transport failure.
  Status StreamAppLogs(const AppRef& app, uint32_t tail, const std::string& replica_id,
                       const std::string& execution_id, const std::function<void(const v1::LogLine&)>& on_line);
  // GET .../events/stream: as StreamAppLogs, for the app's lifecycle events.
  Status StreamAppEvents(const AppRef& app, uint32_t tail, const std::string& replica_id,
                         const std::function<void(const v1::AppEvent&)>& on_event);
  // GET .../logs with the query parameters that are set (limit > 0, non-empty ids).
  Result<v1::GetAppLogsResponse> GetAppLogs(const AppRef& app, uint32_t limit, const std::string& replica_id,
                                            const std::string& execution_id);

  // POST .../invoke-async with the raw payload (as Invoke); the JSON answer carries the execution id.
  Result<v1::InvokeAsyncResponse> InvokeAsync(const AppRef& app, std::string_view payload,
                                              const http::Headers& extra_headers);
  // GET /v1/ignite/executions/{execution_id}
  Result<v1::GetExecutionResponse> GetExecution(const std::string& execution_id);
  // GET /v1/ignite/executions/{execution_id}/watch; the NDJSON answer is fed to `decoder` as it arrives.
  // Returns a non-2xx answer's error, a transport failure before the terminal state, or the decoder's
  // first failure.
  Status WatchExecution(const std::string& execution_id, ExecutionWatchDecoder& decoder);

  // AuthService (ignite_auth.proto): POST / GET /v1/ignite/auth/service-accounts,
  // DELETE /v1/ignite/auth/service-accounts/{id}, GET /v1/ignite/auth/whoami.
  Result<v1::CreateServiceAccountResponse> CreateServiceAccount(const v1::CreateServiceAccountRequest& request);
  Result<v1::ListServiceAccountsResponse> ListServiceAccounts();
  Result<v1::DeleteServiceAccountResponse> DeleteServiceAccount(const std::string& id);
  Result<v1::WhoAmIResponse> WhoAmI();
  // SecretService (ignite_secret.proto).
  Result<v1::CreateSecretResponse> CreateSecret(const v1::CreateSecretRequest& request);
  Result<v1::GetSecretResponse> GetSecret(const std::string& name);
  Result<v1::ListSecretsResponse> ListSecrets();
  Result<v1::DeleteSecretResponse> DeleteSecret(const std::string& name);

 private:
  // What StreamNdjson feeds a 2xx answer's body to.
  struct NdjsonSink {
    std::function<Status(std::string_view)> feed;
    std::function<Status()> finish;
    // Everything that matters arrived: a transport failure after this point is not an error.
    std::function<bool()> complete;
  };

  http::Headers BaseHeaders() const;
  static Status FromTransport(const Status& status);
  // One exchange whose 2xx answer is JSON parsed into `response`; a non-2xx answer's body is its error.
  Status Exchange(http::Verb verb, const std::string& target, const http::Headers& headers, std::string_view body,
                  google::protobuf::Message* response);
  // Authorization, Accept for NDJSON/JSON, and Content-Type application/octet-stream unless `extra_headers`
  // has one, followed by `extra_headers`: the headers of a raw-payload request.
  http::Headers PayloadHeaders(std::string_view accept, const http::Headers& extra_headers) const;
  // One exchange whose 2xx answer is NDJSON, streamed into `sink`; a non-2xx answer's body is its error.
  Status StreamNdjson(http::Verb verb, const std::string& target, const http::Headers& headers,
                      std::string_view body, const NdjsonSink& sink);
  Status InvokeAt(const std::string& target, std::string_view payload, const http::Headers& extra_headers,
                  InvokeStreamDecoder& decoder);

  std::unique_ptr<Transport> transport_;
  std::string token_;
};

// "a%2Fb": percent-encodes everything but RFC 3986 unreserved characters (for query values).
std::string PercentEncode(std::string_view text);

}  // namespace ignite::cli
