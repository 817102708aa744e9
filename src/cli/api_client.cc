#include "cli/api_client.h"

#include <strings.h>

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>

#include "dodil/ignite/v1/ignite_common.pb.h"

namespace ignite::cli {
namespace {

class HttpTransport : public Transport {
 public:
  HttpTransport(http::Endpoint endpoint, std::chrono::milliseconds timeout)
      : endpoint_(std::move(endpoint)), timeout_(timeout) {}

  Result<http::Response> RoundTrip(http::Verb verb, const std::string& target, const http::Headers& headers,
                                   std::string_view body, const http::StreamHandlers* stream) override {
    if (stream != nullptr) {
      return http::RequestStreaming(endpoint_, verb, target, headers, body, timeout_, *stream);
    }
    return http::Request(endpoint_, verb, target, headers, body, timeout_);
  }

 private:
  http::Endpoint endpoint_;
  std::chrono::milliseconds timeout_;
};

StatusCode CodeForHttpStatus(int status) {
  switch (status) {
    case 400: return StatusCode::kInvalidArgument;
    case 401: return StatusCode::kUnauthenticated;
    case 403: return StatusCode::kPermissionDenied;
    case 404: return StatusCode::kNotFound;
    case 409: return StatusCode::kAlreadyExists;
    case 413: return StatusCode::kResourceExhausted;
    case 429: return StatusCode::kResourceExhausted;
    case 499: return StatusCode::kCancelled;
    case 501: return StatusCode::kUnimplemented;
    case 502:
    case 503: return StatusCode::kUnavailable;
    case 504: return StatusCode::kDeadlineExceeded;
    case 500: return StatusCode::kInternal;
    default: return StatusCode::kUnknown;
  }
}

std::string Snippet(std::string_view body) {
  size_t begin = body.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return "";
  body.remove_prefix(begin);
  while (!body.empty() && (body.back() == ' ' || body.back() == '\n' || body.back() == '\r')) {
    body.remove_suffix(1);
  }
  constexpr size_t kMax = 200;
  if (body.size() > kMax) return std::string(body.substr(0, kMax)) + "...";
  return std::string(body);
}

std::string AppsPath(const std::string& org) { return "/v1/ignite/app/" + PercentEncode(org); }
std::string AppPath(const AppRef& app) { return AppsPath(app.org) + "/" + PercentEncode(app.app); }
std::string CompilePath(const std::string& deploy_id) { return "/v1/ignite/compile/" + PercentEncode(deploy_id); }
std::string ExecutionPath(const std::string& id) { return "/v1/ignite/executions/" + PercentEncode(id); }

template <typename Response>
Result<Response> CallFor(ApiClient& client, http::Verb verb, const std::string& target,
                         const google::protobuf::Message* request) {
  Response response;
  IGNITE_RETURN_IF_ERROR(client.Call(verb, target, request, &response));
  return response;
}

}  // namespace

std::unique_ptr<Transport> NewHttpTransport(http::Endpoint endpoint, std::chrono::milliseconds timeout) {
  return std::make_unique<HttpTransport>(std::move(endpoint), timeout);
}

std::string PercentEncode(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

Status StatusFromErrorBody(int http_status, std::string_view body) {
  v1::ErrorBody error;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  bool parsed = !body.empty() &&
                google::protobuf::util::JsonStringToMessage(std::string(body), &error, options).ok() &&
                !error.message().empty();
  if (parsed) {
    StatusCode code = StatusCodeFromInt(error.code());
    if (code == StatusCode::kOk) code = CodeForHttpStatus(http_status);
    return Status(code, error.message());
  }
  std::string snippet = Snippet(body);
  std::string message = snippet.empty() ? fmt::format("ignited answered HTTP {} without an error message",
                                                       http_status)
                                        : fmt::format("ignited answered HTTP {}: {}", http_status, snippet);
  return Status(CodeForHttpStatus(http_status), message);
}

http::Headers ApiClient::BaseHeaders() const {
  http::Headers headers;
  if (!token_.empty()) headers.emplace_back("Authorization", "Bearer " + token_);
  return headers;
}

Status ApiClient::FromTransport(const Status& status) {
  if (status.code() == StatusCode::kDeadlineExceeded) {
    return DeadlineExceeded(status.message() + "; allow more time with --timeout (e.g. --timeout 10m)");
  }
  if (status.code() == StatusCode::kUnavailable) {
    return Status(StatusCode::kUnknown,
                  status.message() + ". Is ignited running there? Start it with the README's first command.");
  }
  return Status(StatusCode::kUnknown, status.message());
}

Status ApiClient::Call(http::Verb verb, const std::string& target, const google::protobuf::Message* request,
                       google::protobuf::Message* response) {
  http::Headers headers = BaseHeaders();
  headers.emplace_back("Accept", "application/json");
  std::string body;
  if (request != nullptr) {
    auto status = google::protobuf::util::MessageToJsonString(*request, &body);
    if (!status.ok()) return Internal(fmt::format("cannot encode the request: {}", std::string(status.message())));
    headers.emplace_back("Content-Type", "application/json");
  }
  return Exchange(verb, target, headers, body, response);
}

Status ApiClient::Exchange(http::Verb verb, const std::string& target, const http::Headers& headers,
                           std::string_view body, google::protobuf::Message* response) {
  auto result = transport_->RoundTrip(verb, target, headers, body, nullptr);
  if (!result.ok()) return FromTransport(result.status());
  if (result->status < 200 || result->status >= 300) return StatusFromErrorBody(result->status, result->body);
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  const std::string& json = result->body.empty() ? std::string("{}") : result->body;
  auto parsed = google::protobuf::util::JsonStringToMessage(json, response, options);
  if (!parsed.ok()) {
    return Internal(fmt::format("ignited answered {} with JSON this CLI cannot read ({}): {}", target,
                                std::string(parsed.message()), Snippet(json)));
  }
  return OkStatus();
}

Result<v1::CreateAppResponse> ApiClient::CreateApp(const std::string& org, const v1::CreateAppRequest& request) {
  return CallFor<v1::CreateAppResponse>(*this, http::Verb::post, AppsPath(org), &request);
}

Result<v1::GetAppResponse> ApiClient::GetApp(const AppRef& app) {
  return CallFor<v1::GetAppResponse>(*this, http::Verb::get, AppPath(app), nullptr);
}

Result<v1::ListAppsResponse> ApiClient::ListApps(const std::string& org, uint32_t limit,
                                                 const std::string& cursor) {
  std::string target = AppsPath(org);
  std::string query;
  if (limit > 0) query += fmt::format("limit={}", limit);
  if (!cursor.empty()) query += (query.empty() ? "" : "&") + std::string("cursor=") + PercentEncode(cursor);
  if (!query.empty()) target += "?" + query;
  return CallFor<v1::ListAppsResponse>(*this, http::Verb::get, target, nullptr);
}

Result<v1::DeleteAppResponse> ApiClient::DeleteApp(const AppRef& app) {
  return CallFor<v1::DeleteAppResponse>(*this, http::Verb::delete_, AppPath(app), nullptr);
}

Result<v1::SaveDraftResponse> ApiClient::SaveDraft(const AppRef& app, const v1::SaveDraftRequest& request) {
  return CallFor<v1::SaveDraftResponse>(*this, http::Verb::post, AppPath(app) + "/draft", &request);
}

Result<v1::GetDraftInfoResponse> ApiClient::GetDraftInfo(const AppRef& app) {
  return CallFor<v1::GetDraftInfoResponse>(*this, http::Verb::get, AppPath(app) + "/draft", nullptr);
}

Result<v1::PublishDraftResponse> ApiClient::PublishDraft(const AppRef& app) {
  v1::PublishDraftRequest request;  // path carries the ids: the body is {}
  return CallFor<v1::PublishDraftResponse>(*this, http::Verb::post, AppPath(app) + "/draft/publish", &request);
}

Result<v1::ListAppVersionsResponse> ApiClient::ListAppVersions(const AppRef& app) {
  return CallFor<v1::ListAppVersionsResponse>(*this, http::Verb::get, AppPath(app) + "/versions", nullptr);
}

Result<v1::GetAppVersionResponse> ApiClient::GetAppVersion(const AppRef& app, uint32_t version) {
  return CallFor<v1::GetAppVersionResponse>(*this, http::Verb::get,
                                            fmt::format("{}/versions/{}", AppPath(app), version), nullptr);
}

Result<v1::UpdateAppConfigResponse> ApiClient::UpdateAppConfig(const AppRef& app,
                                                               const v1::UpdateAppConfigRequest& request,
                                                               const std::vector<std::string>& fields) {
  // Print every field (defaults too), then keep only the named ones: a flag set to 0 or "" must be sent.
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string full;
  auto printed = google::protobuf::util::MessageToJsonString(request, &full, options);
  if (!printed.ok()) return Internal(fmt::format("cannot encode the request: {}", std::string(printed.message())));
  nlohmann::json all = nlohmann::json::parse(full);
  nlohmann::json body = nlohmann::json::object();
  for (const std::string& f : fields) {
    size_t dot = f.find('.');
    if (dot == std::string::npos) {
      body[f] = all.contains(f) ? all[f] : nlohmann::json::object();
    } else {
      std::string parent = f.substr(0, dot), child = f.substr(dot + 1);
      const nlohmann::json& sub = all.contains(parent) ? all[parent] : nlohmann::json::object();
      body[parent][child] = sub.contains(child) ? sub[child] : nlohmann::json(0);
    }
  }
  http::Headers headers = BaseHeaders();
  headers.emplace_back("Accept", "application/json");
  headers.emplace_back("Content-Type", "application/json");
  v1::UpdateAppConfigResponse response;
  IGNITE_RETURN_IF_ERROR(Exchange(http::Verb::patch, AppPath(app) + "/config", headers, body.dump(), &response));
  return response;
}

Result<v1::GetAppStateResponse> ApiClient::GetAppState(const AppRef& app) {
  return CallFor<v1::GetAppStateResponse>(*this, http::Verb::get, AppPath(app) + "/state", nullptr);
}

Result<v1::ListAppReplicasResponse> ApiClient::ListAppReplicas(const AppRef& app) {
  return CallFor<v1::ListAppReplicasResponse>(*this, http::Verb::get, AppPath(app) + "/replicas", nullptr);
}

Result<v1::RollbackAppResponse> ApiClient::RollbackApp(const AppRef& app, uint32_t version) {
  v1::RollbackAppRequest request;
  request.set_version(version);
  return CallFor<v1::RollbackAppResponse>(*this, http::Verb::post, AppPath(app) + "/rollback", &request);
}

Status ApiClient::StreamNdjson(http::Verb verb, const std::string& target, const http::Headers& headers,
                               std::string_view body, const NdjsonSink& sink) {
  int status = 0;
  std::string error_body;
  Status decode_status;
  http::StreamHandlers handlers;
  handlers.on_head = [&](const http::Response& head) { status = head.status; };
  handlers.on_body_chunk = [&](std::string_view chunk) {
    if (status < 200 || status >= 300) {
      if (error_body.size() < 64 * 1024) error_body.append(chunk);
      return;
    }
    if (decode_status.ok()) decode_status = sink.feed(chunk);
  };
  auto result = transport_->RoundTrip(verb, target, headers, body, &handlers);
  if (!decode_status.ok()) return decode_status;
  if (!result.ok()) {
    if (sink.complete()) return OkStatus();  // everything arrived; only the goodbye failed
    return FromTransport(result.status());
  }
  if (result->status < 200 || result->status >= 300) return StatusFromErrorBody(result->status, error_body);
  return sink.finish();
}

http::Headers ApiClient::PayloadHeaders(std::string_view accept, const http::Headers& extra_headers) const {
  http::Headers headers = BaseHeaders();
  headers.emplace_back("Accept", std::string(accept));
  bool has_content_type = false;
  for (const auto& [name, value] : extra_headers) {
    if (name.size() == 12 && strncasecmp(name.c_str(), "content-type", 12) == 0) has_content_type = true;
  }
  if (!has_content_type) headers.emplace_back("Content-Type", "application/octet-stream");
  headers.insert(headers.end(), extra_headers.begin(), extra_headers.end());
  return headers;
}

Status ApiClient::InvokeAt(const std::string& target, std::string_view payload,
                           const http::Headers& extra_headers, InvokeStreamDecoder& decoder) {
  http::Headers headers = PayloadHeaders("application/x-ndjson", extra_headers);
  NdjsonSink sink{[&](std::string_view chunk) { return decoder.Feed(chunk); }, [&] { return decoder.Finish(); },
                  [&] { return decoder.saw_trailer(); }};
  return StreamNdjson(http::Verb::post, target, headers, payload, sink);
}

Status ApiClient::Invoke(const AppRef& app, std::string_view payload, const http::Headers& extra_headers,
                         InvokeStreamDecoder& decoder) {
  return InvokeAt(AppPath(app) + "/invoke", payload, extra_headers, decoder);
}

Status ApiClient::TestDraft(const AppRef& app, std::string_view payload, const http::Headers& extra_headers,
                            InvokeStreamDecoder& decoder) {
  return InvokeAt(AppPath(app) + "/draft/test", payload, extra_headers, decoder);
}

Status ApiClient::TestAppVersion(const AppRef& app, uint32_t version, std::string_view payload,
                                 const http::Headers& extra_headers, InvokeStreamDecoder& decoder) {
  return InvokeAt(fmt::format("{}/versions/{}/test", AppPath(app), version), payload, extra_headers, decoder);
}

Result<v1::CompileDraftResponse> ApiClient::CompileDraft(const AppRef& app) {
  v1::CompileDraftRequest request;  // path carries the ids: the body is {}
  return CallFor<v1::CompileDraftResponse>(*this, http::Verb::post, AppPath(app) + "/draft/compile", &request);
}

Status ApiClient::StreamCompileLogs(const std::string& deploy_id, CompileLogDecoder& decoder) {
  http::Headers headers = BaseHeaders();
  headers.emplace_back("Accept", "application/x-ndjson");
  NdjsonSink sink{[&](std::string_view chunk) { return decoder.Feed(chunk); }, [&] { return decoder.Finish(); },
                  [&] { return decoder.finished(); }};
  return StreamNdjson(http::Verb::get, CompilePath(deploy_id) + "/logs", headers, "", sink);
}

Result<v1::CancelCompileResponse> ApiClient::CancelCompile(const std::string& deploy_id) {
  v1::CancelCompileRequest request;  // path carries the id: the body is {}
  return CallFor<v1::CancelCompileResponse>(*this, http::Verb::post, CompilePath(deploy_id) + "/cancel", &request);
}

Result<v1::GetAppCodeResponse> ApiClient::GetAppCode(const AppRef& app, uint32_t version) {
  return CallFor<v1::GetAppCodeResponse>(*this, http::Verb::get,
                                         fmt::format("{}/code/versions/{}", AppPath(app), version), nullptr);
}

namespace {

// "?<count_name>=N&replica_id=R&execution_id=E" with only the parameters that are set.
std::string LogsQuery(std::string_view count_name, uint32_t count, const std::string& replica_id,
                      const std::string& execution_id) {
  std::string query;
  auto add = [&query](std::string_view name, const std::string& value) {
    query += query.empty() ? "?" : "&";
    query += name;
    query += "=";
    query += PercentEncode(value);
  };
  if (count > 0) add(count_name, std::to_string(count));
  if (!replica_id.empty()) add("replica_id", replica_id);
  if (!execution_id.empty()) add("execution_id", execution_id);
  return query;
}

}  // namespace

Status ApiClient::StreamAppLogs(const AppRef& app, uint32_t tail, const std::string& replica_id,
                               const std::string& execution_id,
                               const std::function<void(const v1::LogLine&)>& on_line) {
  std::string query = LogsQuery("tail", tail, replica_id, execution_id);
  ResultStreamDecoder<v1::LogLine> decoder([](const v1::LogLine&) { return false; }, on_line, "app log",
                                           "the log stream ended (ignited stopped or restarted); run the command "
                                           "again to follow on");
  http::Headers headers = BaseHeaders();
  headers.emplace_back("Accept", "application/x-ndjson");
  NdjsonSink sink{[&](std::string_view chunk) { return decoder.Feed(chunk); }, [&] { return decoder.Finish(); },
                  [] { return false; }};
  return StreamNdjson(http::Verb::get, AppPath(app) + "/logs/stream" + query, headers, "", sink);
}

Status ApiClient::StreamAppEvents(const AppRef& app, uint32_t tail, const std::string& replica_id,
                                 const std::function<void(const v1::AppEvent&)>& on_event) {
  std::string query = LogsQuery("tail", tail, replica_id, "");
  ResultStreamDecoder<v1::AppEvent> decoder([](const v1::AppEvent&) { return false; }, on_event, "app event",
                                            "the event stream ended (ignited stopped or restarted); run the "
                                            "command again to follow on");
  http::Headers headers = BaseHeaders();
  headers.emplace_back("Accept", "application/x-ndjson");
  NdjsonSink sink{[&](std::string_view chunk) { return decoder.Feed(chunk); }, [&] { return decoder.Finish(); },
                  [] { return false; }};
  return StreamNdjson(http::Verb::get, AppPath(app) + "/events/stream" + query, headers, "", sink);
}

Result<v1::GetAppLogsResponse> ApiClient::GetAppLogs(const AppRef& app, uint32_t limit,
                                                     const std::string& replica_id,
                                                     const std::string& execution_id) {
  std::string query = LogsQuery("limit", limit, replica_id, execution_id);
  return CallFor<v1::GetAppLogsResponse>(*this, http::Verb::get, AppPath(app) + "/logs" + query, nullptr);
}

Result<v1::InvokeAsyncResponse> ApiClient::InvokeAsync(const AppRef& app, std::string_view payload,
                                                       const http::Headers& extra_headers) {
  v1::InvokeAsyncResponse response;
  IGNITE_RETURN_IF_ERROR(Exchange(http::Verb::post, AppPath(app) + "/invoke-async",
                                  PayloadHeaders("application/json", extra_headers), payload, &response));
  return response;
}

Result<v1::GetExecutionResponse> ApiClient::GetExecution(const std::string& execution_id) {
  return CallFor<v1::GetExecutionResponse>(*this, http::Verb::get, ExecutionPath(execution_id), nullptr);
}

Status ApiClient::WatchExecution(const std::string& execution_id, ExecutionWatchDecoder& decoder) {
  http::Headers headers = BaseHeaders();
  headers.emplace_back("Accept", "application/x-ndjson");
  NdjsonSink sink{[&](std::string_view chunk) { return decoder.Feed(chunk); }, [&] { return decoder.Finish(); },
                  [&] { return decoder.finished(); }};
  return StreamNdjson(http::Verb::get, ExecutionPath(execution_id) + "/watch", headers, "", sink);
}

constexpr const char* kServiceAccountsPath = "/v1/ignite/auth/service-accounts";

Result<v1::CreateServiceAccountResponse> ApiClient::CreateServiceAccount(
    const v1::CreateServiceAccountRequest& request) {
  return CallFor<v1::CreateServiceAccountResponse>(*this, http::Verb::post, kServiceAccountsPath, &request);
}

Result<v1::ListServiceAccountsResponse> ApiClient::ListServiceAccounts() {
  return CallFor<v1::ListServiceAccountsResponse>(*this, http::Verb::get, kServiceAccountsPath, nullptr);
}

Result<v1::DeleteServiceAccountResponse> ApiClient::DeleteServiceAccount(const std::string& id) {
  return CallFor<v1::DeleteServiceAccountResponse>(
      *this, http::Verb::delete_, std::string(kServiceAccountsPath) + "/" + PercentEncode(id), nullptr);
}

constexpr const char* kSecretsPath = "/v1/ignite/secrets";

Result<v1::CreateSecretResponse> ApiClient::CreateSecret(const v1::CreateSecretRequest& request) {
  return CallFor<v1::CreateSecretResponse>(*this, http::Verb::post, kSecretsPath, &request);
}

Result<v1::GetSecretResponse> ApiClient::GetSecret(const std::string& name) {
  return CallFor<v1::GetSecretResponse>(*this, http::Verb::get, std::string(kSecretsPath) + "/" + PercentEncode(name),
                                        nullptr);
}

Result<v1::ListSecretsResponse> ApiClient::ListSecrets() {
  return CallFor<v1::ListSecretsResponse>(*this, http::Verb::get, kSecretsPath, nullptr);
}

Result<v1::DeleteSecretResponse> ApiClient::DeleteSecret(const std::string& name) {
  return CallFor<v1::DeleteSecretResponse>(*this, http::Verb::delete_,
                                           std::string(kSecretsPath) + "/" + PercentEncode(name), nullptr);
}

Result<v1::WhoAmIResponse> ApiClient::WhoAmI() {
  return CallFor<v1::WhoAmIResponse>(*this, http::Verb::get, "/v1/ignite/auth/whoami", nullptr);
}

}  // namespace ignite::cli
