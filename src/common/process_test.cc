#include "common/process.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace ignite {
namespace {

TEST(ProcessTest, RunsAndCapturesOutput) {
  SpawnSpec spec;
  spec.argv = {"/bin/sh", "-c", "echo out; echo err >&2; exit 3"};
  spec.env = {{"PATH", "/usr/bin:/bin"}};
  std::vector<std::string> lines;
  auto r = RunCommand(spec, std::chrono::seconds(10), [&](std::string_view l) { lines.emplace_back(l); });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_FALSE(r->timed_out);
  EXPECT_EQ(lines.size(), 2u);
  EXPECT_NE(r->output.find("out\n"), std::string::npos);
  EXPECT_NE(r->output.find("err\n"), std::string::npos);
}

TEST(ProcessTest, UsesOnlyTheGivenEnvironmentAndCwd) {
  SpawnSpec spec;
  spec.argv = {"/bin/sh", "-c", "echo \"$FOO:$HOME:$(pwd)\""};
  spec.env = {{"FOO", "bar"}};
  spec.cwd = "/tmp";
  auto r = RunCommand(spec, std::chrono::seconds(10));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->output, "bar::/tmp\n");
}

TEST(ProcessTest, KillsTheGroupAtTheDeadline) {
  SpawnSpec spec;
  spec.argv = {"/bin/sh", "-c", "sleep 30 & sleep 30"};
  auto start = std::chrono::steady_clock::now();
  auto r = RunCommand(spec, std::chrono::milliseconds(200));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->exit_code, -1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(ProcessTest, CancelKillsTheGroup) {
  SpawnSpec spec;
  spec.argv = {"/bin/sh", "-c", "sleep 30 & sleep 30"};
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    cancel = true;
  });
  auto start = std::chrono::steady_clock::now();
  auto r = RunCommand(spec, std::chrono::seconds(30), {}, 1 << 20, &cancel);
  canceller.join();
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->cancelled);
  EXPECT_FALSE(r->timed_out);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(ProcessTest, ReportsAMissingExecutable) {
  SpawnSpec spec;
  spec.argv = {"/nonexistent/binary"};
  auto r = RunCommand(spec, std::chrono::seconds(5));
  // posix_spawn with vfork reports exec failure as an error or as exit 127 depending on the libc path.
  if (r.ok()) {
    EXPECT_EQ(r->exit_code, 127);
  } else {
    EXPECT_NE(r.status().message().find("/nonexistent/binary"), std::string::npos);
  }
}

TEST(ProcessTest, PassesDescriptorsFromThree) {
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  SpawnSpec spec;
  spec.argv = {"/bin/sh", "-c", "echo hi >&3"};
  spec.pass_fds = {p[1]};
  auto pid = Spawn(spec);
  ASSERT_TRUE(pid.ok());
  close(p[1]);
  char buf[16] = {};
  ssize_t n = read(p[0], buf, sizeof buf);
  EXPECT_EQ(std::string(buf, n > 0 ? n : 0), "hi\n");
  close(p[0]);
  int st;
  waitpid(*pid, &st, 0);
}

std::string MakeTempDir() {
  char tmpl[] = "/tmp/process_test-XXXXXX";
  if (!mkdtemp(tmpl)) std::abort();
  return tmpl;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Plain files stand in for cgroup.procs: the wrapper writes "0" to each, and the command sees none of them.
TEST(ProcessTest, JoinCgroupsWritesZeroToEachFileBeforeTheCommandRuns) {
  std::string dir = MakeTempDir();
  for (bool die_with_parent : {false, true}) {
    std::string a = dir + "/a.procs", b = dir + "/b.procs";
    std::ofstream(a).close();
    std::ofstream(b).close();
    SpawnSpec spec;
    // The command checks the files were written before it started, then prints its own argv and env.
    spec.argv = {"sh", "-c", "cat \"$1\" \"$2\" | tr -d '\\n'; echo \" args=$#\"; env", "cmd", a, b};
    spec.env = {{"PATH", "/usr/bin:/bin"}};
    spec.join_cgroups = {a, b};
    spec.die_with_parent = die_with_parent;
    auto r = RunCommand(spec, std::chrono::seconds(10));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->exit_code, 0) << r->output;
    EXPECT_EQ(ReadFile(a), "0\n");
    EXPECT_EQ(ReadFile(b), "0\n");
    // Only the command's own arguments (the two files it was given), nothing of the wrapper's.
    EXPECT_EQ(r->output.substr(0, r->output.find('\n')), "00 args=2") << r->output;
    EXPECT_EQ(r->output.find(".procs", r->output.find('\n')), std::string::npos) << "paths leaked: " << r->output;
  }
  std::filesystem::remove_all(dir);
}

