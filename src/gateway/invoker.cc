#include "gateway/invoker.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <unordered_map>
#include <chrono>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <spdlog/spdlog.h>

#include "common/clock.h"
#include "common/ids.h"
#include "http/serialize.h"

namespace ignite::gateway {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Socket = asio::local::stream_protocol::socket;
using Clock = std::chrono::steady_clock;

constexpr size_t kResponsePiece = 64 << 10;

// Headers a client may not pass to an instance: the identity headers the platform sets (so handlers can
// trust them), the caller's platform credentials, and hop-by-hop headers.
bool Forwardable(std::string_view name) {
  static const char* kDrop[] = {"authorization", "connection", "keep-alive", "proxy-authorization", "te", "trailer",
                                "transfer-encoding", "upgrade", "host", "content-length", "expect"};
  if (name.size() >= 9 && beast::iequals(name.substr(0, 9), "x-ignite-")) return false;
  for (const char* d : kDrop) {
    if (beast::iequals(name, d)) return false;
  }
  return true;
}

// Idle keep-alive connections of one server event-loop thread, by instance serial. Reusing a socket that
// stays registered with its loop saves what adopting a raw descriptor from the shared ConnectionCache costs
// on every call (an epoll_ctl pair and an ioctl). Only for loops that live as long as the process (the
// server's workers): a socket must not outlive its loop, so blocking calls on private loops use the shared
// cache instead. Dead connections are found by a peek when taken, and swept when many instances came and went.
class LoopConnections {
 public:
  static LoopConnections& ForThisThread() {
    thread_local LoopConnections connections;
    return connections;
  }

  std::optional<Socket> Take(uint64_t serial) {
    auto it = idle_.find(serial);
    if (it == idle_.end()) return std::nullopt;
    auto& sockets = it->second;
    while (!sockets.empty()) {
      Socket s = std::move(sockets.back());
      sockets.pop_back();
      if (runtime::ConnectionCache::Reusable(s.native_handle())) return s;
    }
    idle_.erase(it);
    return std::nullopt;
  }

  void Put(uint64_t serial, Socket s) {
    auto& sockets = idle_[serial];
    if (sockets.size() < kMaxPerInstance) sockets.push_back(std::move(s));
    if (idle_.size() > kSweepAbove) Sweep();
  }

 private:
  static constexpr size_t kMaxPerInstance = 64;
  static constexpr size_t kSweepAbove = 256;

  // Drops the connections of instances that are gone (their far end closed).
  void Sweep() {
    for (auto it = idle_.begin(); it != idle_.end();) {
      auto& sockets = it->second;
      std::erase_if(sockets, [](Socket& s) { return !runtime::ConnectionCache::Reusable(s.native_handle()); });
      it = sockets.empty() ? idle_.erase(it) : std::next(it);
    }
  }

  std::unordered_map<uint64_t, std::vector<Socket>> idle_;
};

uint64_t NextCallId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

// Where a call stands, to tell what a transport error means.
enum class Step { kConnect, kSend, kReceiveHead, kReceiveBody };

// One invocation, from lease to answer. Lives on one executor; every handler holds a reference.
class Call : public std::enable_shared_from_this<Call> {
 public:
  Call(asio::any_io_executor executor, runtime::InstanceManager* instances, asio::thread_pool* blocking,
       runtime::LogCollector* logs, std::shared_ptr<const void> route_owner, const Route* route, InvokeCall call,
       std::shared_ptr<BodySource> body, StreamSink sink)
      : executor_(std::move(executor)),
        instances_(instances),
        logs_(logs),
        blocking_(blocking),
        route_owner_(std::move(route_owner)),
        route_(route),
        call_(std::move(call)),
        body_(std::move(body)),
        sink_(std::move(sink)),
        timer_(executor_),
        start_timer_(executor_) {}

