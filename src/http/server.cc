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

#include <thread>

namespace ignite::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

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
  void ReadRequest() {
    parser_.emplace();
    parser_->body_limit(options_->body_limit);
    parser_->header_limit(options_->header_limit);
    // A new connection must send its request header within the header timeout, and a keep-alive connection
    // its next one within the idle timeout; the body then gets the read timeout. Slow or silent clients
    // (slowloris) hold a connection only that long, and never a thread.
    stream_.expires_after(requests_ == 0 ? options_->header_timeout : options_->idle_timeout);
    beast::http::async_read_header(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec,
                                                                                          size_t) {
      if (ec) return self->OnRead(ec);
      if (self->parser_->is_done()) return self->OnRead(ec);
      self->stream_.expires_after(self->options_->read_timeout);
      beast::http::async_read(self->stream_, self->buffer_, *self->parser_,
                              [self](beast::error_code ec2, size_t) { self->OnRead(ec2); });
    });
  }

  void OnRead(beast::error_code ec) {
    if (ec == beast::http::error::body_limit) {
      Response r = ErrorResponse(Status(StatusCode::kResourceExhausted,
                                        fmt::format("request body is larger than the {} byte limit",
                                                    options_->body_limit)));
      r.status = 413;
      keep_alive_ = false;
      Write(std::move(r));
      return;
    }
    if (ec) return Close();
    ++requests_;
    SetBusy(true);
    stream_.expires_never();
    auto req = std::make_shared<Request>();
    req->raw = parser_->release();
    keep_alive_ = req->raw.keep_alive();
    std::string_view target(req->raw.target().data(), req->raw.target().size());
    auto url = boost::urls::parse_origin_form(target);
    if (!url) {
      Write(ErrorResponse(InvalidArgument("malformed request target")));
      return;
    }
    req->path = std::string(target.substr(0, target.find('?')));
    for (auto p : url->params()) req->query[std::string(p.key)] = std::string(p.value);
    if (const Handler* host = router_->FindHostHandler(req->Header("host"))) {
      auto self = shared_from_this();
      auto executor = stream_.get_executor();
      (*host)(std::move(req), [self, executor](Response resp) {
        asio::post(executor, [self, resp = std::move(resp)]() mutable { self->Write(std::move(resp)); });
      });
      return;
    }
    auto match = router_->Find(std::string(req->raw.method_string()), req->path);
    if (!match.handler) {
      Status st = match.path_known
                      ? Status(StatusCode::kUnimplemented,
                               fmt::format("method {} is not supported on {}", std::string(req->raw.method_string()),
                                           req->path))
                      : NotFound(fmt::format("no route for {} {}", std::string(req->raw.method_string()), req->path));
      Response r = ErrorResponse(st);
      if (match.path_known) r.status = 405;
      Write(std::move(r));
      return;
    }
    req->params = std::move(match.params);
    req->route_name = std::move(match.name);
    auto self = shared_from_this();
    auto executor = stream_.get_executor();
    (*match.handler)(std::move(req), [self, executor](Response resp) {
      asio::post(executor, [self, resp = std::move(resp)]() mutable { self->Write(std::move(resp)); });
    });
  }

  void Write(Response resp) {
    if (resp.stream) return WriteStreamed(std::move(resp));
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
      self->SetBusy(false);
      if (ec || !self->keep_alive_) return self->Close();
      self->ReadRequest();
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
      self->SetBusy(false);
      if (!self->keep_alive_) return self->Close();
      self->ReadRequest();
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

  void SetBusy(bool busy) {
    if (busy == busy_now_) return;
    busy_now_ = busy;
    *busy_ += busy ? 1 : -1;
  }

  void Close() {
    SetBusy(false);
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<beast::http::request_parser<beast::http::string_body>> parser_;
  const Router* router_;
  const ServerOptions* options_;
  bool keep_alive_ = true;
  int requests_ = 0;
  std::shared_ptr<std::atomic<int>> busy_;
  bool busy_now_ = false;
  // Streamed response state; only touched on the connection's thread.
  std::shared_ptr<BodyStream> body_;
  std::optional<beast::http::response<beast::http::empty_body>> header_;
  std::optional<beast::http::response_serializer<beast::http::empty_body>> serializer_;
  std::string chunk_;
  bool writing_chunk_ = false;
};

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
  r.status = static_cast<unsigned>(HttpStatusFor(status.code()));
  nlohmann::json body = {{"code", static_cast<int>(status.code())},
                         {"message", status.message()},
                         {"details", nlohmann::json::array()}};
  r.body = body.dump();
  r.content_type = "application/json";
  return r;
}

}  // namespace ignite::http
