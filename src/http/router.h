// Router: maps (method, path) to a handler, with `{name}` path parameters. Built once at start-up and then
// only read, so lookups need no locking.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "http/exchange.h"
#include "http/types.h"

namespace ignite::http {

// How large the body of one request to a buffered route may be, decided from its head before any of the body
// is read (so a client that sent `Expect: 100-continue` is refused before it uploads anything).
struct BodyLimit {
  uint64_t bytes = 0;
  // The 413's message when the body is larger: it names the limit and says how to raise it.
  std::string message;
};
// Called on the connection's thread with the request head (path, params, headers; no body). It answers
// through `done`, at once or later from any thread: the limit, or an error the server answers instead of
// running the handler (the body is then never read).
using BodyLimitFn = std::function<void(const Request& head, std::function<void(Result<BodyLimit>)> done)>;

class Router {
 public:
  // pattern: "/v1/ignite/app/{org}/{app}/draft". Each `{x}` matches one non-empty path segment. Without
  // `limit` the body may be as large as the server's ServerOptions::body_limit.
  void Add(std::string method, std::string pattern, Handler handler, std::string name = "",
           BodyLimitFn limit = nullptr);
  // Same, for a handler that reads the request body and writes its answer itself (see exchange.h): the
  // server hands it the request as soon as the head is in.
  void AddStream(std::string method, std::string pattern, StreamHandler handler, std::string name = "");

  struct Match {
    const Handler* handler = nullptr;               // Owned by the router; set for Add routes,
    const StreamHandler* stream_handler = nullptr;  // or this one for AddStream routes.
    const BodyLimitFn* body_limit = nullptr;        // Add routes registered with a limit.
    std::string name;
    std::map<std::string, std::string> params;
    bool path_known = false;  // Some route has this path (for 405 versus 404).
  };
  // Segments are percent-decoded before matching and before being returned as params.
  Match Find(std::string_view method, std::string_view path) const;

  // Requests whose Host header `claims` returns true for go to `handler` whatever their method and path
  // (per-app URLs). Checked before the path routes.
  void SetHostHandler(std::function<bool(std::string_view host)> claims, StreamHandler handler);
  // The host handler if it claims `host`, else nullptr.
  const StreamHandler* FindHostHandler(std::string_view host) const;

  // Every registered route as "METHOD pattern name", for diagnostics and tests.
  std::vector<std::string> Describe() const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
    StreamHandler stream_handler;
    BodyLimitFn body_limit;
    std::string name;
  };
  std::vector<Route> routes_;
  std::function<bool(std::string_view)> host_claims_;
  StreamHandler host_handler_;
};

// Splits "/a/b%2Fc" into {"a", "b/c"}; returns false on malformed percent-encoding.
bool SplitPath(std::string_view path, std::vector<std::string>* out);

}  // namespace ignite::http
