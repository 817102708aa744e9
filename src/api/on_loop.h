// Helpers for handlers that run on a connection's event loop (http::Exchange): the request body as a
// gateway::BodySource, and authentication that leaves the loop only when the token is not cached.
#pragma once

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <functional>
#include <memory>
#include <string>

#include "api/auth.h"
#include "gateway/invoker.h"
#include "http/exchange.h"

namespace ignite::api {

class ExchangeBody : public gateway::BodySource {
 public:
  explicit ExchangeBody(std::shared_ptr<http::Exchange> exchange) : exchange_(std::move(exchange)) {}
  std::optional<uint64_t> length() const override { return exchange_->body_length(); }
  void Read(std::function<void(Status, std::string_view, bool)> cb) override { exchange_->ReadBody(std::move(cb)); }

 private:
  std::shared_ptr<http::Exchange> exchange_;
};

// Calls `then` on `executor` with the caller's identity: at once for a cached token, else after the store
// lookup ran on `pool`.
inline void AuthenticateOnLoop(Authenticator* auth, boost::asio::thread_pool* pool,
                               boost::asio::any_io_executor executor, std::string header,
                               std::function<void(Result<Principal>)> then) {
  if (auto fast = auth->AuthenticateFast(header)) return then(std::move(*fast));
  boost::asio::post(*pool, [auth, executor, header = std::move(header), then = std::move(then)]() mutable {
    auto p = std::make_shared<Result<Principal>>(auth->Authenticate(header));
    boost::asio::post(executor, [p, then = std::move(then)] { then(std::move(*p)); });
  });
}

}  // namespace ignite::api
