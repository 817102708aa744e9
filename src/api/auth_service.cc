#include "api/auth_service.h"

#include <openssl/crypto.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/roles.h"
#include "common/ids.h"

namespace ignite::api {
namespace {

constexpr size_t kMaxDescription = 512;
const char kBadCredentials[] =
    "invalid service account id or secret; check both (the secret is shown only when the account is created: "
    "if it is lost, an admin deletes the account and creates a new one with `dodil auth service-account create`)";

Status ValidateAccountName(std::string_view name) {
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  bool ok = !name.empty() && name.size() <= 63 && alnum(name.front()) && alnum(name.back());
  for (char c : name) ok = ok && (alnum(c) || c == '-');
  if (ok) return OkStatus();
  return InvalidArgument(fmt::format("invalid service account name \"{}\": use 1-63 lowercase letters, digits and "
                                     "'-', starting and ending with a letter or digit",
                                     name));
}

pb::ServiceAccount ToProto(const store::ServiceAccountRecord& r, const std::string& org_name) {
  pb::ServiceAccount out;
  out.set_id(r.id);
  out.set_name(r.name);
  out.set_role(r.role);
  out.set_organization_id(r.org_id);
  out.set_organization_name(org_name);
  out.set_description(r.description);
  out.set_created_at_ms(r.created_at_ms);
  return out;
}

bool SameHash(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

AuthService::AuthService(store::Store* store, Authenticator* auth, const Clock* clock, AuthOptions options)
    : store_(store), auth_(auth), clock_(clock), options_(options) {}

Result<pb::CreateServiceAccountResponse> AuthService::CreateServiceAccount(
    const Principal& p, const pb::CreateServiceAccountRequest& req) {
  IGNITE_RETURN_IF_ERROR(CheckRole(p, "CreateServiceAccount"));
  IGNITE_RETURN_IF_ERROR(ValidateAccountName(req.name()));
  const std::string role = req.role().empty() ? "app-developer" : req.role();
  IGNITE_ASSIGN_OR_RETURN(Role wanted, ParseRole(role));
  IGNITE_ASSIGN_OR_RETURN(Role have, ParseRole(p.role));
  if (wanted > have) {
    return PermissionDenied(fmt::format("a service account cannot get role {} from a token with role {}; ask an "
                                        "admin of organization \"{}\"",
                                        role, p.role, p.org_name));
  }
  if (req.description().size() > kMaxDescription) {
    return InvalidArgument(fmt::format("description is {} bytes; keep it under {}", req.description().size(),
                                       kMaxDescription));
  }
  store::ServiceAccountRecord rec;
  rec.id = "sa_" + RandomHex(16);
  std::string secret = "igs_" + RandomHex(32);
  rec.org_id = p.org_id;
  rec.name = req.name();
  rec.role = role;
  rec.salt = RandomHex(16);
  rec.secret_hash = Sha256Hex(rec.salt + secret);
  rec.description = req.description();
  rec.created_at_ms = clock_->NowUnixMs();
  IGNITE_RETURN_IF_ERROR(store_->CreateServiceAccount(rec));
  pb::CreateServiceAccountResponse out;
  *out.mutable_service_account() = ToProto(rec, p.org_name);
  out.set_secret(std::move(secret));
  out.set_service_account_id(rec.id);
  return out;
}

Result<pb::ListServiceAccountsResponse> AuthService::ListServiceAccounts(const Principal& p,
                                                                         const pb::ListServiceAccountsRequest&) {
  IGNITE_RETURN_IF_ERROR(CheckRole(p, "ListServiceAccounts"));
  IGNITE_ASSIGN_OR_RETURN(auto accounts, store_->ListServiceAccounts(p.org_id));
  pb::ListServiceAccountsResponse out;
  for (const auto& a : accounts) *out.add_service_accounts() = ToProto(a, p.org_name);
  return out;
}

Result<pb::DeleteServiceAccountResponse> AuthService::DeleteServiceAccount(
    const Principal& p, const pb::DeleteServiceAccountRequest& req) {
  IGNITE_RETURN_IF_ERROR(CheckRole(p, "DeleteServiceAccount"));
  if (req.id().empty()) return InvalidArgument("name the service account to delete by its id (sa_...)");
  IGNITE_ASSIGN_OR_RETURN(int revoked, store_->DeleteServiceAccount(p.org_id, req.id()));
  auth_->ForgetServiceAccount(req.id());
  pb::DeleteServiceAccountResponse out;
  out.set_revoked_tokens(revoked);
  return out;
}

Result<pb::IssueTokenResponse> AuthService::IssueToken(const pb::IssueTokenRequest& req) {
  if (req.service_account_id().empty() || req.secret().empty()) {
    return InvalidArgument("send serviceAccountId and secret (or the form fields client_id and client_secret)");
  }
  if (req.has_ttl_secs() && req.ttl_secs() < 0) {
    return InvalidArgument("ttlSecs must be positive, or 0 for the server's default");
  }
  std::chrono::seconds ttl = options_.token_ttl;
  if (req.has_ttl_secs() && req.ttl_secs() > 0 && req.ttl_secs() < ttl.count()) {
    ttl = std::chrono::seconds(req.ttl_secs());
  }
  auto account = store_->GetServiceAccount(req.service_account_id());
  if (!account.ok() && account.status().code() != StatusCode::kNotFound) return account.status();
  // An unknown id costs the same hash as a known one, so timing does not tell which was wrong.
  const std::string salt = account.ok() ? account->salt : std::string(32, '0');
  const std::string hash = Sha256Hex(salt + req.secret());
  if (!account.ok() || !SameHash(hash, account->secret_hash)) return Unauthenticated(kBadCredentials);
  auto org = store_->GetOrgById(account->org_id);
  if (!org.ok()) return org.status();
  auto issued = auth_->IssueServiceAccountToken(*account, ttl);
  if (!issued.ok()) {
    if (issued.status().code() == StatusCode::kNotFound) return Unauthenticated(kBadCredentials);  // deleted
    return issued.status();
  }
  MaybeSweepExpiredTokens(clock_->NowUnixMs());
  pb::IssueTokenResponse out;
  out.set_access_token(std::move(issued->bearer));
  out.set_token_type("Bearer");
  out.set_expires_at_ms(issued->expires_at_ms);
  out.set_organization_id(org->id);
  out.set_organization_name(org->name);
  out.set_role(account->role);
  return out;
}

Result<pb::WhoAmIResponse> AuthService::WhoAmI(const Principal& p, const pb::WhoAmIRequest&) {
  IGNITE_RETURN_IF_ERROR(CheckRole(p, "WhoAmI"));
  pb::WhoAmIResponse out;
  out.set_organization_id(p.org_id);
  out.set_organization_name(p.org_name);
  out.set_role(p.role);
  out.set_token_id(p.token_id);
  out.set_service_account_id(p.service_account_id);
  out.set_expires_at_ms(p.expires_at_ms);
  return out;
}

void AuthService::MaybeSweepExpiredTokens(int64_t now_ms) {
  int64_t last = last_sweep_ms_.load();
  if (now_ms - last < 60'000 || !last_sweep_ms_.compare_exchange_strong(last, now_ms)) return;
  // Expired a day ago: until then Authenticate can still say "expired" rather than "invalid".
  auto swept = store_->DeleteTokensExpiredBefore(now_ms - 24 * 3600 * 1000);
  if (!swept.ok()) spdlog::warn("deleting expired tokens: {}", swept.status().message());
}

}  // namespace ignite::api
