#include "gateway/fake_instance.h"

#include <boost/beast/http.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <limits>

#include <fmt/format.h>

namespace ignite::gateway::fakes {

namespace beast = boost::beast;
namespace bhttp = beast::http;

FakeInstance::FakeInstance() {
  char dir[] = "/tmp/ignite-invoker-XXXXXX";
  EXPECT_NE(mkdtemp(dir), nullptr) << std::strerror(errno);
  dir_ = dir;
  path_ = dir_ + "/http.sock";
  listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
  EXPECT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
  EXPECT_EQ(listen(listen_fd_, 16), 0);
  EXPECT_EQ(pipe2(stop_, O_CLOEXEC | O_NONBLOCK), 0);
  thread_ = std::thread([this] { Serve(); });
}

FakeInstance::~FakeInstance() {
  Stop();
  close(listen_fd_);
  close(stop_[0]);
  close(stop_[1]);
  unlink(path_.c_str());
  rmdir(dir_.c_str());
}

void FakeInstance::Stop() {
  if (!thread_.joinable()) return;
  EXPECT_EQ(write(stop_[1], "x", 1), 1);
  thread_.join();
}

bool FakeInstance::Stopping() const {
  pollfd p{stop_[0], POLLIN, 0};
  return poll(&p, 1, 0) > 0;
}

bool FakeInstance::Wait(int fd, short events) {
  pollfd p[2] = {{fd, events, 0}, {stop_[0], POLLIN, 0}};
  for (;;) {
    int r = poll(p, 2, -1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 || p[1].revents) return false;
    if (p[0].revents) return true;
  }
}

void FakeInstance::Serve() {
  while (Wait(listen_fd_, POLLIN)) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) continue;
    if (small_send_buffer) {
      int size = 64 << 10;
      setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    }
    ServeConnection(fd, ++accepted);
    close(fd);
    ++closed;
    if (Stopping()) return;
  }
}

bool FakeInstance::ReadRequest(int fd, std::string& pending, Received* out) {
  bhttp::request_parser<bhttp::string_body> parser;
  parser.eager(true);
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  for (;;) {
    while (!pending.empty() && !parser.is_done()) {
      beast::error_code ec;
      size_t n = parser.put(asio::buffer(pending), ec);
      pending.erase(0, n);
      if (ec == bhttp::error::need_more || (!ec && n == 0)) break;
      if (ec) return false;
    }
    if (parser.is_done()) break;
    if (!Wait(fd, POLLIN)) return false;
    char buf[64 << 10];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n == 0) return false;
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n < 0) return false;
    pending.append(buf, static_cast<size_t>(n));
  }
  auto msg = parser.release();
  out->method = std::string(msg.method_string());
  out->target = std::string(msg.target());
  for (const auto& f : msg) {
    std::string name(f.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out->headers[name] = std::string(f.value());
  }
  out->body = std::move(msg.body());
  return true;
}

bool FakeInstance::Send(int fd, std::string_view data, bool huge) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      if (huge) huge_written += static_cast<uint64_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) return false;
    if (huge) huge_waiting = true;
    bool ok = Wait(fd, POLLOUT);
    if (huge) huge_waiting = false;
    if (!ok) return false;
  }
  return true;
}

void FakeInstance::StallUntilClosed(int fd) {
  char buf[4096];
  while (Wait(fd, POLLIN)) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return;
  }
}

std::string FakeInstance::Head(uint64_t length) {
  return fmt::format("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Answer: yes\r\nContent-Length: {}\r\n\r\n",
                     length);
}

void FakeInstance::ServeConnection(int fd, int connection) {
  std::string pending;
  for (;;) {
    Received r;
    if (!ReadRequest(fd, pending, &r)) return;
    r.connection = connection;
    Script what = Script::kAnswer;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (next_ < script_.size()) what = script_[next_];
      ++next_;
      received_.push_back(r);
    }
    if (on_request) on_request(r);
    switch (what) {
      case Script::kAnswer:
      case Script::kAnswerAndClose:
        if (!Send(fd, Head(reply.size()) + reply)) return;
        if (what == Script::kAnswerAndClose) return;
        break;
      case Script::kCloseUnanswered:
        return;
      case Script::kStall:
        return StallUntilClosed(fd);
      case Script::kHeadThenStall:
        if (!Send(fd, Head(1 << 20) + std::string(100 << 10, 'p'))) return;
        return StallUntilClosed(fd);
      case Script::kDieBeforeHead:
        if (die) die();
        return;
      case Script::kDieWithinPiece:
        Send(fd, Head(1000) + std::string(100, 'p'));
        if (die) die();
        return;
      case Script::kDieMidAnswer:
        Send(fd, Head(1 << 20) + std::string(200 << 10, 'p'));
        if (die) die();
        return;
      case Script::kHugeAnswer: {
        if (!Send(fd, Head(huge_bytes))) return;
        static const std::string kBlock(64 << 10, 'z');
        for (uint64_t left = huge_bytes; left > 0;) {
          size_t n = static_cast<size_t>(std::min<uint64_t>(left, kBlock.size()));
          if (!Send(fd, std::string_view(kBlock.data(), n), true)) return;
          left -= n;
        }
        break;
      }
    }
  }
}
}  // namespace ignite::gateway::fakes
