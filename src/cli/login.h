// `dodil login <service_account_id> <service_account_secret>`: the client side of the token exchange
// (decisions.md "Local bootstrap": service account credentials for a token).
//
// Contract with ignited: POST /v1/ignite/auth/token, no Authorization header, body
//   {"serviceAccountId": "<id>", "secret": "<secret>"}
// answered with
//   {"accessToken": "...", "expiresAtMs": "<int64, as a string or a number>", "organizationId": "...",
//    "organizationName": "...", "role": "...", ...}   (other fields ignored)
// Errors are the usual error body ({"code", "message"}): Unauthenticated for a wrong id or secret.
#pragma once

#include <cstdint>
#include <string>

#include "cli/api_client.h"
#include "common/result.h"

namespace ignite::cli {

inline constexpr const char* kTokenRoute = "/v1/ignite/auth/token";

struct IssuedToken {
  std::string access_token;
  int64_t expires_at_ms = 0;  // 0 when the server did not say
  std::string organization_id;
  std::string organization_name;  // the CLI's org (org_id in the config is a name)
  std::string role;
};

// Exchanges the credentials through `client` (which must carry no token). An answer without an accessToken,
// or with an expiresAtMs that is not an integer, is Internal; server errors keep their code. A route the
// server does not have (HTTP 404, code 5, "no route for ...") is reported as "this ignited does not offer
// service-account login" with the direct-token alternative.
Result<IssuedToken> ExchangeServiceAccountSecret(ApiClient& client, const std::string& service_account_id,
                                                 const std::string& secret);

}  // namespace ignite::cli
