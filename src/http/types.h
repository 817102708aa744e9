// Request and response types shared by the HTTP server, the router and handlers.
#pragma once

#include <boost/beast/http.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "http/body_stream.h"

namespace ignite::http {

namespace beast_http = boost::beast::http;

struct Request {
  beast_http::request<beast_http::string_body> raw;
  std::string path;                            // Decoded path without the query.
  std::map<std::string, std::string> query;    // Decoded query parameters (last one wins).
  std::map<std::string, std::string> params;   // Path parameters from the matched route.
  std::string route_name;                      // Name the route was registered with.

  // Header value or "" (case-insensitive).
  std::string Header(std::string_view name) const {
    auto it = raw.find(beast_http::string_to_field(name));
    if (it == raw.end()) {
      for (const auto& f : raw) {
        if (boost::beast::iequals(f.name_string(), name)) return std::string(f.value());
      }
      return "";
    }
    return std::string(it->value());
  }
};

struct Response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, `body` is ignored and the body is sent chunked from this stream as it is produced.
  std::shared_ptr<BodyStream> stream;
};

// Sends the response. Must be called exactly once; may be called from any thread.
using Responder = std::function<void(Response)>;
// A handler owns the request; it may answer at once or later from another thread.
using Handler = std::function<void(std::shared_ptr<Request>, Responder)>;

}  // namespace ignite::http
