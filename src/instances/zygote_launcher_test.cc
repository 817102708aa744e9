// ZygoteLauncher against the real Python SDK's zygote (sdk/python) and the real interpreter, unsandboxed (the
// sandboxed path is covered end to end by tests/e2e/test_python.py).
#include "instances/zygote_launcher.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "common/clock.h"

namespace ignite::instances {
namespace {

namespace fs = std::filesystem;

// `POST /` with `body` on the instance's socket; the whole answer ("" when the connection fails).
std::string Post(const std::string& socket_path, const std::string& body) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return "";
  }
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string req = fmt::format("POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{}",
                                body.size(), body);
  if (write(fd, req.data(), req.size()) < 0) {
    close(fd);
    return "";
  }
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

pid_t ParentOf(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string stat((std::istreambuf_iterator<char>(in)), {});
  size_t close_paren = stat.rfind(')');
  if (close_paren == std::string::npos) return -1;
  int ppid = -1;
  char state;
  std::sscanf(stat.c_str() + close_paren + 2, "%c %d", &state, &ppid);
  return ppid;
}

bool WaitExited(Process& p, std::string* how) {
  for (int i = 0; i < 1000; ++i) {
    if (p.Exited(how)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

class ZygoteLauncherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("zygote-test-{}-{}", getpid(), counter_++);
    fs::create_directories(dir_ / "app");
    logs_ = std::make_unique<LogCollector>((dir_ / "logs").string(), &SystemClock());
    processes_ = std::make_unique<ProcessLauncher>(dir_.string(), logs_.get());
    zygotes_ = std::make_unique<ZygoteLauncher>(processes_.get(), dir_.string(), logs_.get(), nullptr);
  }
  void TearDown() override {
    zygotes_.reset();
    processes_.reset();
    logs_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void WriteHandler(const std::string& code) { std::ofstream(dir_ / "app" / "handler.py") << code; }

  InstanceSpec Spec() const {
    InstanceSpec spec;
    spec.key = "org/py@1";
    spec.app_id = "org/py";
    spec.start_timeout = std::chrono::seconds(20);
    spec.layout.launcher = kZygoteLauncher;
    spec.layout.binds = {{(dir_ / "app").string(), "/app"}, {IGNITE_PYTHON_SDK_DIR, "/ignite/sdk"},
                         {IGNITE_PYTHON, IGNITE_PYTHON}};
    spec.layout.argv = {IGNITE_PYTHON, "-I", "-S", "-B", "/ignite/sdk/ignite_main.py"};
    spec.layout.working_dir = "/app";
    spec.layout.env = {{"IGNITE_PYTHONPATH", "/app:/ignite/sdk"}};
    return spec;
  }

  static inline int counter_ = 0;
  fs::path dir_;
  std::unique_ptr<LogCollector> logs_;
  std::unique_ptr<ProcessLauncher> processes_;
  std::unique_ptr<ZygoteLauncher> zygotes_;
};

constexpr char kHello[] =
    "import os\n"
    "def handler(payload, ctx):\n"
    "    return 'hello ' + payload.decode() + ' from ' + os.environ['IGNITE_REPLICA_ID']\n";

TEST_F(ZygoteLauncherTest, ForksServingInstancesFromOneZygote) {
  WriteHandler(kHello);
  auto a = zygotes_->Launch(Spec(), "py-a");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto b = zygotes_->Launch(Spec(), "py-b");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(zygotes_->ZygoteCount(), 1);
  EXPECT_NE((*a)->pid(), (*b)->pid());
  EXPECT_EQ(ParentOf((*a)->pid()), ParentOf((*b)->pid())) << "both are children of the one zygote";
  EXPECT_NE(ParentOf((*a)->pid()), getpid());
  EXPECT_NE(Post((*a)->socket_path(), "x").find("hello x from py-a"), std::string::npos);
  EXPECT_NE(Post((*b)->socket_path(), "y").find("hello y from py-b"), std::string::npos);
  EXPECT_TRUE((*a)->Ready());
  std::string how;
  EXPECT_FALSE((*a)->Exited(&how));
}

TEST_F(ZygoteLauncherTest, ReportsHowAChildEnded) {
  WriteHandler(kHello);
  auto a = zygotes_->Launch(Spec(), "py-a");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  kill((*a)->pid(), SIGKILL);
  std::string how;
  ASSERT_TRUE(WaitExited(**a, &how));
  EXPECT_NE(how.find("signal 9"), std::string::npos) << how;
  // The zygote is unaffected: the next instance forks at once.
  auto b = zygotes_->Launch(Spec(), "py-b");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_NE(Post((*b)->socket_path(), "z").find("hello z"), std::string::npos);
}

TEST_F(ZygoteLauncherTest, StopEndsTheInstanceGracefully) {
  WriteHandler(kHello);
  auto a = zygotes_->Launch(Spec(), "py-a");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_NE(Post((*a)->socket_path(), "x").find("hello"), std::string::npos);
  (*a)->Stop(5000);
  std::string how;
  ASSERT_TRUE((*a)->Exited(&how));
  EXPECT_EQ(how, "exit status 0");
}

TEST_F(ZygoteLauncherTest, AChangedSpecGetsANewZygoteAndTheOldOneStaysForItsInstances) {
  WriteHandler(kHello);
  auto a = zygotes_->Launch(Spec(), "py-a");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  pid_t first_zygote = ParentOf((*a)->pid());
  InstanceSpec changed = Spec();
  changed.env["COLOUR"] = "blue";
  auto b = zygotes_->Launch(changed, "py-b");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_NE(ParentOf((*b)->pid()), first_zygote);
  EXPECT_NE(Post((*a)->socket_path(), "old").find("hello old"), std::string::npos) << "the old instance still serves";
  a->reset();  // its last instance gone: the replaced zygote stops
  for (int i = 0; i < 400 && kill(first_zygote, 0) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_NE(kill(first_zygote, 0), 0) << "the replaced zygote outlived its instances";
}

TEST_F(ZygoteLauncherTest, RetireStopsTheZygoteOnceItsInstancesAreGone) {
  WriteHandler(kHello);
  auto a = zygotes_->Launch(Spec(), "py-a");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  pid_t zygote = ParentOf((*a)->pid());
  zygotes_->Retire(Spec().key);
  EXPECT_EQ(zygotes_->ZygoteCount(), 0);
  EXPECT_EQ(kill(zygote, 0), 0) << "kept while its instance lives";
  a->reset();
  for (int i = 0; i < 400 && kill(zygote, 0) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_NE(kill(zygote, 0), 0);
}

TEST_F(ZygoteLauncherTest, CodeThatFailsToLoadIsUnavailableAndNotRetriedAtOnce) {
  WriteHandler("import no_such_module\n");
  auto a = zygotes_->Launch(Spec(), "py-a");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(a.status().message().find("failed to load"), std::string::npos) << a.status().message();
  auto t0 = std::chrono::steady_clock::now();
  auto again = zygotes_->Launch(Spec(), "py-b");
  EXPECT_FALSE(again.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(50)) << "answered from the back-off";
  EXPECT_EQ(again.status().message(), a.status().message());
  // The traceback is in the logs, under the zygote's replica id.
  std::vector<LogLine> lines;
  for (int i = 0; i < 200; ++i) {
    lines = logs_->Read("org/py", 100);
    bool found = false;
    for (const auto& l : lines) found |= l.message.find("no_such_module") != std::string::npos;
    if (found) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  bool found = false;
  for (const auto& l : lines) found |= l.message.find("No module named 'no_such_module'") != std::string::npos;
  EXPECT_TRUE(found);
}

TEST_F(ZygoteLauncherTest, ARestartedZygoteAfterItDied) {
  WriteHandler(kHello);
  auto a = zygotes_->Launch(Spec(), "py-a");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  pid_t zygote = ParentOf((*a)->pid());
  kill(zygote, SIGKILL);
  std::string how;
  ASSERT_TRUE(WaitExited(**a, &how)) << "an instance dies with its zygote";
  auto b = zygotes_->Launch(Spec(), "py-b");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_NE(ParentOf((*b)->pid()), zygote);
  EXPECT_NE(Post((*b)->socket_path(), "again").find("hello again"), std::string::npos);
}

}  // namespace
}  // namespace ignite::instances