TEST(ProcessTest, AGroupThatCannotBeJoinedStopsTheCommand) {
  std::string dir = MakeTempDir();
  SpawnSpec spec;
  spec.argv = {"/bin/sh", "-c", "echo ran > \"$0\"", dir + "/ran"};
  spec.join_cgroups = {dir + "/missing/cgroup.procs"};
  spec.die_with_parent = true;
  auto r = RunCommand(spec, std::chrono::seconds(10));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 125);
  EXPECT_NE(r->output.find(std::string(kJoinCgroupFailed) + dir + "/missing/cgroup.procs"), std::string::npos)
      << r->output;
  EXPECT_FALSE(std::filesystem::exists(dir + "/ran"));
  std::filesystem::remove_all(dir);
}

// A real cgroup where this host lets us make one (cgroup v1 pids hierarchy, or v2, as root).
TEST(ProcessTest, JoinCgroupsPutsTheCommandInTheGroup) {
  std::string group;
  std::string procs;
  for (const char* root : {"/sys/fs/cgroup/pids", "/sys/fs/cgroup"}) {
    std::string candidate = std::string(root) + "/process_test-" + std::to_string(getpid());
    if (access((std::string(root) + "/cgroup.procs").c_str(), W_OK) == 0 && mkdir(candidate.c_str(), 0755) == 0) {
      group = candidate;
      procs = candidate + "/cgroup.procs";
      break;
    }
  }
  if (group.empty()) GTEST_SKIP() << "no writable cgroup hierarchy here";
  SpawnSpec spec;
  spec.argv = {"cat", "/proc/self/cgroup"};
  spec.env = {{"PATH", "/usr/bin:/bin"}};
  spec.join_cgroups = {procs};
  spec.die_with_parent = true;
  auto r = RunCommand(spec, std::chrono::seconds(10));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0) << r->output;
  EXPECT_NE(r->output.find("/process_test-" + std::to_string(getpid()) + "\n"), std::string::npos) << r->output;
  // Everything ran to its end, so the group is empty again.
  for (int i = 0; i < 100 && rmdir(group.c_str()) != 0; ++i) usleep(10000);
  EXPECT_FALSE(std::filesystem::exists(group));
}

TEST(ProcessTest, SandboxPrefixWrapsTheCommand) {
  for (bool die_with_parent : {false, true}) {
    SpawnSpec spec;
    // `env` stands in for a sandbox: it is found through PATH and runs the command with one more variable.
    spec.sandbox_prefix = {"env", "WRAPPED=yes"};
    spec.argv = {"sh", "-c", "echo \"$WRAPPED $0\"", "arg"};
    spec.env = {{"PATH", "/usr/bin:/bin"}};
    spec.die_with_parent = die_with_parent;
    auto r = RunCommand(spec, std::chrono::seconds(10));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->output, "yes arg\n");
  }
  SpawnSpec missing;
  missing.sandbox_prefix = {"no-such-sandbox-tool"};
  missing.argv = {"true"};
  auto r = RunCommand(missing, std::chrono::seconds(10));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no-such-sandbox-tool: not found in PATH"), std::string::npos);
}

}  // namespace
}  // namespace ignite
