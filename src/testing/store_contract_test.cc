// StoreContractTest: what every store::Store backend must do, run over each backend. It proves FakeStore
// faithful to SqliteStore today, and is the suite a PostgreSQL backend must pass later.
//
// Only the backend structs below know which store they make; every test talks to store::Store. A new
// backend is one more struct with kName and Open(), added to Backends. Error messages are compared exactly:
// users see them, so every backend must say the same thing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite_store.h"
#include "store/store.h"
#include "testing/fake_store.h"

namespace ignite::fakes {
namespace {

using ::testing::ElementsAre;
using namespace std::string_literals;
using store::AppRecord;
using store::BuildRecord;
using store::DraftRecord;
using store::ExecutionRecord;
using store::InvocationRecord;
using store::SecretRecord;
using store::ServiceAccountRecord;
using store::Store;
using store::TokenRecord;
using store::VersionRecord;

// ---- Backends: the only backend-specific part ----

struct FakeBackend {
  static constexpr std::string_view kName = "FakeStore";
  Result<std::unique_ptr<Store>> Open() { return std::unique_ptr<Store>(std::make_unique<FakeStore>()); }
};

// A fresh database file in a fresh temporary directory, removed with the backend.
class SqliteBackend {
 public:
  static constexpr std::string_view kName = "SqliteStore";
  SqliteBackend() = default;
  SqliteBackend(const SqliteBackend&) = delete;
  SqliteBackend& operator=(const SqliteBackend&) = delete;
  ~SqliteBackend() {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  Result<std::unique_ptr<Store>> Open() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ignite-store-contract-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) return Internal("mkdtemp failed for " + tmpl);
    dir_ = tmpl;
    IGNITE_ASSIGN_OR_RETURN(std::unique_ptr<store::SqliteStore> opened, store::SqliteStore::Open(dir_ + "/ignite.db"));
    return std::unique_ptr<Store>(std::move(opened));
  }

