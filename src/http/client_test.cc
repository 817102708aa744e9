#include "http/client.h"

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

namespace ignite::http {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// A tiny Beast server on 127.0.0.1:<ephemeral> running in its own thread. It stops by itself after 30 s at
// the latest, and when destroyed.
class TestServer {
 public:
  TestServer() : acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(ioc_, AcceptLoop(), [](std::exception_ptr) {});
    thread_ = std::thread([this] { ioc_.run_for(30s); });
  }
  ~TestServer() {
    ioc_.stop();
    thread_.join();
  }

  Endpoint endpoint() const { return Endpoint{"127.0.0.1", port_}; }

  // Set by the test when its chunk callback saw the first piece of /chunks.
  std::atomic<bool> client_got_first{false};
  // Set by the server: the client had the first piece before the second was sent.
  std::atomic<bool> streamed_incrementally{false};

 private:
  asio::awaitable<void> AcceptLoop() {
    for (;;) {
      tcp::socket socket = co_await acceptor_.async_accept(asio::use_awaitable);
      asio::co_spawn(ioc_, Serve(std::move(socket)), [](std::exception_ptr) {});
    }
  }

  asio::awaitable<void> Serve(tcp::socket socket) {
    boost::beast::flat_buffer buffer;
    bhttp::request<bhttp::string_body> req;
    co_await bhttp::async_read(socket, buffer, req, asio::use_awaitable);
    const std::string target(req.target());

    if (target == "/chunks") {
      bhttp::response<bhttp::empty_body> res{bhttp::status::ok, 11};
      res.chunked(true);
      bhttp::response_serializer<bhttp::empty_body> sr{res};
      co_await bhttp::async_write_header(socket, sr, asio::use_awaitable);
      co_await asio::async_write(socket, bhttp::make_chunk(asio::buffer(std::string_view("first;"))),
                                 asio::use_awaitable);
      asio::steady_timer timer(ioc_);
      for (int i = 0; i < 500 && !client_got_first; ++i) {
        timer.expires_after(10ms);
        co_await timer.async_wait(asio::use_awaitable);
      }
      streamed_incrementally = client_got_first.load();
      co_await asio::async_write(socket, bhttp::make_chunk(asio::buffer(std::string_view("second"))),
                                 asio::use_awaitable);
      co_await asio::async_write(socket, bhttp::make_chunk_last(), asio::use_awaitable);
    } else if (target == "/garbage") {
      co_await asio::async_write(socket, asio::buffer(std::string_view("NOT HTTP AT ALL\r\n\r\n")),
                                 asio::use_awaitable);
    } else if (target == "/close") {
      // Hang up without answering.
    } else {
      bhttp::response<bhttp::string_body> res{bhttp::status::ok, 11};
      if (target == "/hello") {
        res.set(bhttp::field::content_type, "text/plain");
        res.set("X-Test", "yes");
        res.body() = "hello";
      } else if (target == "/echo?x=1") {
        res.set("x-method", std::string(req.method_string()));
        res.set("x-auth", std::string(req[bhttp::field::authorization]));
        res.set("x-content-type", std::string(req[bhttp::field::content_type]));
        res.body() = req.body();
      } else if (target == "/big") {
        res.body().resize(1 << 20);
        for (size_t i = 0; i < res.body().size(); ++i) res.body()[i] = static_cast<char>(i % 251);
      } else if (target == "/slow") {
        asio::steady_timer timer(ioc_);
        timer.expires_after(3s);
        co_await timer.async_wait(asio::use_awaitable);
        res.body() = "late";
      } else {
        res.result(bhttp::status::not_found);
        res.body() = R"({"code":5,"message":"no such route"})";
      }
      res.prepare_payload();
      co_await bhttp::async_write(socket, res, asio::use_awaitable);
    }
    boost::system::error_code ec;
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }

  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::thread thread_;
};

TEST(ParseEndpoint, AcceptsTheDocumentedForms) {
  auto a = ParseEndpoint("127.0.0.1:7070");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 7070);

  auto b = ParseEndpoint("http://localhost:8080/");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->host, "localhost");
  EXPECT_EQ(b->port, 8080);

  auto c = ParseEndpoint("localhost");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->port, 80);

  auto d = ParseEndpoint("[::1]:9000");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->host, "::1");
  EXPECT_EQ(d->ToString(), "[::1]:9000");
}

