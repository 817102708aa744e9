#include "api/invocation_stats.h"

#include <gtest/gtest.h>

#include <thread>

#include "store/sqlite_store.h"

namespace ignite::api {
namespace {

gateway::InvocationOutcome Outcome(int64_t at, int64_t duration, unsigned status, bool cold = false) {
  gateway::InvocationOutcome o;
  o.app_id = "org/a";
  o.org_id = "o1";
  o.version = 1;
  o.finished_at_ms = at;
  o.duration_ms = duration;
  o.status = status;
  o.cold = cold;
  return o;
}

TEST(InvocationRecorderTest, FlushSavesWhatWasReported) {
  auto store = store::SqliteStore::Open(":memory:");
  ASSERT_TRUE(store.ok());
  FakeClock clock;
  InvocationRecorder rec(store->get(), &clock);  // not started: only explicit flushes write
  rec.OnInvocation(Outcome(100, 5, 200, true));
  rec.OnInvocation(Outcome(101, 7, 500));
  auto before = (*store)->InvocationStatsFor("o1", "org/a", 0, 1000);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->total, 0);
  ASSERT_TRUE(rec.Flush().ok());
  auto after = (*store)->InvocationStatsFor("o1", "org/a", 0, 1000);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->total, 2);
  EXPECT_EQ(after->succeeded, 1);
  EXPECT_EQ(after->cold_starts, 1);
}

TEST(InvocationRecorderTest, MemoryIsBoundedWhenNothingIsSaved) {
  auto store = store::SqliteStore::Open(":memory:");
  ASSERT_TRUE(store.ok());
  FakeClock clock;
  InvocationRecorderOptions opts;
  opts.max_pending = 3;
  InvocationRecorder rec(store->get(), &clock, opts);
  for (int i = 0; i < 5; ++i) rec.OnInvocation(Outcome(100 + i, 1, 200));
  EXPECT_EQ(rec.dropped(), 2u);
  ASSERT_TRUE(rec.Flush().ok());
  EXPECT_EQ((*store)->InvocationStatsFor("o1", "org/a", 0, 1000)->total, 3);
}

TEST(InvocationRecorderTest, TheWriterThreadSavesInTheBackground) {
  auto store = store::SqliteStore::Open(":memory:");
  ASSERT_TRUE(store.ok());
  const Clock& clock = SystemClock();
  InvocationRecorderOptions opts;
  opts.flush_interval = std::chrono::milliseconds(5);
  InvocationRecorder rec(store->get(), &clock, opts);
  rec.Start();
  int64_t now = clock.NowUnixMs();
  rec.OnInvocation(Outcome(now, 3, 200));
  int64_t total = 0;
  for (int i = 0; i < 400 && total == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    total = (*store)->InvocationStatsFor("o1", "org/a", 0, now + 1)->total;
  }
  EXPECT_EQ(total, 1);
  rec.Stop();
}

}  // namespace
}  // namespace ignite::api
