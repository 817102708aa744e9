#include "api/auth.h"

#include <openssl/crypto.h>

#include <fmt/format.h>

#include "common/ids.h"

namespace ignite::api {
namespace {
constexpr auto kCacheTtl = std::chrono::seconds(60);
const char kHowToFix[] =
    "pass a token with --token or DODIL_TOKEN, log in with `dodil login <service_account_id> <secret>`, or use "
    "the CLI on the machine where ignited created its config";
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
  uint64_t forgets_before;
  {
    std::lock_guard<std::mutex> l(mu_);
    forgets_before = forgets_;
  }
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
  Principal p{id, org->id, org->name, rec->role, rec->service_account_id, rec->expires_at_ms};
  std::lock_guard<std::mutex> l(mu_);
  if (forgets_ != forgets_before) return p;  // a service account went meanwhile: its row may be gone now
  if (cache_.size() > 10000) cache_.clear();
  cache_[token] = CacheEntry{p, rec->expires_at_ms, clock_->Now()};
  return p;
}

Result<std::string> Authenticator::IssueToken(const std::string& org_id, const std::string& role,
                                              const std::string& description, std::chrono::seconds ttl) {
  store::TokenRecord t;
  t.org_id = org_id;
  t.role = role;
  t.description = description;
  IGNITE_ASSIGN_OR_RETURN(IssuedToken issued, Issue(std::move(t), ttl));
  return std::move(issued.bearer);
}

Result<IssuedToken> Authenticator::IssueServiceAccountToken(const store::ServiceAccountRecord& account,
                                                            std::chrono::seconds ttl) {
  store::TokenRecord t;
  t.org_id = account.org_id;
  t.role = account.role;
  t.description = "issued to service account " + account.name;
  t.service_account_id = account.id;
  return Issue(std::move(t), ttl);
}

Result<IssuedToken> Authenticator::Issue(store::TokenRecord t, std::chrono::seconds ttl) {
  t.id = RandomHex(8);
  std::string secret = RandomHex(24);
  t.salt = RandomHex(16);
  t.secret_hash = Sha256Hex(t.salt + secret);
  t.created_at_ms = clock_->NowUnixMs();
  t.expires_at_ms = ttl.count() == 0 ? 0 : t.created_at_ms + ttl.count() * 1000;
  IGNITE_RETURN_IF_ERROR(store_->PutToken(t));
  return IssuedToken{"ign_" + t.id + "_" + secret, t.id, t.expires_at_ms};
}

void Authenticator::ForgetServiceAccount(std::string_view id) {
  std::lock_guard<std::mutex> l(mu_);
  ++forgets_;
  std::erase_if(cache_, [&](const auto& kv) { return kv.second.principal.service_account_id == id; });
}

}  // namespace ignite::api
