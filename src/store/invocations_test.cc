#include <gtest/gtest.h>

#include "store/sqlite_store.h"

namespace ignite::store {
namespace {

InvocationRecord Rec(std::string app, int64_t at, int64_t duration, uint32_t status, bool cold = false) {
  return InvocationRecord{.org_id = "o1", .app_id = std::move(app), .version = 1, .finished_at_ms = at,
                          .duration_ms = duration, .status = status, .cold_start = cold};
}

TEST(InvocationsTest, AggregatesAnAppsInvocationsInAWindow) {
  auto store = SqliteStore::Open(":memory:");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::vector<InvocationRecord> batch;
  for (int i = 1; i <= 100; ++i) batch.push_back(Rec("org/a", 1000 + i, i, i % 10 == 0 ? 500 : 200, i <= 3));
  batch.push_back(Rec("org/b", 1050, 7, 200));
  batch.push_back(Rec("org/a", 10, 9999, 200));  // before the window
  ASSERT_TRUE((*store)->PutInvocations(batch).ok());

  auto stats = (*store)->InvocationStatsFor("o1", "org/a", 1000, 2000);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->total, 100);
  EXPECT_EQ(stats->succeeded, 90);
  EXPECT_EQ(stats->cold_starts, 3);
  EXPECT_EQ(stats->p50_ms, 50);
  EXPECT_EQ(stats->p95_ms, 95);
  EXPECT_EQ(stats->p99_ms, 99);
  EXPECT_EQ(stats->max_ms, 100);
  EXPECT_DOUBLE_EQ(stats->mean_ms, 50.5);

  auto other_org = (*store)->InvocationStatsFor("o2", "org/a", 0, 5000);
  ASSERT_TRUE(other_org.ok());
  EXPECT_EQ(other_org->total, 0);
  EXPECT_EQ(other_org->p99_ms, 0);

  auto deleted = (*store)->DeleteInvocationsBefore(1051);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 52);  // org/a's 1001..1050, its old one, and org/b's (1050)
}

}  // namespace
}  // namespace ignite::store