  void Start() {
    start_ = Clock::now();
    deadline_ = start_ + route_->timeout;
    result_.execution_id = call_.execution_id.empty() ? NewUlid() : std::move(call_.execution_id);
    result_.version = route_->version;
    head_only_ = call_.method == "HEAD";
    BuildRequestHead();
    timer_.expires_at(deadline_);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->OnTimeout();
    });
    Acquire();
  }

 private:
  void BuildRequestHead() {
    http::request<http::empty_body> req;
    req.version(11);
    req.method_string(call_.method);
    req.target(call_.target);
    for (const auto& [k, v] : call_.headers) {
      if (Forwardable(k)) req.insert(k, v);
    }
    req.set(http::field::host, "instance");
    req.set("x-ignite-execution-id", result_.execution_id);
    req.set("x-ignite-function-id", route_->app_id);
    req.set("x-ignite-organization-id", route_->org_id);
    if (!body_) {
      req.content_length(call_.payload.size());
    } else if (auto n = body_->length()) {
      if (*n > 0 || call_.method != "GET") req.content_length(*n);
    } else {
      req.chunked(true);
      chunked_ = true;
    }
    request_head_ = ignite::http::SerializeHead(req);
  }

  void Acquire() {
    if (auto lease = instances_->TryAcquire(route_->spec)) return OnLease(std::move(*lease));
    if (!blocking_) return OnLease(instances_->Acquire(route_->spec, deadline_));
    asio::post(*blocking_, [self = shared_from_this()] {
      auto lease = std::make_shared<Result<runtime::Lease>>(self->instances_->Acquire(self->route_->spec, self->deadline_));
      asio::post(self->executor_, [self, lease] { self->OnLease(std::move(*lease)); });
    });
  }

  void OnLease(Result<runtime::Lease> lease) {
    if (finished_) return;
    if (!lease.ok()) {
      StatusCode code = lease.status().code();
      if (code == StatusCode::kResourceExhausted || code == StatusCode::kUnavailable) return Done(lease.status());
      if (code == StatusCode::kDeadlineExceeded) return Fail(504, lease.status().message());
      return Done(Unavailable(
          fmt::format("cannot start an instance of {}: {}", route_->app_id, lease.status().message())));
    }
    lease_.emplace(std::move(*lease));
    result_.cold = result_.cold || lease_->cold();
    if (lease_->starting()) {
      // The platform's readiness check: an instance must answer (this call, or any other) within the start
      // timeout of its spawn. The request itself waits in the socket's backlog meanwhile, so a healthy
      // start costs nothing extra.
      auto ready_by = lease_->instance().spawned + route_->spec.start_timeout;
      if (ready_by < deadline_) {
        start_timer_.expires_at(ready_by);
        start_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
          if (!ec) self->OnStartTimeout();
        });
      }
    }
    Connect();
  }

  void Connect() {
    step_ = Step::kConnect;
    reused_ = false;
    if (blocking_) {
      if (auto s = LoopConnections::ForThisThread().Take(lease_->instance().serial)) {
        socket_.emplace(std::move(*s));
        reused_ = true;
        return SendHead();
      }
      socket_.emplace(executor_);
      return ConnectNew();
    }
    socket_.emplace(executor_);
    int fd = lease_->instance().connections.Take();
    if (fd >= 0) {
      beast::error_code ec;
      socket_->assign(asio::local::stream_protocol(), fd, ec);
      if (!ec) {
        reused_ = true;
        return SendHead();
      }
      ::close(fd);
    }
    ConnectNew();
  }

  void ConnectNew() {
    socket_->async_connect(asio::local::stream_protocol::endpoint(lease_->instance().process->socket_path()),
                           [self = shared_from_this()](beast::error_code ec) {
                             if (ec) return self->OnError(ec);
                             self->SendHead();
                           });
  }

  void SendHead() {
    if (finished_) return;
    step_ = Step::kSend;
    if (!body_) {
      body_sent_ = call_.payload.size();
      lease_->instance().bodies.Note(id_, body_sent_);
      std::array<asio::const_buffer, 2> out{asio::buffer(request_head_), asio::buffer(call_.payload)};
      asio::async_write(*socket_, out, [self = shared_from_this()](beast::error_code ec, size_t) {
        if (ec) return self->OnError(ec);
        self->ReadHead();
      });
      return;
    }
    ReadBodyPiece(true);
  }

  void ReadBodyPiece(bool first) {
    body_started_ = true;
    body_->Read([self = shared_from_this(), first](Status st, std::string_view data, bool end) {
      self->OnBodyPiece(std::move(st), data, end, first);
    });
  }

  // Forwards one piece of the client's body (with the request head before the first), then reads the next
  // piece only once it is written.
  void OnBodyPiece(Status st, std::string_view data, bool end, bool first) {
    if (finished_) return;
    if (!st.ok()) return Done(std::move(st));  // the client failed mid-body; the connection is not reusable
    prefix_.clear();
    suffix_.clear();
    if (first) prefix_ = request_head_;
    if (chunked_) {
      if (!data.empty()) {
        prefix_ += fmt::format("{:x}\r\n", data.size());
        suffix_ = "\r\n";
      }
      if (end) suffix_ += "0\r\n\r\n";
    }
    body_sent_ += data.size();
    lease_->instance().bodies.Note(id_, body_sent_);
    std::array<asio::const_buffer, 3> out{asio::buffer(prefix_), asio::buffer(data.data(), data.size()),
                                          asio::buffer(suffix_)};
    asio::async_write(*socket_, out, [self = shared_from_this(), end](beast::error_code ec, size_t) {
      if (ec) return self->OnError(ec);
      if (end) return self->ReadHead();
      self->ReadBodyPiece(false);
    });
  }

  void ReadHead() {
    if (finished_) return;
    step_ = Step::kReceiveHead;
    parser_.emplace();
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    if (head_only_) parser_->skip(true);
    http::async_read_header(*socket_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->OnError(ec);
      self->OnHead();
    });
  }

  void OnHead() {
    if (finished_) return;
    start_timer_.cancel();
    result_.status = parser_->get().result_int();
    for (const auto& f : parser_->get()) {
      std::string name(f.name_string());
      if (Forwardable(name)) result_.headers.emplace_back(std::move(name), std::string(f.value()));
    }
    instances_->MarkServed(lease_->instance());
    // The head goes to the sink with the first piece of the body (or the end), which is usually already in
    // the buffer: the caller then answers with one write instead of two.
    ReadResponsePiece();
  }

  void SendHeadOnce() {
    if (head_sent_) return;
    head_sent_ = true;
    sink_.on_head(result_);
  }

  void ReadResponsePiece() {
    if (finished_) return;
    if (parser_->is_done()) return Complete();
    step_ = Step::kReceiveBody;
    // Sized to the answer when its length is known (most are small), so a warm call allocates little.
    size_t want = kResponsePiece;
    if (auto left = parser_->content_length_remaining()) want = std::clamp<size_t>(*left, 1, kResponsePiece);
    if (piece_capacity_ < want) {
      piece_.reset(new char[want]);  // not zero-filled: the parser writes it
      piece_capacity_ = want;
    }
    parser_->get().body().data = piece_.get();
    parser_->get().body().size = want;
    piece_size_ = want;
    http::async_read(*socket_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec == http::error::need_buffer) ec = {};
      if (ec) return self->OnError(ec);
      size_t n = self->piece_size_ - self->parser_->get().body().size;
      if (n == 0) return self->ReadResponsePiece();
      self->SendHeadOnce();
      self->sink_.on_body(std::string_view(self->piece_.get(), n), [self](bool more) {
        if (more) return self->ReadResponsePiece();
        self->Abandon();
      });
    });
  }

  // The whole answer is in: the connection goes back to the instance's cache when it can carry another.
  void Complete() {
    SendHeadOnce();
    finished_ = true;
    if (body_sent_ > 0) lease_->instance().bodies.Forget(id_);
    timer_.cancel();
    start_timer_.cancel();
    if (parser_->get().keep_alive() && !parser_->need_eof() && buffer_.size() == 0) {
      if (blocking_) {
        LoopConnections::ForThisThread().Put(lease_->instance().serial, std::move(*socket_));
      } else {
        beast::error_code ec;
        int fd = socket_->release(ec);
        if (!ec) lease_->instance().connections.Put(fd);
      }
    }
    socket_.reset();
    lease_.reset();
    result_.duration_ms = Elapsed();
    sink_.on_done(std::move(result_));
  }

  void Abandon() {
    finished_ = true;
    if (body_sent_ > 0) lease_->instance().bodies.Forget(id_);
    timer_.cancel();
    start_timer_.cancel();
    socket_.reset();
    lease_.reset();
    result_.error = "the caller went away";
    result_.cut_short = true;
    result_.duration_ms = Elapsed();
    sink_.on_done(std::move(result_));
  }

  void OnStartTimeout() {
    if (finished_ || result_.status != 0) return;  // finished, or the instance's head is in
    // Ready (it said so) but slow to answer this request: the handler is at work, which the execution
    // timeout bounds.
    if (lease_ && lease_->instance().process->Ready()) return;
    not_ready_ = true;
    if (socket_) {
      beast::error_code ec;
      socket_->close(ec);
    }
  }

  void OnTimeout() {
    if (finished_) return;
    timed_out_ = true;
    if (socket_) {
      beast::error_code ec;
      socket_->close(ec);  // pending operations complete with operation_aborted, then OnError sees timed_out_
    }
  }

  void OnError(beast::error_code ec) {
    if (finished_) return;
    if (not_ready_ && !timed_out_) {
      auto& inst = lease_->instance();
      std::string why = fmt::format("did not become ready within {}s of its start", route_->spec.start_timeout.count() / 1000.0);
      instances_->FailStart(inst, why);
      std::string line = fmt::format("ignite: instance {} {} (it accepted the request but answered nothing); it is "
                                     "being stopped",
                                     inst.replica_id, why);
      spdlog::warn("{}: {}", route_->app_id, line);
      if (logs_) logs_->Note(route_->app_id, inst.replica_id, result_.execution_id, line);
      return Fail(503, fmt::format("the instance {} of {} {} (execution {}); check what it does before calling "
                                   "ignite.Start, and `dodil ignite app logs {}`",
                                   inst.replica_id, route_->app_id, why, result_.execution_id, route_->app_id));
    }
    if (timed_out_) {
      // The handler is stuck; replace this instance rather than leave it occupied.
      if (lease_) instances_->RetireInstance(lease_->instance());
      return Fail(504, fmt::format("{} did not answer within its execution timeout of {}s (execution {}); raise "
                                   "it with --timeout-secs (at most 900)",
                                   route_->app_id, route_->timeout.count(), result_.execution_id));
    }
    // A connection refused by a warm instance means it died between requests; a cached connection that
    // failed before any answer was closed under us. Either way the request never reached a handler, so it is
    // safe to try once more while nothing of the client's body was consumed.
    if (attempt_ == 0 && !body_started_) {
      if (step_ == Step::kConnect && !lease_->cold()) {
        ++attempt_;
        socket_.reset();
        lease_.reset();
        return Acquire();
      }
      if (reused_ && (step_ == Step::kSend || step_ == Step::kReceiveHead) && buffer_.size() == 0) {
        ++attempt_;
        return Connect();
      }
    }
    error_ = ec;
    socket_.reset();
    WaitForExit(50);
  }

  // Gives a dying process up to ~100 ms to be reaped so that the error can say how it ended.
  void WaitForExit(int tries) {
    std::string how = instances_->CheckExited(lease_->instance());
    if (how.empty() && tries > 0) {
      timer_.expires_after(std::chrono::milliseconds(2));
      timer_.async_wait([self = shared_from_this(), tries](beast::error_code) {
        if (!self->finished_) self->WaitForExit(tries - 1);
      });
      return;
    }
    // Alive but misbehaving: take it out of service all the same.
    if (how.empty()) instances_->RetireInstance(lease_->instance());
    if (!how.empty() && lease_->instance().process->OutOfMemory()) {
      if (!lease_->instance().bodies.Blames(id_)) {
        // Another call in flight on the same instance sent it a far larger body: that one is told the limit.
        return Fail(502, fmt::format("the instance {} of {} was killed for exceeding its {} MB memory limit while "
                                     "serving another invocation with a large request body; this invocation "
                                     "(execution {}) was cut short and may be retried on a new instance",
                                     lease_->instance().replica_id, route_->app_id, route_->spec.memory_mb,
                                     result_.execution_id));
      }
      // Not a generic crash: say which limit, and how to raise it. 429 is RESOURCE_EXHAUSTED's HTTP status.
      return Fail(429, fmt::format("the instance {} of {} ran out of memory: it exceeded its {} MB memory limit and "
                                   "was killed (execution {}); the next invocation starts a new instance. Raise "
                                   "the limit with `dodil ignite app update {} --memory <MB>` or a larger --tier",
                                   lease_->instance().replica_id, route_->app_id, route_->spec.memory_mb,
                                   result_.execution_id, route_->app_id));
    }
    Fail(502, fmt::format(
        "the instance {} of {} {} before answering (execution {}); the next invocation starts a new instance. "
        "See `dodil ignite app logs {}` for what it printed",
        lease_->instance().replica_id, route_->app_id,
        how.empty() ? "closed the connection (" + error_.message() + ")" : "exited with " + how, result_.execution_id,
        route_->app_id));
  }

  // A platform-made answer (502, 504) looks like an instance's: a head and a JSON body. After the instance's
  // own head is out, the error travels in the result only.
  void Fail(unsigned status, std::string message) {
    finished_ = true;
    timer_.cancel();
    start_timer_.cancel();
    socket_.reset();
    lease_.reset();
    result_.error = std::move(message);
    result_.duration_ms = Elapsed();
    if (head_sent_) {
      result_.cut_short = true;
      return sink_.on_done(std::move(result_));
    }
    result_.status = status;
    result_.headers = {{"Content-Type", "application/json"}};
    head_sent_ = true;
    sink_.on_head(result_);
    error_body_ = nlohmann::json{{"error", result_.error}}.dump();
    sink_.on_body(error_body_, [self = shared_from_this()](bool) { self->sink_.on_done(std::move(self->result_)); });
  }

  void Done(Status st) {
    finished_ = true;
    timer_.cancel();
    start_timer_.cancel();
    socket_.reset();
    lease_.reset();
    sink_.on_done(std::move(st));
  }

  int64_t Elapsed() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start_).count();
  }

  asio::any_io_executor executor_;
  runtime::InstanceManager* instances_;
  asio::thread_pool* blocking_;
  std::shared_ptr<const void> route_owner_;  // keeps *route_ alive
  const Route* route_;
  InvokeCall call_;
  std::shared_ptr<BodySource> body_;
  StreamSink sink_;
  asio::steady_timer timer_;
  asio::steady_timer start_timer_;
  runtime::LogCollector* logs_;
  bool not_ready_ = false;
  Clock::time_point start_, deadline_;
  InvokeResult result_;
  std::string request_head_;
  bool chunked_ = false;
  bool head_only_ = false;
  std::optional<runtime::Lease> lease_;
  std::optional<Socket> socket_;
  bool reused_ = false;
  bool body_started_ = false;
  uint64_t body_sent_ = 0;  // request body bytes forwarded to the instance
  const uint64_t id_ = NextCallId();  // for the instance's BodyBlame
  int attempt_ = 0;
  Step step_ = Step::kConnect;
  std::string prefix_, suffix_;  // framing around the body piece being written
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::buffer_body>> parser_;
  std::unique_ptr<char[]> piece_;  // the answer piece being handed to the sink
  size_t piece_capacity_ = 0;
  size_t piece_size_ = 0;
  std::string error_body_;
  bool head_sent_ = false;
  bool timed_out_ = false;
  bool finished_ = false;
  beast::error_code error_;
};

}  // namespace

