#include "http/server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <thread>

#include "http/serialize.h"

namespace ignite::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

constexpr size_t kBodyPiece = 64 << 10;      // Request body pieces handed to stream handlers.
constexpr size_t kWritableBelow = 256 << 10;  // Exchange::WhenWritable's threshold.
constexpr std::chrono::seconds kLingerFor{5};  // LingerThenClose's bound

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const Router* router, const ServerOptions* options, std::shared_ptr<std::atomic<int>> busy)
      : stream_(std::move(socket)), router_(router), options_(options), busy_(std::move(busy)) {}
  ~Session() { SetBusy(false); }

  void Start() {
    beast::error_code ec;
    stream_.socket().set_option(tcp::no_delay(true), ec);
    ReadRequest();
  }

 private:
  class StreamExchange;
  void RunStream(const StreamHandler* handler, std::shared_ptr<Request> req);

  void ReadRequest() {
    answered_ = false;
    too_large_.clear();
    out_pending_.clear();
    ending_ = false;
    bodiless_ = false;
    waiters_.clear();
    header_parser_.emplace();
    header_parser_->header_limit(options_->header_limit);
    header_parser_->body_limit(std::max(options_->body_limit, options_->stream_body_limit));
    string_parser_.reset();
    stream_parser_.reset();
    // A new connection must send its request header within the header timeout, and a keep-alive connection
    // its next one within the idle timeout; the body then gets the read timeout. Slow or silent clients
    // (slowloris) hold a connection only that long, and never a thread.
    stream_.expires_after(requests_ == 0 ? options_->header_timeout : options_->idle_timeout);
    beast::http::async_read_header(stream_, buffer_, *header_parser_,
                                   [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec == beast::http::error::body_limit) return OnBodyError(ec);  // a declared length over the limit
    if (ec) return Close();
    ++requests_;
    SetBusy(true);
    stream_.expires_never();
    auto req = std::make_shared<Request>();
    const auto& head = header_parser_->get();
    keep_alive_ = head.keep_alive();
    expect_continue_ = beast::iequals(head[beast::http::field::expect], "100-continue");
    std::string_view target(head.target().data(), head.target().size());
    auto url = boost::urls::parse_origin_form(target);
    if (!url) {
      keep_alive_ = false;
      return Write(ErrorResponse(InvalidArgument("malformed request target")));
    }
    req->path = std::string(target.substr(0, target.find('?')));
    for (auto p : url->params()) req->query[std::string(p.key)] = std::string(p.value);
    std::string host(head[beast::http::field::host]);
    const StreamHandler* stream = router_->FindHostHandler(host);
    const Handler* handler = nullptr;
    const BodyLimitFn* body_limit = nullptr;
    if (!stream) {
      auto match = router_->Find(std::string(head.method_string()), req->path);
      if (!match.handler && !match.stream_handler) {
        Status st = match.path_known
                        ? Status(StatusCode::kUnimplemented,
                                 fmt::format("method {} is not supported on {}", std::string(head.method_string()),
                                             req->path))
                        : NotFound(fmt::format("no route for {} {}", std::string(head.method_string()), req->path));
        Response r = ErrorResponse(st);
        if (match.path_known) r.status = 405;
        if (!header_parser_->is_done()) keep_alive_ = false;  // the body is not read: the connection cannot go on
        return Write(std::move(r));
      }
      req->params = std::move(match.params);
      req->route_name = std::move(match.name);
      stream = match.stream_handler;
      handler = match.handler;
      body_limit = match.body_limit;
    }
    if (stream) {
      req->raw.base() = head.base();
      stream_parser_.emplace(std::move(*header_parser_));
      header_parser_.reset();
      if (auto n = stream_parser_->content_length(); n && *n > options_->stream_body_limit) {
        return OnBodyError(beast::http::error::body_limit);
      }
      stream_parser_->body_limit(options_->stream_body_limit);
      return RunStream(stream, std::move(req));
    }
    // Buffered routes get the whole body before the handler runs.
    string_parser_.emplace(std::move(*header_parser_));
    header_parser_.reset();
    if (body_limit) {
      // The route decides this request's limit first; nothing of the body is read (or invited) until then.
      req->raw.base() = string_parser_->get().base();
      auto executor = stream_.get_executor();
      (*body_limit)(*req, [self = shared_from_this(), executor, req, handler](Result<BodyLimit> limit) mutable {
        asio::post(executor, [self, req = std::move(req), handler, limit = std::move(limit)]() mutable {
          self->OnBodyLimit(std::move(req), handler, std::move(limit));
        });
      });
      return;
    }
    OnBodyLimit(std::move(req), handler, BodyLimit{options_->body_limit, ""});
  }

  void OnBodyLimit(std::shared_ptr<Request> req, const Handler* handler, Result<BodyLimit> limit) {
    if (!limit.ok()) return Write(ErrorResponse(limit.status()));
    too_large_ = std::move(limit->message);
    if (auto n = string_parser_->content_length(); n && *n > limit->bytes) {
      return OnBodyError(beast::http::error::body_limit);
    }
    string_parser_->body_limit(limit->bytes);
    ReadBufferedBody(std::move(req), handler);
  }

  void ReadBufferedBody(std::shared_ptr<Request> req, const Handler* handler) {
    auto dispatch = [self = shared_from_this(), handler](std::shared_ptr<Request> req) {
      self->stream_.expires_never();
      req->raw = self->string_parser_->release();
      auto executor = self->stream_.get_executor();
      (*handler)(std::move(req), [self, executor](Response resp) {
        asio::post(executor, [self, resp = std::move(resp)]() mutable { self->Write(std::move(resp)); });
      });
    };
    if (string_parser_->is_done()) return dispatch(std::move(req));
    SendContinueThen([self = shared_from_this(), req = std::move(req), dispatch]() mutable {
      self->stream_.expires_after(self->options_->read_timeout);
      beast::http::async_read(self->stream_, self->buffer_, *self->string_parser_,
                              [self, req = std::move(req), dispatch](beast::error_code ec, size_t) mutable {
                                if (ec) return self->OnBodyError(ec);
                                dispatch(std::move(req));
                              });
    });
  }

  void OnBodyError(beast::error_code ec) {
    if (ec != beast::http::error::body_limit) return Close();
    keep_alive_ = false;
    Write(ErrorResponse(TooLarge()));
  }

  // The 413 of the current request: the route's message, else the server's own limit.
  Status TooLarge() const {
    if (!too_large_.empty()) return PayloadTooLarge(too_large_);
    uint64_t limit = stream_parser_ ? options_->stream_body_limit
                     : string_parser_ ? options_->body_limit
                                      : std::max(options_->body_limit, options_->stream_body_limit);
    return PayloadTooLarge(fmt::format("the request body is larger than the {} MB this server accepts on this "
                                       "route; send a smaller body",
                                       limit >> 20));
  }

  // Tells a client that sent `Expect: 100-continue` to go ahead with its body, once, then runs `then`.
  template <typename F>
  void SendContinueThen(F then) {
    if (!expect_continue_) return then();
    expect_continue_ = false;
    static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    stream_.expires_after(options_->read_timeout);
    asio::async_write(stream_, asio::buffer(kContinue),
                      [self = shared_from_this(), then = std::move(then)](beast::error_code ec, size_t) mutable {
                        if (ec) return self->Close();
                        then();
                      });
  }

  bool RequestBodyDone() const {
    if (stream_parser_) return stream_parser_->is_done();
    if (string_parser_) return string_parser_->is_done();
    if (header_parser_) return header_parser_->is_done();
    return true;
  }

  // The answer is fully written: on to the next request, unless the connection cannot go on.
  void FinishRequest() {
    ++generation_;  // the request's Exchange, if any, is done with
    answered_ = true;
    SetBusy(false);
    if (!RequestBodyDone()) return LingerThenClose();
    if (!keep_alive_) return Close();
    ReadRequest();
  }

  // Closing a socket that still holds unread request bytes makes the kernel send a reset, which can destroy
  // the answer on its way to the client (curl: "Empty reply from server") when the answer came before the
  // end of the body (413, an instance that died mid-upload). So stop sending, read and discard what the
  // client still sends for a bounded time, then close (nginx's lingering close).
  void LingerThenClose() {
    ++generation_;
    SetBusy(false);
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return Close();
    stream_.expires_after(kLingerFor);
    Discard();
  }

  void Discard() {
    body_piece_.resize(kBodyPiece);
    stream_.async_read_some(asio::buffer(body_piece_), [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Close();  // the client is done (EOF) or the lingering time is up
      self->Discard();
    });
  }

  void Write(Response resp) {
    answered_ = true;
    if (resp.stream) return WriteStreamed(std::move(resp));
    if (!RequestBodyDone()) keep_alive_ = false;
    auto res = std::make_shared<beast::http::response<beast::http::string_body>>();
    res->version(11);
    res->result(resp.status);
    res->set(beast::http::field::server, "ignited");
    res->set(beast::http::field::content_type, resp.content_type);
    for (auto& [k, v] : resp.headers) res->insert(k, v);
    res->body() = std::move(resp.body);
    res->keep_alive(keep_alive_);
    res->prepare_payload();
    stream_.expires_after(options_->read_timeout);
    beast::http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, size_t) {
      if (ec) return self->Close();
      self->FinishRequest();
    });
  }

  // Header first, then each chunk as the producer pushes it, then the last chunk. The write timeout applies
  // per chunk, so a client that stops reading is dropped and the producer sees the stream aborted.
  void WriteStreamed(Response resp) {
    body_ = std::move(resp.stream);
    header_.emplace();
    header_->version(11);
    header_->result(resp.status);
    header_->set(beast::http::field::server, "ignited");
    header_->set(beast::http::field::content_type, resp.content_type);
    for (auto& [k, v] : resp.headers) header_->insert(k, v);
    header_->keep_alive(keep_alive_);
    header_->chunked(true);
    serializer_.emplace(*header_);
    stream_.expires_after(options_->read_timeout);
    beast::http::async_write_header(stream_, *serializer_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->AbortStream();
      // The waker keeps the session alive while it waits for the producer; the reference goes away with the
      // stream once the producer and the session have both dropped it.
      auto executor = self->stream_.get_executor();
      self->body_->SetWaker([self, executor] { asio::post(executor, [self] { self->PumpStream(); }); });
    });
  }

  void PumpStream() {
    if (writing_chunk_ || !body_) return;
    auto next = body_->Pop(&chunk_);
    if (next == BodyStream::Next::kWait) return;
    writing_chunk_ = true;
    stream_.expires_after(options_->read_timeout);
    auto done = [self = shared_from_this(), last = next == BodyStream::Next::kEnd](beast::error_code ec, size_t) {
      self->writing_chunk_ = false;
      if (ec) return self->AbortStream();
      if (!last) return self->PumpStream();
      self->body_.reset();
      self->serializer_.reset();
      self->header_.reset();
      self->FinishRequest();
    };
    if (next == BodyStream::Next::kEnd) {
      asio::async_write(stream_, beast::http::make_chunk_last(), std::move(done));
    } else if (chunk_.empty()) {
      writing_chunk_ = false;
      PumpStream();
    } else {
      asio::async_write(stream_, beast::http::make_chunk(asio::buffer(chunk_)), std::move(done));
    }
  }

  void AbortStream() {
    if (body_) body_->Abort();
    body_.reset();
    Close();
  }

  // --- The Exchange of a stream handler (see exchange.h). Only called on this connection's thread. ---

  void ReadBodyPiece(Exchange::BodyCallback cb) {
    if (!stream_parser_ || stream_parser_->is_done()) {
      return asio::post(stream_.get_executor(), [cb = std::move(cb)] { cb(OkStatus(), {}, true); });
    }
    SendContinueThen([self = shared_from_this(), cb = std::move(cb)]() mutable {
      self->body_piece_.resize(kBodyPiece);
      auto& body = self->stream_parser_->get().body();
      body.data = self->body_piece_.data();
      body.size = self->body_piece_.size();
      self->stream_.expires_after(self->options_->read_timeout);
      beast::http::async_read(self->stream_, self->buffer_, *self->stream_parser_,
                              [self, cb = std::move(cb)](beast::error_code ec, size_t) {
                                if (ec == beast::http::error::need_buffer) ec = {};
                                if (ec == beast::http::error::body_limit) {
                                  self->keep_alive_ = false;
                                  // The server answers 413 itself (as for a declared length over the
                                  // limit); the handler's own answer, if any, is then ignored.
                                  Status st = self->TooLarge();
                                  if (!self->answered_) self->OnBodyError(ec);
                                  return cb(std::move(st), {}, true);
                                }
                                if (ec) {
                                  self->keep_alive_ = false;
                                  return cb(Unavailable(fmt::format("reading the request body failed: {}",
                                                                    ec.message())),
                                            {}, true);
                                }
                                size_t n = self->body_piece_.size() - self->stream_parser_->get().body().size;
                                cb(OkStatus(), std::string_view(self->body_piece_.data(), n),
                                   self->stream_parser_->is_done());
                              });
    });
  }

  void StartAnswer(const Response& r, bool bodiless) {
    answered_ = true;
    if (!RequestBodyDone()) keep_alive_ = false;
    beast::http::response<beast::http::empty_body> head;
    head.version(11);
    head.result(r.status);
    head.set(beast::http::field::server, "ignited");
    head.set(beast::http::field::content_type, r.content_type);
    for (const auto& [k, v] : r.headers) head.insert(k, v);
    head.keep_alive(keep_alive_);
    if (!bodiless) head.chunked(true);
    bodiless_ = bodiless;
    out_pending_ += SerializeHead(head);
    ScheduleFlush();
  }

  void SendPiece(std::string_view data) {
    if (bodiless_ || data.empty() || failed_ || ending_) return;  // nothing may follow the last chunk
    out_pending_ += fmt::format("{:x}\r\n", data.size());
    out_pending_.append(data);
    out_pending_ += "\r\n";
    ScheduleFlush();
  }

  void EndAnswer(bool ok) {
    if (!ok) return Fail();
    ending_ = true;
    if (!bodiless_) out_pending_ += "0\r\n\r\n";
    ScheduleFlush();
  }

  void OnWritable(std::function<void(bool)> cb) {
    if (failed_) return asio::post(stream_.get_executor(), [cb = std::move(cb)] { cb(false); });
    if (out_pending_.size() + out_writing_.size() < kWritableBelow) return cb(true);
    waiters_.push_back(std::move(cb));
  }

  void ScheduleFlush() {
    if (flush_scheduled_ || writing_) return;
    flush_scheduled_ = true;
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      self->flush_scheduled_ = false;
      self->Flush();
    });
  }

  void Flush() {
    if (writing_ || failed_) return;
    if (out_pending_.empty()) {
      if (ending_) {
        ending_ = false;
        bodiless_ = false;
        return FinishRequest();
      }
      return;
    }
    writing_ = true;
    out_writing_.swap(out_pending_);
    stream_.expires_after(options_->read_timeout);
    asio::async_write(stream_, asio::buffer(out_writing_), [self = shared_from_this()](beast::error_code ec, size_t) {
      self->writing_ = false;
      self->out_writing_.clear();
      if (ec) return self->Fail();
      if (self->out_pending_.size() < kWritableBelow) {
        auto waiters = std::move(self->waiters_);
        self->waiters_.clear();
        for (auto& w : waiters) w(true);
      }
      self->Flush();
    });
  }

  // The client is gone or the answer is abandoned: close, and tell whoever waits.
  void Fail() {
    if (failed_) return;
    failed_ = true;
    out_pending_.clear();
    auto waiters = std::move(waiters_);
    waiters_.clear();
    for (auto& w : waiters) w(false);
    Close();
  }

  void SetBusy(bool busy) {
    if (busy == busy_now_) return;
    busy_now_ = busy;
    *busy_ += busy ? 1 : -1;
  }

  void Close() {
    ++generation_;
    SetBusy(false);
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<beast::http::request_parser<beast::http::empty_body>> header_parser_;
  std::optional<beast::http::request_parser<beast::http::string_body>> string_parser_;
  std::optional<beast::http::request_parser<beast::http::buffer_body>> stream_parser_;
  const Router* router_;
  const ServerOptions* options_;
  bool keep_alive_ = true;
  bool expect_continue_ = false;
  std::string too_large_;  // the current request's 413 message from its route's BodyLimit, if any
  int requests_ = 0;
  uint64_t generation_ = 0;  // which request is current; an Exchange acts only on its own
  bool answered_ = false;    // the current request's answer has started
  std::shared_ptr<std::atomic<int>> busy_;
  bool busy_now_ = false;
  // Streamed response state (BodyStream); only touched on the connection's thread.
  std::shared_ptr<BodyStream> body_;
  std::optional<beast::http::response<beast::http::empty_body>> header_;
  std::optional<beast::http::response_serializer<beast::http::empty_body>> serializer_;
  std::string chunk_;
  bool writing_chunk_ = false;
  // Exchange state; only touched on the connection's thread.
  std::string body_piece_;   // the last request body piece read
  std::string out_pending_;  // answer bytes queued
  std::string out_writing_;  // answer bytes being written
  bool writing_ = false;
  bool flush_scheduled_ = false;
  bool ending_ = false;
  bool bodiless_ = false;
  bool failed_ = false;
  std::vector<std::function<void(bool)>> waiters_;
};

