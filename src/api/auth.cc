#include "api/auth.h"

#include <openssl/crypto.h>

#include <fmt/format.h>

#include "common/ids.h"

namespace ignite::api {
namespace {
constexpr auto kCacheTtl = std::chrono::seconds(60);
const char kHowToFix[] =
    "pass a token with --token or DODIL_TOKEN, or use the CLI on the machine where ignited created its config";
}  // namespace

Authenticator::Authenticator(store::Store* store, const Clock* clock) : store_(store), clock_(clock) {}

std::optional<Principal> Authenticator::Cached(const std::string& token) {
  int64_t now = clock_->NowUnixMs();
  std::lock_guard<std::mutex> l(mu_);
  auto it = cache_.find(token);
  if (it == cache_.end() || clock_->Now() - it->second.cached_at >= kCacheTtl ||
      (it->second.expires_at_ms != 0 && it->second.expires_at_ms <= now)) {
    return std::nullopt;
  }
  return it->second.principal;
}

std::optional<Result<Principal>> Authenticator::AuthenticateFast(std::string_view header) {
  constexpr std::string_view kBearer = "Bearer ";
  if (header.size() > kBearer.size() && header.substr(0, kBearer.size()) == kBearer) {
    auto p = Cached(std::string(header.substr(kBearer.size())));
    if (!p) return std::nullopt;
    return Result<Principal>(std::move(*p));
  }
  return Authenticate(header);  // malformed: answered without the store
}

Result<Principal> Authenticator::Authenticate(std::string_view header) {
  if (header.empty()) return Unauthenticated(fmt::format("missing Authorization: Bearer <token> header; {}", kHowToFix));
  constexpr std::string_view kBearer = "Bearer ";
  if (header.size() <= kBearer.size() || header.substr(0, kBearer.size()) != kBearer) {
    return Unauthenticated("the Authorization header must be \"Bearer <token>\"");
  }
  std::string token(header.substr(kBearer.size()));
  if (auto p = Cached(token)) return std::move(*p);
  int64_t now = clock_->NowUnixMs();
  // ign_<id>_<secret>
  auto bad = [] { return Unauthenticated("invalid token; " + std::string(kHowToFix)); };
  if (token.rfind("ign_", 0) != 0) return bad();
  size_t sep = token.find('_', 4);
  if (sep == std::string::npos) return bad();
  std::string id = token.substr(4, sep - 4);
  std::string secret = token.substr(sep + 1);
  auto rec = store_->GetToken(id);
  if (!rec.ok()) {
    if (rec.status().code() == StatusCode::kNotFound) return bad();
    return rec.status();
  }
  std::string hash = Sha256Hex(rec->salt + secret);
  if (hash.size() != rec->secret_hash.size() || CRYPTO_memcmp(hash.data(), rec->secret_hash.data(), hash.size()) != 0) {
    return bad();
  }
  if (rec->expires_at_ms != 0 && rec->expires_at_ms <= now) {
    return Unauthenticated("token expired; log in again with `dodil login`");
  }
  auto org = store_->GetOrgById(rec->org_id);
  if (!org.ok()) return Unauthenticated("token's organization no longer exists");
  Principal p{id, org->id, org->name, rec->role};
  std::lock_guard<std::mutex> l(mu_);
  if (cache_.size() > 10000) cache_.clear();
  cache_[token] = CacheEntry{p, rec->expires_at_ms, clock_->Now()};
  return p;
}

Result<std::string> Authenticator::IssueToken(const std::string& org_id, const std::string& role,
                                              const std::string& description, std::chrono::seconds ttl) {
  store::TokenRecord t;
  t.id = RandomHex(8);
  std::string secret = RandomHex(24);
  t.org_id = org_id;
  t.role = role;
  t.salt = RandomHex(16);
  t.secret_hash = Sha256Hex(t.salt + secret);
  t.description = description;
  t.created_at_ms = clock_->NowUnixMs();
  t.expires_at_ms = ttl.count() == 0 ? 0 : t.created_at_ms + ttl.count() * 1000;
  IGNITE_RETURN_IF_ERROR(store_->PutToken(t));
  return "ign_" + t.id + "_" + secret;
}

}  // namespace ignite::api
