// The Exchange contract (exchange.h) as stream handlers see it, against a real Server on loopback. Clients
// speak raw HTTP/1.1 over Asio sockets; every client operation runs with a deadline so a server that fails
// to answer fails the test instead of hanging it.
#include "http/exchange.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "http/router.h"
#include "http/server.h"

namespace ignite::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using StringResponse = beast::http::response<beast::http::string_body>;

constexpr uint64_t kFnvBasis = 1469598103934665603ull;

uint64_t Fnv1a(uint64_t h, std::string_view data) {
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// n bytes that are not all alike, so a piece lost, repeated or reordered changes the checksum.
std::string Pattern(size_t n, unsigned seed = 7) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1103515245u + 12345u;
    s[i] = static_cast<char>(x >> 24);
  }
  return s;
}

std::string SumAnswer(std::string_view body) {
  return fmt::format("length={} fnv={:016x}", body.size(), Fnv1a(kFnvBasis, body));
}

// `body` in chunked framing, cut into pieces of the given sizes (the rest in one last piece).
std::string Chunked(std::string_view body, const std::vector<size_t>& sizes) {
  std::string out;
  size_t at = 0;
  for (size_t n : sizes) {
    n = std::min(n, body.size() - at);
    if (n == 0) break;
    out += fmt::format("{:x}\r\n", n);
    out.append(body.substr(at, n));
    out += "\r\n";
    at += n;
  }
  if (at < body.size()) {
    out += fmt::format("{:x}\r\n", body.size() - at);
    out.append(body.substr(at));
    out += "\r\n";
  }
  out += "0\r\n\r\n";
  return out;
}

// A client connection whose every operation is bounded by a timeout.
class Client {
 public:
  explicit Client(uint16_t port, int receive_buffer = 0) : socket_(io_) {
    socket_.open(tcp::v4());
    if (receive_buffer > 0) socket_.set_option(asio::socket_base::receive_buffer_size(receive_buffer));
    socket_.connect({asio::ip::make_address("127.0.0.1"), port});
  }

  // Runs one asynchronous operation (started by `start` with a completion handler) for at most `timeout`.
  template <typename Start>
  beast::error_code Run(Start&& start, std::chrono::milliseconds timeout) {
    std::optional<beast::error_code> result;
    start([&result](beast::error_code ec, std::size_t) { result = ec; });
    io_.restart();
    io_.run_for(timeout);
    if (result) return *result;
    beast::error_code ignored;
    socket_.cancel(ignored);
    io_.restart();
    io_.run_for(1s);  // lets the cancelled operation complete
    return asio::error::timed_out;
  }

  beast::error_code Write(std::string_view data, std::chrono::milliseconds timeout = 4s) {
    return Run([&](auto handler) { asio::async_write(socket_, asio::buffer(data.data(), data.size()), handler); },
               timeout);
  }

  // The next `n` bytes from the server.
  beast::error_code ReadExactly(size_t n, std::string* out, std::chrono::milliseconds timeout = 3s) {
    out->clear();
    size_t from_buffer = std::min(n, buffer_.size());
    out->append(static_cast<const char*>(buffer_.data().data()), from_buffer);
    buffer_.consume(from_buffer);
    if (out->size() == n) return {};
    out->resize(n);
    return Run(
        [&](auto handler) {
          asio::async_read(socket_, asio::buffer(out->data() + from_buffer, n - from_buffer), handler);
        },
        timeout);
  }

  beast::error_code Read(StringResponse* res, std::chrono::milliseconds timeout = 4s) {
    return Run([&](auto handler) { beast::http::async_read(socket_, buffer_, *res, handler); }, timeout);
  }

  template <typename Parser>
  beast::error_code ReadHeader(Parser* parser, std::chrono::milliseconds timeout = 4s) {
    return Run([&](auto handler) { beast::http::async_read_header(socket_, buffer_, *parser, handler); }, timeout);
  }

  // How the server ends the connection once nothing more is expected: "closed" (EOF or reset), "timeout"
  // when it keeps it open, or "data: ..." when it sends more.
  std::string WaitForClose(std::chrono::milliseconds timeout = 3s) {
    if (buffer_.size() > 0) return "data: " + beast::buffers_to_string(buffer_.data());
    char c;
    std::size_t got = 0;
    auto ec = Run(
        [&](auto handler) {
          socket_.async_read_some(asio::buffer(&c, 1), [&got, handler](beast::error_code ec, std::size_t n) mutable {
            got = n;
            handler(ec, n);
          });
        },
        timeout);
    if (ec == asio::error::eof || ec == asio::error::connection_reset) return "closed";
    if (ec == asio::error::timed_out) return "timeout";
    if (!ec && got > 0) return std::string("data: ") + c;
    return "error: " + ec.message();
  }