class Session::StreamExchange : public Exchange {
 public:
  explicit StreamExchange(std::shared_ptr<Session> s) : s_(std::move(s)), generation_(s_->generation_) {}
  ~StreamExchange() override {
    // A handler that dropped its request without answering: the client gets an error rather than a hang.
    if (Current() && !s_->answered_) {
      asio::post(s_->stream_.get_executor(), [s = s_] {
        s->Write(ErrorResponse(Internal("the request was dropped without an answer")));
      });
    }
  }

  boost::asio::any_io_executor executor() const override { return s_->stream_.get_executor(); }
  std::optional<uint64_t> body_length() const override {
    if (!s_->stream_parser_) return 0;
    auto n = s_->stream_parser_->content_length();
    if (n) return *n;
    return s_->stream_parser_->chunked() ? std::nullopt : std::optional<uint64_t>(0);
  }
  void ReadBody(BodyCallback cb) override {
    if (!Current() || s_->failed_) {
      return asio::post(executor(), [cb = std::move(cb)] { cb(Unavailable("the client went away"), {}, true); });
    }
    s_->ReadBodyPiece(std::move(cb));
  }
  void Respond(Response response) override {
    if (Current() && !s_->answered_) s_->Write(std::move(response));
  }
  void StartStream(const Response& head, bool bodiless) override {
    if (Current() && !s_->answered_) s_->StartAnswer(head, bodiless);
  }
  void Send(std::string_view data) override {
    if (Current()) s_->SendPiece(data);
  }
  void End(bool ok) override {
    if (Current() && !s_->ending_) s_->EndAnswer(ok);
  }
  void WhenWritable(std::function<void(bool)> cb) override {
    if (!Current()) return asio::post(executor(), [cb = std::move(cb)] { cb(false); });
    s_->OnWritable(std::move(cb));
  }