Invoker::Invoker(const RouteTable* routes, runtime::InstanceManager* instances, asio::thread_pool* blocking,
                 runtime::LogCollector* logs)
    : routes_(routes), instances_(instances), blocking_(blocking), logs_(logs) {}

void Invoker::Start(asio::any_io_executor executor, InvokeCall call, std::shared_ptr<BodySource> body,
                    StreamSink sink) const {
  auto snapshot = routes_->Get();
  auto it = snapshot->find(call.app_id);
  if (it == snapshot->end()) {
    Status st = FailedPrecondition(fmt::format(
        "{} has no published version to invoke; publish one with `dodil ignite draft publish {}`", call.app_id,
        call.app_id));
    asio::post(executor, [sink = std::move(sink), st = std::move(st)] { sink.on_done(st); });
    return;
  }
  const Route* route = &it->second;
  Run(std::move(executor), std::move(snapshot), route, std::move(call), std::move(body), std::move(sink));
}

void Invoker::StartRoute(asio::any_io_executor executor, std::shared_ptr<const Route> route, InvokeCall call,
                         std::shared_ptr<BodySource> body, StreamSink sink) const {
  const Route* r = route.get();
  Run(std::move(executor), std::move(route), r, std::move(call), std::move(body), std::move(sink));
}

namespace {

Status SchemaPayloadTooLarge(size_t max) {
  return InvalidArgument(fmt::format("the payload is larger than the {} bytes an app with an input schema "
                                     "accepts; send a smaller payload or remove the app's input schema",
                                     max));
}

// Reads a request body whole (for the payload check), refusing more than `max` bytes.
class BodyCollector : public std::enable_shared_from_this<BodyCollector> {
 public:
  using Done = std::function<void(Status, std::string)>;
  BodyCollector(std::shared_ptr<BodySource> body, size_t max, Done done)
      : body_(std::move(body)), max_(max), done_(std::move(done)) {}

