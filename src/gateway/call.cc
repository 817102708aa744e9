#include "gateway/call.h"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <limits>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/ids.h"
#include "http/serialize.h"

namespace ignite::gateway {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Socket = asio::local::stream_protocol::socket;

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
      if (instances::ConnectionCache::Reusable(s.native_handle())) return s;
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
      std::erase_if(sockets, [](Socket& s) { return !instances::ConnectionCache::Reusable(s.native_handle()); });
      it = sockets.empty() ? idle_.erase(it) : std::next(it);
    }
  }

  std::unordered_map<uint64_t, std::vector<Socket>> idle_;
};

uint64_t NextCallId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

const char* CallStateName(CallState state) {
  switch (state) {
    case CallState::kCreated: return "created";
    case CallState::kLeasing: return "leasing";
    case CallState::kConnecting: return "connecting";
    case CallState::kSendingRequest: return "sending-request";
    case CallState::kSendingBody: return "sending-body";
    case CallState::kReadingHead: return "reading-head";
    case CallState::kReadingAnswer: return "reading-answer";
    case CallState::kAwaitingCaller: return "awaiting-caller";
    case CallState::kDiagnosing: return "diagnosing";
    case CallState::kAnsweringError: return "answering-error";
    case CallState::kDone: return "done";
  }
  return "?";
}

Call::Call(asio::any_io_executor executor, instances::InstanceManager* instances, asio::thread_pool* blocking,
           instances::LogCollector* logs, const Clock* clock, std::shared_ptr<const void> route_owner,
           const Route* route, InvokeCall call, std::shared_ptr<BodySource> body, StreamSink sink)
    : executor_(std::move(executor)),
      instances_(instances),
      logs_(logs),
      blocking_(blocking),
      clock_(clock),
      route_owner_(std::move(route_owner)),
      route_(route),
      call_(std::move(call)),
      body_(std::move(body)),
      sink_(std::move(sink)),
      id_(NextCallId()),
      timer_(executor_),
      start_timer_(executor_) {}

void Call::Enter(CallState next) {
  if (!CallTransitionAllowed(state_, next)) {
    spdlog::error("gateway: a call of {} went from {} to {}, which its state machine does not allow",
                  route_->app_id, CallStateName(state_), CallStateName(next));
    assert(false && "CallTransitionAllowed");
  }
  CallState from = state_;
  state_ = next;
  if (observer_) observer_(from, next);
}

void Call::Start() {
  start_ = clock_->Now();
  deadline_ = start_ + route_->timeout;
  result_.execution_id = call_.execution_id.empty() ? NewUlid() : std::move(call_.execution_id);
  result_.version = route_->version;
  head_only_ = call_.method == "HEAD";
  BuildRequestHead();
  ArmTimeout();
  Acquire();
}

void Call::BuildRequestHead() {
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

// The execution timeout. An asio timer runs on real time, so it waits for what is left of the deadline by
// the clock, and when it fires the clock judges: if the clock has not reached the deadline (a FakeClock that
// was not moved far enough), the timer waits again for the rest. With the system clock the two agree and it
// fires once. The same holds for the start timeout.
void Call::ArmTimeout() {
  timer_.expires_after(deadline_ - clock_->Now());
  timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec || !self->Live()) return;
    if (self->clock_->Now() < self->deadline_) return self->ArmTimeout();
    self->OnTimeout();
  });
}

void Call::ArmStartTimeout() {
  start_timer_.expires_after(ready_by_ - clock_->Now());
  start_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    // Only an instance that is still starting, before its head is in, is held to the start timeout.
    if (ec || self->state_ < CallState::kConnecting || self->state_ > CallState::kReadingHead) return;
    if (self->clock_->Now() < self->ready_by_) return self->ArmStartTimeout();
    self->OnStartTimeout();
  });
}

