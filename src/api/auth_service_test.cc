#include "api/auth_service.h"

#include <gtest/gtest.h>

#include "api/auth_http.h"
#include "store/sqlite_store.h"

namespace ignite::api {
namespace {

using namespace std::chrono_literals;

class AuthServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = store::SqliteStore::Open(":memory:");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    ASSERT_TRUE(store_->CreateOrg({.id = "o1", .name = "org", .created_at_ms = 1}).ok());
    ASSERT_TRUE(store_->CreateOrg({.id = "o2", .name = "other", .created_at_ms = 1}).ok());
    auth_ = std::make_unique<Authenticator>(store_.get(), &clock_);
    service_ = std::make_unique<AuthService>(store_.get(), auth_.get(), &clock_, AuthOptions{.token_ttl = 600s});
  }

  static Principal Admin(std::string org_id = "o1", std::string org_name = "org") {
    return Principal{"t", std::move(org_id), std::move(org_name), "admin"};
  }
  pb::CreateServiceAccountResponse Create(const std::string& name, const std::string& role = "") {
    pb::CreateServiceAccountRequest req;
    req.set_name(name);
    req.set_role(role);
    req.set_description("for " + name);
    auto r = service_->CreateServiceAccount(Admin(), req);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : pb::CreateServiceAccountResponse();
  }
  Result<pb::IssueTokenResponse> Exchange(const std::string& id, const std::string& secret,
                                          std::optional<int64_t> ttl = std::nullopt) {
    pb::IssueTokenRequest req;
    req.set_service_account_id(id);
    req.set_secret(secret);
    if (ttl) req.set_ttl_secs(*ttl);
    return service_->IssueToken(req);
  }

  FakeClock clock_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<AuthService> service_;
};

TEST_F(AuthServiceTest, CreateReturnsTheSecretOnceAndStoresOnlyItsHash) {
  auto created = Create("ci");
  const auto& sa = created.service_account();
  EXPECT_EQ(sa.id().rfind("sa_", 0), 0u);
  EXPECT_EQ(created.service_account_id(), sa.id());
  EXPECT_EQ(sa.role(), "app-developer");  // the default
  EXPECT_EQ(sa.organization_id(), "o1");
  EXPECT_EQ(sa.organization_name(), "org");
  EXPECT_EQ(sa.description(), "for ci");
  EXPECT_EQ(sa.created_at_ms(), clock_.NowUnixMs());
  EXPECT_EQ(created.secret().rfind("igs_", 0), 0u);
  auto rec = store_->GetServiceAccount(sa.id());
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->secret_hash.find(created.secret()), std::string::npos);
  EXPECT_NE(rec->secret_hash, created.secret());
  EXPECT_EQ(rec->secret_hash.size(), 64u);
}

TEST_F(AuthServiceTest, CreateValidates) {
  pb::CreateServiceAccountRequest req;
  req.set_name("Bad Name");
  EXPECT_EQ(service_->CreateServiceAccount(Admin(), req).status().code(), StatusCode::kInvalidArgument);
  req.set_name("ok");
  req.set_role("root");
  EXPECT_EQ(service_->CreateServiceAccount(Admin(), req).status().code(), StatusCode::kInvalidArgument);
  req.set_role("admin");
  req.set_description(std::string(600, 'x'));
  EXPECT_EQ(service_->CreateServiceAccount(Admin(), req).status().code(), StatusCode::kInvalidArgument);
  Create("dup");
  req.set_name("dup");
  req.set_description("");
  EXPECT_EQ(service_->CreateServiceAccount(Admin(), req).status().code(), StatusCode::kAlreadyExists);
  // Only admins manage service accounts.
  Principal dev = Admin();
  dev.role = "app-developer";
  req.set_name("x");
  req.set_role("app-viewer");
  EXPECT_EQ(service_->CreateServiceAccount(dev, req).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(service_->ListServiceAccounts(dev, {}).status().code(), StatusCode::kPermissionDenied);
}

TEST_F(AuthServiceTest, ListShowsOnlyTheCallersOrgWithoutSecrets) {
  auto a = Create("alpha", "app-viewer");
  Create("beta", "admin");
  auto mine = service_->ListServiceAccounts(Admin(), {});
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->service_accounts_size(), 2);
  EXPECT_EQ(mine->service_accounts(0).name(), "alpha");
  EXPECT_EQ(mine->service_accounts(0).role(), "app-viewer");
  EXPECT_EQ(mine->DebugString().find(a.secret()), std::string::npos);
  auto theirs = service_->ListServiceAccounts(Admin("o2", "other"), {});
  ASSERT_TRUE(theirs.ok());
  EXPECT_EQ(theirs->service_accounts_size(), 0);
}

