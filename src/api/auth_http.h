// The HTTP routes of AuthService (ignite_auth.proto): JSON bodies through the protobuf JSON mapping, the
// decided error body, like HttpApi's routes.
//   POST   /v1/ignite/auth/service-accounts       CreateServiceAccount  (admin)
//   GET    /v1/ignite/auth/service-accounts       ListServiceAccounts   (admin)
//   DELETE /v1/ignite/auth/service-accounts/{id}  DeleteServiceAccount  (admin)
//   POST   /v1/ignite/auth/token                  IssueToken            (no bearer; JSON or OAuth2 form)
//   GET    /v1/ignite/auth/whoami                 WhoAmI                (any role)
// Authenticated routes check identity and role before reading the request, as every route does.
#pragma once

#include <boost/asio/thread_pool.hpp>

#include <map>
#include <string>
#include <string_view>

#include "api/auth.h"
#include "api/auth_service.h"
#include "common/result.h"
#include "http/router.h"

namespace ignite::api {

// All must outlive the router; they may be null when the routes are only listed (`ignited routes`).
void RegisterAuthRoutes(http::Router* router, AuthService* service, Authenticator* auth,
                        boost::asio::thread_pool* pool);

// The IssueToken request in an HTTP body: JSON ({"serviceAccountId", "secret", "ttlSecs"}), or with
// `content_type` application/x-www-form-urlencoded the OAuth2 client-credentials form (client_id,
// client_secret, optional grant_type which must be client_credentials, optional ttl_secs). InvalidArgument
// for a malformed body, an unknown field or another grant type.
Result<pb::IssueTokenRequest> ParseIssueTokenBody(std::string_view content_type, std::string_view body);

}  // namespace ignite::api
