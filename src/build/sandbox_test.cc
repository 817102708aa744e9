// The build sandbox's argv, without processes: a fake host (merged /usr, a data dir with two builds).
// go_builder_test.cc runs real builds and commands in it.
#include "build/go/go_sandbox.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <tuple>

#include <gtest/gtest.h>

#include "build/go/go_env.h"

namespace ignite::build {
namespace {

// A merged-/usr host without /etc/ca-certificates, where the data dir is /data.
HostPath FakeHost(const std::string& path) {
  static const std::map<std::string, std::string> kLinks = {
      {"/bin", "usr/bin"}, {"/lib", "usr/lib"}, {"/lib64", "usr/lib64"}, {"/sbin", "usr/sbin"}};
  if (auto it = kLinks.find(path); it != kLinks.end()) return {HostPath::Kind::kSymlink, it->second};
  if (path == "/etc/ca-certificates" || path.rfind("/missing", 0) == 0) return {};
  return {HostPath::Kind::kOther, ""};
}

struct Mount {
  std::string op, src, dst;
  bool operator<(const Mount& o) const { return std::tie(op, src, dst) < std::tie(o.op, o.src, o.dst); }
  bool operator==(const Mount& o) const { return std::tie(op, src, dst) == std::tie(o.op, o.src, o.dst); }
};

void PrintTo(const Mount& m, std::ostream* os) { *os << m.op << " " << m.src << " " << m.dst; }

// The mount operations of a bwrap argv, in order.
std::vector<Mount> Mounts(const std::vector<std::string>& argv) {
  std::vector<Mount> out;
  for (size_t i = 1; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--ro-bind" || a == "--bind" || a == "--symlink") {
      out.push_back({a, argv.at(i + 1), argv.at(i + 2)});
      i += 2;
    } else if (a == "--proc" || a == "--dev" || a == "--tmpfs" || a == "--remount-ro") {
      out.push_back({a, "", argv.at(i + 1)});
      i += 1;
    }
  }
  return out;
}

std::vector<Mount> Only(const std::vector<Mount>& mounts, const std::string& op) {
  std::vector<Mount> out;
  std::copy_if(mounts.begin(), mounts.end(), std::back_inserter(out), [&](const Mount& m) { return m.op == op; });
  return out;
}

bool Has(const std::vector<std::string>& argv, const std::string& flag) {
  return std::find(argv.begin(), argv.end(), flag) != argv.end();
}

size_t IndexOf(const std::vector<Mount>& mounts, const std::string& op, const std::string& dst) {
  for (size_t i = 0; i < mounts.size(); ++i) {
    if (mounts[i].op == op && mounts[i].dst == dst) return i;
  }
  return mounts.size();
}

GoToolchain FakeToolchain() {
  GoToolchain tc;
  tc.go_binary = "/usr/local/go/bin/go";
  tc.sdk_dir = "/opt/ignite/sdk/go";
  tc.cache_dir = "/data/cache";
  tc.base_env = {{"PATH", "/usr/local/go/bin:/usr/bin:/bin"}, {"HOME", "/root"}};
  return tc;
}

TEST(BuildSandboxTest, IsolatesEverythingAndDropsCapabilities) {
  auto argv = BuildSandboxArgv("/usr/bin/bwrap", SandboxView{}, FakeHost);
  EXPECT_EQ(argv.front(), "/usr/bin/bwrap");
  EXPECT_EQ(argv.back(), "--");
  for (const char* flag : {"--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--unshare-net",
                           "--die-with-parent", "--new-session"}) {
    EXPECT_TRUE(Has(argv, flag)) << flag;
  }
  auto cap = std::find(argv.begin(), argv.end(), "--cap-drop");
  ASSERT_NE(cap, argv.end());
  EXPECT_EQ(*(cap + 1), "ALL");
  EXPECT_FALSE(Has(argv, "--share-net"));
  EXPECT_FALSE(Has(argv, "--bind")) << "nothing is writable without a view";
  // No user namespace and no uid change: see build/sandbox.h.
  EXPECT_FALSE(Has(argv, "--unshare-user"));
  EXPECT_FALSE(Has(argv, "--uid"));
}

TEST(BuildSandboxTest, ShowsTheSystemReadOnlyWithSymlinksKept) {
  auto mounts = Mounts(BuildSandboxArgv("bwrap", SandboxView{}, FakeHost));
  std::vector<Mount> want = {
      {"--proc", "", "/proc"},
      {"--remount-ro", "", "/proc"},
      {"--dev", "", "/dev"},
      {"--tmpfs", "", "/tmp"},
      {"--ro-bind", "/usr", "/usr"},
      {"--symlink", "usr/lib", "/lib"},
      {"--symlink", "usr/lib64", "/lib64"},
      {"--symlink", "usr/bin", "/bin"},
      {"--symlink", "usr/sbin", "/sbin"},
      {"--ro-bind", "/etc/ssl", "/etc/ssl"},
      // /etc/ca-certificates is missing on this host: left out.
      {"--ro-bind", "/etc/resolv.conf", "/etc/resolv.conf"},
      {"--ro-bind", "/etc/hosts", "/etc/hosts"},
      {"--ro-bind", "/etc/nsswitch.conf", "/etc/nsswitch.conf"},
      {"--ro-bind", "/etc/passwd", "/etc/passwd"},
      {"--ro-bind", "/etc/group", "/etc/group"},
  };
  EXPECT_EQ(mounts, want);
}

TEST(BuildSandboxTest, AGoStepWritesOnlyItsOwnBuildAndTheGoCaches) {
  GoToolchain tc = FakeToolchain();
  auto env = GoCommandEnv(tc, "/data/builds/B1");
  AdaptEnvForSandbox(&env, "/data/builds/B1/home", [](const std::string&) { return false; });
  for (bool network : {false, true}) {
    auto view = GoStepView(tc, env, "/usr/local/go", "/data/builds/B1", "/data/builds/B1/src", network);
    auto argv = BuildSandboxArgv("bwrap", view, FakeHost);
    auto mounts = Mounts(argv);
    auto binds = Only(mounts, "--bind");
    std::set<Mount> writable(binds.begin(), binds.end());
    std::set<Mount> want = {{"--bind", "/data/builds/B1", "/data/builds/B1"},
                            {"--bind", "/data/cache/go-build", "/data/cache/go-build"},
                            {"--bind", "/data/cache/gomod", "/data/cache/gomod"},
                            {"--bind", "/data/cache/config", "/data/cache/config"}};
    EXPECT_EQ(writable, want);
    // Not the data dir, its database or blobs, the builds dir, another build, the cache root or GOPATH.
    for (const auto& m : mounts) {
      for (const char* hidden : {"/data", "/data/ignite.db", "/data/blobs", "/data/builds", "/data/builds/B2",
                                 "/data/cache", "/data/cache/gopath", "/root"}) {
        EXPECT_NE(m.src, hidden) << m.op << " " << m.src;
        EXPECT_NE(m.dst, hidden) << m.op << " " << m.dst;
      }
    }
    // GOROOT is under /usr (shown already); the SDK gets its own read-only bind.
    EXPECT_EQ(IndexOf(mounts, "--ro-bind", "/usr/local/go"), mounts.size());
    EXPECT_LT(IndexOf(mounts, "--ro-bind", "/opt/ignite/sdk/go"), mounts.size());
    EXPECT_EQ(Has(argv, "--share-net"), network);
    EXPECT_EQ(Has(argv, "--unshare-net"), !network);
    auto chdir = std::find(argv.begin(), argv.end(), "--chdir");
    ASSERT_NE(chdir, argv.end());
    EXPECT_EQ(*(chdir + 1), "/data/builds/B1/src");
  }
  EXPECT_EQ(env["HOME"], "/data/builds/B1/home");
}

TEST(BuildSandboxTest, AToolchainOutsideUsrIsBoundReadOnly) {
  GoToolchain tc = FakeToolchain();
  auto env = GoCommandEnv(tc, "/data/builds/B1");
  auto mounts = Mounts(BuildSandboxArgv(
      "bwrap", GoStepView(tc, env, "/opt/go1.26", "/data/builds/B1", "/data/builds/B1/src", false), FakeHost));
  EXPECT_LT(IndexOf(mounts, "--ro-bind", "/opt/go1.26"), mounts.size());
}

TEST(BuildSandboxTest, BindsUnderTmpComeAfterTheTmpfsAndParentsBeforeChildren) {
  SandboxView view;
  view.read_write = {"/tmp/data/builds/B1", "/tmp/data/cache/go-build"};
  view.read_only = {"/tmp/data/builds/B1/sdk-copy", "/tmp/sdk", "/tmp/sdk/sub", "/missing/file"};
  auto mounts = Mounts(BuildSandboxArgv("bwrap", view, FakeHost));
  size_t tmpfs = IndexOf(mounts, "--tmpfs", "/tmp");
  size_t build = IndexOf(mounts, "--bind", "/tmp/data/builds/B1");
  size_t inner = IndexOf(mounts, "--ro-bind", "/tmp/data/builds/B1/sdk-copy");
  ASSERT_LT(build, mounts.size());
  ASSERT_LT(inner, mounts.size()) << "a read-only path inside a writable bind keeps its own read-only mount";
  EXPECT_LT(tmpfs, build);
  EXPECT_LT(build, inner);
  EXPECT_LT(IndexOf(mounts, "--ro-bind", "/tmp/sdk"), mounts.size());
  EXPECT_EQ(IndexOf(mounts, "--ro-bind", "/tmp/sdk/sub"), mounts.size()) << "inside /tmp/sdk: shown already";
  for (const auto& m : mounts) EXPECT_NE(m.src, "/missing/file") << "missing paths are left out";
}

TEST(BuildSandboxTest, TheCheckerSeesOnlyItselfAndTheSourceWithoutNetwork) {
  auto argv = BuildSandboxArgv("bwrap", GoCheckView("/opt/ignite/bin/ignite-gocheck", "/data/tmp/gocheck-1"), FakeHost);
  auto mounts = Mounts(argv);
  EXPECT_TRUE(Only(mounts, "--bind").empty());
  std::vector<Mount> own;
  for (const auto& m : Only(mounts, "--ro-bind")) {
    if (m.src.rfind("/opt", 0) == 0 || m.src.rfind("/data", 0) == 0) own.push_back(m);
  }
  // Shallower paths first (see BuildSandboxArgv).
  std::vector<Mount> want = {{"--ro-bind", "/data/tmp/gocheck-1", "/data/tmp/gocheck-1"},
                             {"--ro-bind", "/opt/ignite/bin/ignite-gocheck", "/opt/ignite/bin/ignite-gocheck"}};
  EXPECT_EQ(own, want);
  EXPECT_TRUE(Has(argv, "--unshare-net"));
}

TEST(BuildSandboxTest, FilesNamedByTheEnvironmentAreShownReadOnly) {
  std::map<std::string, std::string> env = {{"SSL_CERT_FILE", "/srv/ca.pem"},
                                            {"SSL_CERT_DIR", "/srv/certs:relative:/etc/ssl/certs"},
                                            {"NETRC", "/srv/netrc"},
                                            {"GOENV", "off"},
                                            {"GOPROXY", "/not/a/file/key"}};
  std::vector<std::string> want = {"/srv/ca.pem", "/srv/certs", "/etc/ssl/certs", "/srv/netrc"};
  EXPECT_EQ(SandboxEnvFiles(env), want);
  GoToolchain tc = FakeToolchain();
  auto mounts = Mounts(BuildSandboxArgv("bwrap", GoStepView(tc, env, "/usr/local/go", "/w", "/w/src", false), FakeHost));
  EXPECT_LT(IndexOf(mounts, "--ro-bind", "/srv/ca.pem"), mounts.size());
  EXPECT_EQ(IndexOf(mounts, "--ro-bind", "/etc/ssl/certs"), mounts.size()) << "inside /etc/ssl: shown already";
  EXPECT_EQ(IndexOf(mounts, "--bind", "/srv/netrc"), mounts.size());
}

TEST(BuildSandboxTest, HomeMovesIntoTheBuildAndItsCredentialsFollow) {
  std::map<std::string, std::string> env = {{"HOME", "/home/ignite"}};
  AdaptEnvForSandbox(&env, "/data/builds/B1/home", [](const std::string& p) { return p == "/home/ignite/.netrc"; });
  EXPECT_EQ(env["HOME"], "/data/builds/B1/home");
  EXPECT_EQ(env["NETRC"], "/home/ignite/.netrc");
  EXPECT_FALSE(env.count("GIT_CONFIG_GLOBAL"));

  std::map<std::string, std::string> configured = {{"HOME", "/home/ignite"}, {"NETRC", "/etc/ignite/netrc"}};
  AdaptEnvForSandbox(&configured, "/w/home", [](const std::string&) { return true; });
  EXPECT_EQ(configured["NETRC"], "/etc/ignite/netrc") << "an explicit setting wins";
  EXPECT_EQ(configured["GIT_CONFIG_GLOBAL"], "/home/ignite/.gitconfig");
}

TEST(BuildSandboxTest, GoRootIsTwoLevelsAboveTheResolvedBinary) {
  EXPECT_EQ(GoRoot("/nonexistent/go/bin/go"), "");
  // /proc/self/exe resolves to this test binary: its root is two levels up from the real path.
  std::string exe = std::filesystem::canonical("/proc/self/exe").string();
  EXPECT_EQ(GoRoot("/proc/self/exe"), std::filesystem::path(exe).parent_path().parent_path().string());
}

}  // namespace
}  // namespace ignite::build