  void Read() {
    if (auto n = body_->length(); n && *n > max_) return done_(TooLarge(), {});
    ReadPiece();
  }

 private:
  void ReadPiece() {
    body_->Read([self = shared_from_this()](Status st, std::string_view data, bool end) {
      if (!st.ok()) return self->done_(std::move(st), {});
      if (self->data_.size() + data.size() > self->max_) return self->done_(self->TooLarge(), {});
      self->data_.append(data);
      if (end) return self->done_(OkStatus(), std::move(self->data_));
      self->ReadPiece();
    });
  }

  Status TooLarge() const { return SchemaPayloadTooLarge(max_); }

  std::shared_ptr<BodySource> body_;
  size_t max_;
  Done done_;
  std::string data_;
};

// A chunked request body cut off once it passes the route's limit: the piece that passes it is not
// forwarded, and the read fails with PayloadTooLarge instead (the call then ends, closing the instance's
// connection mid-request, so the handler never sees a complete over-limit body).
class LimitedBody : public BodySource, public std::enable_shared_from_this<LimitedBody> {
 public:
  LimitedBody(std::shared_ptr<BodySource> body, const Route* route) : body_(std::move(body)), route_(route) {}
  std::optional<uint64_t> length() const override { return body_->length(); }
  void Read(std::function<void(Status, std::string_view data, bool end)> cb) override {
    body_->Read([self = shared_from_this(), cb = std::move(cb)](Status st, std::string_view data, bool end) {
      if (st.ok()) {
        self->read_ += data.size();
        if (self->read_ > self->route_->body_limit) return cb(PayloadTooLarge(self->route_->body_too_large), {}, true);
      }
      cb(std::move(st), data, end);
    });
  }

