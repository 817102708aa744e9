#include "instances/port_bridge.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <list>
#include <mutex>
#include <optional>
#include <vector>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace ignite::instances {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Local = asio::local::stream_protocol;
using boost::system::error_code;

constexpr auto kFirstProbeDelay = std::chrono::milliseconds(2);
constexpr auto kMaxProbeDelay = std::chrono::milliseconds(100);
constexpr auto kProbeTimeout = std::chrono::seconds(2);
constexpr size_t kBufferBytes = 64 << 10;

// A TCP socket created inside `netns`: this thread enters the namespace for the socket() call only (a
// socket stays in the namespace it was made in). Only on the bridge thread, which nothing else runs on.
int SocketIn(int netns, int home) {
  if (setns(netns, CLONE_NEWNET) != 0) return -1;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int err = errno;
  if (setns(home, CLONE_NEWNET) != 0) {
    // Anything this thread did next would happen in an instance's namespace.
    spdlog::critical("port bridge: cannot return to the host's network namespace: {}", std::strerror(errno));
    std::abort();
  }
  errno = err;
  return fd;
}

// One client connection copied to and from one TCP connection, both ways, until both directions ended.
class Splice : public std::enable_shared_from_this<Splice> {
 public:
  Splice(Local::socket client, tcp::socket server) : client_(std::move(client)), server_(std::move(server)) {}

  void Start(uint16_t port) {
    server_.async_connect(tcp::endpoint(asio::ip::address_v4::loopback(), port),
                          [self = shared_from_this()](error_code ec) {
                            if (ec) return self->Close();
                            self->Pump(self->client_, self->server_, self->up_);
                            self->Pump(self->server_, self->client_, self->down_);
                          });
  }
  void Close() {
    error_code ec;
    client_.close(ec);
    server_.close(ec);
  }

 private:
  template <typename From, typename To>
  void Pump(From& from, To& to, std::array<char, kBufferBytes>& buf) {
    from.async_read_some(asio::buffer(buf), [self = shared_from_this(), &from, &to, &buf](error_code ec, size_t n) {
      if (ec) {
        // End of this direction: pass the half-close on, so a client that finished sending still gets its
        // answer; a reset closes both.
        error_code ignored;
        if (ec == asio::error::eof) {
          to.shutdown(asio::socket_base::shutdown_send, ignored);
          if (++self->ended_ == 2) self->Close();
        } else {
          self->Close();
        }
        return;
      }
      asio::async_write(to, asio::buffer(buf.data(), n), [self, &from, &to, &buf](error_code ec, size_t) {
        if (ec) return self->Close();
        self->Pump(from, to, buf);
      });
    });
  }

  Local::socket client_;
  tcp::socket server_;
  std::array<char, kBufferBytes> up_{}, down_{};
  int ended_ = 0;
};

}  // namespace

struct PortBridge::Impl {
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  UniqueFd home;  // the bridge thread's own network namespace
  std::thread thread;
};

namespace {

// The state of one bridged instance; lives on the bridge thread (every member but ready_ / failure_ is
// touched there only).
class BridgeState : public std::enable_shared_from_this<BridgeState> {
 public:
  BridgeState(PortBridge::Impl* impl, UniqueFd netns, uint16_t port, std::string health_path)
      : impl_(impl), netns_(std::move(netns)), port_(port), health_path_(std::move(health_path)),
        acceptor_(impl->io), timer_(impl->io) {}

  void Start(int listener) {
    error_code ec;
    acceptor_.assign(Local(), listener, ec);
    if (ec) {
      ::close(listener);
      SetFailure("cannot listen: " + ec.message());
      return;
    }
    Accept();
    Probe();
  }

  void Close() {
    closed_ = true;
    error_code ec;
    acceptor_.close(ec);
    timer_.cancel();
    if (probe_) probe_->close(ec);
    for (auto& c : waiting_) c.close(ec);
    waiting_.clear();
    for (auto& w : splices_) {
      if (auto s = w.lock()) s->Close();
    }
    splices_.clear();
  }

  bool ready() const { return ready_.load(); }
  std::string failure() const {
    std::lock_guard<std::mutex> l(mu_);
    return failure_;
  }

 private:
  void Accept() {
    acceptor_.async_accept([self = shared_from_this()](error_code ec, Local::socket client) {
      if (ec || self->closed_) return;
      if (self->ready_) {
        self->Forward(std::move(client));
      } else {
        self->waiting_.push_back(std::move(client));
      }
      self->Accept();
    });
  }

  void Forward(Local::socket client) {
    int fd = SocketIn(netns_.get(), impl_->home.get());
    if (fd < 0) {
      spdlog::warn("port bridge: socket in the instance's namespace: {}", std::strerror(errno));
      return;  // the client sees its connection closed
    }
    error_code ec;
    tcp::socket server(impl_->io);
    server.assign(tcp::v4(), fd, ec);
    if (ec) {
      ::close(fd);
      return;
    }
    auto s = std::make_shared<Splice>(std::move(client), std::move(server));
    // Forget finished splices now and then, so the list stays as long as the open ones.
    if (splices_.size() > 64) splices_.remove_if([](const auto& w) { return w.expired(); });
    splices_.push_back(s);
    s->Start(port_);
  }

