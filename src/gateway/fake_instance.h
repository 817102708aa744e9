// Test fakes of an instance for the gateway's unit tests: a scripted HTTP server on a Unix socket (a thread
// that does with each request what the test says), a Launcher whose processes serve on it, an event loop
// on a thread of its own, and a request body given piece by piece. Tests only; linked into gateway_test.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gateway/invoker.h"
#include "instances/launcher.h"

namespace ignite::gateway::fakes {

namespace asio = boost::asio;

// What the fake instance does with one request.
enum class Script {
  kAnswer,           // 200 with `reply`, keeping the connection
  kAnswerAndClose,   // the same, then closes the idle connection
  kCloseUnanswered,  // closes the connection without a word (a kept-alive connection it dropped)
  kStall,            // says nothing until the gateway closes the connection
  kHeadThenStall,    // a head promising 1 MiB and 100 KiB of it (more than a piece), then nothing
  kDieBeforeHead,    // the process exits, then the connection closes
  kDieWithinPiece,   // a head promising 1000 bytes and 100 of them, then the process exits and the connection
                     // closes: the first piece (the whole answer) never completes
  kDieMidAnswer,     // a head promising 1 MiB and 200 KiB of it, then the process exits and the connection closes
  kHugeAnswer,       // `huge_bytes` of body, written as fast as the gateway takes them
};

// The gateway hands the answer on in pieces of this much (or what is left of a known length), each only
// once it is full.
constexpr size_t kPiece = 64 << 10;

struct Received {
  int connection = 0;  // 1-based, in accept order
  std::string method, target, body;
  std::map<std::string, std::string> headers;  // lower-case names
};

// A Unix socket served by one thread, one connection at a time (enough: the gateway's calls here are
// sequential). Everything the thread waits on also waits on a stop pipe, so Stop always ends it.
class FakeInstance {
 public:
  FakeInstance();
  ~FakeInstance();
  void Stop();

  const std::string& path() const { return path_; }
  // The n-th request (counted over all connections) gets script[n]; later ones get kAnswer.
  void SetScript(std::vector<Script> script) {
    std::lock_guard<std::mutex> l(mu_);
    script_ = std::move(script);
  }
  std::vector<Received> received() {
    std::lock_guard<std::mutex> l(mu_);
    return received_;
  }

  // Set before the first call; they run on the server thread.
  std::function<void(const Received&)> on_request;  // before it acts on a request
  std::function<void()> die;                        // makes the instance's process exit
  std::string reply = "hello";
  uint64_t huge_bytes = 16 << 20;
  bool small_send_buffer = false;  // SO_SNDBUF 64 KiB on accepted connections

  std::atomic<int> accepted{0};
  std::atomic<int> closed{0};
  std::atomic<uint64_t> huge_written{0};  // body bytes of a kHugeAnswer the kernel took
  std::atomic<bool> huge_waiting{false};  // a kHugeAnswer waits for room in the socket (back-pressure)

 private:
  bool Stopping() const;
  // Waits for `events` on fd; false when the server is stopping.
  bool Wait(int fd, short events);
  void Serve();
  void ServeConnection(int fd, int connection);
  // Reads one whole request (its body de-chunked); false at the end of the connection.
  bool ReadRequest(int fd, std::string& pending, Received* out);
  // Writes all of `data`, counting it in huge_written when `huge`; false when the connection or server ends.
  bool Send(int fd, std::string_view data, bool huge = false);
  // Says nothing until the gateway closes the connection (or the server stops).
  void StallUntilClosed(int fd);
  static std::string Head(uint64_t length);

