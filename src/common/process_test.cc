#include "common/process.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace ignite