  void Close() {
    beast::error_code ignored;
    socket_.close(ignored);
  }

 private:
  asio::io_context io_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

std::string Head(std::string_view method, std::string_view target, std::string_view headers = "") {
  return fmt::format("{} {} HTTP/1.1\r\nHost: localhost\r\n{}\r\n", method, target, headers);
}

std::string PostWithLength(std::string_view target, std::string_view body) {
  return Head("POST", target, fmt::format("Content-Length: {}\r\n", body.size())) + std::string(body);
}

// What the summing handler saw, for tests that look at the server side.
struct SumState {
  std::atomic<int> calls{0};
  std::atomic<int> errors{0};
  std::atomic<int> last_error_code{0};
};

// Reads the whole request body piece by piece with ReadBody, then answers with its length and checksum as
// a streamed answer. Headers report what it saw: the declared length, the number of pieces, and whether
// every callback ran on the thread the handler was called on.
class BodySummer : public std::enable_shared_from_this<BodySummer> {
 public:
  BodySummer(std::shared_ptr<Exchange> ex, std::shared_ptr<SumState> state)
      : ex_(std::move(ex)), state_(std::move(state)), loop_(std::this_thread::get_id()) {
    declared_ = ex_->body_length();
  }

  void Next() {
    ex_->ReadBody([self = shared_from_this()](Status st, std::string_view data, bool end) {
      self->OnPiece(std::move(st), data, end);
    });
  }

 private:
  void OnPiece(Status st, std::string_view data, bool end) {
    if (std::this_thread::get_id() != loop_) same_thread_ = false;
    if (!st.ok()) {
      state_->last_error_code = static_cast<int>(st.code());
      ++state_->errors;
      Response r = ErrorResponse(st);
      // ErrorResponse says 429 for ResourceExhausted; a body over the limit is a 413, as the server itself
      // answers when the declared length is too large.
      if (st.code() == StatusCode::kResourceExhausted) r.status = 413;
      ex_->Respond(std::move(r));
      return;
    }
    total_ += data.size();
    hash_ = Fnv1a(hash_, data);
    if (!data.empty()) ++pieces_;
    if (!end) return Next();
    Response head;
    head.content_type = "text/plain";
    head.headers = {{"X-Body-Length", declared_ ? std::to_string(*declared_) : "none"},
                    {"X-Pieces", std::to_string(pieces_)},
                    {"X-Same-Thread", same_thread_ ? "yes" : "no"}};
    ex_->StartStream(head);
    ex_->Send(fmt::format("length={}", total_));
    ex_->Send(fmt::format(" fnv={:016x}", hash_));
    ex_->End(true);
  }

  std::shared_ptr<Exchange> ex_;
  std::shared_ptr<SumState> state_;
  std::thread::id loop_;
  std::optional<uint64_t> declared_;
  uint64_t total_ = 0;
  uint64_t hash_ = kFnvBasis;
  int pieces_ = 0;
  bool same_thread_ = true;
};

void AddSum(Router* router, std::shared_ptr<SumState> state, const std::string& method = "POST") {
  router->AddStream(method, "/sum", [state](std::shared_ptr<Request>, std::shared_ptr<Exchange> ex) {
    ++state->calls;
    std::make_shared<BodySummer>(std::move(ex), state)->Next();
  });
}

class ExchangeTest : public ::testing::Test {
 protected:
  void StartServer(ServerOptions opts = {}) {
    opts.threads = 2;
    server_ = std::make_unique<Server>(opts, &router_);
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    for (auto& t : threads_) t.join();
    if (server_) server_->Stop();
  }
  uint16_t port() const { return server_->port(); }

  Router router_;
  std::unique_ptr<Server> server_;
  std::vector<std::thread> threads_;  // joined before the server stops
  std::mutex threads_mu_;
};

TEST_F(ExchangeTest, ReadsAContentLengthBodyInPiecesAndStreamsTheAnswer) {
  auto sums = std::make_shared<SumState>();
  AddSum(&router_, sums);
  ASSERT_NO_FATAL_FAILURE(StartServer());
  std::string body = Pattern((1 << 20) + 123);
  Client c(port());
  ASSERT_FALSE(c.Write(PostWithLength("/sum", body)));
  StringResponse res;
  ASSERT_FALSE(c.Read(&res));
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), SumAnswer(body));
  EXPECT_TRUE(res.chunked());
  EXPECT_EQ(res["X-Body-Length"], std::to_string(body.size()));
  EXPECT_GT(std::stoi(std::string(res["X-Pieces"])), 1) << "the body was not read in pieces";
  EXPECT_EQ(res["X-Same-Thread"], "yes");
  EXPECT_EQ(sums->calls, 1);
  EXPECT_EQ(sums->errors, 0);
}

