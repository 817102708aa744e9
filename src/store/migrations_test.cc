#include "store/migrations.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>

#include "store/sqlite_stmt.h"

namespace ignite::store {
namespace {

// Runs Migrate on a private in-memory database with made-up migrations.
class MigrateTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(sqlite3_open(":memory:", &db_), SQLITE_OK); }
  void TearDown() override { sqlite3_close(db_); }

  bool TableExists(const std::string& name) {
    auto stmt = Stmt::Prepare(db_, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
    EXPECT_TRUE(stmt.ok());
    auto row = stmt->BindText(1, name).Step();
    return row.ok() && *row;
  }
  int64_t Version() {
    auto v = SchemaVersion(db_);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? *v : -1;
  }

  sqlite3* db_ = nullptr;
};

TEST_F(MigrateTest, AppliesOnlyPendingMigrationsInOrder) {
  std::vector<std::string_view> v1 = {"CREATE TABLE a(x)"};
  ASSERT_TRUE(Migrate(db_, v1, 1).ok());
  EXPECT_EQ(Version(), 1);
  // Re-running migration 1 would fail ("table a already exists"), so success proves it was skipped.
  std::vector<std::string_view> v2 = {"CREATE TABLE a(x)", "CREATE TABLE b(y); CREATE TABLE c(z)"};
  Status st = Migrate(db_, v2, 2);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Version(), 2);
  EXPECT_TRUE(TableExists("b"));
  EXPECT_TRUE(TableExists("c"));
  ASSERT_TRUE(Migrate(db_, v2, 3).ok());
  EXPECT_EQ(Version(), 2);
}

TEST_F(MigrateTest, FailedMigrationLeavesThePreviousVersionWhole) {
  std::vector<std::string_view> migrations = {"CREATE TABLE a(x)", "CREATE TABLE b(y); THIS IS NOT SQL"};
  Status st = Migrate(db_, migrations, 1);
  EXPECT_EQ(st.code(), StatusCode::kInternal);
  EXPECT_NE(st.message().find("schema migration 2"), std::string::npos) << st.message();
  EXPECT_EQ(Version(), 1);
  EXPECT_TRUE(TableExists("a"));
  EXPECT_FALSE(TableExists("b"));  // Rolled back with the failed statement after it.
}

TEST_F(MigrateTest, RefusesADatabaseNewerThanTheCode) {
  std::vector<std::string_view> migrations = {"CREATE TABLE a(x)", "CREATE TABLE b(y)"};
  ASSERT_TRUE(Migrate(db_, migrations, 1).ok());
  Status st = Migrate(db_, {migrations[0]}, 2);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.message(), "database schema version 2 is newer than this ignited supports (1); upgrade ignited");
}

TEST(MigrationsTest, ShippedMigrationsApplyToAFreshDatabase) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
  Status st = Migrate(db, Migrations(), 1);
  EXPECT_TRUE(st.ok()) << st.ToString();
  sqlite3_close(db);
}

}  // namespace
}  // namespace ignite::store
