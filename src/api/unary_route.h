// The shape every unary HTTP route of the API shares (HttpApi's ComputeService routes, the AuthService
// routes): on the blocking pool, authenticate, check the caller's role for the RPC `name`, parse the request
// message (JSON body, query parameters, path parameters; organization_name/app_name validated), run `fn`, and
// answer the response's JSON or the decided error body.
#pragma once

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "api/auth.h"
#include "api/proto_json.h"
#include "api/roles.h"
#include "common/names.h"
#include "http/router.h"
#include "http/server.h"

namespace ignite::api {

inline http::Response JsonResponse(const google::protobuf::Message& msg) {
  http::Response r;
  r.body = MessageToJson(msg);
  return r;
}

// Path parameters carry the request's organization_name/app_name; they are validated once for every route,
// so methods can trust them.
inline Status ValidatePathNames(const std::map<std::string, std::string>& params) {
  if (auto it = params.find("organization_name"); it != params.end()) {
    IGNITE_RETURN_IF_ERROR(ValidateOrgName(it->second));
  }
  if (auto it = params.find("app_name"); it != params.end()) {
    IGNITE_RETURN_IF_ERROR(ValidateAppName(it->second));
  }
  return OkStatus();
}

// `router`, `pool` and `auth` must outlive the route.
template <typename Req, typename Resp>
void AddUnaryRoute(http::Router* router, boost::asio::thread_pool* pool, Authenticator* auth, const char* method,
                   const char* pattern, const char* name,
                   std::function<Result<Resp>(const Principal&, const Req&, const http::Request&)> fn) {
  router->Add(method, pattern, [pool, auth, fn, name](std::shared_ptr<http::Request> req, http::Responder respond) {
    boost::asio::post(*pool, [auth, fn, name, req = std::move(req), respond = std::move(respond)] {
      auto run = [&]() -> Result<Resp> {
        // Identity and role first: an unauthenticated or unauthorized caller learns nothing about the
        // request's validity.
        IGNITE_ASSIGN_OR_RETURN(Principal p, auth->Authenticate(req->Header("authorization")));
        IGNITE_RETURN_IF_ERROR(CheckRole(p, name));
        Req msg;
        const std::string& body = req->raw.body();
        if (body.find_first_not_of(" \t\r\n") != std::string::npos) IGNITE_RETURN_IF_ERROR(JsonToMessage(body, &msg));
        IGNITE_RETURN_IF_ERROR(SetFields(req->query, &msg));
        IGNITE_RETURN_IF_ERROR(ValidatePathNames(req->params));
        IGNITE_RETURN_IF_ERROR(SetFields(req->params, &msg));
        return fn(p, msg, *req);
      };
      auto result = run();
      respond(result.ok() ? JsonResponse(*result) : http::ErrorResponse(result.status()));
    });
  }, name);
}

// AddUnaryRoute for a method `fn` of `service` that takes only the principal and the request.
template <typename Svc, typename Req, typename Resp>
void AddMethodRoute(http::Router* router, boost::asio::thread_pool* pool, Authenticator* auth, const char* method,
                    const char* pattern, const char* name, Svc* service,
                    Result<Resp> (Svc::*fn)(const Principal&, const Req&)) {
  AddUnaryRoute<Req, Resp>(router, pool, auth, method, pattern, name,
                           [service, fn](const Principal& p, const Req& msg, const http::Request&) {
                             return (service->*fn)(p, msg);
                           });
}

}  // namespace ignite::api