TEST_F(ExchangeTest, ReadsAChunkedBodyInPieces) {
  auto sums = std::make_shared<SumState>();
  AddSum(&router_, sums);
  ASSERT_NO_FATAL_FAILURE(StartServer());
  std::string body = Pattern(400'000, 3);
  std::string framed = Chunked(body, {1, 100, 5000, 70'000, 3, 65'536, 131'072, 17});
  Client c(port());
  ASSERT_FALSE(c.Write(Head("POST", "/sum", "Transfer-Encoding: chunked\r\n")));
  // In three parts with pauses, so the handler sees the body as it trickles in.
  size_t third = framed.size() / 3;
  ASSERT_FALSE(c.Write(std::string_view(framed).substr(0, third)));
  std::this_thread::sleep_for(20ms);
  ASSERT_FALSE(c.Write(std::string_view(framed).substr(third, third)));
  std::this_thread::sleep_for(20ms);
  ASSERT_FALSE(c.Write(std::string_view(framed).substr(2 * third)));
  StringResponse res;
  ASSERT_FALSE(c.Read(&res));
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), SumAnswer(body));
  EXPECT_TRUE(res.chunked());
  EXPECT_EQ(res["X-Body-Length"], "none");  // body_length() is nullopt for a chunked body
  EXPECT_GT(std::stoi(std::string(res["X-Pieces"])), 1);
  EXPECT_EQ(res["X-Same-Thread"], "yes");
}

TEST_F(ExchangeTest, KeepAliveCarriesSeveralRequestsToAStreamRoute) {
  auto sums = std::make_shared<SumState>();
  AddSum(&router_, sums);
  AddSum(&router_, sums, "GET");
  ASSERT_NO_FATAL_FAILURE(StartServer());
  Client c(port());
  std::string first = Pattern(100'000, 1);
  std::string second = Pattern(3'000, 2);
  ASSERT_FALSE(c.Write(PostWithLength("/sum", first)));
  StringResponse r1;
  ASSERT_FALSE(c.Read(&r1));
  EXPECT_EQ(r1.body(), SumAnswer(first));
  EXPECT_TRUE(r1.keep_alive());
  ASSERT_FALSE(c.Write(Head("POST", "/sum", "Transfer-Encoding: chunked\r\n") + Chunked(second, {1000})));
  StringResponse r2;
  ASSERT_FALSE(c.Read(&r2));
  EXPECT_EQ(r2.body(), SumAnswer(second));
  // A request without a body: body_length() is 0 and the first read ends it.
  ASSERT_FALSE(c.Write(Head("GET", "/sum")));
  StringResponse r3;
  ASSERT_FALSE(c.Read(&r3));
  EXPECT_EQ(r3.body(), SumAnswer(""));
  EXPECT_EQ(r3["X-Body-Length"], "0");
  EXPECT_EQ(sums->calls, 3);
}

TEST_F(ExchangeTest, PipelinedRequestsAreAnsweredInOrder) {
  auto sums = std::make_shared<SumState>();
  AddSum(&router_, sums);
  ASSERT_NO_FATAL_FAILURE(StartServer());
  Client c(port());
  std::string a = Pattern(10'000, 4), b = Pattern(20'000, 5);
  ASSERT_FALSE(c.Write(PostWithLength("/sum", a) + PostWithLength("/sum", b)));
  StringResponse ra, rb;
  ASSERT_FALSE(c.Read(&ra));
  ASSERT_FALSE(c.Read(&rb));
  EXPECT_EQ(ra.body(), SumAnswer(a));
  EXPECT_EQ(rb.body(), SumAnswer(b));
}

TEST_F(ExchangeTest, ExpectContinueIsAnsweredOnTheFirstRead) {
  auto sums = std::make_shared<SumState>();
  AddSum(&router_, sums);
  ASSERT_NO_FATAL_FAILURE(StartServer());
  std::string body = Pattern(100'000, 9);
  Client c(port());
  ASSERT_FALSE(c.Write(Head("POST", "/sum", fmt::format("Content-Length: {}\r\nExpect: 100-continue\r\n", body.size()))));
  const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
  std::string got;
  auto ec = c.ReadExactly(kContinue.size(), &got, 3s);
  ASSERT_FALSE(ec) << "no go-ahead: " << ec.message();
  ASSERT_EQ(got, kContinue);
  ASSERT_FALSE(c.Write(body));
  StringResponse res;
  ASSERT_FALSE(c.Read(&res));
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), SumAnswer(body));

  // Once more on the same connection, with a chunked body.
  ASSERT_FALSE(c.Write(Head("POST", "/sum", "Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n")));
  ec = c.ReadExactly(kContinue.size(), &got, 3s);
  ASSERT_FALSE(ec) << "no go-ahead on the second request: " << ec.message();
  ASSERT_EQ(got, kContinue);
  ASSERT_FALSE(c.Write(Chunked("abc", {})));
  StringResponse res2;
  ASSERT_FALSE(c.Read(&res2));
  EXPECT_EQ(res2.body(), SumAnswer("abc"));
}

TEST_F(ExchangeTest, ABodilessStreamHasNoBodyAndKeepsTheConnection) {
  auto sums = std::make_shared<SumState>();
  AddSum(&router_, sums);
  router_.AddStream("HEAD", "/meta", [](std::shared_ptr<Request>, std::shared_ptr<Exchange> ex) {
    Response head;
    head.content_type = "text/plain";
    head.headers = {{"X-Meta", "1"}};
    ex->StartStream(head, /*bodiless=*/true);
    ex->End(true);
  });
  router_.AddStream("HEAD", "/meta-send", [](std::shared_ptr<Request>, std::shared_ptr<Exchange> ex) {
    Response head;
    ex->StartStream(head, /*bodiless=*/true);
    ex->Send("not sent: the answer has no body");
    ex->End(true);
  });
  router_.AddStream("GET", "/nothing", [](std::shared_ptr<Request>, std::shared_ptr<Exchange> ex) {
    Response head;
    head.status = 204;
    ex->StartStream(head, /*bodiless=*/true);
    ex->End(true);
  });
  ASSERT_NO_FATAL_FAILURE(StartServer());
  Client c(port());
  for (const char* target : {"/meta", "/meta-send"}) {
    SCOPED_TRACE(target);
    ASSERT_FALSE(c.Write(Head("HEAD", target)));
    beast::http::response_parser<beast::http::empty_body> p;
    p.skip(true);  // the answer to a HEAD request
    ASSERT_FALSE(c.ReadHeader(&p));
    EXPECT_EQ(p.get().result_int(), 200);
    EXPECT_EQ(p.get().find(beast::http::field::transfer_encoding), p.get().end());
    EXPECT_EQ(p.get().find(beast::http::field::content_length), p.get().end());
    EXPECT_TRUE(p.get().keep_alive());
    // Any byte of body would sit in front of the next answer and break it.
    std::string body = Pattern(500);
    ASSERT_FALSE(c.Write(PostWithLength("/sum", body)));
    StringResponse next;
    auto ec = c.Read(&next);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(next.body(), SumAnswer(body));
  }
  EXPECT_EQ(sums->calls, 2);

  ASSERT_FALSE(c.Write(Head("GET", "/nothing")));
  beast::http::response_parser<beast::http::empty_body> p;
  ASSERT_FALSE(c.ReadHeader(&p));
  EXPECT_EQ(p.get().result_int(), 204);
  EXPECT_EQ(p.get().find(beast::http::field::transfer_encoding), p.get().end());
  ASSERT_FALSE(c.Write(PostWithLength("/sum", "x")));
  StringResponse next;
  ASSERT_FALSE(c.Read(&next));
  EXPECT_EQ(next.body(), SumAnswer("x"));
}

void ExpectDroppedAnswer(const StringResponse& res) {
  EXPECT_EQ(res.result_int(), 500);
  EXPECT_EQ(res[beast::http::field::content_type], "application/json");
  auto json = nlohmann::json::parse(res.body(), nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(json.is_object()) << res.body();
  EXPECT_EQ(json.value("code", -1), static_cast<int>(StatusCode::kInternal));
  EXPECT_FALSE(json.value("message", "").empty());
  ASSERT_TRUE(json.contains("details"));
  EXPECT_EQ(json["details"], nlohmann::json::array());
  EXPECT_EQ(json.size(), 3u) << res.body();
}

TEST_F(ExchangeTest, AnExchangeDroppedWithoutAnAnswerGetsA500) {
  router_.AddStream("GET", "/drop", [](std::shared_ptr<Request>, std::shared_ptr<Exchange>) {});
  router_.AddStream("POST", "/drop-later", [](std::shared_ptr<Request>, std::shared_ptr<Exchange> ex) {
    // Reads a piece of the body later, then lets go of the exchange.
    auto timer = std::make_shared<asio::steady_timer>(ex->executor(), 30ms);
    timer->async_wait([timer, ex](beast::error_code) {
      ex->ReadBody([ex](Status, std::string_view, bool) {});
    });
  });
  ASSERT_NO_FATAL_FAILURE(StartServer());
  {
    Client c(port());
    ASSERT_FALSE(c.Write(Head("GET", "/drop")));
    StringResponse res;
    ASSERT_FALSE(c.Read(&res));
    ExpectDroppedAnswer(res);
  }
  {
    Client c(port());
    ASSERT_FALSE(c.Write(PostWithLength("/drop-later", Pattern(1000))));
    StringResponse res;
    ASSERT_FALSE(c.Read(&res));
    ExpectDroppedAnswer(res);
  }
}

TEST_F(ExchangeTest, RespondingBeforeTheBodyIsReadClosesTheConnectionAfterTheAnswer) {
  std::atomic<int> calls{0};
  router_.AddStream("POST", "/early", [&calls](std::shared_ptr<Request>, std::shared_ptr<Exchange> ex) {
    ++calls;
    Response r;
    r.status = 202;
    r.content_type = "text/plain";
    r.body = "early";
    ex->Respond(std::move(r));
  });
  ASSERT_NO_FATAL_FAILURE(StartServer());
  Client c(port());
  // Declares 100000 bytes but sends only the first few: the server must not wait for the rest.
  ASSERT_FALSE(c.Write(Head("POST", "/early", "Content-Length: 100000\r\n") + "0123456789"));
  StringResponse res;
  ASSERT_FALSE(c.Read(&res));
  EXPECT_EQ(res.result_int(), 202);
  EXPECT_EQ(res.body(), "early");
  EXPECT_FALSE(res.keep_alive());  // says "Connection: close"
  EXPECT_EQ(c.WaitForClose(), "closed");
  EXPECT_EQ(calls, 1);
}

// The kernel's largest TCP send buffer (tcp_wmem's third field), 4 MiB when it cannot be read.
uint64_t MaxSendBuffer() {
  std::ifstream f("/proc/sys/net/ipv4/tcp_wmem");
  uint64_t min = 0, def = 0, max = 0;
  if (f >> min >> def >> max && max > 0) return max;
  return 4 << 20;
}

// Sends 64 KiB pieces as long as WhenWritable says so.
struct FloodState {
  std::atomic<int> pieces{0};
  std::atomic<int> writable_false{0};
  std::atomic<bool> off_loop{false};
};

class Flood : public std::enable_shared_from_this<Flood> {
 public:
  static constexpr int kCap = 2000;  // 125 MiB: the test stops even if back-pressure never comes
  Flood(std::shared_ptr<Exchange> ex, std::shared_ptr<FloodState> st)
      : ex_(std::move(ex)), st_(std::move(st)), loop_(std::this_thread::get_id()), piece_(64 << 10, 'f') {}

  void Step() {
    if (std::this_thread::get_id() != loop_) st_->off_loop = true;
    if (st_->pieces >= kCap) return ex_->End(true);
    ex_->Send(piece_);
    ++st_->pieces;
    ex_->WhenWritable([self = shared_from_this()](bool ok) {
      if (std::this_thread::get_id() != self->loop_) self->st_->off_loop = true;
      if (!ok) {
        ++self->st_->writable_false;
        return;
      }
      asio::post(self->ex_->executor(), [self] { self->Step(); });
    });
  }

 private:
  std::shared_ptr<Exchange> ex_;
  std::shared_ptr<FloodState> st_;
  std::thread::id loop_;
  std::string piece_;
};

TEST_F(ExchangeTest, WhenWritableHoldsBackAProducerWhileTheClientDoesNotRead) {
  auto flood = std::make_shared<FloodState>();
  router_.AddStream("GET", "/flood", [flood](std::shared_ptr<Request>, std::shared_ptr<Exchange> ex) {
    Response head;
    head.content_type = "application/octet-stream";
    ex->StartStream(head);
    std::make_shared<Flood>(std::move(ex), flood)->Step();
  });
  ASSERT_NO_FATAL_FAILURE(StartServer());
  Client c(port(), /*receive_buffer=*/64 << 10);
  ASSERT_FALSE(c.Write(Head("GET", "/flood")));
  std::this_thread::sleep_for(300ms);
  int after_300ms = flood->pieces;
  std::this_thread::sleep_for(200ms);
  int after_500ms = flood->pieces;
  EXPECT_GE(after_300ms, 4) << "the producer never got going";
  // What can be out of the producer's hands: the server's socket send buffer (at most tcp_wmem's maximum),
  // the client's small receive buffer, and the few hundred KiB WhenWritable allows queued.
  int bound = std::min(200, static_cast<int>(((MaxSendBuffer() + (512 << 10) + (512 << 10)) >> 16) + 8));
  EXPECT_LT(after_300ms, bound) << "the producer was not held back";
  EXPECT_EQ(after_500ms, after_300ms) << "the producer kept going while nothing was read";
  EXPECT_EQ(flood->writable_false, 0);
  c.Close();  // with unread data: the server's write fails
  auto until = std::chrono::steady_clock::now() + 3s;
  while (flood->writable_false == 0 && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(flood->writable_false, 1) << "the waiting producer was not told the client is gone";
  EXPECT_EQ(flood->pieces, after_500ms);
  EXPECT_FALSE(flood->off_loop);
}

TEST_F(ExchangeTest, WhenWritableAfterTheClientWentAwayReportsFalse) {
  std::atomic<int> late_false{0};
  std::atomic<int> late_read_errors{0};
  std::shared_ptr<Exchange> kept;
  std::mutex kept_mu;
  router_.AddStream("GET", "/keep", [&](std::shared_ptr<Request>, std::shared_ptr<Exchange> ex) {
    std::lock_guard<std::mutex> l(kept_mu);
    kept = ex;
    Response head;
    ex->StartStream(head);
    // Far more than the socket buffers hold, so a write is still pending when the client goes away.
    ex->Send(std::string(16 << 20, 'k'));
  });
  ASSERT_NO_FATAL_FAILURE(StartServer());
  {
    Client c(port(), 64 << 10);
    ASSERT_FALSE(c.Write(Head("GET", "/keep")));
    auto until = std::chrono::steady_clock::now() + 3s;
    for (;;) {
      {
        std::lock_guard<std::mutex> l(kept_mu);
        if (kept) break;
      }
      ASSERT_LT(std::chrono::steady_clock::now(), until);
      std::this_thread::sleep_for(2ms);
    }
    std::this_thread::sleep_for(50ms);
    c.Close();
  }
  std::this_thread::sleep_for(100ms);  // the server's pending write fails on the reset
  std::shared_ptr<Exchange> ex;
  {
    std::lock_guard<std::mutex> l(kept_mu);
    ex = std::move(kept);
  }
  // Called later, on the exchange's executor: both report failure.
  asio::post(ex->executor(), [ex, &late_false, &late_read_errors] {
    ex->WhenWritable([&late_false](bool ok) {
      if (!ok) ++late_false;
    });
    ex->ReadBody([&late_read_errors](Status st, std::string_view, bool end) {
      if (!st.ok() && end) ++late_read_errors;
    });
  });
  auto until = std::chrono::steady_clock::now() + 3s;
  while ((late_false == 0 || late_read_errors == 0) && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(late_false, 1);
  EXPECT_EQ(late_read_errors, 1);
  // Drop our reference on the loop, where the exchange lives.
  std::atomic<bool> dropped{false};
  auto executor = ex->executor();
  asio::post(executor, [ex = std::move(ex), &dropped]() mutable {
    ex.reset();
    dropped = true;
  });
  until = std::chrono::steady_clock::now() + 3s;
  while (!dropped && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(2ms);
  EXPECT_TRUE(dropped);
}

TEST_F(ExchangeTest, LaterWorkRunsOnTheExchangeExecutor) {
  router_.AddStream("GET", "/timer", [](std::shared_ptr<Request>, std::shared_ptr<Exchange> ex) {
    auto loop = std::this_thread::get_id();
    auto timer = std::make_shared<asio::steady_timer>(ex->executor(), 50ms);
    timer->async_wait([timer, ex, loop](beast::error_code ec) {
      Response r;
      r.content_type = "text/plain";
      r.body = std::string(ec ? "timer-error" : "fired") + (std::this_thread::get_id() == loop ? " same" : " other");
      ex->Respond(std::move(r));
    });
  });
  router_.AddStream("GET", "/offloop", [this](std::shared_ptr<Request>, std::shared_ptr<Exchange> ex) {
    auto loop = std::this_thread::get_id();
    // Work elsewhere, then back to the exchange's executor to answer.
    std::lock_guard<std::mutex> l(threads_mu_);
    threads_.emplace_back([ex, loop] {
      std::this_thread::sleep_for(20ms);
      std::string computed = "worked on " + std::string(std::this_thread::get_id() == loop ? "loop" : "worker");
      asio::post(ex->executor(), [ex, loop, computed] {
        Response head;
        head.content_type = "text/plain";
        ex->StartStream(head);
        ex->Send(computed);
        ex->Send(std::this_thread::get_id() == loop ? ", answered on loop" : ", answered elsewhere");
        ex->End(true);
      });
    });
  });
  ASSERT_NO_FATAL_FAILURE(StartServer());
  Client c(port());
  auto start = std::chrono::steady_clock::now();
  ASSERT_FALSE(c.Write(Head("GET", "/timer")));
  StringResponse r1;
  ASSERT_FALSE(c.Read(&r1));
  EXPECT_EQ(r1.body(), "fired same");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 45ms);
  ASSERT_FALSE(c.Write(Head("GET", "/offloop")));
  StringResponse r2;
  ASSERT_FALSE(c.Read(&r2));
  EXPECT_EQ(r2.body(), "worked on worker, answered on loop");
  EXPECT_TRUE(r2.chunked());
}

TEST_F(ExchangeTest, ADeclaredBodyOverTheLimitGets413WithoutRunningTheHandler) {
  auto sums = std::make_shared<SumState>();
  AddSum(&router_, sums);
  ServerOptions opts;
  opts.stream_body_limit = 1024;
  ASSERT_NO_FATAL_FAILURE(StartServer(opts));
  {
    // At the limit: fine.
    Client c(port());
    std::string body = Pattern(1024);
    ASSERT_FALSE(c.Write(PostWithLength("/sum", body)));
    StringResponse res;
    ASSERT_FALSE(c.Read(&res));
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(res.body(), SumAnswer(body));
  }
  {
    Client c(port());
    ASSERT_FALSE(c.Write(Head("POST", "/sum", "Content-Length: 4096\r\n")));  // the body never needs to come
    StringResponse res;
    ASSERT_FALSE(c.Read(&res));
    EXPECT_EQ(res.result_int(), 413);
    auto json = nlohmann::json::parse(res.body(), nullptr, false);
    EXPECT_EQ(json.value("code", -1), static_cast<int>(StatusCode::kResourceExhausted)) << res.body();
    EXPECT_EQ(c.WaitForClose(), "closed");
  }
  EXPECT_EQ(sums->calls, 1);
  EXPECT_EQ(sums->errors, 0);
}

TEST_F(ExchangeTest, AChunkedBodyOverTheLimitFailsReadBodyAndGets413) {
  auto sums = std::make_shared<SumState>();
  AddSum(&router_, sums);
  ServerOptions opts;
  opts.stream_body_limit = 1024;
  ASSERT_NO_FATAL_FAILURE(StartServer(opts));
  {
    // At the limit: fine.
    Client c(port());
    std::string body = Pattern(1024);
    ASSERT_FALSE(c.Write(Head("POST", "/sum", "Transfer-Encoding: chunked\r\n") + Chunked(body, {500, 500})));
    StringResponse res;
    ASSERT_FALSE(c.Read(&res));
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(res.body(), SumAnswer(body));
  }
  {
    Client c(port());
    std::string body = Pattern(4096);
    ASSERT_FALSE(c.Write(Head("POST", "/sum", "Transfer-Encoding: chunked\r\n") + Chunked(body, {512, 512, 512})));
    StringResponse res;
    ASSERT_FALSE(c.Read(&res));
    EXPECT_EQ(res.result_int(), 413);
    EXPECT_FALSE(res.keep_alive());
    EXPECT_EQ(c.WaitForClose(), "closed");
  }
  EXPECT_EQ(sums->calls, 2);
  EXPECT_EQ(sums->errors, 1);
  EXPECT_EQ(sums->last_error_code, static_cast<int>(StatusCode::kResourceExhausted));
}

TEST_F(ExchangeTest, SendAfterEndDoesNothing) {
  auto sums = std::make_shared<SumState>();
  AddSum(&router_, sums, "GET");
  router_.AddStream("GET", "/after-end", [](std::shared_ptr<Request>, std::shared_ptr<Exchange> ex) {
    Response head;
    head.content_type = "text/plain";
    ex->StartStream(head);
    ex->Send("done");
    ex->End(true);
    ex->Send("garbage");  // the answer is complete: must not reach the client
  });
  ASSERT_NO_FATAL_FAILURE(StartServer());
  Client c(port());
  ASSERT_FALSE(c.Write(Head("GET", "/after-end")));
  StringResponse res;
  ASSERT_FALSE(c.Read(&res));
  EXPECT_EQ(res.body(), "done");
  ASSERT_FALSE(c.Write(Head("GET", "/sum")));
  StringResponse next;
  auto ec = c.Read(&next);
  ASSERT_FALSE(ec) << "the connection is out of step after the first answer: " << ec.message();
  EXPECT_EQ(next.body(), SumAnswer(""));
}

TEST_F(ExchangeTest, AnswerCallsAfterEndDoNothing) {
  auto sums = std::make_shared<SumState>();
  AddSum(&router_, sums, "GET");
  router_.AddStream("GET", "/after-end", [](std::shared_ptr<Request>, std::shared_ptr<Exchange> ex) {
    Response head;
    head.content_type = "text/plain";
    ex->StartStream(head);
    ex->Send("done");
    ex->End(true);
    // The answer is complete: none of these may change what the client gets.
    ex->StartStream(head);
    Response other;
    other.body = "second answer";
    ex->Respond(other);
    ex->End(false);
    ex->End(true);
  });
  ASSERT_NO_FATAL_FAILURE(StartServer());
  Client c(port());
  ASSERT_FALSE(c.Write(Head("GET", "/after-end")));
  StringResponse res;
  ASSERT_FALSE(c.Read(&res));
  EXPECT_EQ(res.body(), "done");
  ASSERT_FALSE(c.Write(Head("GET", "/sum")));
  StringResponse next;
  auto ec = c.Read(&next);
  ASSERT_FALSE(ec) << "the connection is out of step after the first answer: " << ec.message();
  EXPECT_EQ(next.body(), SumAnswer(""));
}

TEST_F(ExchangeTest, EndFalseOrDroppingMidAnswerCutsTheAnswerShort) {
  router_.AddStream("GET", "/fail", [](std::shared_ptr<Request>, std::shared_ptr<Exchange> ex) {
    Response head;
    ex->StartStream(head);
    ex->Send("partial");
    auto timer = std::make_shared<asio::steady_timer>(ex->executor(), 20ms);
    timer->async_wait([timer, ex](beast::error_code) { ex->End(false); });
  });
  router_.AddStream("GET", "/abandon", [](std::shared_ptr<Request>, std::shared_ptr<Exchange> ex) {
    Response head;
    ex->StartStream(head);
    ex->Send("partial");
  });
  ASSERT_NO_FATAL_FAILURE(StartServer());
  for (const char* target : {"/fail", "/abandon"}) {
    SCOPED_TRACE(target);
    Client c(port());
    ASSERT_FALSE(c.Write(Head("GET", target)));
    StringResponse res;
    auto ec = c.Read(&res);
    EXPECT_TRUE(ec) << "a cut-short answer read as complete: " << res.body();
    EXPECT_NE(ec, asio::error::timed_out) << "the connection was left hanging";
  }
}

TEST_F(ExchangeTest, AMalformedChunkedBodyFailsReadBodyAndClosesAfterTheAnswer) {
  auto sums = std::make_shared<SumState>();
  AddSum(&router_, sums);
  ASSERT_NO_FATAL_FAILURE(StartServer());
  Client c(port());
  ASSERT_FALSE(c.Write(Head("POST", "/sum", "Transfer-Encoding: chunked\r\n") + "5\r\nhello\r\nzz\r\n"));
  StringResponse res;
  ASSERT_FALSE(c.Read(&res));
  EXPECT_EQ(res.result_int(), 503);
  auto json = nlohmann::json::parse(res.body(), nullptr, false);
  EXPECT_EQ(json.value("code", -1), static_cast<int>(StatusCode::kUnavailable)) << res.body();
  EXPECT_EQ(c.WaitForClose(), "closed");
  EXPECT_EQ(sums->errors, 1);
  EXPECT_EQ(sums->last_error_code, static_cast<int>(StatusCode::kUnavailable));
}

TEST_F(ExchangeTest, AStalledBodyTimesOutAndReadBodyReportsUnavailable) {
  auto sums = std::make_shared<SumState>();
  AddSum(&router_, sums);
  ServerOptions opts;
  opts.read_timeout = 1s;
  ASSERT_NO_FATAL_FAILURE(StartServer(opts));
  Client c(port());
  auto start = std::chrono::steady_clock::now();
  ASSERT_FALSE(c.Write(Head("POST", "/sum", "Content-Length: 1000\r\n") + "only ten b"));
  // The connection times out mid-body: nothing can be answered on it any more.
  EXPECT_EQ(c.WaitForClose(4s), "closed");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3500ms);
  auto until = std::chrono::steady_clock::now() + 2s;
  while (sums->errors == 0 && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(sums->errors, 1);
  EXPECT_EQ(sums->last_error_code, static_cast<int>(StatusCode::kUnavailable));
}

}  // namespace
}  // namespace ignite::http