TEST_F(AuthServiceTest, IssueTokenAnswersAWorkingExpiringTokenWithTheAccountsOrgAndRole) {
  auto created = Create("ci", "app-viewer");
  auto tok = Exchange(created.service_account_id(), created.secret());
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  EXPECT_EQ(tok->token_type(), "Bearer");
  EXPECT_EQ(tok->organization_id(), "o1");
  EXPECT_EQ(tok->organization_name(), "org");
  EXPECT_EQ(tok->role(), "app-viewer");
  EXPECT_EQ(tok->expires_at_ms(), clock_.NowUnixMs() + 600'000);  // the server's TTL
  auto p = auth_->Authenticate("Bearer " + tok->access_token());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->org_id, "o1");
  EXPECT_EQ(p->role, "app-viewer");
  EXPECT_EQ(p->service_account_id, created.service_account_id());
  auto who = service_->WhoAmI(*p, {});
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->service_account_id(), created.service_account_id());
  EXPECT_EQ(who->expires_at_ms(), tok->expires_at_ms());
  clock_.Advance(601s);
  EXPECT_EQ(auth_->Authenticate("Bearer " + tok->access_token()).status().code(), StatusCode::kUnauthenticated);
}

TEST_F(AuthServiceTest, TtlIsShortenedOnRequestButNeverLengthened) {
  auto created = Create("ci");
  auto shorter = Exchange(created.service_account_id(), created.secret(), 5);
  ASSERT_TRUE(shorter.ok());
  EXPECT_EQ(shorter->expires_at_ms(), clock_.NowUnixMs() + 5000);
  auto capped = Exchange(created.service_account_id(), created.secret(), 999'999);
  ASSERT_TRUE(capped.ok());
  EXPECT_EQ(capped->expires_at_ms(), clock_.NowUnixMs() + 600'000);
  auto zero = Exchange(created.service_account_id(), created.secret(), 0);
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(zero->expires_at_ms(), clock_.NowUnixMs() + 600'000);
  EXPECT_EQ(Exchange(created.service_account_id(), created.secret(), -1).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(AuthServiceTest, WrongIdOrSecretGetOneUnauthenticatedMessage) {
  auto created = Create("ci");
  auto wrong_secret = Exchange(created.service_account_id(), created.secret() + "x");
  auto wrong_id = Exchange("sa_00000000000000000000000000000000", created.secret());
  EXPECT_EQ(wrong_secret.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(wrong_id.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(wrong_secret.status().message(), wrong_id.status().message());
  EXPECT_EQ(Exchange("", created.secret()).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Exchange(created.service_account_id(), "").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(AuthServiceTest, DeleteRevokesTheAccountsTokensEvenWhenCached) {
  auto created = Create("ci");
  auto keep = Create("keep");
  auto tok = Exchange(created.service_account_id(), created.secret());
  auto other = Exchange(keep.service_account_id(), keep.secret());
  ASSERT_TRUE(tok.ok() && other.ok());
  const std::string bearer = "Bearer " + tok->access_token();
  ASSERT_TRUE(auth_->Authenticate(bearer).ok());
  ASSERT_TRUE(auth_->AuthenticateFast(bearer).has_value());  // cached now
  // Another org cannot delete it, nor learn that it exists.
  pb::DeleteServiceAccountRequest del;
  del.set_id(created.service_account_id());
  EXPECT_EQ(service_->DeleteServiceAccount(Admin("o2", "other"), del).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(auth_->Authenticate(bearer).ok());
  auto deleted = service_->DeleteServiceAccount(Admin(), del);
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(deleted->revoked_tokens(), 1);
  EXPECT_FALSE(auth_->AuthenticateFast(bearer).has_value());
  EXPECT_EQ(auth_->Authenticate(bearer).status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(Exchange(created.service_account_id(), created.secret()).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_TRUE(auth_->Authenticate("Bearer " + other->access_token()).ok());
  EXPECT_EQ(service_->DeleteServiceAccount(Admin(), del).status().code(), StatusCode::kNotFound);
}

TEST(ParseIssueTokenBody, JsonAndTheOAuth2Form) {
  auto json = ParseIssueTokenBody("application/json", R"({"serviceAccountId":"sa_1","secret":"s","ttlSecs":"5"})");
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  EXPECT_EQ(json->service_account_id(), "sa_1");
  EXPECT_EQ(json->ttl_secs(), 5);
  EXPECT_EQ(ParseIssueTokenBody("application/json", R"({"clientId":"x"})").status().code(),
            StatusCode::kInvalidArgument);
  auto form = ParseIssueTokenBody("application/x-www-form-urlencoded; charset=utf-8",
                                  "grant_type=client_credentials&client_id=sa_1&client_secret=a%2Bb+c&ttl_secs=7");
  ASSERT_TRUE(form.ok()) << form.status().ToString();
  EXPECT_EQ(form->service_account_id(), "sa_1");
  EXPECT_EQ(form->secret(), "a+b c");
  EXPECT_EQ(form->ttl_secs(), 7);
  EXPECT_EQ(ParseIssueTokenBody("application/x-www-form-urlencoded", "grant_type=password").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseIssueTokenBody("application/x-www-form-urlencoded", "client_id=%zz").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseIssueTokenBody("application/x-www-form-urlencoded", "user=x").status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ignite::api
