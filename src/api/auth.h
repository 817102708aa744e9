// Authenticator: bearer tokens. A token is "ign_<id>_<secret>"; the store keeps only a salted sha256 of the
// secret, looked up by id. Verified tokens are cached briefly in memory so invocations do not hit the
// database on every call (for at most 60 s: a token deleted by another process, or its service account, keeps
// working on this one until its cache entry ages out; deletions through this Authenticator take effect at
// once). Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "store/store.h"

namespace ignite::api {

struct Principal {
  std::string token_id;
  std::string org_id;
  std::string org_name;
  std::string role;  // "admin", "app-developer", "app-viewer"
  std::string service_account_id;  // set when the token was issued from a service account
  int64_t expires_at_ms = 0;       // 0 = never
};

// A token just issued: the bearer string (the only time its secret exists in the clear) and its expiry.
struct IssuedToken {
  std::string bearer;
  std::string token_id;
  int64_t expires_at_ms = 0;  // 0 = never
};

class Authenticator {
 public:
  Authenticator(store::Store* store, const Clock* clock);

  // From an Authorization header value. Unauthenticated when missing, malformed, unknown, wrong or expired.
  Result<Principal> Authenticate(std::string_view authorization_header);
  // The same answer when it needs no store lookup (a cached token, or a malformed header); nullopt when it
  // does. Never blocks on I/O, so event loops call it first and go to a pool only on nullopt.
  std::optional<Result<Principal>> AuthenticateFast(std::string_view authorization_header);
  // Creates a token for an org; returns the full bearer string (the only time the secret exists in the clear).
  // ttl 0 = never expires.
  Result<std::string> IssueToken(const std::string& org_id, const std::string& role, const std::string& description,
                                 std::chrono::seconds ttl);
  // A token carrying `account`'s org and role and its id, expiring after `ttl` (> 0). NotFound when the account
  // was deleted meanwhile (the store refuses the token).
  Result<IssuedToken> IssueServiceAccountToken(const store::ServiceAccountRecord& account, std::chrono::seconds ttl);
  // Drops cached tokens of service account `id` (call after deleting it, whose tokens the store deleted), and
  // keeps lookups already in flight from caching what they read before the delete.
  void ForgetServiceAccount(std::string_view id);

 private:
  Result<IssuedToken> Issue(store::TokenRecord t, std::chrono::seconds ttl);
  // The cached principal of a still-valid token, or nullopt.
  std::optional<Principal> Cached(const std::string& token);
  struct CacheEntry {
    Principal principal;
    int64_t expires_at_ms;  // 0 = never
    std::chrono::steady_clock::time_point cached_at;
  };
  store::Store* store_;
  const Clock* clock_;
  std::mutex mu_;
  std::map<std::string, CacheEntry> cache_;  // guarded by mu_; keyed by the whole bearer string
  uint64_t forgets_ = 0;                     // guarded by mu_; ForgetServiceAccount calls so far
};

}  // namespace ignite::api