void Call::Acquire() {
  Enter(CallState::kLeasing);
  if (auto lease = instances_->TryAcquire(route_->spec)) return OnLease(std::move(*lease));
  if (!blocking_) return OnLease(instances_->Acquire(route_->spec, deadline_));
  asio::post(*blocking_, [self = shared_from_this()] {
    auto lease =
        std::make_shared<Result<instances::Lease>>(self->instances_->Acquire(self->route_->spec, self->deadline_));
    asio::post(self->executor_, [self, lease] { self->OnLease(std::move(*lease)); });
  });
}

void Call::OnLease(Result<instances::Lease> lease) {
  if (state_ != CallState::kLeasing) return;
  if (!lease.ok()) {
    StatusCode code = lease.status().code();
    if (code == StatusCode::kResourceExhausted || code == StatusCode::kUnavailable) return Done(lease.status());
    if (code == StatusCode::kDeadlineExceeded) return Fail(504, lease.status().message());
    return Done(Unavailable(
        fmt::format("cannot start an instance of {}: {}", route_->app_id, lease.status().message())));
  }
  lease_.emplace(std::move(*lease));
  result_.cold = result_.cold || lease_->cold();
  // The execution timeout passed while the lease was on its way (a slow start, or a busy blocking pool):
  // its timer has fired already, so the call must end now or it would run with no timeout at all.
  if (cut_ == Cut::kTimedOut) return Fail(504, TimeoutMessage());
  if (lease_->starting()) {
    // The platform's readiness check: an instance must answer (this call, or any other) within the start
    // timeout of its spawn. The request itself waits in the socket's backlog meanwhile, so a healthy
    // start costs nothing extra.
    ready_by_ = lease_->instance().spawned + route_->spec.start_timeout;
    if (ready_by_ < deadline_) ArmStartTimeout();
  }
  Connect();
}

void Call::Connect() {
  Enter(CallState::kConnecting);
  reused_ = false;
  if (blocking_) {
    if (auto s = LoopConnections::ForThisThread().Take(lease_->instance().serial)) {
      socket_.emplace(std::move(*s));
      reused_ = true;
      return SendRequest();
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
      return SendRequest();
    }
    ::close(fd);
  }
  ConnectNew();
}

void Call::ConnectNew() {
  socket_->async_connect(asio::local::stream_protocol::endpoint(lease_->instance().process->socket_path()),
                         [self = shared_from_this()](beast::error_code ec) {
                           if (ec) return self->OnError(ec);
                           self->SendRequest();
                         });
}

void Call::SendRequest() {
  if (state_ != CallState::kConnecting) return;
  if (!body_) {
    Enter(CallState::kSendingRequest);
    body_sent_ = call_.payload.size();
    lease_->instance().bodies.Note(id_, body_sent_);
    std::array<asio::const_buffer, 2> out{asio::buffer(request_head_), asio::buffer(call_.payload)};
    asio::async_write(*socket_, out, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->OnError(ec);
      self->ReadHead();
    });
    return;
  }
  Enter(CallState::kSendingBody);
  ReadBodyPiece(true);
}

void Call::ReadBodyPiece(bool first) {
  body_->Read([self = shared_from_this(), first](Status st, std::string_view data, bool end) {
    self->OnBodyPiece(std::move(st), data, end, first);
  });
}

// Forwards one piece of the client's body (with the request head before the first), then reads the next
// piece only once it is written.
void Call::OnBodyPiece(Status st, std::string_view data, bool end, bool first) {
  if (state_ != CallState::kSendingBody) return;
  if (!st.ok()) {
    // The client failed mid-body; the connection is not reusable. The instance lives on, so this call is
    // no longer a suspect for its memory.
    ForgetBody();
    return Done(std::move(st));
  }
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

void Call::ReadHead() {
  if (state_ != CallState::kSendingRequest && state_ != CallState::kSendingBody) return;
  Enter(CallState::kReadingHead);
  parser_.emplace();
  parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
  if (head_only_) parser_->skip(true);
  http::async_read_header(*socket_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
    if (ec) return self->OnError(ec);
    self->OnHead();
  });
}