 private:
  std::shared_ptr<BodySource> body_;
  const Route* route_;  // kept alive by the call
  uint64_t read_ = 0;
};

}  // namespace

void Invoker::Run(asio::any_io_executor executor, std::shared_ptr<const void> owner, const Route* route,
                  InvokeCall call, std::shared_ptr<BodySource> body, StreamSink sink) const {
  if (observer_ && call.count) {
    // Wraps on_done to report the outcome: results, and refusals for want of capacity (no handler ran).
    auto started = Clock::now();
    // `owner` keeps the snapshot holding `route` alive; the ids are copied only into the outcome.
    sink.on_done = [observer = observer_, done = std::move(sink.on_done), owner, route,
                    started](Result<InvokeResult> r) {
      InvocationOutcome o;
      if (r.ok()) {
        o.status = r->status;
        o.cold = r->cold;
        o.duration_ms = r->duration_ms;
      } else if (r.status().code() == StatusCode::kUnavailable || r.status().code() == StatusCode::kResourceExhausted) {
        o.status = static_cast<unsigned>(r.status().http_status());  // 503, 429, or 413 for a body over the limit
        o.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
      }
      if (o.status != 0) {
        o.app_id = route->app_id;
        o.org_id = route->org_id;
        o.version = route->version;
        o.finished_at_ms = SystemClock().NowUnixMs();
        observer->OnInvocation(std::move(o));
      }
      done(std::move(r));
    };
  }
  if (route->body_limit) {
    // A declared length over the limit is refused before anything is read (no `100 Continue`) or forwarded.
    std::optional<uint64_t> length = body ? body->length() : std::optional<uint64_t>(call.payload.size());
    if (length && *length > route->body_limit) {
      asio::post(executor, [sink = std::move(sink), st = PayloadTooLarge(route->body_too_large)] { sink.on_done(st); });
      return;
    }
    if (body && !length) body = std::make_shared<LimitedBody>(std::move(body), route);
  }
  if (call.check_input && route->input_check) {
    const PayloadCheck& check = *route->input_check;
    if (!body) {
      Status st = call.payload.size() > check.max_bytes() ? SchemaPayloadTooLarge(check.max_bytes())
                                                           : check.Check(call.payload);
      if (!st.ok()) {
        asio::post(executor, [sink = std::move(sink), st = std::move(st)] { sink.on_done(st); });
        return;
      }
    } else {
      // Read the whole body first (bounded), check it, then call the instance with it as the payload.
      auto collector = std::make_shared<BodyCollector>(
          std::move(body), check.max_bytes(),
          [this, executor, owner = std::move(owner), route, call = std::move(call),
           sink = std::move(sink)](Status st, std::string payload) mutable {
            if (st.ok()) st = route->input_check->Check(payload);
            if (!st.ok()) return sink.on_done(std::move(st));
            call.payload = std::move(payload);
            call.check_input = false;
            auto c = std::make_shared<Call>(executor, instances_, blocking_, logs_, std::move(owner), route,
                                            std::move(call), nullptr, std::move(sink));
            c->Start();
          });
      asio::post(executor, [collector] { collector->Read(); });
      return;
    }
  }
  auto c = std::make_shared<Call>(executor, instances_, blocking_, logs_, std::move(owner), route, std::move(call),
                                  std::move(body), std::move(sink));
  asio::post(executor, [c] { c->Start(); });
}