  void Probe() {
    if (closed_) return;
    int fd = SocketIn(netns_.get(), impl_->home.get());
    if (fd < 0) return Retry(fmt::format("socket: {}", std::strerror(errno)));
    probe_.emplace(impl_->io);
    error_code ec;
    probe_->assign(tcp::v4(), fd, ec);
    if (ec) {
      ::close(fd);
      return Retry(ec.message());
    }
    request_ = fmt::format(
        "GET {} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: ignite-health\r\nConnection: close\r\n\r\n", health_path_);
    response_.consume(response_.size());
    timer_.expires_after(kProbeTimeout);
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec && self->probe_) {
        error_code ignored;
        self->probe_->close(ignored);  // the pending step then fails with operation_aborted
      }
    });
    const tcp::endpoint server(asio::ip::address_v4::loopback(), port_);
    probe_->async_connect(server, [self = shared_from_this()](error_code ec) {
      if (ec) return self->Retry(ec == asio::error::connection_refused ? "connection refused" : ec.message());
      asio::async_write(*self->probe_, asio::buffer(self->request_), [self](error_code ec, size_t) {
        if (ec) return self->Retry(ec.message());
        asio::async_read_until(*self->probe_, self->response_, "\r\n", [self](error_code ec, size_t) {
          if (ec) return self->Retry(ec == asio::error::eof ? "the connection closed without an answer" : ec.message());
          std::string line(asio::buffers_begin(self->response_.data()), asio::buffers_end(self->response_.data()));
          // "HTTP/1.1 200 OK"
          int status = 0;
          if (line.rfind("HTTP/1.", 0) == 0 && line.size() >= 12) status = std::atoi(line.c_str() + 9);
          if (status >= 200 && status < 300) return self->BecomeReady();
          self->Retry(status ? fmt::format("HTTP {}", status) : "an answer that is not HTTP");
        });
      });
    });
  }

  void Retry(std::string why) {
    timer_.cancel();
    error_code ignored;
    if (probe_) probe_->close(ignored);
    probe_.reset();
    if (closed_) return;
    SetFailure(fmt::format("GET {} on port {}: {}", health_path_, port_, why));
    delay_ = delay_.count() == 0 ? kFirstProbeDelay : std::min(delay_ * 2, std::chrono::milliseconds(kMaxProbeDelay));
    timer_.expires_after(delay_);
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) self->Probe();
    });
  }

  void BecomeReady() {
    timer_.cancel();
    error_code ignored;
    if (probe_) probe_->close(ignored);
    probe_.reset();
    ready_ = true;
    for (auto& c : waiting_) Forward(std::move(c));
    waiting_.clear();
  }

  void SetFailure(std::string f) {
    std::lock_guard<std::mutex> l(mu_);
    failure_ = std::move(f);
  }

  PortBridge::Impl* const impl_;
  const UniqueFd netns_;
  const uint16_t port_;
  const std::string health_path_;
  Local::acceptor acceptor_;
  asio::steady_timer timer_;
  std::optional<tcp::socket> probe_;
  std::string request_;
  asio::streambuf response_;
  std::chrono::milliseconds delay_{0};
  std::vector<Local::socket> waiting_;
  std::list<std::weak_ptr<Splice>> splices_;
  bool closed_ = false;
  std::atomic<bool> ready_{false};
  mutable std::mutex mu_;
  std::string failure_;  // guarded by mu_
};

class BridgeHandle : public PortBridge::Bridge {
 public:
  BridgeHandle(std::shared_ptr<PortBridge::Impl> impl, std::shared_ptr<BridgeState> state)
      : impl_(std::move(impl)), state_(std::move(state)) {}
  ~BridgeHandle() override {
    asio::post(impl_->io, [state = state_] { state->Close(); });
  }
  bool Ready() const override { return state_->ready(); }
  std::string LastFailure() const override { return state_->failure(); }

 private:
  std::shared_ptr<PortBridge::Impl> impl_;
  std::shared_ptr<BridgeState> state_;
};

}  // namespace

PortBridge::PortBridge() : impl_(std::make_shared<Impl>()) {
  impl_->home.reset(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
}

PortBridge::~PortBridge() {
  impl_->work.reset();
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::unique_ptr<PortBridge::Bridge> PortBridge::Open(UniqueFd listener, UniqueFd netns, uint16_t port,
                                                     std::string health_path) {
  auto state = std::make_shared<BridgeState>(impl_.get(), std::move(netns), port, std::move(health_path));
  int fd = listener.release();
  asio::post(impl_->io, [state, fd] { state->Start(fd); });
  return std::make_unique<BridgeHandle>(impl_, state);
}

}  // namespace ignite::instances