void Call::OnHead() {
  if (state_ != CallState::kReadingHead) return;
  start_timer_.cancel();
  result_.status = parser_->get().result_int();
  for (const auto& f : parser_->get()) {
    std::string name(f.name_string());
    if (Forwardable(name)) result_.headers.emplace_back(std::move(name), std::string(f.value()));
  }
  instances_->MarkServed(lease_->instance());
  // The head goes to the sink with the first piece of the body (or the end), which is usually already in
  // the buffer: the caller then answers with one write instead of two.
  Enter(CallState::kReadingAnswer);
  ReadResponsePiece();
}

void Call::SendHeadOnce() {
  if (head_sent_) return;
  head_sent_ = true;
  sink_.on_head(result_);
}

// In kReadingAnswer: reads the next piece of the answer and hands it to the sink, or completes the call.
void Call::ReadResponsePiece() {
  if (parser_->is_done()) return Complete();
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
    self->Enter(CallState::kAwaitingCaller);
    self->sink_.on_body(std::string_view(self->piece_.get(), n), [self](bool more) { self->OnCallerTook(more); });
  });
}

void Call::OnCallerTook(bool more) {
  if (state_ != CallState::kAwaitingCaller) return;
  if (!more) return Abandon();
  Enter(CallState::kReadingAnswer);
  ReadResponsePiece();
}

