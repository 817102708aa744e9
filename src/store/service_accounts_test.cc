// SqliteStore's service accounts and the tokens issued from them (schema migration 3).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>

#include "store/migrations.h"
#include "store/sqlite_stmt.h"
#include "store/sqlite_store.h"

namespace ignite::store {
namespace {

class ServiceAccountsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ignite-sa-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/ignite.db";
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Open() {
    store_.reset();
    auto opened = SqliteStore::Open(path_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }
  void MakeOrgs() {
    ASSERT_TRUE(store_->CreateOrg({.id = "o1", .name = "org", .created_at_ms = 1}).ok());
    ASSERT_TRUE(store_->CreateOrg({.id = "o2", .name = "other", .created_at_ms = 1}).ok());
  }
  static ServiceAccountRecord Account(std::string id, std::string org_id, std::string name) {
    return {.id = std::move(id),
            .org_id = std::move(org_id),
            .name = std::move(name),
            .role = "app-developer",
            .secret_hash = "hash",
            .salt = "salt",
            .description = "ci",
            .created_at_ms = 5};
  }
  static TokenRecord Token(std::string id, std::string account, int64_t expires_at_ms = 0) {
    return {.id = std::move(id),
            .org_id = "o1",
            .role = "app-developer",
            .secret_hash = "h",
            .salt = "s",
            .description = "d",
            .created_at_ms = 1,
            .expires_at_ms = expires_at_ms,
            .service_account_id = std::move(account)};
  }

  std::string dir_, path_;
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(ServiceAccountsTest, CreateGetListKeepEveryField) {
  Open();
  MakeOrgs();
  ASSERT_TRUE(store_->CreateServiceAccount(Account("sa_b", "o1", "beta")).ok());
  ASSERT_TRUE(store_->CreateServiceAccount(Account("sa_a", "o1", "alpha")).ok());
  ASSERT_TRUE(store_->CreateServiceAccount(Account("sa_c", "o2", "alpha")).ok());  // names are per org
  auto got = store_->GetServiceAccount("sa_b");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->org_id, "o1");
  EXPECT_EQ(got->name, "beta");
  EXPECT_EQ(got->role, "app-developer");
  EXPECT_EQ(got->secret_hash, "hash");
  EXPECT_EQ(got->salt, "salt");
  EXPECT_EQ(got->description, "ci");
  EXPECT_EQ(got->created_at_ms, 5);
  auto list = store_->ListServiceAccounts("o1");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, "sa_a");  // by name
  EXPECT_EQ((*list)[1].id, "sa_b");
  EXPECT_EQ(store_->GetServiceAccount("sa_zz").status().code(), StatusCode::kNotFound);
}

TEST_F(ServiceAccountsTest, ClashesAndMissingOrgs) {
  Open();
  MakeOrgs();
  ASSERT_TRUE(store_->CreateServiceAccount(Account("sa_a", "o1", "alpha")).ok());
  EXPECT_EQ(store_->CreateServiceAccount(Account("sa_a", "o2", "x")).code(), StatusCode::kAlreadyExists);
  Status same_name = store_->CreateServiceAccount(Account("sa_b", "o1", "alpha"));
  EXPECT_EQ(same_name.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(same_name.message().find("alpha"), std::string::npos) << same_name.message();
  EXPECT_EQ(store_->CreateServiceAccount(Account("sa_c", "nope", "x")).code(), StatusCode::kNotFound);
}

TEST_F(ServiceAccountsTest, DeleteRemovesTheAccountAndItsTokensOnlyInItsOrg) {
  Open();
  MakeOrgs();
  ASSERT_TRUE(store_->CreateServiceAccount(Account("sa_a", "o1", "alpha")).ok());
  ASSERT_TRUE(store_->CreateServiceAccount(Account("sa_b", "o1", "beta")).ok());
  ASSERT_TRUE(store_->PutToken(Token("t1", "sa_a")).ok());
  ASSERT_TRUE(store_->PutToken(Token("t2", "sa_a")).ok());
  ASSERT_TRUE(store_->PutToken(Token("t3", "sa_b")).ok());
  ASSERT_TRUE(store_->PutToken(Token("t4", "")).ok());
  EXPECT_EQ(store_->GetToken("t1")->service_account_id, "sa_a");
  // Another org's delete finds nothing and changes nothing.
  EXPECT_EQ(store_->DeleteServiceAccount("o2", "sa_a").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->GetServiceAccount("sa_a").ok());
  auto revoked = store_->DeleteServiceAccount("o1", "sa_a");
  ASSERT_TRUE(revoked.ok()) << revoked.status().ToString();
  EXPECT_EQ(*revoked, 2);
  EXPECT_EQ(store_->GetServiceAccount("sa_a").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetToken("t1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetToken("t2").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->GetToken("t3").ok());
  EXPECT_TRUE(store_->GetToken("t4").ok());
  EXPECT_EQ(store_->DeleteServiceAccount("o1", "sa_a").status().code(), StatusCode::kNotFound);
  // A token of a deleted (or never created) account is refused, so none can slip in after the delete.
  EXPECT_EQ(store_->PutToken(Token("t5", "sa_a")).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetToken("t5").status().code(), StatusCode::kNotFound);
}

TEST_F(ServiceAccountsTest, ExpiredTokensAreSwept) {
  Open();
  MakeOrgs();
  ASSERT_TRUE(store_->PutToken(Token("old", "", 100)).ok());
  ASSERT_TRUE(store_->PutToken(Token("new", "", 300)).ok());
  ASSERT_TRUE(store_->PutToken(Token("never", "", 0)).ok());
  auto n = store_->DeleteTokensExpiredBefore(200);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(store_->GetToken("old").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->GetToken("new").ok());
  EXPECT_TRUE(store_->GetToken("never").ok());
}

// A data dir from before service accounts (schema 2) keeps its tokens; they come back unbound to any account.
TEST_F(ServiceAccountsTest, MigratesASchema2DatabaseKeepingTokens) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  std::vector<std::string_view> v2(Migrations().begin(), Migrations().begin() + 2);
  ASSERT_TRUE(Migrate(db, v2, 1).ok());
  ASSERT_TRUE(Exec(db,
                   "INSERT INTO orgs VALUES ('o1', 'org', 1);"
                   "INSERT INTO tokens VALUES ('tok', 'o1', 'admin', 'h', 's', 'bootstrap', 1, 0);")
                  .ok());
  sqlite3_close(db);
  Open();
  auto tok = store_->GetToken("tok");
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  EXPECT_EQ(tok->role, "admin");
  EXPECT_EQ(tok->service_account_id, "");
  EXPECT_TRUE(store_->ListServiceAccounts("o1").ok());
}

}  // namespace
}  // namespace ignite::store
