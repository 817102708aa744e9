// AuthService: service accounts and the exchange of their credentials for expiring bearer tokens (issue 5),
// transport-independent like ComputeService: the HTTP binding (auth_http.h) and gRPC call these methods.
//
// A service account is an id ("sa_<32 hex>") and a secret ("igs_<64 hex>") belonging to one org with one
// role. Only a salted sha256 of the secret is stored (the secret has 256 random bits, so a fast hash is
// enough); it exists in the clear only in CreateServiceAccount's answer. IssueToken checks the pair and
// answers a bearer token with the account's org and role that expires after the server's token TTL (or a
// shorter one asked for). Deleting an account deletes every token issued from it and drops them from the
// Authenticator's cache, so they stop working at once on this server.
//
// Methods that take a Principal check its role themselves too (admin for the service-account methods), and
// act on the principal's org only: another org's account is NotFound. Methods block (database): call them
// from a blocking pool. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>

#include "api/auth.h"
#include "common/clock.h"
#include "common/result.h"
#include "dodil/ignite/v1/ignite_auth.pb.h"
#include "store/store.h"

namespace ignite::api {

namespace pb = ::dodil::ignite::v1;

struct AuthOptions {
  // Lifetime of tokens IssueToken makes when the request names none, and the most a request may ask for.
  std::chrono::seconds token_ttl{3600};
};

class AuthService {
 public:
  // All must outlive the service.
  AuthService(store::Store* store, Authenticator* auth, const Clock* clock, AuthOptions options = {});

  // Admin. InvalidArgument for a bad name, role or description; AlreadyExists when the org has an account
  // of that name; PermissionDenied for a role above the caller's.
  Result<pb::CreateServiceAccountResponse> CreateServiceAccount(const Principal& p,
                                                                const pb::CreateServiceAccountRequest& req);
  // Admin. The caller's org's accounts by name; never secrets or hashes.
  Result<pb::ListServiceAccountsResponse> ListServiceAccounts(const Principal& p,
                                                              const pb::ListServiceAccountsRequest& req);
  // Admin. NotFound when the caller's org has no such account. Revokes the account's tokens.
  Result<pb::DeleteServiceAccountResponse> DeleteServiceAccount(const Principal& p,
                                                                const pb::DeleteServiceAccountRequest& req);
  // Needs no principal: the credentials are the authentication. InvalidArgument when the id or secret is
  // missing or ttl_secs is negative; Unauthenticated, with one message whatever was wrong, for an unknown id
  // or a wrong secret. The secret's hash is compared in constant time, and an unknown id costs the same hash.
  Result<pb::IssueTokenResponse> IssueToken(const pb::IssueTokenRequest& req);
  // Any role: what the server knows of the caller's token.
  Result<pb::WhoAmIResponse> WhoAmI(const Principal& p, const pb::WhoAmIRequest& req);

 private:
  // Deletes expired tokens at most once a minute (IssueToken adds a row per call).
  void MaybeSweepExpiredTokens(int64_t now_ms);

  store::Store* store_;
  Authenticator* auth_;
  const Clock* clock_;
  AuthOptions options_;
  std::atomic<int64_t> last_sweep_ms_{0};
};

}  // namespace ignite::api