  std::string dir_, path_;
  int listen_fd_ = -1;
  int stop_[2] = {-1, -1};
  std::mutex mu_;
  std::vector<Script> script_;      // guarded by mu_
  size_t next_ = 0;                 // guarded by mu_
  std::vector<Received> received_;  // guarded by mu_
  std::thread thread_;
};

// One launched process's state, shared with the test (the manager owns and may destroy the Process).
struct ProcessState {
  std::atomic<bool> dead{false};
  std::atomic<bool> ready{false};
  std::atomic<bool> oom{false};
};

class FakeProcess : public instances::Process {
 public:
  FakeProcess(std::shared_ptr<ProcessState> s, std::string path, pid_t pid)
      : s_(std::move(s)), path_(std::move(path)), pid_(pid) {}
  pid_t pid() const override { return pid_; }
  const std::string& socket_path() const override { return path_; }
  bool Exited(std::string* d) override {
    bool dead = s_->dead;
    if (dead && d) *d = "signal 9";
    return dead;
  }
  void Stop(int) override { s_->dead = true; }
  bool OutOfMemory() const override { return s_->oom; }
  bool Ready() override { return s_->ready; }

 private:
  std::shared_ptr<ProcessState> s_;
  std::string path_;
  pid_t pid_;
};

// Every process it launches serves on the one FakeInstance socket.
class FakeLauncher : public instances::Launcher {
 public:
  explicit FakeLauncher(const FakeInstance* server) : server_(server) {}
  Result<std::unique_ptr<instances::Process>> Launch(const instances::InstanceSpec&, const std::string& replica) override {
    if (gate.valid()) gate.wait();  // a slow start
    std::lock_guard<std::mutex> l(mu_);
    auto s = std::make_shared<ProcessState>();
    s->ready = ready;
    states_.push_back(s);
    replicas_.push_back(replica);
    return std::unique_ptr<instances::Process>(
        std::make_unique<FakeProcess>(s, server_->path(), static_cast<pid_t>(1000 + states_.size())));
  }
  int launched() {
    std::lock_guard<std::mutex> l(mu_);
    return static_cast<int>(states_.size());
  }
  std::shared_ptr<ProcessState> last() {
    std::lock_guard<std::mutex> l(mu_);
    return states_.empty() ? nullptr : states_.back();
  }
  std::string last_replica() {
    std::lock_guard<std::mutex> l(mu_);
    return replicas_.empty() ? "" : replicas_.back();
  }
  std::shared_future<void> gate;  // when valid, Launch waits for it
  bool ready = false;             // the readiness signal of the processes it launches

 private:
  const FakeInstance* server_;
  std::mutex mu_;
  std::vector<std::shared_ptr<ProcessState>> states_;
  std::vector<std::string> replicas_;
};

// An event loop on a thread of its own, like a server worker's. Stop joins the thread while the loop still
// exists, so the keep-alive sockets the thread kept (LoopConnections) close before their loop does.
class LoopThread {
 public:
  LoopThread() : work_(asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}
  ~LoopThread() { Stop(); }
  asio::any_io_executor executor() { return io_.get_executor(); }
  void Stop() {
    if (!thread_.joinable()) return;
    work_.reset();
    io_.stop();
    thread_.join();
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
};

// A request body given piece by piece, each on a later turn of the loop (as a client connection's is);
// after the pieces, `failure` (when set) instead of the end.
class ScriptedBody : public BodySource {
 public:
  ScriptedBody(asio::any_io_executor ex, std::vector<std::string> pieces, std::optional<Status> failure = {})
      : ex_(std::move(ex)), pieces_(std::move(pieces)), failure_(std::move(failure)) {}
  std::optional<uint64_t> length() const override { return std::nullopt; }
  void Read(std::function<void(Status, std::string_view, bool)> cb) override {
    asio::post(ex_, [this, cb = std::move(cb)] {
      size_t i = next_++;
      if (i < pieces_.size()) return cb(OkStatus(), pieces_[i], i + 1 == pieces_.size() && !failure_);
      cb(failure_.value_or(OkStatus()), {}, true);
    });
  }

 private:
  asio::any_io_executor ex_;
  std::vector<std::string> pieces_;
  std::optional<Status> failure_;
  size_t next_ = 0;
};

}  // namespace ignite::gateway::fakes