 private:
  bool Current() const { return s_->generation_ == generation_; }
  std::shared_ptr<Session> s_;
  const uint64_t generation_;
};

void Session::RunStream(const StreamHandler* handler, std::shared_ptr<Request> req) {
  (*handler)(std::move(req), std::make_shared<StreamExchange>(shared_from_this()));
}

}  // namespace

struct Server::Worker {
  asio::io_context io{1};
  // Keeps run() going while a connection waits on a handler running elsewhere (no async operation pending on
  // this loop then), in particular after the acceptor closes during a drain.
  asio::executor_work_guard<asio::io_context::executor_type> guard = asio::make_work_guard(io);
  std::optional<tcp::acceptor> acceptor;
  const Router* router = nullptr;
  const ServerOptions* options = nullptr;
  std::shared_ptr<std::atomic<int>> busy;

  void Accept() {
    acceptor->async_accept(io, [this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) std::make_shared<Session>(std::move(socket), router, options, busy)->Start();
      if (acceptor->is_open()) Accept();
    });
  }
};

Server::Server(ServerOptions options, const Router* router) : options_(std::move(options)), router_(router) {}

Server::~Server() { Stop(); }

Status Server::Start() {
  beast::error_code ec;
  auto addr = asio::ip::make_address(options_.host, ec);
  if (ec) return InvalidArgument(fmt::format("invalid listen host \"{}\": {}", options_.host, ec.message()));
  uint16_t port = options_.port;
  int n = std::max(1, options_.threads);
  for (int i = 0; i < n; ++i) {
    auto w = std::make_unique<Worker>();
    w->router = router_;
    w->options = &options_;
    w->busy = busy_;
    w->acceptor.emplace(w->io);
    tcp::endpoint ep(addr, port);
    w->acceptor->open(ep.protocol(), ec);
    if (!ec) w->acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) {
      int one = 1;
      if (setsockopt(w->acceptor->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
        ec = beast::error_code(errno, boost::system::system_category());
      }
    }
    if (!ec) w->acceptor->bind(ep, ec);
    if (!ec) w->acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Unavailable(fmt::format("cannot listen on {}:{}: {}", options_.host, port, ec.message()));
    }
    if (port == 0) port = w->acceptor->local_endpoint().port();
    w->Accept();
    workers_.push_back(std::move(w));
  }
  port_ = port;
  for (auto& w : workers_) {
    threads_.emplace_back([w = w.get()] {
      w->io.run();
    });
  }
  return OkStatus();
}

void Server::Stop(std::chrono::milliseconds grace) {
  if (stopped_.exchange(true)) return;
  for (auto& w : workers_) {
    asio::post(w->io, [w = w.get()] {
      beast::error_code ec;
      w->acceptor->close(ec);
    });
  }
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (busy_->load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (auto& w : workers_) w->io.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

Response ErrorResponse(const Status& status) {
  Response r;
  r.status = static_cast<unsigned>(status.http_status());
  nlohmann::json body = {{"code", static_cast<int>(status.code())},
                         {"message", status.message()},
                         {"details", nlohmann::json::array()}};
  r.body = body.dump();
  r.content_type = "application/json";
  return r;
}

}  // namespace ignite::http