TEST(ParseEndpoint, RejectsTlsAndGarbage) {
  auto tls = ParseEndpoint("https://api.example.com");
  ASSERT_FALSE(tls.ok());
  EXPECT_EQ(tls.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(tls.status().message().find("use http://"), std::string::npos);

  for (const char* bad : {"", "ftp://x:1", "http://x:1/path", "x:0", "x:70000", "x:abc", "http://u@x:1"}) {
    auto r = ParseEndpoint(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(Request, GetsStatusHeadersAndBody) {
  TestServer server;
  auto r = Request(server.endpoint(), Verb::get, "/hello", {}, "", 5s);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello");
  EXPECT_EQ(r->Header("x-test"), "yes");
  EXPECT_EQ(r->Header("CONTENT-TYPE"), "text/plain");
  EXPECT_EQ(r->Header("missing"), "");
}

TEST(Request, SendsMethodHeadersAndBody) {
  TestServer server;
  std::string body("a\0b", 3);
  auto r = Request(server.endpoint(), Verb::post, "/echo?x=1",
                   {{"Authorization", "Bearer tok"}, {"Content-Type", "application/octet-stream"}}, body, 5s);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, body);
  EXPECT_EQ(r->Header("x-method"), "POST");
  EXPECT_EQ(r->Header("x-auth"), "Bearer tok");
  EXPECT_EQ(r->Header("x-content-type"), "application/octet-stream");
}

TEST(Request, NonSuccessStatusIsNotAnError) {
  TestServer server;
  auto r = Request(server.endpoint(), Verb::get, "/nope", {}, "", 5s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->body, R"({"code":5,"message":"no such route"})");
}

TEST(Request, ReadsLargeBodies) {
  TestServer server;
  auto r = Request(server.endpoint(), Verb::get, "/big", {}, "", 5s);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->body.size(), size_t{1} << 20);
  EXPECT_EQ(r->body[1000], static_cast<char>(1000 % 251));
}

TEST(RequestStreaming, DeliversChunksAsTheyArrive) {
  TestServer server;
  std::string seen;
  int heads = 0;
  StreamHandlers handlers;
  handlers.on_head = [&](const Response& head) {
    ++heads;
    EXPECT_EQ(head.status, 200);
    EXPECT_TRUE(head.body.empty());
  };
  handlers.on_body_chunk = [&](std::string_view chunk) {
    seen.append(chunk);
    if (seen.find("first;") != std::string::npos) server.client_got_first = true;
  };
  auto r = RequestStreaming(server.endpoint(), Verb::get, "/chunks", {}, "", 10s, handlers);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(heads, 1);
  EXPECT_EQ(seen, "first;second");
  EXPECT_TRUE(r->body.empty());
  EXPECT_TRUE(server.streamed_incrementally) << "the first chunk was not delivered before the second was sent";
}

TEST(Request, TimeoutIsDeadlineExceeded) {
  TestServer server;
  auto start = std::chrono::steady_clock::now();
  auto r = Request(server.endpoint(), Verb::get, "/slow", {}, "", 200ms);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded) << r.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST(Request, RefusedConnectionIsUnavailable) {
  uint16_t port;
  {
    asio::io_context ioc;
    tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = acceptor.local_endpoint().port();
  }  // closed: nothing listens there now
  auto r = Request(Endpoint{"127.0.0.1", port}, Verb::get, "/", {}, "", 5s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("cannot reach 127.0.0.1:" + std::to_string(port)), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("refused"), std::string::npos) << r.status().message();
}

TEST(Request, HangUpIsUnavailable) {
  TestServer server;
  auto r = Request(server.endpoint(), Verb::get, "/close", {}, "", 5s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
}

TEST(Request, GarbageIsInternal) {
  TestServer server;
  auto r = Request(server.endpoint(), Verb::get, "/garbage", {}, "", 5s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal) << r.status().ToString();
}

}  // namespace
}  // namespace ignite::http
