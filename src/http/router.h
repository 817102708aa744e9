// Router: maps (method, path) to a handler, with `{name}` path parameters. Built once at start-up and then
// only read, so lookups need no locking.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/exchange.h"
#include "http/types.h"

namespace ignite::http {

class Router {
 public:
  // pattern: "/v1/ignite/app/{org}/{app}/draft". Each `{x}` matches one non-empty path segment.
  void Add(std::string method, std::string pattern, Handler handler, std::string name = "");
  // Same, for a handler that reads the request body and writes its answer itself (see exchange.h): the
  // server hands it the request as soon as the head is in.
  void AddStream(std::string method, std::string pattern, StreamHandler handler, std::string name = "");

  struct Match {
    const Handler* handler = nullptr;               // Owned by the router; set for Add routes,
    const StreamHandler* stream_handler = nullptr;  // or this one for AddStream routes.
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
    std::string name;
  };
  std::vector<Route> routes_;
  std::function<bool(std::string_view)> host_claims_;
  StreamHandler host_handler_;
};

// Splits "/a/b%2Fc" into {"a", "b/c"}; returns false on malformed percent-encoding.
bool SplitPath(std::string_view path, std::vector<std::string>* out);

}  // namespace ignite::http
