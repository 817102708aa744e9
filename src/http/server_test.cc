#include "http/server.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

#include <atomic>
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

// A buffered route whose body limit comes from its BodyLimitFn: 100 bytes for /limited/small, an error for
// /limited/denied (answered later from another thread, as the API's limits are), and 8 KiB otherwise.
class BodyLimitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add(
        "POST", "/limited/{x}",
        [this](std::shared_ptr<Request> req, Responder respond) {
          ++calls_;
          Response r;
          r.body = std::to_string(req->raw.body().size());
          respond(std::move(r));
        },
        "Limited",
        [](const Request& head, std::function<void(Result<BodyLimit>)> done) {
          std::string x = head.params.at("x");
          std::string auth = head.Header("authorization");
          std::thread([x, auth, done = std::move(done)] {
            if (x == "denied") return done(PermissionDenied("not you (" + auth + ")"));
            done(BodyLimit{x == "small" ? 100u : 8192u, "bodies of " + x + " stop at 100 bytes"});
          }).detach();
        });
    ServerOptions opts;
    opts.threads = 1;
    opts.body_limit = 1024;
    server_ = std::make_unique<Server>(opts, &router_);
    ASSERT_TRUE(server_->Start().ok());
  }

  // Sends `head` (and `body`), returns everything the server sent until it closed or `first_only`.
  std::string Exchange(const std::string& head, const std::string& body = "", bool first_only = false) {
    asio::io_context io;
    asio::ip::tcp::socket s(io);
    s.connect({asio::ip::make_address("127.0.0.1"), server_->port()});
    std::string got;
    char buf[4096];
    boost::system::error_code ec;
    if (first_only) {
      asio::write(s, asio::buffer(head));
      size_t n = s.read_some(asio::buffer(buf), ec);
      return std::string(buf, n);
    }
    // In one go, so body bytes are there (unread) when the server answers early.
    asio::write(s, asio::buffer(head + body), ec);
    for (;;) {
      size_t n = s.read_some(asio::buffer(buf), ec);
      got.append(buf, n);
      if (ec) break;
    }
    EXPECT_EQ(ec, asio::error::eof) << "the answer must end cleanly, not with " << ec.message();
    return got;
  }

  std::atomic<int> calls_{0};
  Router router_;
  std::unique_ptr<Server> server_;
};

TEST_F(BodyLimitTest, ADeclaredLengthOverTheRoutesLimitGets413BeforeContinue) {
  std::string first = Exchange(
      "POST /limited/small HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\nExpect: 100-continue\r\n\r\n", "", true);
  EXPECT_EQ(first.rfind("HTTP/1.1 413", 0), 0u) << first;  // not "100 Continue" first
  EXPECT_NE(first.find("bodies of small stop at 100 bytes"), std::string::npos) << first;
  EXPECT_NE(first.find("\"code\":8"), std::string::npos) << first;
  EXPECT_EQ(calls_, 0);
}

TEST_F(BodyLimitTest, AtTheLimitTheHandlerRuns) {
  std::string got = Exchange("POST /limited/small HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nConnection: "
                             "close\r\n\r\n",
                             std::string(100, 'a'));
  EXPECT_EQ(got.rfind("HTTP/1.1 200", 0), 0u) << got;
  EXPECT_EQ(calls_, 1);
}

TEST_F(BodyLimitTest, AChunkedBodyOverTheLimitGets413) {
  std::string chunk = "40\r\n" + std::string(64, 'a') + "\r\n";
  std::string got = Exchange("POST /limited/small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
                             chunk + chunk + "0\r\n\r\n");
  EXPECT_EQ(got.rfind("HTTP/1.1 413", 0), 0u) << got;
  EXPECT_NE(got.find("bodies of small stop at 100 bytes"), std::string::npos) << got;
  EXPECT_EQ(calls_, 0);
}

TEST_F(BodyLimitTest, TheLimitsErrorIsTheAnswer) {
  std::string got = Exchange(
      "POST /limited/denied HTTP/1.1\r\nHost: x\r\nAuthorization: t\r\nContent-Length: 5\r\n\r\n", "hello");
  EXPECT_EQ(got.rfind("HTTP/1.1 403", 0), 0u) << got;
  EXPECT_NE(got.find("not you (t)"), std::string::npos) << got;
  EXPECT_EQ(calls_, 0);
}

TEST_F(BodyLimitTest, AnEarlyAnswerSurvivesAnUploadThatGoesOn) {
  // Like curl: upload piece by piece while the answer comes, then read it.
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), server_->port()});
  asio::write(s, asio::buffer(std::string("POST /limited/small HTTP/1.1\r\nHost: x\r\nContent-Length: 8388608\r\n\r\n")));
  std::string piece(64 << 10, 'a');
  boost::system::error_code ec;
  for (int i = 0; i < 128 && !ec; ++i) {
    asio::write(s, asio::buffer(piece), ec);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  std::string got;
  char buf[4096];
  for (;;) {
    size_t n = s.read_some(asio::buffer(buf), ec);
    got.append(buf, n);
    if (ec) break;
  }
  EXPECT_EQ(got.rfind("HTTP/1.1 413", 0), 0u) << ec.message() << " " << got.substr(0, 200);
}

TEST_F(BodyLimitTest, AnEarlyAnswerSurvivesTheRestOfALargeUpload) {
  // The client does not wait for 100 Continue and sends 8 MiB the server will not read: the 413 must still
  // arrive whole (a close with unread data would reset the connection and lose it).
  std::string got = Exchange("POST /limited/small HTTP/1.1\r\nHost: x\r\nContent-Length: 8388608\r\n\r\n",
                             std::string(8 << 20, 'a'));
  EXPECT_EQ(got.rfind("HTTP/1.1 413", 0), 0u) << got.substr(0, 200);
  EXPECT_NE(got.find("bodies of small stop at 100 bytes"), std::string::npos);
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
