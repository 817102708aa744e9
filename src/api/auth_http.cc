#include "api/auth_http.h"

#include <boost/asio/post.hpp>
#include <boost/url/parse_query.hpp>

#include <fmt/format.h>

#include "api/proto_json.h"
#include "api/roles.h"
#include "api/unary_route.h"
#include "http/server.h"

namespace ignite::api {
namespace {

// An application/x-www-form-urlencoded body (OAuth2 client credentials), decoded by Boost.URL.
Result<pb::IssueTokenRequest> ParseForm(std::string_view body) {
  pb::IssueTokenRequest req;
  auto params = boost::urls::parse_query(body);
  if (!params) return InvalidArgument(fmt::format("malformed form body: {}", params.error().message()));
  boost::urls::encoding_opts form;
  form.space_as_plus = true;
  for (const auto& param : *params) {
    if (param.key.empty() && !param.has_value) continue;  // "a=1&&b=2"
    std::string key = param.key.decode(form);
    std::string value = param.has_value ? param.value.decode(form) : std::string();
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
  AddMethodRoute(router, pool, auth, "POST", "/v1/ignite/auth/service-accounts", "CreateServiceAccount", service,
                 &S::CreateServiceAccount);
  AddMethodRoute(router, pool, auth, "GET", "/v1/ignite/auth/service-accounts", "ListServiceAccounts", service,
                 &S::ListServiceAccounts);
  AddMethodRoute(router, pool, auth, "DELETE", "/v1/ignite/auth/service-accounts/{id}", "DeleteServiceAccount", service,
                 &S::DeleteServiceAccount);
  AddMethodRoute(router, pool, auth, "GET", "/v1/ignite/auth/whoami", "WhoAmI", service, &S::WhoAmI);
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
