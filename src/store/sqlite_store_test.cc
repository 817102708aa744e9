#include "store/sqlite_store.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/secret_box.h"
#include "dodil/ignite/v1/ignite_common.pb.h"
#include "store/migrations.h"

namespace ignite::store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace std::string_literals;

// Bytes a text column would mangle: NULs, invalid UTF-8, a trailing NUL.
const std::string kBinary = "\x00\x01spec\xff\xfe\x00with nul\x00"s;

// Each test gets its own database file in a fresh temporary directory, removed afterwards.
class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ignite-store-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/ignite.db";
    Reopen();
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Reopen() {
    store_.reset();
    auto opened = SqliteStore::Open(path_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }

  // Runs `sql` on a separate connection and returns the first column of the first row as text.
  std::string Query(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    std::string out;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    int rc = sqlite3_step(stmt);
    EXPECT_TRUE(rc == SQLITE_ROW || rc == SQLITE_DONE) << sqlite3_errmsg(db);
    if (rc == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
  }

  void MakeOrg(const std::string& id, const std::string& name) {
    ASSERT_TRUE(store_->CreateOrg({.id = id, .name = name, .created_at_ms = 10}).ok());
  }
  void MakeApp(const std::string& org_id, const std::string& name) {
    Status st = store_->CreateApp(
        {.org_id = org_id, .name = name, .spec = "spec-" + name, .created_at_ms = 20, .updated_at_ms = 20});
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  VersionRecord Version(const std::string& code_hash) {
    return {.code_hash = code_hash,
            .artifact_hash = "art-" + code_hash,
            .artifact_size = 42,
            .build_id = "build-" + code_hash,
            .spec = kBinary,
            .runtime = "rt",
            .created_at_ms = 30};
  }

  std::string dir_;
  std::string path_;
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(SqliteStoreTest, AppliesMigrationsOnceAndReopensIdempotently) {
  const std::string known = std::to_string(Migrations().size());
  EXPECT_EQ(Query("SELECT MAX(version) FROM schema_migrations"), known);
  EXPECT_EQ(Query("SELECT COUNT(*) FROM schema_migrations"), known);
  const std::string applied_at = Query("SELECT applied_at_ms FROM schema_migrations WHERE version = 1");
  Reopen();
  Reopen();
  EXPECT_EQ(Query("SELECT COUNT(*) FROM schema_migrations"), known);
  EXPECT_EQ(Query("SELECT applied_at_ms FROM schema_migrations WHERE version = 1"), applied_at);
}

TEST_F(SqliteStoreTest, RefusesADatabaseFromANewerIgnited) {
  store_.reset();
  const size_t newer = Migrations().size() + 1;
  Query(fmt::format("INSERT INTO schema_migrations(version, applied_at_ms) VALUES ({}, 0)", newer));
  auto opened = SqliteStore::Open(path_);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(opened.status().message(),
              HasSubstr(fmt::format("database schema version {} is newer than this ignited supports ({}); "
                                    "upgrade ignited",
                                    newer, Migrations().size())));
}

TEST_F(SqliteStoreTest, UsesWriteAheadLog) { EXPECT_EQ(Query("PRAGMA journal_mode"), "wal"); }

TEST_F(SqliteStoreTest, OpenFailsWithThePathWhenTheDirectoryIsMissing) {
  auto opened = SqliteStore::Open(dir_ + "/missing/ignite.db");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kInternal);
  EXPECT_THAT(opened.status().message(), HasSubstr(dir_ + "/missing/ignite.db"));
}

TEST_F(SqliteStoreTest, OpenRejectsAFileThatIsNotADatabase) {
  const std::string junk = dir_ + "/junk.db";
  std::ofstream(junk) << std::string(4096, 'x');
  auto opened = SqliteStore::Open(junk);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kInternal);
  EXPECT_THAT(opened.status().message(), HasSubstr("junk.db"));
}

TEST_F(SqliteStoreTest, InMemoryDatabaseWorks) {
  auto opened = SqliteStore::Open(":memory:");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_TRUE((*opened)->CreateOrg({.id = "o1", .name = "acme"}).ok());
  EXPECT_TRUE((*opened)->GetOrgByName("acme").ok());
}

TEST_F(SqliteStoreTest, Orgs) {
  MakeOrg("o1", "acme");
  auto by_name = store_->GetOrgByName("acme");
  ASSERT_TRUE(by_name.ok());
  EXPECT_EQ(by_name->id, "o1");
  EXPECT_EQ(by_name->created_at_ms, 10);
  auto by_id = store_->GetOrgById("o1");
  ASSERT_TRUE(by_id.ok());
  EXPECT_EQ(by_id->name, "acme");

  Status dup_name = store_->CreateOrg({.id = "o2", .name = "acme"});
  EXPECT_EQ(dup_name.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup_name.message(), "organization \"acme\" already exists");
  EXPECT_EQ(store_->CreateOrg({.id = "o1", .name = "other"}).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->GetOrgByName("other").status().code(), StatusCode::kNotFound);  // Nothing half-made.

  EXPECT_EQ(store_->GetOrgByName("nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetOrgById("nope").status().code(), StatusCode::kNotFound);
}

TEST_F(SqliteStoreTest, ListOrgsOrdersByName) {
  auto empty = store_->ListOrgs();
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  MakeOrg("o1", "zeta");
  MakeOrg("o2", "alpha");
  MakeOrg("o3", "mid");
  auto orgs = store_->ListOrgs();
  ASSERT_TRUE(orgs.ok());
  std::vector<std::string> names;
  for (const auto& o : *orgs) names.push_back(o.name);
  EXPECT_THAT(names, ElementsAre("alpha", "mid", "zeta"));
  EXPECT_EQ((*orgs)[0].id, "o2");
}

TEST_F(SqliteStoreTest, Tokens) {
  MakeOrg("o1", "acme");
  TokenRecord t{.id = "tok1",
                .org_id = "o1",
                .role = "admin",
                .secret_hash = "abc",
                .salt = "salt",
                .description = "ci",
                .created_at_ms = 5,
                .expires_at_ms = 99};
  ASSERT_TRUE(store_->PutToken(t).ok());
  auto got = store_->GetToken("tok1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->org_id, "o1");
  EXPECT_EQ(got->role, "admin");
  EXPECT_EQ(got->secret_hash, "abc");
  EXPECT_EQ(got->salt, "salt");
  EXPECT_EQ(got->description, "ci");
  EXPECT_EQ(got->created_at_ms, 5);
  EXPECT_EQ(got->expires_at_ms, 99);

  EXPECT_EQ(store_->PutToken(t).code(), StatusCode::kAlreadyExists);
  t.id = "tok2";
  t.org_id = "ghost";
  Status no_org = store_->PutToken(t);
  EXPECT_EQ(no_org.code(), StatusCode::kNotFound);
  EXPECT_THAT(no_org.message(), HasSubstr("ghost"));
  EXPECT_EQ(store_->GetToken("tok2").status().code(), StatusCode::kNotFound);
}

TEST_F(SqliteStoreTest, Apps) {
  MakeOrg("o1", "acme");
  MakeApp("o1", "web");
  auto app = store_->GetApp("o1", "web");
  ASSERT_TRUE(app.ok());
  EXPECT_EQ(app->spec, "spec-web");
  EXPECT_EQ(app->active_version, 0u);
  EXPECT_EQ(app->latest_version, 0u);
  EXPECT_EQ(app->created_at_ms, 20);

  Status dup = store_->CreateApp({.org_id = "o1", .name = "web"});
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.message(), "app o1/web already exists");
  EXPECT_EQ(store_->CreateApp({.org_id = "ghost", .name = "web"}).code(), StatusCode::kNotFound);

  ASSERT_TRUE(store_->UpdateAppSpec("o1", "web", kBinary, 77).ok());
  app = store_->GetApp("o1", "web");
  ASSERT_TRUE(app.ok());
  EXPECT_EQ(app->spec, kBinary);
  EXPECT_EQ(app->updated_at_ms, 77);
  EXPECT_EQ(app->created_at_ms, 20);

  Status missing = store_->UpdateAppSpec("o1", "x", "", 1);
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.message(), "app o1/x not found");
  EXPECT_EQ(store_->GetApp("o1", "x").status().message(), "app o1/x not found");
  EXPECT_EQ(store_->DeleteApp("o1", "x").code(), StatusCode::kNotFound);
}

TEST_F(SqliteStoreTest, ListAppsPagesByName) {
  MakeOrg("o1", "acme");
  MakeOrg("o2", "other");
  for (const char* name : {"c", "a", "e", "b", "d"}) MakeApp("o1", name);
  MakeApp("o2", "aa");

  auto names = [&](std::string_view after, size_t limit) {
    std::vector<std::string> out;
    auto apps = store_->ListApps("o1", after, limit);
    EXPECT_TRUE(apps.ok()) << apps.status().ToString();
    if (apps.ok()) {
      for (const auto& a : *apps) out.push_back(a.name);
    }
    return out;
  };
  EXPECT_THAT(names("", 2), ElementsAre("a", "b"));
  EXPECT_THAT(names("b", 2), ElementsAre("c", "d"));
  EXPECT_THAT(names("d", 2), ElementsAre("e"));
  EXPECT_THAT(names("e", 2), ElementsAre());
  EXPECT_THAT(names("", 100), ElementsAre("a", "b", "c", "d", "e"));
  EXPECT_THAT(names("", 0), ElementsAre());
  EXPECT_EQ(store_->ListApps("ghost", "", 10).status().code(), StatusCode::kNotFound);
}

TEST_F(SqliteStoreTest, DeleteAppCascadesToDraftVersionsAndBuilds) {
  MakeOrg("o1", "acme");
  MakeApp("o1", "web");
  MakeApp("o1", "keep");
  for (const char* app : {"web", "keep"}) {
    ASSERT_TRUE(store_->PutDraft("o1", app, {.code_hash = "h", .runtime = kBinary}).ok());
    ASSERT_TRUE(store_->PutBuild({.id = std::string("b-") + app, .org_id = "o1", .app_name = app}).ok());
    ASSERT_TRUE(store_->PublishVersion("o1", app, Version("h")).ok());
  }

  ASSERT_TRUE(store_->DeleteApp("o1", "web").ok());
  EXPECT_EQ(store_->GetApp("o1", "web").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetDraft("o1", "web").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetBuild("b-web").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Query("SELECT COUNT(*) FROM versions WHERE app_name = 'web'"), "0");
  EXPECT_EQ(Query("SELECT COUNT(*) FROM drafts WHERE app_name = 'web'"), "0");

  // The other app is untouched.
  auto draft = store_->GetDraft("o1", "keep");
  ASSERT_TRUE(draft.ok());
  EXPECT_TRUE(draft->has_value());
  EXPECT_TRUE(store_->GetBuild("b-keep").ok());
  EXPECT_TRUE(store_->GetVersion("o1", "keep", 1).ok());

  // A re-created app starts empty.
  MakeApp("o1", "web");
  auto versions = store_->ListVersions("o1", "web");
  ASSERT_TRUE(versions.ok());
  EXPECT_TRUE(versions->empty());
  auto again = store_->PublishVersion("o1", "web", Version("h2"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 1u);
}

TEST_F(SqliteStoreTest, PublishVersionNumbersFromOneAndActivatesEach) {
  MakeOrg("o1", "acme");
  MakeApp("o1", "web");
  for (uint32_t want = 1; want <= 3; ++want) {
    auto v = store_->PublishVersion("o1", "web", Version("h" + std::to_string(want)));
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_EQ(*v, want);
    auto app = store_->GetApp("o1", "web");
    ASSERT_TRUE(app.ok());
    EXPECT_EQ(app->latest_version, want);
    EXPECT_EQ(app->active_version, want);
  }

  auto versions = store_->ListVersions("o1", "web");
  ASSERT_TRUE(versions.ok());
  std::vector<uint32_t> numbers;
  for (const auto& v : *versions) numbers.push_back(v.version);
  EXPECT_THAT(numbers, ElementsAre(3u, 2u, 1u));

  auto v2 = store_->GetVersion("o1", "web", 2);
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->version, 2u);
  EXPECT_EQ(v2->code_hash, "h2");
  EXPECT_EQ(v2->artifact_hash, "art-h2");
  EXPECT_EQ(v2->artifact_size, 42);
  EXPECT_EQ(v2->build_id, "build-h2");
  EXPECT_EQ(v2->spec, kBinary);
  EXPECT_EQ(v2->runtime, "rt");
  EXPECT_EQ(v2->created_at_ms, 30);

  ASSERT_TRUE(store_->SetActiveVersion("o1", "web", 1).ok());
  auto app = store_->GetApp("o1", "web");
  EXPECT_EQ(app->active_version, 1u);
  EXPECT_EQ(app->latest_version, 3u);
  // Publishing after a rollback still takes the next number and becomes active.
  auto v4 = store_->PublishVersion("o1", "web", Version("h4"));
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(*v4, 4u);
  EXPECT_EQ(store_->GetApp("o1", "web")->active_version, 4u);

  EXPECT_EQ(store_->PublishVersion("o1", "nope", Version("x")).status().message(), "app o1/nope not found");
  EXPECT_EQ(store_->ListVersions("o1", "nope").status().code(), StatusCode::kNotFound);
  Status missing = store_->GetVersion("o1", "web", 9).status();
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.message(), "version 9 of app o1/web not found");
  EXPECT_EQ(store_->GetVersion("o1", "nope", 1).status().message(), "app o1/nope not found");
}

TEST_F(SqliteStoreTest, SetActiveVersionToAMissingVersionChangesNothing) {
  MakeOrg("o1", "acme");
  MakeApp("o1", "web");
  ASSERT_TRUE(store_->PublishVersion("o1", "web", Version("h1")).ok());
  ASSERT_TRUE(store_->PublishVersion("o1", "web", Version("h2")).ok());

  Status st = store_->SetActiveVersion("o1", "web", 7);
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_EQ(st.message(), "version 7 of app o1/web not found");
  EXPECT_EQ(store_->SetActiveVersion("o1", "web", 0).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->SetActiveVersion("o1", "nope", 1).code(), StatusCode::kNotFound);
  auto app = store_->GetApp("o1", "web");
  ASSERT_TRUE(app.ok());
  EXPECT_EQ(app->active_version, 2u);
  EXPECT_EQ(app->latest_version, 2u);
}

TEST_F(SqliteStoreTest, Drafts) {
  MakeOrg("o1", "acme");
  MakeApp("o1", "web");
  auto none = store_->GetDraft("o1", "web");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  EXPECT_EQ(store_->GetDraft("o1", "nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->PutDraft("o1", "nope", {.code_hash = "h"}).code(), StatusCode::kNotFound);

  DraftRecord d{.code_hash = "h1",
                .code_size = 100,
                .runtime = kBinary,
                .file_name = "main.zip",
                .build_id = "",
                .created_at_ms = 1,
                .updated_at_ms = 2};
  ASSERT_TRUE(store_->PutDraft("o1", "web", d).ok());
  auto got = store_->GetDraft("o1", "web");
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->code_hash, "h1");
  EXPECT_EQ((*got)->code_size, 100);
  EXPECT_EQ((*got)->runtime, kBinary);
  EXPECT_EQ((*got)->file_name, "main.zip");
  EXPECT_EQ((*got)->build_id, "");
  EXPECT_EQ((*got)->created_at_ms, 1);
  EXPECT_EQ((*got)->updated_at_ms, 2);

  d.code_hash = "h2";
  d.runtime = "";
  d.build_id = "b9";
  ASSERT_TRUE(store_->PutDraft("o1", "web", d).ok());
  got = store_->GetDraft("o1", "web");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->code_hash, "h2");
  EXPECT_EQ((*got)->runtime, "");
  EXPECT_EQ((*got)->build_id, "b9");
}

TEST_F(SqliteStoreTest, SetDraftBuildOnlyWhenTheCodeHashStillMatches) {
  MakeOrg("o1", "acme");
  MakeApp("o1", "web");
  Status no_draft = store_->SetDraftBuild("o1", "web", "h1", "b1");
  EXPECT_EQ(no_draft.code(), StatusCode::kNotFound);
  EXPECT_EQ(no_draft.message(), "app o1/web has no draft");
  EXPECT_EQ(store_->SetDraftBuild("o1", "nope", "h1", "b1").message(), "app o1/nope not found");

  ASSERT_TRUE(store_->PutDraft("o1", "web", {.code_hash = "h1"}).ok());
  ASSERT_TRUE(store_->SetDraftBuild("o1", "web", "h1", "b1").ok());
  EXPECT_EQ((*store_->GetDraft("o1", "web"))->build_id, "b1");

  // A newer save replaced the code: the old build's id must not attach to it.
  ASSERT_TRUE(store_->PutDraft("o1", "web", {.code_hash = "h2"}).ok());
  EXPECT_TRUE(store_->SetDraftBuild("o1", "web", "h1", "b-stale").ok());
  EXPECT_EQ((*store_->GetDraft("o1", "web"))->build_id, "");
  ASSERT_TRUE(store_->SetDraftBuild("o1", "web", "h2", "b2").ok());
  EXPECT_EQ((*store_->GetDraft("o1", "web"))->build_id, "b2");
}

TEST_F(SqliteStoreTest, BuildsUpsertAndFailUnfinished) {
  using dodil::ignite::v1::BuildStatus;
  MakeOrg("o1", "acme");
  MakeApp("o1", "web");
  EXPECT_EQ(store_->PutBuild({.id = "b0", .org_id = "o1", .app_name = "nope"}).message(), "app o1/nope not found");

  const std::pair<const char*, BuildStatus> builds[] = {
      {"pending", dodil::ignite::v1::BUILD_STATUS_PENDING},
      {"running", dodil::ignite::v1::BUILD_STATUS_RUNNING},
      {"succeeded", dodil::ignite::v1::BUILD_STATUS_SUCCEEDED},
      {"failed", dodil::ignite::v1::BUILD_STATUS_FAILED},
  };
  for (const auto& [id, status] : builds) {
    ASSERT_TRUE(store_->PutBuild({.id = id,
                                  .org_id = "o1",
                                  .app_name = "web",
                                  .code_hash = "h",
                                  .status = status,
                                  .error = "",
                                  .log = std::string("log of ") + id,
                                  .created_at_ms = 1})
                    .ok());
  }
  // Upsert by id replaces the whole record.
  BuildRecord done{.id = "succeeded",
                   .org_id = "o1",
                   .app_name = "web",
                   .code_hash = "h",
                   .status = dodil::ignite::v1::BUILD_STATUS_SUCCEEDED,
                   .log = "all good",
                   .artifact_hash = "art",
                   .artifact_size = 1234,
                   .sdk_version = "v0.1.0",
                   .created_at_ms = 1,
                   .finished_at_ms = 3};
  ASSERT_TRUE(store_->PutBuild(done).ok());
  auto got = store_->GetBuild("succeeded");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->log, "all good");
  EXPECT_EQ(got->artifact_hash, "art");
  EXPECT_EQ(got->artifact_size, 1234);
  EXPECT_EQ(got->sdk_version, "v0.1.0");
  EXPECT_EQ(got->finished_at_ms, 3);

  auto changed = store_->FailUnfinishedBuilds("ignited restarted during the build", 500);
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(*changed, 2);
  for (const char* id : {"pending", "running"}) {
    auto b = store_->GetBuild(id);
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b->status, dodil::ignite::v1::BUILD_STATUS_FAILED) << id;
    EXPECT_EQ(b->error, "ignited restarted during the build");
    EXPECT_EQ(b->finished_at_ms, 500);
    EXPECT_EQ(b->log, std::string("log of ") + id);
  }
  EXPECT_EQ(store_->GetBuild("succeeded")->status, dodil::ignite::v1::BUILD_STATUS_SUCCEEDED);
  EXPECT_EQ(store_->GetBuild("failed")->error, "");
  EXPECT_EQ(*store_->FailUnfinishedBuilds("again", 600), 0);
  EXPECT_EQ(store_->GetBuild("missing").status().code(), StatusCode::kNotFound);
}