namespace {

// Runs a call to completion on an event loop of the calling thread; Acquire may block here.
Result<InvokeResult> RunBlocking(const std::function<void(asio::any_io_executor, StreamSink)>& start,
                                 const InvokeSink* sink) {
  asio::io_context io(1);
  Result<InvokeResult> out = Internal("the invocation did not finish");
  std::string body;
  StreamSink s;
  s.on_head = [&](const InvokeResult& head) {
    if (sink) sink->on_head(head);
  };
  s.on_body = [&](std::string_view data, std::function<void(bool)> next) {
    if (sink) return next(sink->on_body(data));
    body.append(data);
    next(true);
  };
  s.on_done = [&](Result<InvokeResult> r) { out = std::move(r); };
  start(io.get_executor(), std::move(s));
  io.run();
  if (out.ok() && !sink) out->body = std::move(body);
  return out;
}

}  // namespace

Result<InvokeResult> Invoker::Invoke(InvokeCall call, const InvokeSink* sink) const {
  Invoker blocking(routes_, instances_, nullptr, logs_);
  blocking.observer_ = observer_;
  return RunBlocking(
      [&](asio::any_io_executor ex, StreamSink s) { blocking.Start(ex, std::move(call), nullptr, std::move(s)); },
      sink);
}

Result<InvokeResult> Invoker::InvokeRoute(const Route& route, InvokeCall call, const InvokeSink* sink) const {
  Invoker blocking(routes_, instances_, nullptr, logs_);
  blocking.observer_ = observer_;
  return RunBlocking(
      [&](asio::any_io_executor ex, StreamSink s) {
        blocking.StartRoute(ex, std::make_shared<Route>(route), std::move(call), nullptr, std::move(s));
      },
      sink);
}

}  // namespace ignite::gateway
