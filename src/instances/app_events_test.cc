#include "instances/app_events.h"

#include <gtest/gtest.h>

#include "instances/instance_manager.h"

namespace ignite::instances {
namespace {

AppEvent Ev(std::string type, std::string replica = "") {
  AppEvent e;
  e.type = std::move(type);
  e.replica_id = std::move(replica);
  return e;
}

std::vector<std::string> Types(const std::vector<AppEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.type);
  return out;
}

TEST(AppEventLogTest, KeepsTheNewestEventsPerAppOldestFirst) {
  FakeClock clock;
  AppEventLog log(&clock, 3);
  for (int i = 0; i < 5; ++i) log.Emit("org/a", Ev("E" + std::to_string(i)));
  log.Emit("org/b", Ev("B"));
  EXPECT_EQ(Types(log.Read("org/a", 10)), (std::vector<std::string>{"E2", "E3", "E4"}));
  EXPECT_EQ(Types(log.Read("org/a", 2)), (std::vector<std::string>{"E3", "E4"}));
  EXPECT_EQ(Types(log.Read("org/b", 10)), (std::vector<std::string>{"B"}));
  EXPECT_EQ(log.Read("org/a", 1)[0].timestamp_ms, clock.NowUnixMs());
  log.Remove("org/a");
  EXPECT_TRUE(log.Read("org/a", 10).empty());
}

TEST(AppEventLogTest, FiltersByReplicaAndFollowsLiveEvents) {
  FakeClock clock;
  AppEventLog log(&clock);
  log.Emit("org/a", Ev("X", "r1"));
  log.Emit("org/a", Ev("Y", "r2"));
  std::vector<AppEvent> live;
  auto f = log.Follow("org/a", 10, "r2", [&](const AppEvent& e) { live.push_back(e); });
  EXPECT_EQ(Types(f.tail), (std::vector<std::string>{"Y"}));
  log.Emit("org/a", Ev("Z", "r1"));
  log.Emit("org/other", Ev("W"));
  log.Unfollow(f.id);
  log.Emit("org/a", Ev("after"));
  EXPECT_EQ(Types(live), (std::vector<std::string>{"Z"}));
}

TEST(AppEventLogTest, KeysNameTheAppAndVersion) {
  EXPECT_EQ(AppIdOfKey("org/a@3"), "org/a");
  EXPECT_EQ(VersionOfKey("org/a@3"), 3u);
  EXPECT_EQ(AppIdOfKey("org/a@draft-abc"), "org/a");
  EXPECT_EQ(VersionOfKey("org/a@draft-abc"), 0u);
}

class FakeProcess : public Process {
 public:
  pid_t pid() const override { return 42; }
  const std::string& socket_path() const override { return path_; }
  bool Exited(std::string* d) override {
    if (dead && d) *d = "signal 9";
    return dead;
  }
  void Stop(int) override { dead = true; }
  bool dead = false;

 private:
  std::string path_ = "/fake";
};

class FakeLauncher : public Launcher {
 public:
  Result<std::unique_ptr<Process>> Launch(const InstanceSpec&, const std::string&) override {
    auto p = std::make_unique<FakeProcess>();
    last = p.get();
    return std::unique_ptr<Process>(std::move(p));
  }
  FakeProcess* last = nullptr;
};

TEST(InstanceManagerEventsTest, InstancesReportTheirLifecycle) {
  FakeClock clock;
  AppEventLog log(&clock);
  FakeLauncher launcher;
  InstanceManager m(&launcher, &clock, std::chrono::milliseconds(0));
  m.SetEventSink(&log);
  InstanceSpec spec;
  spec.key = "org/a@2";
  spec.app_id = "org/a";
  spec.idle_timeout = std::chrono::seconds(10);
  {
    auto lease = m.Acquire(spec);
    ASSERT_TRUE(lease.ok());
    m.MarkServed(lease->instance());
  }
  clock.Advance(std::chrono::seconds(11));
  EXPECT_EQ(m.ReapIdle(), 1);
  // A second instance crashes, a third is retired by a version switch.
  {
    auto lease = m.Acquire(spec);
    ASSERT_TRUE(lease.ok());
    launcher.last->dead = true;
    EXPECT_EQ(m.CheckExited(lease->instance()), "signal 9");
    EXPECT_EQ(m.CheckExited(lease->instance()), "signal 9");  // reported once
  }
  ASSERT_TRUE(m.Acquire(spec).ok());
  m.Retire("org/a@2");
  auto events = log.Read("org/a", 100);
  EXPECT_EQ(Types(events), (std::vector<std::string>{"INSTANCE_STARTED", "INSTANCE_READY", "INSTANCE_STOPPED_IDLE",
                                                     "INSTANCE_STARTED", "INSTANCE_CRASHED", "INSTANCE_STARTED",
                                                     "INSTANCE_RETIRED"}));
  EXPECT_EQ(events[0].version, 2u);
  EXPECT_FALSE(events[0].replica_id.empty());
  EXPECT_EQ(events[4].message, "exited with signal 9");
}

}  // namespace
}  // namespace ignite::instances