TEST_F(SqliteStoreTest, BinaryColumnsRoundTripEveryByte) {
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  MakeOrg("o1", "acme");
  ASSERT_TRUE(store_->CreateApp({.org_id = "o1", .name = "web", .spec = all_bytes}).ok());
  ASSERT_TRUE(store_->PutDraft("o1", "web", {.code_hash = "h", .runtime = all_bytes}).ok());
  VersionRecord v = Version("h");
  v.spec = all_bytes;
  v.runtime = kBinary;
  ASSERT_TRUE(store_->PublishVersion("o1", "web", v).ok());

  EXPECT_EQ(store_->GetApp("o1", "web")->spec, all_bytes);
  EXPECT_EQ((*store_->GetDraft("o1", "web"))->runtime, all_bytes);
  auto got = store_->GetVersion("o1", "web", 1);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->spec, all_bytes);
  EXPECT_EQ(got->runtime, kBinary);
  EXPECT_EQ(Query("SELECT typeof(spec) FROM apps"), "blob");
}

TEST_F(SqliteStoreTest, DataSurvivesReopen) {
  MakeOrg("o1", "acme");
  MakeApp("o1", "web");
  ASSERT_TRUE(store_->PublishVersion("o1", "web", Version("h1")).ok());
  Reopen();
  EXPECT_TRUE(store_->GetOrgByName("acme").ok());
  auto app = store_->GetApp("o1", "web");
  ASSERT_TRUE(app.ok());
  EXPECT_EQ(app->active_version, 1u);
  EXPECT_EQ(store_->GetVersion("o1", "web", 1)->spec, kBinary);
}

