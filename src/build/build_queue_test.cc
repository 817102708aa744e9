#include "build/build_queue.h"

#include <gtest/gtest.h>

#include <latch>

namespace ignite::build {
namespace {

TEST(BuildQueueTest, RunsInSlotsAndQueuesTheRest) {
  FakeClock clock;
  BuildQueue q(1, &clock);
  std::latch release(1);
  std::atomic<int> finished{0};
  auto blocking = q.Submit("a", [&](BuildJob& j) {
    j.Log("building a");
    release.wait();
    return OkStatus();
  }, [&](BuildJob&, const Status&) { ++finished; });
  auto second = q.Submit("b", [](BuildJob& j) { j.Log("building b"); return InvalidArgument("broken"); },
                         [&](BuildJob&, const Status&) { ++finished; });
  // Wait until "a" runs, then "b" is first in line.
  std::vector<LogEntry> log;
  while (log.empty()) blocking->ReadLog(0, &log, std::chrono::milliseconds(100));
  EXPECT_EQ(log[0].line, "building a");
  EXPECT_EQ(blocking->state(), JobState::kRunning);
  EXPECT_EQ(second->queue_position(), 1u);
  release.count_down();
  second->Wait();
  EXPECT_EQ(second->state(), JobState::kFailed);
  EXPECT_EQ(second->result().code(), StatusCode::kInvalidArgument);
  blocking->Wait();
  EXPECT_EQ(blocking->state(), JobState::kSucceeded);
  EXPECT_EQ(finished, 2);
  EXPECT_EQ(q.Find("a"), blocking);
  EXPECT_EQ(q.Find("zzz"), nullptr);
}

TEST(BuildQueueTest, CancelsPendingAndRunningJobs) {
  FakeClock clock;
  BuildQueue q(1, &clock);
  std::atomic<bool> started{false};
  Status finished_with;
  auto running = q.Submit("run", [&](BuildJob& j) {
    started = true;
    while (!j.cancel_flag()->load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return Status(StatusCode::kCancelled, "stopped");
  }, [](BuildJob&, const Status&) {});
  auto waiting = q.Submit("wait", [](BuildJob&) { return OkStatus(); },
                          [&](BuildJob&, const Status& st) { finished_with = st; });
  while (!started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  waiting->Cancel();
  EXPECT_EQ(waiting->state(), JobState::kCancelled);
  EXPECT_EQ(finished_with.code(), StatusCode::kCancelled);
  std::vector<LogEntry> log;
  EXPECT_TRUE(waiting->ReadLog(0, &log, std::chrono::milliseconds(0)));
  running->Cancel();
  running->Wait();
  EXPECT_EQ(running->state(), JobState::kCancelled);
}

TEST(BuildQueueTest, ReadLogReturnsWhenFinished) {
  FakeClock clock;
  BuildQueue q(2, &clock);
  auto job = q.Submit("x", [](BuildJob& j) {
    for (int i = 0; i < 3; ++i) j.Log("line " + std::to_string(i));
    return OkStatus();
  }, [](BuildJob&, const Status&) {});
  std::vector<LogEntry> all;
  bool done = false;
  for (int i = 0; i < 1000 && !done; ++i) done = job->ReadLog(all.size(), &all, std::chrono::milliseconds(50));
  ASSERT_TRUE(done);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[2].line, "line 2");
  EXPECT_EQ(all[2].timestamp_ms, clock.NowUnixMs());
}

}  // namespace
}  // namespace ignite::build
