#include "http/client.h"

#include <exception>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <fmt/format.h>

namespace ignite::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

Status BadEndpoint(std::string_view text, std::string_view why) {
  return InvalidArgument(fmt::format(
      "invalid endpoint \"{}\": {}; write it as host:port or http://host:port (e.g. http://127.0.0.1:7070)", text,
      why));
}

// Everything one exchange needs, shared between the coroutine and the synchronous caller.
struct Exchange {
  const Endpoint* endpoint = nullptr;
  Verb verb = Verb::get;
  std::string_view target;
  const Headers* headers = nullptr;
  std::string_view body;
  std::chrono::milliseconds timeout{0};
  const StreamHandlers* handlers = nullptr;
  // Outputs.
  Response response;
  Status status;
};

Status ErrorFor(const Exchange& ex, const beast::error_code& ec, std::string_view stage) {
  std::string peer = ex.endpoint->ToString();
  if (ec == beast::error::timeout) {
    return DeadlineExceeded(fmt::format("no complete answer from {} within {} ms ({})", peer,
                                        ex.timeout.count(), stage));
  }
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_version).category() &&
      ec != bhttp::error::end_of_stream &&
      ec != bhttp::error::partial_message) {
    return Internal(fmt::format("{} sent an invalid HTTP response ({}): {}", peer, stage, ec.message()));
  }
  if (stage == "connect" || stage == "resolve") {
    return Unavailable(fmt::format("cannot reach {}: {}", peer, ec.message()));
  }
  return Unavailable(fmt::format("connection to {} failed while {}: {}", peer, stage, ec.message()));
}

asio::awaitable<void> RunExchange(Exchange& ex) {
  auto executor = co_await asio::this_coro::executor;
  beast::error_code ec;
  auto redirect = asio::redirect_error(asio::use_awaitable, ec);

  tcp::resolver resolver(executor);
  auto results = co_await resolver.async_resolve(ex.endpoint->host, std::to_string(ex.endpoint->port), redirect);
  if (ec) {
    ex.status = ErrorFor(ex, ec, "resolve");
    co_return;
  }

  beast::tcp_stream stream(executor);
  const bool has_deadline = ex.timeout.count() > 0;
  const auto deadline = std::chrono::steady_clock::now() + ex.timeout;
  auto arm = [&] {
    if (has_deadline) stream.expires_at(deadline);
  };

  arm();
  co_await stream.async_connect(results, redirect);
  if (ec) {
    ex.status = ErrorFor(ex, ec, "connect");
    co_return;
  }
  stream.socket().set_option(tcp::no_delay(true), ec);
  ec = {};

  bhttp::request<bhttp::string_body> req{ex.verb, std::string(ex.target), 11};
  req.set(bhttp::field::host, ex.endpoint->ToString());
  for (const auto& [name, value] : *ex.headers) req.insert(name, value);
  if (req.find(bhttp::field::user_agent) == req.end()) req.set(bhttp::field::user_agent, "ignite-http-client/1");
  req.body() = std::string(ex.body);
  req.keep_alive(false);
  req.prepare_payload();

  arm();
  co_await bhttp::async_write(stream, req, redirect);
  if (ec) {
    ex.status = ErrorFor(ex, ec, "sending the request");
    co_return;
  }

  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::buffer_body> parser;
  parser.body_limit(boost::none);
  arm();
  co_await bhttp::async_read_header(stream, buffer, parser, redirect);
  if (ec) {
    ex.status = ErrorFor(ex, ec, "reading the response headers");
    co_return;
  }
  ex.response.status = static_cast<int>(parser.get().result_int());
  for (const auto& field : parser.get()) {
    ex.response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  if (ex.handlers->on_head) ex.handlers->on_head(ex.response);

  char chunk[64 * 1024];
  while (!parser.is_done()) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof(chunk);
    arm();
    co_await bhttp::async_read_some(stream, buffer, parser, redirect);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) {
      ex.status = ErrorFor(ex, ec, "reading the response body");
      co_return;
    }
    size_t got = sizeof(chunk) - parser.get().body().size;
    if (got > 0 && ex.handlers->on_body_chunk) ex.handlers->on_body_chunk(std::string_view(chunk, got));
  }
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  ex.status = OkStatus();
}

Result<Response> Run(Exchange& ex) {
  asio::io_context ioc(1);
  std::exception_ptr failure;
  bool finished = false;
  asio::co_spawn(ioc, RunExchange(ex), [&](std::exception_ptr e) {
    failure = e;
    finished = true;
  });
  ioc.run();
  if (failure) std::rethrow_exception(failure);
  if (!finished) return Internal("HTTP exchange did not complete");
  if (!ex.status.ok()) return ex.status;
  return std::move(ex.response);
}

}  // namespace

std::string Endpoint::ToString() const {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

Result<Endpoint> ParseEndpoint(std::string_view text) {
  if (text.empty()) return BadEndpoint(text, "it is empty");
  std::string full;
  size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    full = "http://" + std::string(text);
  } else {
    std::string_view scheme = text.substr(0, scheme_end);
    if (EqualsIgnoreCase(scheme, "https")) {
      return Unimplemented(
          fmt::format("endpoint \"{}\": TLS endpoints are not supported yet; use http://", text));
    }
    if (!EqualsIgnoreCase(scheme, "http")) return BadEndpoint(text, "only the http:// scheme is supported");
    full = std::string(text);
  }
  auto parsed = boost::urls::parse_uri(full);
  if (!parsed) return BadEndpoint(text, parsed.error().message());
  const boost::urls::url_view& url = *parsed;
  if (url.has_userinfo() || url.has_query() || url.has_fragment()) {
    return BadEndpoint(text, "credentials, query and fragment are not allowed");
  }
  if (!url.path().empty() && url.path() != "/") return BadEndpoint(text, "a path is not allowed");
  Endpoint ep;
  ep.host = std::string(url.host_address());
  if (ep.host.empty()) return BadEndpoint(text, "the host is missing");
  if (url.has_port()) {
    std::string_view port = url.port();
    if (port.empty() || port.size() > 5) return BadEndpoint(text, "the port must be a number from 1 to 65535");
    unsigned value = 0;
    for (char c : port) {
      if (c < '0' || c > '9') return BadEndpoint(text, "the port must be a number from 1 to 65535");
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) return BadEndpoint(text, "the port must be a number from 1 to 65535");
    ep.port = static_cast<uint16_t>(value);
  }
  return ep;
}

std::string_view Response::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return {};
}

Result<Response> Request(const Endpoint& endpoint, Verb verb, std::string_view target, const Headers& headers,
                         std::string_view body, std::chrono::milliseconds timeout) {
  std::string collected;
  StreamHandlers handlers;
  handlers.on_body_chunk = [&](std::string_view chunk) { collected.append(chunk); };
  auto result = RequestStreaming(endpoint, verb, target, headers, body, timeout, handlers);
  if (!result.ok()) return result.status();
  Response response = std::move(result).value();
  response.body = std::move(collected);
  return response;
}

Result<Response> RequestStreaming(const Endpoint& endpoint, Verb verb, std::string_view target,
                                  const Headers& headers, std::string_view body,
                                  std::chrono::milliseconds timeout, const StreamHandlers& handlers) {
  Exchange ex;
  ex.endpoint = &endpoint;
  ex.verb = verb;
  ex.target = target.empty() ? std::string_view("/") : target;
  ex.headers = &headers;
  ex.body = body;
  ex.timeout = timeout;
  ex.handlers = &handlers;
  return Run(ex);
}

}  // namespace ignite::http
