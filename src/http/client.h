// A small synchronous HTTP/1.1 client (Boost.Beast over TCP): one request per connection, a deadline for the
// whole exchange, and a streaming variant that hands body bytes to the caller as they arrive.
//
// Plain http only: an https:// endpoint is Unimplemented. Failures come back as Status:
//   - the endpoint cannot be resolved or connected to, or the connection breaks mid-exchange -> kUnavailable
//     ("cannot reach 127.0.0.1:7070: Connection refused");
//   - the deadline passes before the response is complete -> kDeadlineExceeded;
//   - the peer sends something that is not HTTP -> kInternal.
// Non-2xx statuses are not errors here: they are returned in Response::status for the caller to interpret.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/beast/http/verb.hpp>

#include "common/result.h"
#include "common/status.h"

namespace ignite::http {

using Verb = boost::beast::http::verb;

// Where a server listens. `host` is a name or an IP literal (IPv6 without brackets).
struct Endpoint {
  std::string host;
  uint16_t port = 80;
  // "127.0.0.1:7070", "[::1]:7070".
  std::string ToString() const;
};

// Accepts "host:port", "host" (port 80), "http://host[:port][/]" and bracketed IPv6 ("[::1]:7070").
// "https://..." -> Unimplemented ("TLS endpoints are not supported yet; use http://"); anything else
// (other schemes, a path, a bad port, empty text) -> InvalidArgument naming the accepted forms.
Result<Endpoint> ParseEndpoint(std::string_view text);

// Ordered header list; names compare case-insensitively.
using Headers = std::vector<std::pair<std::string, std::string>>;

struct Response {
  int status = 0;
  Headers headers;
  // Empty when the body was delivered through StreamHandlers::on_body_chunk.
  std::string body;

  // Value of the first header named `name` (case-insensitive), or "" if absent.
  std::string_view Header(std::string_view name) const;
};

struct StreamHandlers {
  // Called once with status and headers (body empty) before any body byte; optional.
  std::function<void(const Response& head)> on_head;
  // Called with each piece of (de-chunked) body as it arrives, in order; pieces have no size guarantee.
  std::function<void(std::string_view chunk)> on_body_chunk;
};

// Sends one request and reads the whole response. `target` is the path plus query ("/v1/x?limit=2").
// Host, Content-Length and Connection are set by the client; `headers` are added as given. `timeout` bounds
// the whole exchange (connect, send, receive); zero means no deadline.
Result<Response> Request(const Endpoint& endpoint, Verb verb, std::string_view target, const Headers& headers,
                         std::string_view body, std::chrono::milliseconds timeout);

// As Request, but the body goes to `handlers.on_body_chunk` as it arrives (Response::body stays empty).
// Exceptions thrown by the handlers propagate to the caller.
Result<Response> RequestStreaming(const Endpoint& endpoint, Verb verb, std::string_view target,
                                  const Headers& headers, std::string_view body,
                                  std::chrono::milliseconds timeout, const StreamHandlers& handlers);

}  // namespace ignite::http
