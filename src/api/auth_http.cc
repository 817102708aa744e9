#include "api/auth_http.h"

#include <boost/asio/post.hpp>

#include <fmt/format.h>

#include "api/proto_json.h"
#include "api/roles.h"
#include "http/server.h"

namespace ignite::api {
namespace {

http::Response JsonResponse(const google::protobuf::Message& msg) {
  http::Response r;
  r.body = MessageToJson(msg);
  return r;
}

// Decodes one application/x-www-form-urlencoded component ('+' is a space, %XX a byte).
Result<std::string> FormDecode(std::string_view in) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%') {
      if (i + 2 >= in.size() || hex(in[i + 1]) < 0 || hex(in[i + 2]) < 0) {
        return InvalidArgument("malformed percent-encoding in the form body");
      }
      out += static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2]));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

Result<pb::IssueTokenRequest> ParseForm(std::string_view body) {
  pb::IssueTokenRequest req;
  while (!body.empty()) {
    size_t amp = body.find('&');
    std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    IGNITE_ASSIGN_OR_RETURN(std::string key, FormDecode(pair.substr(0, eq)));
    IGNITE_ASSIGN_OR_RETURN(std::string value,
                            FormDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1)));
    if (key == "client_id") {
      req.set_service_account_id(value);
    } else if (key == "client_secret") {
      req.set_secret(value);
    } else if (key == "grant_type") {
      if (value != "client_credentials") {
        return InvalidArgument(fmt::format("grant_type \"{}\" is not supported; use client_credentials", value));
      }
    } else if (key == "ttl_secs") {
      try {
        size_t used = 0;
        req.set_ttl_secs(std::stoll(value, &used));
        if (used != value.size()) throw std::invalid_argument("trailing");
      } catch (const std::exception&) {
        return InvalidArgument(fmt::format("ttl_secs \"{}\" is not a number of seconds", value));
      }
    } else if (key != "scope") {  // OAuth2 clients may send a scope; the account's role is the scope
      return InvalidArgument(fmt::format(
          "unknown form field \"{}\": send client_id, client_secret and grant_type=client_credentials", key));
    }
  }
  return req;
}

// A route that authenticates and checks the role of `name`, then parses the request like HttpApi's Unary
// routes (JSON body, query, path parameters) and runs `fn` on the pool.
template <typename Req, typename Resp>
void Authed(http::Router* router, const char* method, const char* pattern, const char* name, AuthService* service,
            Authenticator* auth, boost::asio::thread_pool* pool,
            Result<Resp> (AuthService::*fn)(const Principal&, const Req&)) {
  router->Add(method, pattern, [=](std::shared_ptr<http::Request> req, http::Responder respond) {
    boost::asio::post(*pool, [=, req = std::move(req), respond = std::move(respond)] {
      auto run = [&]() -> Result<Resp> {
        IGNITE_ASSIGN_OR_RETURN(Principal p, auth->Authenticate(req->Header("authorization")));
        IGNITE_RETURN_IF_ERROR(CheckRole(p, name));
        Req msg;
        const std::string& body = req->raw.body();
        if (body.find_first_not_of(" \t\r\n") != std::string::npos) IGNITE_RETURN_IF_ERROR(JsonToMessage(body, &msg));
        IGNITE_RETURN_IF_ERROR(SetFields(req->query, &msg));
        IGNITE_RETURN_IF_ERROR(SetFields(req->params, &msg));
        return (service->*fn)(p, msg);
      };
      auto result = run();
      respond(result.ok() ? JsonResponse(*result) : http::ErrorResponse(result.status()));
    });
  }, name);
}

}  // namespace

Result<pb::IssueTokenRequest> ParseIssueTokenBody(std::string_view content_type, std::string_view body) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  if (media == "application/x-www-form-urlencoded") return ParseForm(body);
  pb::IssueTokenRequest req;
  if (body.find_first_not_of(" \t\r\n") != std::string_view::npos) IGNITE_RETURN_IF_ERROR(JsonToMessage(body, &req));
  return req;
}

void RegisterAuthRoutes(http::Router* router, AuthService* service, Authenticator* auth,
                        boost::asio::thread_pool* pool) {
  using S = AuthService;
  Authed(router, "POST", "/v1/ignite/auth/service-accounts", "CreateServiceAccount", service, auth, pool,
         &S::CreateServiceAccount);
  Authed(router, "GET", "/v1/ignite/auth/service-accounts", "ListServiceAccounts", service, auth, pool,
         &S::ListServiceAccounts);
  Authed(router, "DELETE", "/v1/ignite/auth/service-accounts/{id}", "DeleteServiceAccount", service, auth, pool,
         &S::DeleteServiceAccount);
  Authed(router, "GET", "/v1/ignite/auth/whoami", "WhoAmI", service, auth, pool, &S::WhoAmI);
  // No bearer: the service account's credentials in the body are the authentication.
  router->Add("POST", "/v1/ignite/auth/token", [=](std::shared_ptr<http::Request> req, http::Responder respond) {
    boost::asio::post(*pool, [=, req = std::move(req), respond = std::move(respond)] {
      auto run = [&]() -> Result<pb::IssueTokenResponse> {
        IGNITE_ASSIGN_OR_RETURN(pb::IssueTokenRequest msg,
                                ParseIssueTokenBody(req->Header("content-type"), req->raw.body()));
        return service->IssueToken(msg);
      };
      auto result = run();
      http::Response out = result.ok() ? JsonResponse(*result) : http::ErrorResponse(result.status());
      out.headers.emplace_back("Cache-Control", "no-store");  // OAuth2 (RFC 6749 5.1): never cache tokens
      respond(std::move(out));
    });
  }, "IssueToken");
}

}  // namespace ignite::api
