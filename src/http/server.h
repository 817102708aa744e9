// Server: the platform's HTTP/1.1 server on Boost.Beast.
//
// One event loop per worker thread (Envoy-style): each worker owns an io_context and its own acceptor on the
// same address (SO_REUSEPORT), so a connection lives its whole life on one thread and needs no locks. Handlers
// run on the worker's thread and must not block it; long work goes to a separate pool and answers through the
// Responder, which hops back to the connection's thread.
#pragma once

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "http/router.h"

namespace ignite::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: pick a free port (see Server::port()).
  int threads = 2;
  // Larger request bodies get 413: body_limit for buffered routes without a BodyLimitFn of their own,
  // stream_body_limit for stream routes (whose handlers enforce their own limits below it, see
  // exchange.h). A route's BodyLimitFn may allow up to the larger of the two.
  uint64_t body_limit = 256ull << 20;
  uint64_t stream_body_limit = 1024ull << 20;
  uint32_t header_limit = 64 << 10;
  // A new connection must send its request header within header_timeout, then the body within
  // read_timeout; answers must be taken at least one chunk per read_timeout. Slow clients cannot hold
  // connections forever, and no thread waits on them.
  std::chrono::seconds header_timeout{10};
  std::chrono::seconds read_timeout{60};
  std::chrono::seconds idle_timeout{75};  // Keep-alive connections idle this long are closed.
};

class Server {
 public:
  // The router must outlive the server.
  Server(ServerOptions options, const Router* router);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds, listens and starts the worker threads. Unavailable if the address cannot be bound.
  Status Start();
  // Stops accepting, lets requests already being handled finish (their answers fully written) for up to
  // `grace`, then closes every connection and joins the workers. Idempotent.
  void Stop(std::chrono::milliseconds grace = std::chrono::milliseconds(0));
  uint16_t port() const { return port_; }

 private:
  struct Worker;
  ServerOptions options_;
  const Router* router_;
  uint16_t port_ = 0;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopped_{false};
  // Requests dispatched whose answer is not yet written, across all workers (for draining).
  std::shared_ptr<std::atomic<int>> busy_ = std::make_shared<std::atomic<int>>(0);
};

// An error response with the decided body {"code": n, "message": "...", "details": []}.
Response ErrorResponse(const Status& status);

}  // namespace ignite::http
