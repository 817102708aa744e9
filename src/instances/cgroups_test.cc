#include "instances/cgroups.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "common/process.h"

namespace ignite::instances {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void Put(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

// cgroupfs lets rmdir remove a group with its control files; a plain directory does not. Tests remove the
// files the code wrote (after checking them) so that the removal paths run as they would on cgroupfs.
void RemoveFiles(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file()) fs::remove(e.path());
  }
}

class CgroupFakeTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cgroups-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

using CgroupV2FakeTest = CgroupFakeTreeTest;
using CgroupV1FakeTest = CgroupFakeTreeTest;
using CgroupRlimitTest = CgroupFakeTreeTest;

TEST_F(CgroupV2FakeTest, PreparesParentWritesLimitsAndRemovesGroups) {
  Put(root_ / "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
  Put(root_ / "ignite/t1/memory.swap.max", "max\n");  // Swap accounting present.
  fs::create_directories(root_ / "ignite/d99999999/r7");  // A gone daemon's empty groups: removed.
  Put(root_ / "ignite/d99999998/r7/cgroup.procs", "");     // Not empty (stands in for tasks): kept.
  fs::create_directories(root_ / "ignite/d1");             // Ends in a live pid (init): kept.

  auto manager = CgroupManager::Detect(root_.string(), "/nonexistent/mountinfo", "t1");
  ASSERT_EQ(manager->mode(), LimitMode::kCgroupV2) << manager->Describe();
  EXPECT_EQ(manager->Describe(), fmt::format("cgroup-v2 (memory, cpu, pids) under {}/ignite/t1", root_.string()));
  for (const fs::path& dir : {root_, root_ / "ignite", root_ / "ignite/t1"}) {
    EXPECT_EQ(Slurp(dir / "cgroup.subtree_control"), "+memory +cpu +pids") << dir;
  }
  EXPECT_FALSE(fs::exists(root_ / "ignite/d99999999"));
  EXPECT_TRUE(fs::exists(root_ / "ignite/d99999998/r7"));
  EXPECT_TRUE(fs::exists(root_ / "ignite/d1"));

  auto cg = manager->Create("r1", {.memory_bytes = 64 << 20, .cpu_millicores = 250, .pids = 32});
  ASSERT_TRUE(cg.ok()) << cg.status().ToString();
  fs::path dir = root_ / "ignite/t1/r1";
  EXPECT_EQ(Slurp(dir / "memory.max"), "67108864");
  EXPECT_EQ(Slurp(dir / "memory.swap.max"), "0");
  EXPECT_EQ(Slurp(dir / "cpu.max"), "25000 100000");
  EXPECT_EQ(Slurp(dir / "pids.max"), "32");
  EXPECT_EQ((*cg)->procs_paths(), std::vector<std::string>{(dir / "cgroup.procs").string()});
  ASSERT_EQ((*cg)->procs_fds().size(), 1u);
  EXPECT_EQ(fcntl((*cg)->procs_fds()[0], F_GETFD), FD_CLOEXEC);
  EXPECT_EQ(fcntl((*cg)->procs_fds()[0], F_GETFL) & O_ACCMODE, O_WRONLY);
  EXPECT_TRUE((*cg)->rlimits().empty());
  EXPECT_EQ((*cg)->limits().pids, 32u);
  EXPECT_FALSE((*cg)->OomKilled());
  Put(dir / "memory.events", "low 0\nhigh 0\nmax 4\noom 1\noom_kill 0\n");
  EXPECT_FALSE((*cg)->OomKilled());
  Put(dir / "memory.events", "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\noom_group_kill 0\n");
  EXPECT_TRUE((*cg)->OomKilled());

  EXPECT_EQ(manager->Create("r1", {}).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(manager->Create("../x", {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(manager->Create("", {}).status().code(), StatusCode::kInvalidArgument);

  // Zero limits write nothing; a tiny cpu share is raised to the kernel's minimum quota.
  auto unlimited = manager->Create("r2", {});
  ASSERT_TRUE(unlimited.ok());
  EXPECT_FALSE(fs::exists(root_ / "ignite/t1/r2/memory.max"));
  EXPECT_FALSE(fs::exists(root_ / "ignite/t1/r2/pids.max"));
  auto tiny = manager->Create("r3", {.cpu_millicores = 5});
  ASSERT_TRUE(tiny.ok());
  EXPECT_EQ(Slurp(root_ / "ignite/t1/r3/cpu.max"), "1000 100000");

  for (auto* group : {&tiny, &unlimited}) {
    fs::path group_dir = fs::path((**group)->procs_paths()[0]).parent_path();
    RemoveFiles(group_dir);
    group->value().reset();
    EXPECT_FALSE(fs::exists(group_dir));
  }

  // A parent removed behind our back (another daemon's leftover cleanup while it was empty) is made again.
  fs::rename(root_ / "ignite/t1", root_ / "t1-aside");
  auto again = manager->Create("r4", {.pids = 8});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(Slurp(root_ / "ignite/t1/r4/pids.max"), "8");
  EXPECT_EQ(Slurp(root_ / "ignite/t1/cgroup.subtree_control"), "+memory +cpu +pids");
  RemoveFiles(root_ / "ignite/t1/r4");
  again->reset();
  EXPECT_FALSE(fs::exists(root_ / "ignite/t1/r4"));
  fs::remove_all(root_ / "ignite/t1");
  fs::rename(root_ / "t1-aside", root_ / "ignite/t1");
  // cgroup.kill (v2, Linux 5.14+) is used when the group has it.
  RemoveFiles(dir);
  Put(dir / "cgroup.kill", "");
  cg->reset();  // The file left in a plain directory keeps it from going: logged, not fatal.
  EXPECT_EQ(Slurp(dir / "cgroup.kill"), "1");
  fs::remove(dir / "cgroup.kill");
  fs::remove(dir);

  RemoveFiles(root_ / "ignite/t1");
  manager.reset();
  EXPECT_FALSE(fs::exists(root_ / "ignite/t1"));
  EXPECT_TRUE(fs::exists(root_ / "ignite"));  // Shared with other daemons.
}

TEST_F(CgroupV2FakeTest, UsesTheControllersTheHostOffers) {
  Put(root_ / "cgroup.controllers", "cpu io\n");
  auto manager = CgroupManager::Detect(root_.string(), "/nonexistent/mountinfo", "t1");
  ASSERT_EQ(manager->mode(), LimitMode::kCgroupV2);
  EXPECT_EQ(manager->Describe(), fmt::format("cgroup-v2 (cpu) under {}/ignite/t1", root_.string()));
  EXPECT_EQ(Slurp(root_ / "cgroup.subtree_control"), "+cpu");
  auto cg = manager->Create("r1", {.memory_bytes = 1 << 20, .cpu_millicores = 2000, .pids = 4});
  ASSERT_TRUE(cg.ok());
  EXPECT_EQ(Slurp(root_ / "ignite/t1/r1/cpu.max"), "200000 100000");
  EXPECT_FALSE(fs::exists(root_ / "ignite/t1/r1/memory.max"));
  EXPECT_FALSE(fs::exists(root_ / "ignite/t1/r1/pids.max"));
  // No memory controller: the memory limit falls back to an rlimit.
  EXPECT_EQ((*cg)->rlimits(), (std::vector<std::pair<int, rlim_t>>{{RLIMIT_DATA, 1 << 20}}));
  EXPECT_FALSE((*cg)->OomKilled());
}

TEST_F(CgroupV1FakeTest, FindsHierarchiesInMountinfoAndWritesLimits) {
  std::string r = root_.string();
  for (const char* h : {"cpu,cpuacct", "cpuset", "memory", "pids v1", "unified"}) fs::create_directories(root_ / h);
  fs::create_symlink("cpu,cpuacct", root_ / "cpu");
  Put(root_ / "memory/ignite/t1/memory.memsw.limit_in_bytes", "9223372036854771712\n");  // Swap accounting.
  fs::create_directories(root_ / "memory/ignite/d99999999/r1");                            // Leftover.
  Put(root_ / "mountinfo", fmt::format(
      "30 23 0:26 / {0} rw,nosuid - tmpfs tmpfs rw,mode=755\n"
      "32 30 0:29 / {0}/cpu,cpuacct rw,nosuid shared:9 - cgroup cgroup rw,cpu,cpuacct\n"
      "34 30 0:31 / {0}/cpuset rw - cgroup cgroup rw,cpuset\n"
      "35 30 0:32 / {0}/memory rw shared:10 master:3 - cgroup cgroup rw,memory\n"
      "36 30 0:36 / {0}/pids\\040v1 rw - cgroup cgroup rw,pids\n"
      "37 30 0:36 / {0}/cpu,cpuacct/pids-again rw - cgroup cgroup rw,pids\n"  // Same hierarchy twice.
      "38 1 0:32 / /elsewhere/memory rw - cgroup cgroup rw,memory\n"         // Not under fs_root.
      "41 30 0:38 / {0}/unified rw - cgroup2 cgroup2 rw\n",
      r));

  auto manager = CgroupManager::Detect(r + "/", (root_ / "mountinfo").string(), "t1");
  ASSERT_EQ(manager->mode(), LimitMode::kCgroupV1) << manager->Describe();
  EXPECT_EQ(manager->Describe(), fmt::format("cgroup-v1 (memory, cpu, pids) under {}/*/ignite/t1", r));
  EXPECT_TRUE(fs::is_directory(root_ / "pids v1/ignite/t1"));
  EXPECT_FALSE(fs::exists(root_ / "cpuset/ignite"));
  EXPECT_FALSE(fs::exists(root_ / "memory/ignite/d99999999"));

  auto cg = manager->Create("r1", {.memory_bytes = 32 << 20, .cpu_millicores = 1500, .pids = 16});
  ASSERT_TRUE(cg.ok()) << cg.status().ToString();
  fs::path cpu = root_ / "cpu,cpuacct/ignite/t1/r1", memory = root_ / "memory/ignite/t1/r1",
           pids = root_ / "pids v1/ignite/t1/r1";
  EXPECT_EQ(Slurp(memory / "memory.limit_in_bytes"), "33554432");
  EXPECT_EQ(Slurp(memory / "memory.memsw.limit_in_bytes"), "33554432");
  EXPECT_EQ(Slurp(cpu / "cpu.cfs_period_us"), "100000");
  EXPECT_EQ(Slurp(cpu / "cpu.cfs_quota_us"), "150000");
  EXPECT_EQ(Slurp(pids / "pids.max"), "16");
  EXPECT_EQ((*cg)->procs_paths(),
            (std::vector<std::string>{(cpu / "cgroup.procs").string(), (memory / "cgroup.procs").string(),
                                      (pids / "cgroup.procs").string()}));
  EXPECT_EQ((*cg)->procs_fds().size(), 3u);
  EXPECT_TRUE((*cg)->rlimits().empty());

  EXPECT_FALSE((*cg)->OomKilled());
  Put(memory / "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
  Put(memory / "memory.failcnt", "12\n");
  EXPECT_FALSE((*cg)->OomKilled());  // The oom_kill line is authoritative when present.
  Put(memory / "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
  EXPECT_TRUE((*cg)->OomKilled());
  Put(memory / "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\n");  // Before Linux 4.13.
  EXPECT_TRUE((*cg)->OomKilled());

  for (const fs::path& dir : {cpu, memory, pids}) RemoveFiles(dir);
  cg->reset();
  EXPECT_FALSE(fs::exists(cpu));
  EXPECT_FALSE(fs::exists(memory));
  EXPECT_FALSE(fs::exists(pids));
  RemoveFiles(root_ / "memory/ignite/t1");
  manager.reset();
  EXPECT_FALSE(fs::exists(root_ / "memory/ignite/t1"));
  EXPECT_FALSE(fs::exists(root_ / "pids v1/ignite/t1"));
}

TEST_F(CgroupV1FakeTest, SkipsHierarchiesItCannotWrite) {
  std::string r = root_.string();
  fs::create_directories(root_ / "memory");
  Put(root_ / "pids", "a file, so nothing can be created under it");
  Put(root_ / "mountinfo", fmt::format("35 30 0:32 / {0}/memory rw - cgroup cgroup rw,memory\n"
                                       "36 30 0:36 / {0}/pids rw - cgroup cgroup rw,pids\n",
                                       r));
  auto manager = CgroupManager::Detect(r, (root_ / "mountinfo").string(), "t1");
  ASSERT_EQ(manager->mode(), LimitMode::kCgroupV1);
  EXPECT_EQ(manager->Describe(),
            fmt::format("cgroup-v1 (memory) under {0}/*/ignite/t1; skipped: cannot create {0}/pids/ignite: Not a "
                        "directory",
                        r));
  auto cg = manager->Create("r1", {.pids = 3});
  ASSERT_TRUE(cg.ok());
  EXPECT_EQ((*cg)->procs_paths().size(), 1u);
}

TEST_F(CgroupRlimitTest, FallsBackWhenNothingIsWritable) {
  std::string r = root_.string();
  // No cgroup.controllers and no mountinfo.
  auto manager = CgroupManager::Detect(r, (root_ / "missing").string(), "t1");
  EXPECT_EQ(manager->mode(), LimitMode::kRlimit);
  EXPECT_EQ(manager->Describe(),
            fmt::format("rlimit (memory as RLIMIT_DATA, no cpu or pids limits): no {0}/cgroup.controllers (cgroup "
                        "v2) and cannot read {0}/missing",
                        r));

  // v1 mounts that cannot be written.
  Put(root_ / "file", "");
  Put(root_ / "mountinfo", fmt::format("35 30 0:32 / {0}/file/memory rw - cgroup cgroup rw,memory\n", r));
  manager = CgroupManager::Detect(r, (root_ / "mountinfo").string(), "t1");
  EXPECT_EQ(manager->mode(), LimitMode::kRlimit);
  EXPECT_NE(manager->Describe().find("cannot create " + r + "/file/memory/ignite: Not a directory"),
            std::string::npos)
      << manager->Describe();

  // v1 mountinfo without our controllers.
  Put(root_ / "mountinfo", fmt::format("34 30 0:31 / {0}/cpuset rw - cgroup cgroup rw,cpuset\n", r));
  manager = CgroupManager::Detect(r, (root_ / "mountinfo").string(), "t1");
  EXPECT_EQ(manager->mode(), LimitMode::kRlimit);

  // v2 whose group directory cannot be made.
  Put(root_ / "cgroup.controllers", "memory pids\n");
  Put(root_ / "ignite", "");
  manager = CgroupManager::Detect(r, "/nonexistent", "t1");
  EXPECT_EQ(manager->mode(), LimitMode::kRlimit);
  EXPECT_NE(manager->Describe().find("cannot create " + r + "/ignite: File exists"), std::string::npos)
      << manager->Describe();

  auto cg = manager->Create("r1", {.memory_bytes = 64 << 20, .cpu_millicores = 100, .pids = 5});
  ASSERT_TRUE(cg.ok());
  EXPECT_TRUE((*cg)->procs_fds().empty());
  EXPECT_TRUE((*cg)->procs_paths().empty());
  EXPECT_EQ((*cg)->rlimits(), (std::vector<std::pair<int, rlim_t>>{{RLIMIT_DATA, 64 << 20}}));
  EXPECT_FALSE((*cg)->OomKilled());
  auto unlimited = manager->Create("r2", {});
  ASSERT_TRUE(unlimited.ok());
  EXPECT_TRUE((*unlimited)->rlimits().empty());
  EXPECT_EQ(LimitModeName(LimitMode::kRlimit), "rlimit");
  EXPECT_EQ(LimitModeName(LimitMode::kCgroupV1), "cgroup-v1");
  EXPECT_EQ(LimitModeName(LimitMode::kCgroupV2), "cgroup-v2");
}

// ---- Against the host's real cgroups (skipped where they are not writable, e.g. not root) ----

struct ShellResult {
  int wstatus = 0;
  std::string output;
};

// Runs `script` under /bin/sh after the shell joined `cg`; waits at most 30 s.
ShellResult RunInGroup(const Cgroup& cg, const std::string& script) {
  char out_path[] = "/tmp/cgroups-test-out-XXXXXX";
  int out = mkostemp(out_path, O_CLOEXEC);
  EXPECT_GE(out, 0);
  unlink(out_path);
  SpawnSpec spec;
  spec.argv = {"/bin/sh", "-c", "for p in \"$@\"; do echo 0 > \"$p\" || exit 99; done; " + script, "sh"};
  spec.argv.insert(spec.argv.end(), cg.procs_paths().begin(), cg.procs_paths().end());
  spec.env = {{"PATH", "/usr/bin:/bin"}, {"LC_ALL", "C"}};
  spec.stdout_fd = out;
  spec.stderr_fd = out;
  ShellResult result;
  auto pid = Spawn(spec);
  EXPECT_TRUE(pid.ok()) << pid.status().ToString();
  if (pid.ok()) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (waitpid(*pid, &result.wstatus, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "command did not finish in 30 s";
        kill(*pid, SIGKILL);
        waitpid(*pid, &result.wstatus, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  char buf[4096];
  ssize_t n;
  lseek(out, 0, SEEK_SET);
  while ((n = read(out, buf, sizeof buf)) > 0) result.output.append(buf, static_cast<size_t>(n));
  close(out);
  return result;
}

// Dead, or a zombie waiting for its parent.
bool Gone(pid_t pid) {
  std::ifstream stat(fmt::format("/proc/{}/stat", pid));
  std::string line;
  if (!std::getline(stat, line)) return true;
  size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
}

class CgroupRealTest : public ::testing::Test {
 protected:
  void SetUp() override {
    manager_ = CgroupManager::Detect("/sys/fs/cgroup", "/proc/self/mountinfo", fmt::format("test{}", getpid()));
    if (manager_->mode() == LimitMode::kRlimit) GTEST_SKIP() << manager_->Describe();
    if (manager_->Describe().find("memory, cpu, pids") == std::string::npos) {
      GTEST_SKIP() << "needs memory and pids controllers: " << manager_->Describe();
    }
  }
  std::unique_ptr<CgroupManager> manager_;
};

TEST_F(CgroupRealTest, MemoryLimitOomKillsAndIsReported) {
  std::cout << manager_->Describe() << "\n";
  // The same command well under the limit completes: the kill below is the limit's doing.
  auto small = manager_->Create("small", {.memory_bytes = 32 << 20, .pids = 16});
  ASSERT_TRUE(small.ok()) << small.status().ToString();
  ShellResult ok = RunInGroup(**small, "head -c 1000000 /dev/zero | tail | wc -c");
  ASSERT_TRUE(WIFEXITED(ok.wstatus) && WEXITSTATUS(ok.wstatus) == 0) << ok.wstatus << " " << ok.output;
  EXPECT_EQ(ok.output, "1000000\n");
  EXPECT_FALSE((*small)->OomKilled());

  // tail keeps its whole input when there is no newline: 100 MB against a 32 MiB limit.
  auto big = manager_->Create("oom", {.memory_bytes = 32 << 20, .pids = 16});
  ASSERT_TRUE(big.ok()) << big.status().ToString();
  ShellResult killed = RunInGroup(**big, "head -c 100000000 /dev/zero | tail > /dev/null");
  // The OOM killer picks tail, the biggest task; the shell reports that as 128 + SIGKILL.
  bool sigkill = (WIFSIGNALED(killed.wstatus) && WTERMSIG(killed.wstatus) == SIGKILL) ||
                 (WIFEXITED(killed.wstatus) && WEXITSTATUS(killed.wstatus) == 128 + SIGKILL);
  EXPECT_TRUE(sigkill) << "wait status " << killed.wstatus << ", output: " << killed.output;
  EXPECT_TRUE((*big)->OomKilled());

  std::vector<std::string> dirs;
  for (auto* group : {&small, &big}) {
    for (const auto& p : (**group)->procs_paths()) dirs.push_back(fs::path(p).parent_path());
    group->value().reset();
  }
  for (const auto& dir : dirs) EXPECT_FALSE(fs::exists(dir)) << dir;
}

TEST_F(CgroupRealTest, PidsLimitStopsForksAndDestroyKillsTheRest) {
  auto cg = manager_->Create("pids", {.cpu_millicores = 250, .pids = 16});
  ASSERT_TRUE(cg.ok()) << cg.status().ToString();
  int cpu_files = 0;  // The kernel took the cpu quota (v1: its own or the cpu,cpuacct hierarchy).
  for (const auto& p : (*cg)->procs_paths()) {
    fs::path dir = fs::path(p).parent_path();
    if (fs::exists(dir / "cpu.cfs_quota_us")) {
      EXPECT_EQ(Slurp(dir / "cpu.cfs_quota_us"), "25000\n");
      EXPECT_EQ(Slurp(dir / "cpu.cfs_period_us"), "100000\n");
      ++cpu_files;
    }
    if (fs::exists(dir / "cpu.max")) {
      EXPECT_EQ(Slurp(dir / "cpu.max"), "25000 100000\n");
      ++cpu_files;
    }
  }
  EXPECT_EQ(cpu_files, 1);
  ShellResult r = RunInGroup(**cg, "for i in $(seq 40); do sleep 30 >/dev/null 2>&1 & done; echo all started");
  EXPECT_TRUE(r.output.find("fork") != std::string::npos ||
              r.output.find("Resource temporarily unavailable") != std::string::npos)
      << r.output;
  EXPECT_EQ(r.output.find("all started"), std::string::npos) << r.output;

  const auto& paths = (*cg)->procs_paths();
  std::vector<pid_t> left;
  std::istringstream procs(Slurp(paths[0]));
  for (pid_t pid; procs >> pid;) left.push_back(pid);
  EXPECT_GE(left.size(), 10u);  // The sleeps that did start are still there...
  EXPECT_LE(left.size(), 16u);  // ...but no more than the limit.

  std::vector<std::string> dirs;
  for (const auto& p : paths) dirs.push_back(fs::path(p).parent_path());
  cg->reset();
  for (const auto& dir : dirs) EXPECT_FALSE(fs::exists(dir)) << dir;
  for (pid_t pid : left) {
    for (int i = 0; i < 200 && !Gone(pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_TRUE(Gone(pid)) << pid;
  }
}

}  // namespace
}  // namespace ignite::instances