// The whole answer is in: the connection goes back to the instance's cache when it can carry another.
void Call::Complete() {
  SendHeadOnce();
  Enter(CallState::kDone);
  ForgetBody();
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

void Call::Abandon() {
  Enter(CallState::kDone);
  ForgetBody();
  timer_.cancel();
  start_timer_.cancel();
  socket_.reset();
  lease_.reset();
  result_.error = "the caller went away";
  result_.cut_short = true;
  result_.duration_ms = Elapsed();
  sink_.on_done(std::move(result_));
}

void Call::OnStartTimeout() {
  if (!lease_ || !lease_->starting()) return;
  // Ready (it said so) but slow to answer this request: the handler is at work, which the execution
  // timeout bounds.
  if (lease_->instance().process->Ready()) return;
  if (cut_ == Cut::kNone) cut_ = Cut::kNotReady;
  if (socket_) {
    beast::error_code ec;
    socket_->close(ec);  // pending operations complete with operation_aborted, then OnError sees cut_
  }
}

void Call::OnTimeout() {
  cut_ = Cut::kTimedOut;
  if (socket_) {
    beast::error_code ec;
    socket_->close(ec);  // pending operations complete with operation_aborted, then OnError sees cut_
  }
}

void Call::OnError(beast::error_code ec) {
  if (!Live()) return;
  if (cut_ == Cut::kNotReady) {
    auto& inst = lease_->instance();
    std::string why =
        fmt::format("did not become ready within {}s of its start", route_->spec.start_timeout.count() / 1000.0);
    instances_->FailStart(inst, why);
    std::string line = fmt::format("ignite: instance {} {} (it accepted the request but answered nothing); it is "
                                   "being stopped",
                                   inst.replica_id, why);
    spdlog::warn("{}: {}", route_->app_id, line);
    if (logs_) logs_->Note(route_->app_id, inst.replica_id, result_.execution_id, line);
    return Fail(503, instances::WithHint(fmt::format("the instance {} of {} {} (execution {})", inst.replica_id,
                                          route_->app_id, why, result_.execution_id),
                              route_->spec.hints.not_ready));
  }
  if (cut_ == Cut::kTimedOut) {
    // The handler is stuck; replace this instance rather than leave it occupied.
    if (lease_) instances_->RetireInstance(lease_->instance());
    return Fail(504, TimeoutMessage());
  }
  // A connection refused by a warm instance means it died between requests; a cached connection that
  // failed before any answer was closed under us. Either way the request never reached a handler, so it is
  // safe to try once more while nothing of the client's body was consumed (a BodySource is read once).
  if (attempt_ == 0) {
    if (state_ == CallState::kConnecting && !lease_->cold()) {
      ++attempt_;
      start_timer_.cancel();  // it was for the instance given up on
      socket_.reset();
      lease_.reset();
      return Acquire();
    }
    if (reused_ && !body_ && (state_ == CallState::kSendingRequest || state_ == CallState::kReadingHead) &&
        buffer_.size() == 0) {
      ++attempt_;
      return Connect();
    }
  }
  error_ = ec;
  socket_.reset();
  Enter(CallState::kDiagnosing);
  WaitForExit(50);
}

// Gives a dying process up to ~100 ms to be reaped so that the error can say how it ended. It polls with
// the execution timeout's timer, which replaces that wait: the diagnosis is bounded by its tries instead.
void Call::WaitForExit(int tries) {
  std::string how = instances_->CheckExited(lease_->instance());
  if (how.empty() && tries > 0) {
    timer_.expires_after(std::chrono::milliseconds(2));
    timer_.async_wait([self = shared_from_this(), tries](beast::error_code) {
      if (self->state_ == CallState::kDiagnosing) self->WaitForExit(tries - 1);
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
    return Fail(429, instances::WithHint(fmt::format("the instance {} of {} ran out of memory: it exceeded its {} MB memory "
                                          "limit and was killed (execution {}); the next invocation starts a new "
                                          "instance",
                                          lease_->instance().replica_id, route_->app_id, route_->spec.memory_mb,
                                          result_.execution_id),
                              route_->spec.hints.raise_memory));
  }
  Fail(502, instances::WithHint(fmt::format("the instance {} of {} {} before answering (execution {}); the next invocation "
                                 "starts a new instance",
                                 lease_->instance().replica_id, route_->app_id,
                                 how.empty() ? "closed the connection (" + error_.message() + ")" : "exited with " + how,
                                 result_.execution_id),
                     route_->spec.hints.logs));
}

// The call ended with its instance alive: it is no longer a suspect should the instance run out of memory
// later. (A call that ends because the instance failed stays one: the other calls in flight on it ask.)
void Call::ForgetBody() {
  if (body_sent_ > 0 && lease_) lease_->instance().bodies.Forget(id_);
}

std::string Call::TimeoutMessage() const {
  return fmt::format("{} did not answer within its execution timeout of {}s (execution {}); raise it with "
                     "--timeout-secs (at most 900)",
                     route_->app_id, route_->timeout.count(), result_.execution_id);
}

// A platform-made answer (502, 503, 504, 429) looks like an instance's: a head and a JSON body. After the
// instance's own head is out, the error travels in the result only.
void Call::Fail(unsigned status, std::string message) {
  const bool cut_short = head_sent_;
  Enter(cut_short ? CallState::kDone : CallState::kAnsweringError);
  timer_.cancel();
  start_timer_.cancel();
  socket_.reset();
  lease_.reset();
  result_.error = std::move(message);
  result_.duration_ms = Elapsed();
  if (cut_short) {
    result_.cut_short = true;
    return sink_.on_done(std::move(result_));
  }
  result_.status = status;
  result_.headers = {{"Content-Type", "application/json"}};
  head_sent_ = true;
  sink_.on_head(result_);
  error_body_ = nlohmann::json{{"error", result_.error}}.dump();
  sink_.on_body(error_body_, [self = shared_from_this()](bool) {
    if (self->state_ != CallState::kAnsweringError) return;
    self->Enter(CallState::kDone);
    self->sink_.on_done(std::move(self->result_));
  });
}

void Call::Done(Status st) {
  Enter(CallState::kDone);
  timer_.cancel();
  start_timer_.cancel();
  socket_.reset();
  lease_.reset();
  sink_.on_done(std::move(st));
}

int64_t Call::Elapsed() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_->Now() - start_).count();
}

}  // namespace ignite::gateway
