// Exchange: the connection side of one request, for handlers that stream both ways on the connection's own
// event loop (Router::AddStream, the per-app host handler): the gateway's hot path. The request body is not
// read before the handler runs; the handler pulls it piece by piece and writes its answer as it goes, so
// neither body is ever held whole and no other thread is involved.
//
// Every method must be called on executor(), and every callback runs there. Methods called after the answer
// is complete, or after the client went away, do nothing (callbacks then report failure). The handler may
// keep the Exchange as long as it likes; the connection moves on to its next request only once the answer is
// complete.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "common/result.h"
#include "http/types.h"

namespace ignite::http {

class Exchange {
 public:
  virtual ~Exchange() = default;
  virtual boost::asio::any_io_executor executor() const = 0;

  // The request body's length when the client declared one (Content-Length), nullopt when it is chunked.
  virtual std::optional<uint64_t> body_length() const = 0;
  // Reads the next piece of the request body. `data` stays valid until the next ReadBody call; `end` is true
  // when nothing follows it (data may be empty). A client that sends `Expect: 100-continue` is told to go
  // ahead on the first call. Errors: ResourceExhausted past the body limit, Unavailable when the client went
  // away, timed out or sent a malformed body (the connection is then closed after the answer).
  using BodyCallback = std::function<void(Status, std::string_view data, bool end)>;
  virtual void ReadBody(BodyCallback cb) = 0;

  // A whole answer at once (errors, short answers). `stream` must be unset.
  virtual void Respond(Response response) = 0;
  // Starts a streamed answer with the head of `head` (status, content type, headers; body ignored). Its body
  // is sent chunked, or not at all when `bodiless` (HEAD requests, 204 and 304 answers).
  virtual void StartStream(const Response& head, bool bodiless = false) = 0;
  // Queues a piece of the body (copied). Writes are coalesced: what is queued in one turn of the event loop
  // goes out in one write.
  virtual void Send(std::string_view data) = 0;
  // Ends the answer: with ok the body is terminated properly; otherwise the connection is closed so that
  // the client sees a cut-short answer.
  virtual void End(bool ok) = 0;
  // Calls cb(true) when fewer than a few hundred KiB are queued (at once, if so already), cb(false) once the
  // client is gone. Producers wait on it between pieces, so a slow client slows them instead of growing memory.
  virtual void WhenWritable(std::function<void(bool ok)> cb) = 0;
};

// A handler that streams. It owns `exchange` for as long as it needs it.
using StreamHandler = std::function<void(std::shared_ptr<Request> request, std::shared_ptr<Exchange> exchange)>;

}  // namespace ignite::http
