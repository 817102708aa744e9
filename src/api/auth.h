// Authenticator: bearer tokens. A token is "ign_<id>_<secret>"; the store keeps only a salted sha256 of the
// secret, looked up by id. Verified tokens are cached briefly in memory so invocations do not hit the
// database on every call. Thread-safe.
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

 private:
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
};

}  // namespace ignite::api
