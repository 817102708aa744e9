#include "http/server.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

#include <thread>

namespace ignite::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;

beast::http::response<beast::http::string_body> Call(uint16_t port, beast::http::verb verb, std::string target,
                                                      std::string body = "") {
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), port});
  beast::http::request<beast::http::string_body> req{verb, target, 11};
  req.set(beast::http::field::host, "localhost");
  req.body() = std::move(body);
  req.prepare_payload();
  beast::http::write(s, req);
  beast::flat_buffer buf;
  beast::http::response<beast::http::string_body> res;
  beast::http::read(s, buf, res);
  return res;
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add("POST", "/echo/{x}", [](std::shared_ptr<Request> req, Responder respond) {
      Response r;
      r.content_type = "text/plain";
      r.body = req->params["x"] + ":" + req->raw.body() + ":" + req->query["q"];
      respond(std::move(r));
    });
    router_.Add("GET", "/later", [](std::shared_ptr<Request>, Responder respond) {
      // Answer from another thread, as blocking handlers do.
      std::thread([respond] {
        Response r;
        r.body = "late";
        respond(std::move(r));
      }).detach();
    });
    ServerOptions opts;
    opts.threads = 2;
    opts.body_limit = 1024;
    server_ = std::make_unique<Server>(opts, &router_);
    ASSERT_TRUE(server_->Start().ok());
  }
  Router router_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, RoutesAndAnswers) {
  auto res = Call(server_->port(), beast::http::verb::post, "/echo/a%20b?q=1", "body");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "a b:body:1");
  EXPECT_EQ(Call(server_->port(), beast::http::verb::get, "/later").body(), "late");
}

TEST_F(ServerTest, UnknownRoutesAndMethodsGetErrorBodies) {
  auto res = Call(server_->port(), beast::http::verb::get, "/nope");
  EXPECT_EQ(res.result_int(), 404);
  EXPECT_NE(res.body().find("\"code\":5"), std::string::npos);
  res = Call(server_->port(), beast::http::verb::get, "/echo/x");
  EXPECT_EQ(res.result_int(), 405);
}

TEST_F(ServerTest, RejectsOversizedBodies) {
  auto res = Call(server_->port(), beast::http::verb::post, "/echo/x", std::string(4096, 'a'));
  EXPECT_EQ(res.result_int(), 413);
}

TEST(SlowClientTest, ASilentConnectionIsClosedAfterTheHeaderTimeout) {
  Router router;
  ServerOptions opts;
  opts.threads = 1;
  opts.header_timeout = std::chrono::seconds(1);
  Server server(opts, &router);
  ASSERT_TRUE(server.Start().ok());
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), server.port()});
  asio::write(s, asio::buffer(std::string("GET / HTTP/1.1\r\nHost: x\r\n")));  // never finishes the header
  auto start = std::chrono::steady_clock::now();
  char buf[16];
  boost::system::error_code ec;
  s.read_some(asio::buffer(buf), ec);  // returns when the server closes the connection
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(ErrorResponseTest, HasDecidedShape) {
  auto r = ErrorResponse(NotFound("app org/x not found"));
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.body, R"({"code":5,"details":[],"message":"app org/x not found"})");
}

}  // namespace
}  // namespace ignite::http

namespace ignite::http {
namespace {

TEST(StreamedResponseTest, SendsChunksAsTheyAreProduced) {
  Router router;
  router.Add("GET", "/stream", [](std::shared_ptr<Request>, Responder respond) {
    auto body = std::make_shared<BodyStream>(16);
    Response r;
    r.content_type = "application/x-ndjson";
    r.stream = body;
    respond(std::move(r));
    std::thread([body] {
      for (int i = 0; i < 50; ++i) {
        if (!body->Push("{\"n\":" + std::to_string(i) + "}\n")) return;
      }
      body->Close();
    }).detach();
  });
  router.Add("GET", "/plain", [](std::shared_ptr<Request>, Responder respond) {
    Response r;
    r.body = "after";
    respond(std::move(r));
  });
  ServerOptions opts;
  opts.threads = 1;
  Server server(opts, &router);
  ASSERT_TRUE(server.Start().ok());

  asio::io_context io;
  asio::ip::tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), server.port()});
  beast::flat_buffer buf;
  for (const char* target : {"/stream", "/plain"}) {
    beast::http::request<beast::http::string_body> req{beast::http::verb::get, target, 11};
    req.set(beast::http::field::host, "localhost");
    beast::http::write(s, req);
    beast::http::response<beast::http::string_body> res;
    beast::http::read(s, buf, res);
    if (std::string(target) == "/stream") {
      EXPECT_TRUE(res.chunked());
      std::string want;
      for (int i = 0; i < 50; ++i) want += "{\"n\":" + std::to_string(i) + "}\n";
      EXPECT_EQ(res.body(), want);
    } else {
      // The connection stays usable after a streamed response.
      EXPECT_EQ(res.body(), "after");
    }
  }
}

TEST(BodyStreamTest, AbortUnblocksTheProducer) {
  BodyStream b(4);
  ASSERT_TRUE(b.Push("12345"));  // over the limit now; the next push waits
  std::thread producer([&] { EXPECT_FALSE(b.Push("x")); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  b.Abort();
  producer.join();
  EXPECT_TRUE(b.aborted());
}

}  // namespace
}  // namespace ignite::http