TEST_F(SqliteStoreTest, SealedSecretsAreBlobsThatSurviveReopenAndOpenWithTheirAad) {
  MakeOrg("o1", "acme");
  SecretBox box(std::string(SecretBox::kKeySize, 'k'));
  const std::string sealed = box.Seal("ghp_token", "o1/gh-clone");
  ASSERT_TRUE(store_->PutSecret({.org_id = "o1", .name = "gh-clone", .type = "git_secret", .sealed = sealed,
                                 .created_at_ms = 1, .updated_at_ms = 1})
                  .ok());
  EXPECT_EQ(Query("SELECT typeof(sealed) FROM secrets"), "blob");
  EXPECT_EQ(Query("SELECT COUNT(*) FROM secrets WHERE instr(sealed, CAST('ghp_token' AS BLOB)) > 0"), "0");
  Reopen();
  auto got = store_->GetSecret("o1", "gh-clone");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->sealed, sealed);
  auto opened = box.Open(got->sealed, got->org_id + "/" + got->name);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, "ghp_token");
}

// A database last opened by an ignited before secrets (schema 5) gains the table and keeps its data.
TEST(SqliteStoreMigrationTest, Version5DatabaseUpgradesToSecrets) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "ignite-store-v5-XXXXXX").string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  const std::string dir = tmpl;
  const std::string path = dir + "/ignite.db";
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    const std::vector<std::string_view> v5(Migrations().begin(), Migrations().begin() + 5);
    Status st = Migrate(db, v5, 1);
    ASSERT_TRUE(st.ok()) << st.ToString();
    ASSERT_EQ(sqlite3_exec(db, "INSERT INTO orgs(id, name, created_at_ms) VALUES ('o1', 'acme', 1)", nullptr, nullptr,
                           nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  {
    auto opened = SqliteStore::Open(path);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    SqliteStore& store = **opened;
    EXPECT_TRUE(store.GetOrgById("o1").ok());
    EXPECT_TRUE(store.ListSecrets("o1")->empty());
    Status st = store.PutSecret({.org_id = "o1", .name = "pull", .type = "registry_secret", .sealed = "x"});
    EXPECT_TRUE(st.ok()) << st.ToString();
    EXPECT_EQ(store.PutSecret({.org_id = "ghost", .name = "pull"}).code(), StatusCode::kNotFound);
  }
  std::filesystem::remove_all(dir);
}

ExecutionRecord Execution(std::string id, int64_t created_at_ms, int status = dodil::ignite::v1::EXECUTION_STATUS_PENDING) {
  return ExecutionRecord{.id = std::move(id),
                         .org_id = "o1",
                         .app_id = "acme/web",
                         .version = 3,
                         .status = status,
                         .created_at_ms = created_at_ms};
}

TEST_F(SqliteStoreTest, ExecutionsUpsertInOneBatchAndRoundTripEveryField) {
  ExecutionRecord full{.id = "e1",
                       .org_id = "o1",
                       .app_id = "acme/web",
                       .version = 7,
                       .status = dodil::ignite::v1::EXECUTION_STATUS_SUCCEEDED,
                       .response_status = 201,
                       .output = kBinary,
                       .error = "",
                       .cold_start = true,
                       .created_at_ms = 10,
                       .started_at_ms = 11,
                       .finished_at_ms = 15,
                       .duration_ms = 4,
                       .invocation_id = "inv-1"};
  ASSERT_TRUE(store_->PutExecutions({Execution("e1", 10), Execution("e2", 20), full}).ok());
  auto got = store_->GetExecution("e1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  // The later record of the same id in one batch wins.
  EXPECT_EQ(got->status, dodil::ignite::v1::EXECUTION_STATUS_SUCCEEDED);
  EXPECT_EQ(got->org_id, "o1");
  EXPECT_EQ(got->app_id, "acme/web");
  EXPECT_EQ(got->version, 7u);
  EXPECT_EQ(got->response_status, 201u);
  EXPECT_EQ(got->output, kBinary);
  EXPECT_TRUE(got->cold_start);
  EXPECT_EQ(got->created_at_ms, 10);
  EXPECT_EQ(got->started_at_ms, 11);
  EXPECT_EQ(got->finished_at_ms, 15);
  EXPECT_EQ(got->duration_ms, 4);
  EXPECT_EQ(got->invocation_id, "inv-1");
  EXPECT_EQ(store_->GetExecution("e2")->status, dodil::ignite::v1::EXECUTION_STATUS_PENDING);
  EXPECT_EQ(Query("SELECT typeof(output) FROM executions WHERE id = 'e1'"), "blob");

  // Upsert replaces the whole record.
  ExecutionRecord failed = Execution("e2", 20, dodil::ignite::v1::EXECUTION_STATUS_FAILED);
  failed.error = "boom";
  ASSERT_TRUE(store_->PutExecutions({failed}).ok());
  EXPECT_EQ(store_->GetExecution("e2")->error, "boom");
  EXPECT_EQ(store_->GetExecution("e2")->status, dodil::ignite::v1::EXECUTION_STATUS_FAILED);
  EXPECT_TRUE(store_->PutExecutions({}).ok());

  auto missing = store_->GetExecution("nope");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "execution nope not found");
  Reopen();
  EXPECT_EQ(store_->GetExecution("e1")->output, kBinary);
}

TEST_F(SqliteStoreTest, ExecutionBatchIsAllOrNothing) {
  ASSERT_TRUE(store_->PutExecutions({Execution("keep", 1)}).ok());
  // A trigger on a second connection rejects one record in the middle of the batch: none of it is written.
  Query("CREATE TRIGGER reject_bad BEFORE INSERT ON executions WHEN NEW.id = 'bad' "
        "BEGIN SELECT RAISE(ABORT, 'rejected'); END");
  Status st = store_->PutExecutions({Execution("a", 1), Execution("bad", 1), Execution("c", 1)});
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(store_->GetExecution("a").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetExecution("c").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->GetExecution("keep").ok());
}

TEST_F(SqliteStoreTest, ExecutionsRetentionAndUnfinishedSweep) {
  ASSERT_TRUE(store_
                  ->PutExecutions({Execution("old", 100, dodil::ignite::v1::EXECUTION_STATUS_SUCCEEDED),
                                   Execution("edge", 200, dodil::ignite::v1::EXECUTION_STATUS_FAILED),
                                   Execution("pending", 300, dodil::ignite::v1::EXECUTION_STATUS_PENDING),
                                   Execution("running", 300, dodil::ignite::v1::EXECUTION_STATUS_RUNNING),
                                   Execution("timed", 300, dodil::ignite::v1::EXECUTION_STATUS_TIMED_OUT)})
                  .ok());
  auto deleted = store_->DeleteExecutionsBefore(200);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 1);
  EXPECT_EQ(store_->GetExecution("old").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->GetExecution("edge").ok());  // created exactly at the cut-off: kept

  auto failed = store_->FailUnfinishedExecutions("ignited stopped", 900);
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(*failed, 2);
  for (const char* id : {"pending", "running"}) {
    auto e = store_->GetExecution(id);
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->status, dodil::ignite::v1::EXECUTION_STATUS_FAILED) << id;
    EXPECT_EQ(e->error, "ignited stopped");
    EXPECT_EQ(e->finished_at_ms, 900);
  }
  EXPECT_EQ(store_->GetExecution("timed")->status, dodil::ignite::v1::EXECUTION_STATUS_TIMED_OUT);
  EXPECT_EQ(*store_->FailUnfinishedExecutions("again", 1000), 0);
  // The literal status numbers in the SQL are the API enum's.
  static_assert(dodil::ignite::v1::EXECUTION_STATUS_PENDING == 1 && dodil::ignite::v1::EXECUTION_STATUS_RUNNING == 2 &&
                dodil::ignite::v1::EXECUTION_STATUS_FAILED == 4);
  EXPECT_EQ(*store_->DeleteExecutionsBefore(1'000'000), 4);
}

TEST_F(SqliteStoreTest, ConcurrentPublishesGetDistinctNumbers) {
  MakeOrg("o1", "acme");
  MakeApp("o1", "web");
  constexpr int kThreads = 4;
  constexpr int kEach = 10;
  std::vector<std::vector<uint32_t>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto v = store_->PublishVersion("o1", "web", Version("h"));
        if (v.ok()) got[t].push_back(*v);
        (void)store_->GetApp("o1", "web");
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<uint32_t> all;
  for (const auto& g : got) all.insert(all.end(), g.begin(), g.end());
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kEach));
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], i + 1);
  EXPECT_EQ(store_->GetApp("o1", "web")->latest_version, static_cast<uint32_t>(kThreads * kEach));
}

}  // namespace
}  // namespace ignite::store
