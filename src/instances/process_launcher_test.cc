#include "instances/process_launcher.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <algorithm>
#include <set>
#include <thread>

#include <fmt/format.h>

namespace ignite::instances {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// An executable shell script `body` (after the #! line) as <dir>/inst.sh; returns its path.
std::string WriteScript(const std::filesystem::path& dir, const std::string& body) {
  std::string script = (dir / "inst.sh").string();
  {
    std::ofstream s(script);
    s << "#!/bin/sh\n" << body;
  }
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  return script;
}

TEST(ProcessLauncherTest, PassesSocketAndCapturesOutput) {
  auto dir = std::filesystem::temp_directory_path() / ("launcher-test-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string script =
      WriteScript(dir, "echo \"fd=$IGNITE_LISTEN_FD $(readlink /proc/self/fd/3 | cut -c1-7)\"\necho oops >&2\nexit 3\n");
  std::string path;
  {
    LogCollector logs((dir / "logs").string(), &SystemClock());
    ProcessLauncher launcher(dir.string(), &logs);
    InstanceSpec spec;
    spec.key = "org/a@1";
    spec.app_id = "org/a";
    spec.layout = ArtifactLayout::Executable(script);
    auto p = launcher.Launch(spec, "a-1");
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    std::string how;
    for (int i = 0; i < 500 && !(*p)->Exited(&how); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(how, "exit status 3");
    std::vector<LogLine> lines;
    for (int i = 0; i < 500 && lines.size() < 2; ++i) {
      lines = logs.Read("org/a", 10);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(lines.size(), 2u);
    std::sort(lines.begin(), lines.end(), [](auto& a, auto& b) { return a.stream > b.stream; });
    EXPECT_EQ(lines[0].stream, "stdout");
    EXPECT_EQ(lines[0].replica_id, "a-1");
    EXPECT_EQ(lines[0].message.substr(0, 12), "fd=3 socket:");
    EXPECT_EQ(lines[1].message, "oops");
  }
  std::filesystem::remove_all(dir);
}

// Instances ask for SIGKILL when their parent dies (PR_SET_PDEATHSIG), and the kernel means the spawning
// *thread*: one launched from a thread that then exits must live on.
TEST(ProcessLauncherTest, InstanceOutlivesTheThreadThatLaunchedIt) {
  auto dir = std::filesystem::temp_directory_path() / ("launcher-pdeath-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string script = WriteScript(dir, "exec setpriv --pdeathsig KILL sleep 30\n");
  {
    LogCollector logs((dir / "logs").string(), &SystemClock());
    ProcessLauncher launcher(dir.string(), &logs);
    InstanceSpec spec;
    spec.key = "org/p@1";
    spec.app_id = "org/p";
    spec.layout = ArtifactLayout::Executable(script);
    Result<std::unique_ptr<Process>> p = Internal("not launched");
    std::thread short_lived([&] {
      p = launcher.Launch(spec, "p-1");
      // Outlive the child's prctl: a parent that is already gone when it asks is not the one it watches.
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    });
    short_lived.join();
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    std::string how;
    EXPECT_FALSE((*p)->Exited(&how)) << "the instance died with its launching thread: " << how;
    (*p)->Stop(0);
  }
  std::filesystem::remove_all(dir);
}

TEST(ProcessLauncherTest, MissingArtifactIsFailedPrecondition) {
  LogCollector logs("/tmp", &SystemClock());
  ProcessLauncher launcher("/tmp", &logs);
  InstanceSpec spec;
  spec.layout = ArtifactLayout::Executable("/nonexistent/app");
  auto p = launcher.Launch(spec, "x");
  EXPECT_EQ(p.status().code(), StatusCode::kFailedPrecondition);
}


// The memory cgroup directory of `pid`, from /proc/<pid>/cgroup ("4:memory:/ignite/d1/i3").
std::string MemoryGroupOf(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
  for (std::string line; std::getline(in, line);) {
    auto at = line.find(":memory:");
    if (at != std::string::npos) return "/sys/fs/cgroup/memory" + line.substr(at + 8);
  }
  return "";
}

// Each instance starts inside its own group (cgroup v1: the spawn thread waits in the next one), with its own
// spec's limits, whether they go down or up from the previous instance's. Needs a writable cgroup v1 tree.
TEST(ProcessLauncherTest, EachInstanceStartsInItsOwnCgroupWithItsLimits) {
  auto cgroups = CgroupManager::Detect("/sys/fs/cgroup", "/proc/self/mountinfo", fmt::format("t{}", getpid()));
  if (cgroups->mode() != LimitMode::kCgroupV1) GTEST_SKIP() << cgroups->Describe();
  auto dir = std::filesystem::temp_directory_path() / ("launcher-cg-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string script = WriteScript(dir, "exec sleep 30\n");
  {
    LogCollector logs((dir / "logs").string(), &SystemClock());
    ProcessLauncher launcher(dir.string(), &logs, cgroups.get());
    std::vector<std::unique_ptr<Process>> running;
    std::set<std::string> groups;
    for (uint32_t memory_mb : {256u, 64u, 512u}) {
      InstanceSpec spec;
      spec.key = "org/a@1";
      spec.app_id = "org/a";
      spec.layout = ArtifactLayout::Executable(script);
      spec.memory_mb = memory_mb;
      auto p = launcher.Launch(spec, fmt::format("a-{}", memory_mb));
      ASSERT_TRUE(p.ok()) << p.status().ToString();
      std::string group = MemoryGroupOf((*p)->pid());
      ASSERT_NE(group, "");
      EXPECT_EQ(ReadAll(group + "/memory.limit_in_bytes"), std::to_string(uint64_t{memory_mb} << 20) + "\n");
      groups.insert(group);
      running.push_back(std::move(*p));
    }
    EXPECT_EQ(groups.size(), 3u);  // one group each
    running.clear();  // stops them and removes their groups
    for (const auto& g : groups) EXPECT_FALSE(std::filesystem::exists(g)) << g;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ignite::instances