 private:
  std::string dir_;
};

using Backends = ::testing::Types<FakeBackend, SqliteBackend>;

struct BackendName {
  template <typename Backend>
  static std::string GetName(int) {
    return std::string(Backend::kName);
  }
};

// ---- Fixture and record builders ----

// Status numbers as the store keeps them (dodil.ignite.v1.BuildStatus / ExecutionStatus; store_test checks
// them against the enums).
constexpr int kPending = 1, kRunning = 2, kSucceeded = 3, kFailed = 4, kCancelledOrTimedOut = 5;

// Bytes a text column would mangle: NULs, invalid UTF-8, a trailing NUL.
const std::string kBinary = "\x00\x01spec\xff\xfe\x00with nul\x00"s;

template <typename Backend>
class StoreContractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = backend_.Open();
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }

  void MakeOrg(const std::string& id, const std::string& name) {
    Status st = store_->CreateOrg({.id = id, .name = name, .created_at_ms = 10});
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  void MakeApp(const std::string& org_id, const std::string& name) {
    Status st = store_->CreateApp(
        {.org_id = org_id, .name = name, .spec = "spec-" + name, .created_at_ms = 20, .updated_at_ms = 20});
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  // An org "o1" (named "acme") with an app "web": what most tests start from.
  void MakeOrgAndApp() {
    MakeOrg("o1", "acme");
    MakeApp("o1", "web");
  }

  Backend backend_;  // Declared first so it outlives store_ (it owns the SQLite file's directory).
  std::unique_ptr<Store> store_;
};

TYPED_TEST_SUITE(StoreContractTest, Backends, BackendName);

VersionRecord Version(const std::string& code_hash) {
  return {.code_hash = code_hash,
          .artifact_hash = "art-" + code_hash,
          .artifact_size = 42,
          .build_id = "build-" + code_hash,
          .spec = kBinary,
          .runtime = "rt",
          .created_at_ms = 30};
}

TokenRecord Token(std::string id, std::string org_id, int64_t expires_at_ms = 0, std::string account = "") {
  return {.id = std::move(id),
          .org_id = std::move(org_id),
          .role = "admin",
          .secret_hash = "hash",
          .salt = "salt",
          .description = "ci",
          .created_at_ms = 5,
          .expires_at_ms = expires_at_ms,
          .service_account_id = std::move(account)};
}

ServiceAccountRecord Account(std::string id, std::string org_id, std::string name) {
  return {.id = std::move(id),
          .org_id = std::move(org_id),
          .name = std::move(name),
          .role = "app-developer",
          .secret_hash = "hash",
          .salt = "salt",
          .description = "deploys",
          .created_at_ms = 6};
}

ExecutionRecord Execution(std::string id, int64_t created_at_ms, int status) {
  return {.id = std::move(id), .org_id = "o1", .app_id = "acme/web", .version = 3, .status = status,
          .created_at_ms = created_at_ms};
}

InvocationRecord Invocation(std::string app_id, int64_t finished_at_ms, int64_t duration_ms, uint32_t status,
                            bool cold_start = false) {
  return {.org_id = "o1", .app_id = std::move(app_id), .version = 1, .finished_at_ms = finished_at_ms,
          .duration_ms = duration_ms, .status = status, .cold_start = cold_start};
}

SecretRecord Secret(std::string org_id, std::string name, std::string sealed = kBinary, int64_t at_ms = 7) {
  return {.org_id = std::move(org_id),
          .name = std::move(name),
          .type = "git_secret",
          .sealed = std::move(sealed),
          .created_at_ms = at_ms,
          .updated_at_ms = at_ms};
}

template <typename Record>
std::vector<std::string> Names(const std::vector<Record>& records) {
  std::vector<std::string> names;
  for (const Record& r : records) names.push_back(r.name);
  return names;
}

// ---- Orgs ----

TYPED_TEST(StoreContractTest, OrgsAreFoundByNameAndIdAndListedByName) {
  Store& db = *this->store_;
  EXPECT_TRUE(db.ListOrgs()->empty());
  this->MakeOrg("o1", "zeta");
  this->MakeOrg("o2", "alpha");
  this->MakeOrg("o3", "mid");

  auto by_name = db.GetOrgByName("zeta");
  ASSERT_TRUE(by_name.ok());
  EXPECT_EQ(by_name->id, "o1");
  EXPECT_EQ(by_name->created_at_ms, 10);
  auto by_id = db.GetOrgById("o2");
  ASSERT_TRUE(by_id.ok());
  EXPECT_EQ(by_id->name, "alpha");

  auto orgs = db.ListOrgs();
  ASSERT_TRUE(orgs.ok());
  EXPECT_THAT(Names(*orgs), ElementsAre("alpha", "mid", "zeta"));
  EXPECT_EQ((*orgs)[0].id, "o2");

  EXPECT_EQ(db.GetOrgByName("nope").status().message(), "organization \"nope\" not found");
  EXPECT_EQ(db.GetOrgById("nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(db.GetOrgById("nope").status().message(), "organization with id nope not found");
}

TYPED_TEST(StoreContractTest, OrgNameAndIdAreUnique) {
  Store& db = *this->store_;
  this->MakeOrg("o1", "acme");
  Status dup_name = db.CreateOrg({.id = "o2", .name = "acme"});
  EXPECT_EQ(dup_name.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup_name.message(), "organization \"acme\" already exists");
  Status dup_id = db.CreateOrg({.id = "o1", .name = "other"});
  EXPECT_EQ(dup_id.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup_id.message(), "organization with id o1 already exists");
  // Both clash: the name is reported.
  EXPECT_EQ(db.CreateOrg({.id = "o1", .name = "acme"}).message(), "organization \"acme\" already exists");
  // Nothing half-made.
  EXPECT_EQ(db.GetOrgByName("other").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(db.GetOrgById("o2").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(db.ListOrgs()->size(), 1u);
}

// ---- Tokens ----

TYPED_TEST(StoreContractTest, TokensRoundTripAndAreUniqueById) {
  Store& db = *this->store_;
  this->MakeOrg("o1", "acme");
  ASSERT_TRUE(db.PutToken(Token("tok1", "o1", 99)).ok());
  auto got = db.GetToken("tok1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->org_id, "o1");
  EXPECT_EQ(got->role, "admin");
  EXPECT_EQ(got->secret_hash, "hash");
  EXPECT_EQ(got->salt, "salt");
  EXPECT_EQ(got->description, "ci");
  EXPECT_EQ(got->created_at_ms, 5);
  EXPECT_EQ(got->expires_at_ms, 99);
  EXPECT_EQ(got->service_account_id, "");

  Status dup = db.PutToken(Token("tok1", "o1"));
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.message(), "token tok1 already exists");
  EXPECT_EQ(db.GetToken("tok1")->expires_at_ms, 99);  // Not replaced.
  // The id clash is found before the missing org.
  EXPECT_EQ(db.PutToken(Token("tok1", "ghost")).code(), StatusCode::kAlreadyExists);

  Status no_org = db.PutToken(Token("tok2", "ghost"));
  EXPECT_EQ(no_org.code(), StatusCode::kNotFound);
  EXPECT_EQ(no_org.message(), "organization with id ghost not found");
  Status missing = db.GetToken("tok2").status();
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.message(), "token tok2 not found");
}

TYPED_TEST(StoreContractTest, DeleteTokensExpiredBeforeKeepsNeverExpiringAndLaterOnes) {
  Store& db = *this->store_;
  this->MakeOrg("o1", "acme");
  ASSERT_TRUE(db.PutToken(Token("never", "o1", 0)).ok());
  ASSERT_TRUE(db.PutToken(Token("old", "o1", 100)).ok());
  ASSERT_TRUE(db.PutToken(Token("older", "o1", 50)).ok());
  ASSERT_TRUE(db.PutToken(Token("edge", "o1", 200)).ok());
  ASSERT_TRUE(db.PutToken(Token("later", "o1", 300)).ok());
  auto deleted = db.DeleteTokensExpiredBefore(200);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 2);
  EXPECT_EQ(db.GetToken("old").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(db.GetToken("older").status().code(), StatusCode::kNotFound);
  for (const char* kept : {"never", "edge", "later"}) EXPECT_TRUE(db.GetToken(kept).ok()) << kept;
  EXPECT_EQ(*db.DeleteTokensExpiredBefore(200), 0);
}

// ---- Service accounts ----

TYPED_TEST(StoreContractTest, ServiceAccountsAreUniquePerOrgAndListedByName) {
  Store& db = *this->store_;
  this->MakeOrg("o1", "acme");
  this->MakeOrg("o2", "other");
  ASSERT_TRUE(db.CreateServiceAccount(Account("sa_b", "o1", "beta")).ok());
  ASSERT_TRUE(db.CreateServiceAccount(Account("sa_a", "o1", "alpha")).ok());
  ASSERT_TRUE(db.CreateServiceAccount(Account("sa_c", "o2", "alpha")).ok());  // Names are per org.

  auto got = db.GetServiceAccount("sa_b");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->org_id, "o1");
  EXPECT_EQ(got->name, "beta");
  EXPECT_EQ(got->role, "app-developer");
  EXPECT_EQ(got->secret_hash, "hash");
  EXPECT_EQ(got->salt, "salt");
  EXPECT_EQ(got->description, "deploys");
  EXPECT_EQ(got->created_at_ms, 6);
  EXPECT_THAT(Names(*db.ListServiceAccounts("o1")), ElementsAre("alpha", "beta"));
  EXPECT_THAT(Names(*db.ListServiceAccounts("o2")), ElementsAre("alpha"));
  EXPECT_TRUE(db.ListServiceAccounts("ghost")->empty());  // Not an error.

  const std::string name_taken =
      "a service account named \"beta\" already exists in this organization; pick another name or delete it "
      "first";
  Status dup_name = db.CreateServiceAccount(Account("sa_new", "o1", "beta"));
  EXPECT_EQ(dup_name.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup_name.message(), name_taken);
  Status dup_id = db.CreateServiceAccount(Account("sa_b", "o1", "gamma"));
  EXPECT_EQ(dup_id.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup_id.message(), "service account sa_b already exists");
  EXPECT_EQ(db.CreateServiceAccount(Account("sa_b", "o1", "beta")).message(), name_taken);  // Both: the name.
  EXPECT_EQ(db.CreateServiceAccount(Account("sa_b", "ghost", "x")).code(), StatusCode::kAlreadyExists);
  Status no_org = db.CreateServiceAccount(Account("sa_x", "ghost", "x"));
  EXPECT_EQ(no_org.code(), StatusCode::kNotFound);
  EXPECT_EQ(no_org.message(), "organization with id ghost not found");

  Status missing = db.GetServiceAccount("sa_zzz").status();
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.message(), "service account sa_zzz not found; `dodil auth service-account list` shows yours");
}

TYPED_TEST(StoreContractTest, DeletingAServiceAccountDeletesItsTokens) {
  Store& db = *this->store_;
  this->MakeOrg("o1", "acme");
  this->MakeOrg("o2", "other");
  ASSERT_TRUE(db.CreateServiceAccount(Account("sa_1", "o1", "ci")).ok());
  ASSERT_TRUE(db.CreateServiceAccount(Account("sa_2", "o1", "cd")).ok());
  ASSERT_TRUE(db.PutToken(Token("t1", "o1", 0, "sa_1")).ok());
  ASSERT_TRUE(db.PutToken(Token("t2", "o1", 500, "sa_1")).ok());
  ASSERT_TRUE(db.PutToken(Token("t3", "o1", 0, "sa_2")).ok());
  ASSERT_TRUE(db.PutToken(Token("plain", "o1")).ok());
  EXPECT_EQ(db.GetToken("t1")->service_account_id, "sa_1");

  // A token of a missing account is not inserted, even when its id is taken or its org missing.
  const std::string gone = "service account sa_gone not found (deleted meanwhile?)";
  EXPECT_EQ(db.PutToken(Token("t4", "o1", 0, "sa_gone")).message(), gone);
  EXPECT_EQ(db.PutToken(Token("t1", "ghost", 0, "sa_gone")).message(), gone);
  EXPECT_EQ(db.GetToken("t4").status().code(), StatusCode::kNotFound);

  // Only in its own org.
  EXPECT_EQ(db.DeleteServiceAccount("o2", "sa_1").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(db.GetServiceAccount("sa_1").ok());
  auto revoked = db.DeleteServiceAccount("o1", "sa_1");
  ASSERT_TRUE(revoked.ok()) << revoked.status().ToString();
  EXPECT_EQ(*revoked, 2);
  EXPECT_EQ(db.GetServiceAccount("sa_1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(db.GetToken("t1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(db.GetToken("t2").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(db.GetToken("t3").ok());
  EXPECT_TRUE(db.GetToken("plain").ok());
  Status again = db.DeleteServiceAccount("o1", "sa_1").status();
  EXPECT_EQ(again.code(), StatusCode::kNotFound);
  EXPECT_EQ(again.message(), "service account sa_1 not found; `dodil auth service-account list` shows yours");
  EXPECT_EQ(db.PutToken(Token("t5", "o1", 0, "sa_1")).code(), StatusCode::kNotFound);
}

// ---- Secrets ----

TYPED_TEST(StoreContractTest, SecretsRoundTripEveryFieldAndMissingOnesAreNotFound) {
  Store& db = *this->store_;
  this->MakeOrg("o1", "acme");
  Status st = db.PutSecret(Secret("o1", "gh-clone"));
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto got = db.GetSecret("o1", "gh-clone");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->org_id, "o1");
  EXPECT_EQ(got->name, "gh-clone");
  EXPECT_EQ(got->type, "git_secret");
  EXPECT_EQ(got->sealed, kBinary);  // Every byte: sealed values are binary.
  EXPECT_EQ(got->created_at_ms, 7);
  EXPECT_EQ(got->updated_at_ms, 7);
  ASSERT_TRUE(db.PutSecret(Secret("o1", "empty", "")).ok());
  EXPECT_EQ(db.GetSecret("o1", "empty")->sealed, "");

  Status missing = db.GetSecret("o1", "nope").status();
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.message(), "secret \"nope\" not found");
  EXPECT_EQ(db.GetSecret("ghost", "gh-clone").status().message(), "secret \"gh-clone\" not found");
  // Names are matched exactly (BINARY collation): no case folding.
  EXPECT_EQ(db.GetSecret("o1", "GH-CLONE").status().code(), StatusCode::kNotFound);
}

TYPED_TEST(StoreContractTest, PutSecretForAMissingOrgIsNotFoundAndStoresNothing) {
  Store& db = *this->store_;
  this->MakeOrg("o1", "acme");
  Status no_org = db.PutSecret(Secret("ghost", "gh-clone"));
  EXPECT_EQ(no_org.code(), StatusCode::kNotFound);
  EXPECT_EQ(no_org.message(), "organization with id ghost not found");
  EXPECT_EQ(db.GetSecret("ghost", "gh-clone").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(db.ListSecrets("ghost")->empty());
}

TYPED_TEST(StoreContractTest, PuttingASecretAgainRotatesItAndKeepsCreatedAt) {
  Store& db = *this->store_;
  this->MakeOrg("o1", "acme");
  ASSERT_TRUE(db.PutSecret(Secret("o1", "pull", "sealed-v1", 100)).ok());
  SecretRecord rotated = Secret("o1", "pull", "sealed-v2", 999);
  rotated.type = "registry_secret";
  rotated.updated_at_ms = 200;
  Status st = db.PutSecret(rotated);
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto got = db.GetSecret("o1", "pull");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->type, "registry_secret");
  EXPECT_EQ(got->sealed, "sealed-v2");
  EXPECT_EQ(got->created_at_ms, 100);  // The first put's, not 999.
  EXPECT_EQ(got->updated_at_ms, 200);
  EXPECT_EQ(db.ListSecrets("o1")->size(), 1u);  // Replaced, not added.
}

TYPED_TEST(StoreContractTest, SecretsAreListedByNameWithinTheirOrg) {
  Store& db = *this->store_;
  this->MakeOrg("o1", "acme");
  this->MakeOrg("o2", "other");
  EXPECT_TRUE(db.ListSecrets("o1")->empty());
  for (const char* name : {"zeta", "Alpha", "beta", "_under", "9lives"}) {
    ASSERT_TRUE(db.PutSecret(Secret("o1", name)).ok()) << name;
  }
  ASSERT_TRUE(db.PutSecret(Secret("o2", "beta", "o2-value")).ok());  // Names are per org.
  ASSERT_TRUE(db.PutSecret(Secret("o2", "only-o2")).ok());

  auto o1 = db.ListSecrets("o1");
  ASSERT_TRUE(o1.ok()) << o1.status().ToString();
  // Byte order (SQLite's BINARY): digits, upper case, '_', lower case.
  EXPECT_THAT(Names(*o1), ElementsAre("9lives", "Alpha", "_under", "beta", "zeta"));
  for (const SecretRecord& s : *o1) {
    EXPECT_EQ(s.org_id, "o1");
    EXPECT_EQ(s.sealed, kBinary);
  }
  EXPECT_THAT(Names(*db.ListSecrets("o2")), ElementsAre("beta", "only-o2"));
  EXPECT_EQ(db.GetSecret("o2", "beta")->sealed, "o2-value");
  EXPECT_EQ(db.GetSecret("o1", "beta")->sealed, kBinary);
  EXPECT_EQ(db.GetSecret("o1", "only-o2").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(db.ListSecrets("ghost")->empty());  // Not an error.
}

TYPED_TEST(StoreContractTest, DeleteSecretIsIdempotentAndReportsWhetherItRemovedOne) {
  Store& db = *this->store_;
  this->MakeOrg("o1", "acme");
  this->MakeOrg("o2", "other");
  ASSERT_TRUE(db.PutSecret(Secret("o1", "a")).ok());
  ASSERT_TRUE(db.PutSecret(Secret("o1", "b")).ok());
  ASSERT_TRUE(db.PutSecret(Secret("o2", "a")).ok());

  bool removed = false;
  Status st = db.DeleteSecret("o1", "a", &removed);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_TRUE(removed);
  EXPECT_EQ(db.GetSecret("o1", "a").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(db.GetSecret("o2", "a").ok());  // Only in its own org.
  EXPECT_THAT(Names(*db.ListSecrets("o1")), ElementsAre("b"));

  removed = true;
  EXPECT_TRUE(db.DeleteSecret("o1", "a", &removed).ok());  // Again: OK, nothing removed.
  EXPECT_FALSE(removed);
  removed = true;
  EXPECT_TRUE(db.DeleteSecret("ghost", "a", &removed).ok());
  EXPECT_FALSE(removed);
  EXPECT_TRUE(db.DeleteSecret("o1", "b").ok());  // `removed` may be null.
  EXPECT_TRUE(db.DeleteSecret("o1", "b", nullptr).ok());
  EXPECT_TRUE(db.ListSecrets("o1")->empty());

  // A deleted name can be put again, as a new secret with its own created_at_ms.
  ASSERT_TRUE(db.PutSecret(Secret("o1", "a", "new", 50)).ok());
  EXPECT_EQ(db.GetSecret("o1", "a")->created_at_ms, 50);
}

// ---- Apps ----

TYPED_TEST(StoreContractTest, AppsRoundTripAndAreUniquePerOrg) {
  Store& db = *this->store_;
  this->MakeOrgAndApp();
  this->MakeOrg("o2", "other");
  this->MakeApp("o2", "web");  // Names are per org.
  auto app = db.GetApp("o1", "web");
  ASSERT_TRUE(app.ok());
  EXPECT_EQ(app->org_id, "o1");
  EXPECT_EQ(app->name, "web");
  EXPECT_EQ(app->spec, "spec-web");
  EXPECT_EQ(app->active_version, 0u);
  EXPECT_EQ(app->latest_version, 0u);
  EXPECT_EQ(app->created_at_ms, 20);
  EXPECT_EQ(app->updated_at_ms, 20);

  Status dup = db.CreateApp({.org_id = "o1", .name = "web", .spec = "other"});
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.message(), "app o1/web already exists");
  EXPECT_EQ(db.GetApp("o1", "web")->spec, "spec-web");
  Status no_org = db.CreateApp({.org_id = "ghost", .name = "web"});
  EXPECT_EQ(no_org.code(), StatusCode::kNotFound);
  EXPECT_EQ(no_org.message(), "organization with id ghost not found");

  Status missing = db.GetApp("o1", "nope").status();
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.message(), "app o1/nope not found");
  EXPECT_EQ(db.GetApp("o2", "nope").status().message(), "app o2/nope not found");
}

TYPED_TEST(StoreContractTest, CreateAppKeepsTheGivenVersionNumbersAndBinarySpec) {
  Store& db = *this->store_;
  this->MakeOrg("o1", "acme");
  ASSERT_TRUE(db.CreateApp({.org_id = "o1", .name = "imported", .spec = kBinary, .active_version = 3,
                            .latest_version = 41})
                  .ok());
  auto app = db.GetApp("o1", "imported");
  ASSERT_TRUE(app.ok());
  EXPECT_EQ(app->spec, kBinary);
  EXPECT_EQ(app->active_version, 3u);
  EXPECT_EQ(app->latest_version, 41u);
  auto next = db.PublishVersion("o1", "imported", Version("h"));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, 42u);
}

TYPED_TEST(StoreContractTest, UpdateAppSpecReplacesSpecAndUpdatedAtOnly) {
  Store& db = *this->store_;
  this->MakeOrgAndApp();
  ASSERT_TRUE(db.PublishVersion("o1", "web", Version("h1")).ok());
  ASSERT_TRUE(db.UpdateAppSpec("o1", "web", kBinary, 77).ok());
  auto app = db.GetApp("o1", "web");
  ASSERT_TRUE(app.ok());
  EXPECT_EQ(app->spec, kBinary);
  EXPECT_EQ(app->updated_at_ms, 77);
  EXPECT_EQ(app->created_at_ms, 20);
  EXPECT_EQ(app->active_version, 1u);
  EXPECT_EQ(app->latest_version, 1u);
  EXPECT_EQ(db.GetVersion("o1", "web", 1)->spec, kBinary);  // The version's snapshot is its own.
  ASSERT_TRUE(db.UpdateAppSpec("o1", "web", "", 78).ok());
  EXPECT_EQ(db.GetApp("o1", "web")->spec, "");

  Status missing = db.UpdateAppSpec("o1", "x", "", 1);
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.message(), "app o1/x not found");
}

TYPED_TEST(StoreContractTest, ListAppsPagesByNameWithinTheOrg) {
  Store& db = *this->store_;
  this->MakeOrg("o1", "acme");
  this->MakeOrg("o2", "other");
  this->MakeOrg("o3", "empty");
  for (const char* name : {"c", "a", "e", "b", "d"}) this->MakeApp("o1", name);
  this->MakeApp("o2", "aa");
  this->MakeApp("o2", "0");  // Sorts before every o1 app: must not leak into o1's pages.

  auto names = [&](std::string_view org, std::string_view after, size_t limit) {
    auto apps = db.ListApps(org, after, limit);
    EXPECT_TRUE(apps.ok()) << apps.status().ToString();
    return apps.ok() ? Names(*apps) : std::vector<std::string>{};
  };
  EXPECT_THAT(names("o1", "", 2), ElementsAre("a", "b"));
  EXPECT_THAT(names("o1", "b", 2), ElementsAre("c", "d"));
  EXPECT_THAT(names("o1", "d", 2), ElementsAre("e"));
  EXPECT_THAT(names("o1", "e", 2), ElementsAre());
  EXPECT_THAT(names("o1", "bb", 10), ElementsAre("c", "d", "e"));  // The cursor need not be an app.
  EXPECT_THAT(names("o1", "", 100), ElementsAre("a", "b", "c", "d", "e"));
  EXPECT_THAT(names("o1", "", std::numeric_limits<size_t>::max()), ElementsAre("a", "b", "c", "d", "e"));
  EXPECT_THAT(names("o1", "", 0), ElementsAre());
  EXPECT_THAT(names("o2", "", 10), ElementsAre("0", "aa"));
  EXPECT_THAT(names("o3", "", 10), ElementsAre());

  // Paging with the last name as cursor visits every app once. Bounded, so a backend whose cursor does not
  // advance fails instead of looping forever.
  std::vector<std::string> all;
  std::string cursor;
  for (int pages = 0; pages < 10; ++pages) {
    std::vector<std::string> page = names("o1", cursor, 2);
    if (page.empty()) break;
    all.insert(all.end(), page.begin(), page.end());
    cursor = page.back();
  }
  EXPECT_THAT(all, ElementsAre("a", "b", "c", "d", "e"));

  Status no_org = db.ListApps("ghost", "", 10).status();
  EXPECT_EQ(no_org.code(), StatusCode::kNotFound);
  EXPECT_EQ(no_org.message(), "organization with id ghost not found");
}

TYPED_TEST(StoreContractTest, DeleteAppCascadesToDraftVersionsAndBuildsOnly) {
  Store& db = *this->store_;
  this->MakeOrgAndApp();
  this->MakeApp("o1", "keep");
  for (const char* app : {"web", "keep"}) {
    ASSERT_TRUE(db.PutDraft("o1", app, {.code_hash = "h", .runtime = kBinary}).ok());
    ASSERT_TRUE(db.PutBuild({.id = "b-"s + app, .org_id = "o1", .app_name = app}).ok());
    ASSERT_TRUE(db.PublishVersion("o1", app, Version("h")).ok());
  }
  ASSERT_TRUE(db.PutExecutions({Execution("e1", 1, kSucceeded)}).ok());
  ASSERT_TRUE(db.PutInvocations({Invocation("acme/web", 100, 5, 200)}).ok());

  ASSERT_TRUE(db.DeleteApp("o1", "web").ok());
  EXPECT_EQ(db.GetApp("o1", "web").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(db.GetDraft("o1", "web").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(db.GetBuild("b-web").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(db.GetVersion("o1", "web", 1).status().message(), "app o1/web not found");
  Status again = db.DeleteApp("o1", "web");
  EXPECT_EQ(again.code(), StatusCode::kNotFound);
  EXPECT_EQ(again.message(), "app o1/web not found");

  // The other app is untouched; executions and invocations outlive their app.
  auto draft = db.GetDraft("o1", "keep");
  ASSERT_TRUE(draft.ok());
  EXPECT_TRUE(draft->has_value());
  EXPECT_TRUE(db.GetBuild("b-keep").ok());
  EXPECT_TRUE(db.GetVersion("o1", "keep", 1).ok());
  EXPECT_TRUE(db.GetExecution("e1").ok());
  EXPECT_EQ(db.InvocationStatsFor("o1", "acme/web", 0, 1000)->total, 1);

  // A re-created app starts empty and numbers from 1 again.
  this->MakeApp("o1", "web");
  EXPECT_FALSE(db.GetDraft("o1", "web")->has_value());
  EXPECT_TRUE(db.ListVersions("o1", "web")->empty());
  EXPECT_EQ(db.GetApp("o1", "web")->latest_version, 0u);
  auto again_v = db.PublishVersion("o1", "web", Version("h2"));
  ASSERT_TRUE(again_v.ok());
  EXPECT_EQ(*again_v, 1u);
}

// ---- Drafts ----

TYPED_TEST(StoreContractTest, DraftsArePutReplacedAndReadBack) {
  Store& db = *this->store_;
  this->MakeOrgAndApp();
  auto none = db.GetDraft("o1", "web");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  EXPECT_EQ(db.GetDraft("o1", "nope").status().message(), "app o1/nope not found");
  Status put_missing = db.PutDraft("o1", "nope", {.code_hash = "h"});
  EXPECT_EQ(put_missing.code(), StatusCode::kNotFound);
  EXPECT_EQ(put_missing.message(), "app o1/nope not found");

  DraftRecord d{.code_hash = "h1",
                .code_size = 100,
                .runtime = kBinary,
                .file_name = "main.zip",
                .build_id = "",
                .created_at_ms = 1,
                .updated_at_ms = 2};
  ASSERT_TRUE(db.PutDraft("o1", "web", d).ok());
  auto got = db.GetDraft("o1", "web");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->code_hash, "h1");
  EXPECT_EQ((*got)->code_size, 100);
  EXPECT_EQ((*got)->runtime, kBinary);
  EXPECT_EQ((*got)->file_name, "main.zip");
  EXPECT_EQ((*got)->build_id, "");
  EXPECT_EQ((*got)->created_at_ms, 1);
  EXPECT_EQ((*got)->updated_at_ms, 2);

  // A put replaces every field, build_id and created_at_ms included.
  ASSERT_TRUE(db.PutDraft("o1", "web", {.code_hash = "h2", .build_id = "b9", .created_at_ms = 5}).ok());
  got = db.GetDraft("o1", "web");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->code_hash, "h2");
  EXPECT_EQ((*got)->runtime, "");
  EXPECT_EQ((*got)->file_name, "");
  EXPECT_EQ((*got)->build_id, "b9");
  EXPECT_EQ((*got)->created_at_ms, 5);
}

TYPED_TEST(StoreContractTest, SetDraftBuildOnlyWhenTheCodeHashStillMatches) {
  Store& db = *this->store_;
  this->MakeOrgAndApp();
  Status no_draft = db.SetDraftBuild("o1", "web", "h1", "b1");
  EXPECT_EQ(no_draft.code(), StatusCode::kNotFound);
  EXPECT_EQ(no_draft.message(), "app o1/web has no draft");
  Status no_app = db.SetDraftBuild("o1", "nope", "h1", "b1");
  EXPECT_EQ(no_app.code(), StatusCode::kNotFound);
  EXPECT_EQ(no_app.message(), "app o1/nope not found");

  ASSERT_TRUE(db.PutDraft("o1", "web", {.code_hash = "h1", .file_name = "a.zip"}).ok());
  ASSERT_TRUE(db.SetDraftBuild("o1", "web", "h1", "b1").ok());
  EXPECT_EQ((*db.GetDraft("o1", "web"))->build_id, "b1");
  EXPECT_EQ((*db.GetDraft("o1", "web"))->file_name, "a.zip");

  // A newer save replaced the code: OK, but the old build's id does not attach to it.
  ASSERT_TRUE(db.PutDraft("o1", "web", {.code_hash = "h2"}).ok());
  EXPECT_TRUE(db.SetDraftBuild("o1", "web", "h1", "b-stale").ok());
  EXPECT_EQ((*db.GetDraft("o1", "web"))->build_id, "");
  ASSERT_TRUE(db.SetDraftBuild("o1", "web", "h2", "b2").ok());
  EXPECT_EQ((*db.GetDraft("o1", "web"))->build_id, "b2");
}

// ---- Builds ----

TYPED_TEST(StoreContractTest, BuildsUpsertByIdAndNeedTheirApp) {
  Store& db = *this->store_;
  this->MakeOrgAndApp();
  Status no_app = db.PutBuild({.id = "b0", .org_id = "o1", .app_name = "nope"});
  EXPECT_EQ(no_app.code(), StatusCode::kNotFound);
  EXPECT_EQ(no_app.message(), "app o1/nope not found");

  ASSERT_TRUE(db.PutBuild({.id = "b1", .org_id = "o1", .app_name = "web", .code_hash = "h", .status = kRunning,
                           .log = "compiling", .created_at_ms = 1})
                  .ok());
  BuildRecord done{.id = "b1",
                   .org_id = "o1",
                   .app_name = "web",
                   .code_hash = "h",
                   .status = kSucceeded,
                   .error = "",
                   .log = "all good",
                   .artifact_hash = "art",
                   .artifact_size = 1234,
                   .sdk_version = "v0.1.0",
                   .created_at_ms = 1,
                   .finished_at_ms = 3};
  ASSERT_TRUE(db.PutBuild(done).ok());
  auto got = db.GetBuild("b1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->org_id, "o1");
  EXPECT_EQ(got->app_name, "web");
  EXPECT_EQ(got->code_hash, "h");
  EXPECT_EQ(got->status, kSucceeded);
  EXPECT_EQ(got->log, "all good");
  EXPECT_EQ(got->artifact_hash, "art");
  EXPECT_EQ(got->artifact_size, 1234);
  EXPECT_EQ(got->sdk_version, "v0.1.0");
  EXPECT_EQ(got->created_at_ms, 1);
  EXPECT_EQ(got->finished_at_ms, 3);

  // Replacing a build with one of a missing app fails and keeps the old record.
  BuildRecord moved = done;
  moved.app_name = "nope";
  EXPECT_EQ(db.PutBuild(moved).code(), StatusCode::kNotFound);
  EXPECT_EQ(db.GetBuild("b1")->app_name, "web");

  Status missing = db.GetBuild("missing").status();
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.message(), "build missing not found");
}

TYPED_TEST(StoreContractTest, FailUnfinishedBuildsFailsPendingAndRunningOnly) {
  Store& db = *this->store_;
  this->MakeOrgAndApp();
  const std::pair<const char*, int> builds[] = {{"pending", kPending},     {"running", kRunning},
                                                {"succeeded", kSucceeded}, {"failed", kFailed},
                                                {"cancelled", kCancelledOrTimedOut}};
  for (const auto& [id, status] : builds) {
    ASSERT_TRUE(db.PutBuild({.id = id, .org_id = "o1", .app_name = "web", .status = status,
                             .log = "log of "s + id, .finished_at_ms = 7})
                    .ok());
  }
  auto changed = db.FailUnfinishedBuilds("ignited restarted during the build", 500);
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(*changed, 2);
  for (const char* id : {"pending", "running"}) {
    auto b = db.GetBuild(id);
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b->status, kFailed) << id;
    EXPECT_EQ(b->error, "ignited restarted during the build");
    EXPECT_EQ(b->finished_at_ms, 500);
    EXPECT_EQ(b->log, "log of "s + id);
  }
  for (const auto& [id, status] : std::vector<std::pair<const char*, int>>{
           {"succeeded", kSucceeded}, {"failed", kFailed}, {"cancelled", kCancelledOrTimedOut}}) {
    auto b = db.GetBuild(id);
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b->status, status) << id;
    EXPECT_EQ(b->error, "") << id;
    EXPECT_EQ(b->finished_at_ms, 7) << id;
  }
  EXPECT_EQ(*db.FailUnfinishedBuilds("again", 600), 0);
}

// ---- Versions ----

TYPED_TEST(StoreContractTest, PublishVersionNumbersFromOneAndActivatesEach) {
  Store& db = *this->store_;
  this->MakeOrgAndApp();
  EXPECT_TRUE(db.ListVersions("o1", "web")->empty());
  for (uint32_t want = 1; want <= 3; ++want) {
    VersionRecord v = Version("h" + std::to_string(want));
    v.version = 99;  // Ignored.
    auto published = db.PublishVersion("o1", "web", v);
    ASSERT_TRUE(published.ok()) << published.status().ToString();
    EXPECT_EQ(*published, want);
    auto app = db.GetApp("o1", "web");
    ASSERT_TRUE(app.ok());
    EXPECT_EQ(app->latest_version, want);
    EXPECT_EQ(app->active_version, want);
    EXPECT_EQ(app->updated_at_ms, 20);  // Publishing does not touch the spec's timestamp...
    EXPECT_EQ(app->spec, "spec-web");   // ...nor the spec.
  }

  auto versions = db.ListVersions("o1", "web");
  ASSERT_TRUE(versions.ok());
  std::vector<uint32_t> numbers;
  for (const auto& v : *versions) numbers.push_back(v.version);
  EXPECT_THAT(numbers, ElementsAre(3u, 2u, 1u));
  EXPECT_EQ((*versions)[0].code_hash, "h3");

  auto v2 = db.GetVersion("o1", "web", 2);
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->version, 2u);
  EXPECT_EQ(v2->code_hash, "h2");
  EXPECT_EQ(v2->artifact_hash, "art-h2");
  EXPECT_EQ(v2->artifact_size, 42);
  EXPECT_EQ(v2->build_id, "build-h2");
  EXPECT_EQ(v2->spec, kBinary);
  EXPECT_EQ(v2->runtime, "rt");
  EXPECT_EQ(v2->created_at_ms, 30);

  Status missing = db.GetVersion("o1", "web", 9).status();
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.message(), "version 9 of app o1/web not found");
  EXPECT_EQ(db.GetVersion("o1", "web", 0).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(db.GetVersion("o1", "nope", 1).status().message(), "app o1/nope not found");
  EXPECT_EQ(db.ListVersions("o1", "nope").status().message(), "app o1/nope not found");
  auto no_app = db.PublishVersion("o1", "nope", Version("x"));
  EXPECT_EQ(no_app.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(no_app.status().message(), "app o1/nope not found");
}

TYPED_TEST(StoreContractTest, SetActiveVersionRollsBackAndTheNextPublishTakesTheNextNumber) {
  Store& db = *this->store_;
  this->MakeOrgAndApp();
  for (const char* h : {"h1", "h2", "h3"}) ASSERT_TRUE(db.PublishVersion("o1", "web", Version(h)).ok());
  ASSERT_TRUE(db.SetActiveVersion("o1", "web", 1).ok());
  auto app = db.GetApp("o1", "web");
  ASSERT_TRUE(app.ok());
  EXPECT_EQ(app->active_version, 1u);
  EXPECT_EQ(app->latest_version, 3u);

  auto v4 = db.PublishVersion("o1", "web", Version("h4"));
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(*v4, 4u);
  EXPECT_EQ(db.GetApp("o1", "web")->active_version, 4u);

  // Missing versions change nothing.
  Status st = db.SetActiveVersion("o1", "web", 7);
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_EQ(st.message(), "version 7 of app o1/web not found");
  EXPECT_EQ(db.SetActiveVersion("o1", "web", 0).code(), StatusCode::kNotFound);
  EXPECT_EQ(db.SetActiveVersion("o1", "nope", 1).message(), "app o1/nope not found");
  EXPECT_EQ(db.GetApp("o1", "web")->active_version, 4u);
}

TYPED_TEST(StoreContractTest, PublishVersionFailsWhenTheNumbersAreUsedUp) {
  Store& db = *this->store_;
  this->MakeOrg("o1", "acme");
  constexpr uint32_t kLast = std::numeric_limits<uint32_t>::max();
  ASSERT_TRUE(db.CreateApp({.org_id = "o1", .name = "old", .active_version = 0, .latest_version = kLast}).ok());
  auto published = db.PublishVersion("o1", "old", Version("h"));
  ASSERT_FALSE(published.ok());
  EXPECT_EQ(published.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(published.status().message(), "app o1/old has used up its version numbers");
  EXPECT_EQ(db.GetApp("o1", "old")->latest_version, kLast);
  EXPECT_TRUE(db.ListVersions("o1", "old")->empty());
}

TYPED_TEST(StoreContractTest, ConcurrentPublishesGetDistinctConsecutiveNumbers) {
  Store& db = *this->store_;
  this->MakeOrgAndApp();
  constexpr int kThreads = 4, kEach = 10;
  std::vector<std::vector<uint32_t>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto v = db.PublishVersion("o1", "web", Version("h"));
        if (v.ok()) got[t].push_back(*v);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<uint32_t> numbers;
  for (const auto& per_thread : got) numbers.insert(per_thread.begin(), per_thread.end());
  ASSERT_EQ(numbers.size(), static_cast<size_t>(kThreads * kEach));
  EXPECT_EQ(*numbers.begin(), 1u);
  EXPECT_EQ(*numbers.rbegin(), static_cast<uint32_t>(kThreads * kEach));
  EXPECT_EQ(db.GetApp("o1", "web")->latest_version, static_cast<uint32_t>(kThreads * kEach));
}

// ---- Executions ----

TYPED_TEST(StoreContractTest, ExecutionsUpsertInOneBatchAndRoundTripEveryField) {
  Store& db = *this->store_;
  ExecutionRecord full{.id = "e1",
                       .org_id = "o1",
                       .app_id = "acme/web",
                       .version = 7,
                       .status = kSucceeded,
                       .response_status = 201,
                       .output = kBinary,
                       .error = "",
                       .cold_start = true,
                       .created_at_ms = 10,
                       .started_at_ms = 11,
                       .finished_at_ms = 15,
                       .duration_ms = 4,
                       .invocation_id = "inv-1"};
  // No org or app needs to exist: executions have no foreign keys.
  ASSERT_TRUE(db.PutExecutions({Execution("e1", 10, kPending), Execution("e2", 20, kPending), full}).ok());
  auto got = db.GetExecution("e1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  // The later record of the same id in one batch wins.
  EXPECT_EQ(got->status, kSucceeded);
  EXPECT_EQ(got->org_id, "o1");
  EXPECT_EQ(got->app_id, "acme/web");
  EXPECT_EQ(got->version, 7u);
  EXPECT_EQ(got->response_status, 201u);
  EXPECT_EQ(got->output, kBinary);
  EXPECT_EQ(got->error, "");
  EXPECT_TRUE(got->cold_start);
  EXPECT_EQ(got->created_at_ms, 10);
  EXPECT_EQ(got->started_at_ms, 11);
  EXPECT_EQ(got->finished_at_ms, 15);
  EXPECT_EQ(got->duration_ms, 4);
  EXPECT_EQ(got->invocation_id, "inv-1");
  EXPECT_EQ(db.GetExecution("e2")->status, kPending);

  // Upsert replaces the whole record.
  ExecutionRecord failed = Execution("e1", 10, kFailed);
  failed.error = "boom";
  ASSERT_TRUE(db.PutExecutions({failed}).ok());
  got = db.GetExecution("e1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->error, "boom");
  EXPECT_EQ(got->output, "");
  EXPECT_FALSE(got->cold_start);
  EXPECT_TRUE(db.PutExecutions({}).ok());

  Status missing = db.GetExecution("nope").status();
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.message(), "execution nope not found");
}

TYPED_TEST(StoreContractTest, ExecutionsRetentionAndUnfinishedSweep) {
  Store& db = *this->store_;
  ASSERT_TRUE(db.PutExecutions({Execution("old", 100, kSucceeded), Execution("edge", 200, kFailed),
                                Execution("pending", 300, kPending), Execution("running", 300, kRunning),
                                Execution("timed", 300, kCancelledOrTimedOut)})
                  .ok());
  auto deleted = db.DeleteExecutionsBefore(200);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 1);
  EXPECT_EQ(db.GetExecution("old").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(db.GetExecution("edge").ok());  // Created exactly at the cut-off: kept.

  auto failed = db.FailUnfinishedExecutions("ignited stopped", 900);
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(*failed, 2);
  for (const char* id : {"pending", "running"}) {
    auto e = db.GetExecution(id);
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->status, kFailed) << id;
    EXPECT_EQ(e->error, "ignited stopped");
    EXPECT_EQ(e->finished_at_ms, 900);
  }
  auto timed = db.GetExecution("timed");
  ASSERT_TRUE(timed.ok());
  EXPECT_EQ(timed->status, kCancelledOrTimedOut);
  EXPECT_EQ(timed->finished_at_ms, 0);
  EXPECT_EQ(*db.FailUnfinishedExecutions("again", 901), 0);
}

// ---- Invocations ----

TYPED_TEST(StoreContractTest, InvocationStatsOverAFewRecords) {
  Store& db = *this->store_;
  ASSERT_TRUE(db.PutInvocations({
                                    Invocation("acme/web", 1000, 30, 200, /*cold_start=*/true),
                                    Invocation("acme/web", 1001, 10, 204),
                                    Invocation("acme/web", 1002, 50, 500),
                                    Invocation("acme/web", 1003, 20, 299),
                                    Invocation("acme/web", 1999, 40, 300, /*cold_start=*/true),
                                    Invocation("acme/web", 2000, 9999, 200),  // At the window's end: out.
                                    Invocation("acme/web", 999, 9999, 200),   // Before it: out.
                                    Invocation("acme/api", 1500, 9999, 200),  // Another app.
                                })
                  .ok());
  InvocationRecord other_org = Invocation("acme/web", 1500, 9999, 200);
  other_org.org_id = "o2";
  ASSERT_TRUE(db.PutInvocations({other_org}).ok());
  ASSERT_TRUE(db.PutInvocations({}).ok());

  auto stats = db.InvocationStatsFor("o1", "acme/web", 1000, 2000);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->total, 5);
  EXPECT_EQ(stats->succeeded, 3);  // 200, 204, 299; not 300 or 500.
  EXPECT_EQ(stats->cold_starts, 2);
  // Sorted durations 10 20 30 40 50; nearest rank ceil(p * 5): 3rd, 5th, 5th.
  EXPECT_EQ(stats->p50_ms, 30);
  EXPECT_EQ(stats->p95_ms, 50);
  EXPECT_EQ(stats->p99_ms, 50);
  EXPECT_EQ(stats->max_ms, 50);
  EXPECT_DOUBLE_EQ(stats->mean_ms, 30.0);

  auto single = db.InvocationStatsFor("o1", "acme/api", 0, 5000);
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->total, 1);
  EXPECT_EQ(single->p50_ms, 9999);
  EXPECT_EQ(single->p99_ms, 9999);

  auto empty = db.InvocationStatsFor("o1", "acme/none", 0, 5000);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->total, 0);
  EXPECT_EQ(empty->succeeded, 0);
  EXPECT_EQ(empty->p50_ms, 0);
  EXPECT_EQ(empty->p99_ms, 0);
  EXPECT_EQ(empty->max_ms, 0);
  EXPECT_DOUBLE_EQ(empty->mean_ms, 0.0);

  auto deleted = db.DeleteInvocationsBefore(1002);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 3);  // 999, 1000, 1001; 1002 is at the cut-off and stays.
  EXPECT_EQ(db.InvocationStatsFor("o1", "acme/web", 1000, 2000)->total, 3);
}

