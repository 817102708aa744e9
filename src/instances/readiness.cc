#include "instances/readiness.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace ignite::instances {
namespace {

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

// Waits for `events` on fd until the deadline; false when it passed.
bool WaitFor(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, events, 0};
    int r = poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return true;  // let the following call report the error
  }
}

}  // namespace

Status ProbeReady(const std::string& socket_path, std::chrono::steady_clock::time_point deadline) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path) return InvalidArgument("socket path too long: " + socket_path);
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  Fd s{socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)};
  if (s.fd < 0) return Internal(fmt::format("socket: {}", std::strerror(errno)));
  // The socket was bound and listening before the process started, so this connects at once (into the
  // backlog) whether or not the process is serving yet.
  if (connect(s.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
    return Unavailable(fmt::format("connect: {}", std::strerror(errno)));
  }
  static constexpr char kProbe[] = "GET / HTTP/1.1\r\nHost: instance\r\nConnection: close\r\n\r\n";
  size_t sent = 0;
  while (sent < sizeof kProbe - 1) {
    if (!WaitFor(s.fd, POLLOUT, deadline)) return DeadlineExceeded("no answer to the readiness probe");
    ssize_t n = send(s.fd, kProbe + sent, sizeof kProbe - 1 - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) return Unavailable(fmt::format("send: {}", std::strerror(errno)));
    if (n > 0) sent += static_cast<size_t>(n);
  }
  std::string head;
  while (head.find("\r\n") == std::string::npos) {
    if (!WaitFor(s.fd, POLLIN, deadline)) return DeadlineExceeded("no answer to the readiness probe");
    char buf[512];
    ssize_t n = recv(s.fd, buf, sizeof buf, 0);
    if (n == 0) return Unavailable("the instance closed the connection without answering the readiness probe");
    if (n < 0 && errno != EAGAIN && errno != EINTR) return Unavailable(fmt::format("recv: {}", std::strerror(errno)));
    if (n > 0) head.append(buf, static_cast<size_t>(n));
    if (head.size() > 4096) break;
  }
  // "HTTP/1.1 200 OK"
  if (head.size() >= 12 && head.compare(0, 5, "HTTP/") == 0 && head[9] == '2') return OkStatus();
  return FailedPrecondition("the readiness probe got " + head.substr(0, head.find("\r\n")));
}

Status ProbeReady(const std::string& socket_path, std::chrono::milliseconds timeout) {
  return ProbeReady(socket_path, std::chrono::steady_clock::now() + timeout);
}

}  // namespace ignite::instances
