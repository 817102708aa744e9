#include "instances/port_bridge.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "instances/instance_socket.h"

namespace ignite::instances {
namespace {

using namespace std::chrono_literals;

// A tiny HTTP server on 127.0.0.1 (this test's own namespace stands in for an instance's): GET /healthz
// answers 503 until `healthy`, anything else echoes its request line. One connection at a time.
class TinyServer {
 public:
  TinyServer() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    listen(fd_, 16);
    thread_ = std::thread([this] { Serve(); });
  }
  ~TinyServer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    thread_.join();
    close(fd_);
  }
  uint16_t port() const { return port_; }
  std::atomic<bool> healthy{false};
  std::atomic<int> health_checks{0};

 private:
  void Serve() {
    while (!stop_) {
      int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      char buf[4096];
      ssize_t n = read(c, buf, sizeof buf);
      std::string req(buf, n > 0 ? static_cast<size_t>(n) : 0);
      std::string line = req.substr(0, req.find("\r\n"));
      std::string body;
      int status = 200;
      if (line.rfind("GET /healthz ", 0) == 0) {
        ++health_checks;
        status = healthy ? 200 : 503;
        body = "health";
      } else {
        body = "echo " + line;
      }
      std::string resp = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: " +
                         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
      (void)!write(c, resp.data(), resp.size());
      close(c);
    }
  }
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Sends a request over the Unix socket and reads the whole answer (the server closes after it).
std::string Exchange(const std::string& path, const std::string& request) {
  int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
  if (connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(c);
    return "connect failed";
  }
  (void)!write(c, request.data(), request.size());
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(c, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  close(c);
  return out;
}

std::string TempSocket(const char* name) {
  return std::string(testing::TempDir()) + "/pb-" + std::to_string(getpid()) + "-" + name + ".sock";
}

TEST(PortBridgeTest, HoldsConnectionsUntilHealthyThenForwards) {
  if (geteuid() != 0) GTEST_SKIP() << "the bridge enters network namespaces (setns), which needs root";
  TinyServer server;
  PortBridge bridge;
  std::string path = TempSocket("a");
  auto listener = BindInstanceSocket(path);
  ASSERT_TRUE(listener.ok()) << listener.status().message();
  auto b = bridge.Open(std::move(*listener), UniqueFd(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)),
                       server.port(), "/healthz");
  std::string answer;
  std::thread client([&] { answer = Exchange(path, "POST /x?y=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"); });
  // Unhealthy: probed again and again, the request waits.
  for (int i = 0; i < 200 && server.health_checks < 3; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_GE(server.health_checks.load(), 3);
  EXPECT_FALSE(b->Ready());
  EXPECT_NE(b->LastFailure().find("HTTP 503"), std::string::npos) << b->LastFailure();
  EXPECT_TRUE(answer.empty());
  server.healthy = true;
  client.join();
  EXPECT_TRUE(b->Ready());
  EXPECT_NE(answer.find("200"), std::string::npos) << answer;
  EXPECT_NE(answer.find("echo POST /x?y=1 HTTP/1.1"), std::string::npos) << answer;
  // Once ready, later connections go straight through.
  EXPECT_NE(Exchange(path, "GET /z HTTP/1.1\r\n\r\n").find("echo GET /z"), std::string::npos);
  unlink(path.c_str());
}

TEST(PortBridgeTest, SaysWhyTheHealthCheckFailsWhenNothingListens) {
  if (geteuid() != 0) GTEST_SKIP() << "the bridge enters network namespaces (setns), which needs root";
  PortBridge bridge;
  int probe = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(probe, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(probe, reinterpret_cast<sockaddr*>(&a), &len);
  close(probe);  // a port nobody listens on
  std::string path = TempSocket("b");
  auto listener = BindInstanceSocket(path);
  ASSERT_TRUE(listener.ok());
  auto b = bridge.Open(std::move(*listener), UniqueFd(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)),
                       ntohs(a.sin_port), "/ready");
  for (int i = 0; i < 200 && b->LastFailure().empty(); ++i) std::this_thread::sleep_for(5ms);
  EXPECT_FALSE(b->Ready());
  EXPECT_NE(b->LastFailure().find("GET /ready"), std::string::npos) << b->LastFailure();
  EXPECT_NE(b->LastFailure().find("connection refused"), std::string::npos) << b->LastFailure();
  b.reset();  // closing a bridge whose check never passed
  unlink(path.c_str());
}

}  // namespace
}  // namespace ignite::instances