// Rank arithmetic at sizes where a different rule would pick another row: p * n whole (20, 100), just under
// whole (101), or with a fraction under one half (11: 0.95 * 11 = 10.45, where rounding is not ceil).
TYPED_TEST(StoreContractTest, InvocationPercentilesAreNearestRank) {
  Store& db = *this->store_;
  for (int n : {1, 2, 3, 7, 11, 20, 100, 101}) {
    const std::string app = "acme/n" + std::to_string(n);
    std::vector<InvocationRecord> batch;
    // Durations n..1, inserted in descending order so a backend must sort them.
    for (int i = n; i >= 1; --i) batch.push_back(Invocation(app, 1000, i, i % 10 == 0 ? 500 : 200, i <= 3));
    ASSERT_TRUE(db.PutInvocations(batch).ok());
    auto stats = db.InvocationStatsFor("o1", app, 0, 5000);
    ASSERT_TRUE(stats.ok());
    EXPECT_EQ(stats->total, n);
    EXPECT_EQ(stats->succeeded, n - n / 10) << n;
    EXPECT_EQ(stats->cold_starts, std::min(n, 3)) << n;
    EXPECT_EQ(stats->max_ms, n);
    EXPECT_DOUBLE_EQ(stats->mean_ms, (n + 1) / 2.0) << n;
    // The k-th smallest duration is k here, so each percentile equals its rank.
    auto rank = [n](double p) { return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(p * n))); };
    EXPECT_EQ(stats->p50_ms, rank(0.50)) << n;
    EXPECT_EQ(stats->p95_ms, rank(0.95)) << n;
    EXPECT_EQ(stats->p99_ms, rank(0.99)) << n;
  }
  auto hundred = db.InvocationStatsFor("o1", "acme/n100", 0, 5000);
  ASSERT_TRUE(hundred.ok());
  EXPECT_EQ(hundred->p50_ms, 50);
  EXPECT_EQ(hundred->p95_ms, 95);
  EXPECT_EQ(hundred->p99_ms, 99);
}

}  // namespace
}  // namespace ignite::fakes
