// DirectUrl: the per-app URL surface (reference 6.2, decisions.md "Per-app URLs"). A request whose Host is
// `<app>-<org>[-<port>].<base_domain>` goes to the app's active version with its method, path and query
// verbatim, and gets the instance's own HTTP answer (not NDJSON frames). A bare `GET /` without a body is
// answered by the platform's health response without waking the app. Callers need a bearer token of the
// app's org, except for `public` apps (any valid token) and apps created with allow_unauthenticated (no
// token, permissive CORS whose preflight allows only the content-type header).
#pragma once

#include <boost/asio/thread_pool.hpp>

#include <string>

#include "api/auth.h"
#include "gateway/invoker.h"
#include "gateway/route_table.h"
#include "http/exchange.h"
#include "http/types.h"

namespace ignite::api {

struct DirectTarget {
  std::string org;
  std::string app;
  uint32_t port = 80;
};

// Resolves a Host header (any ":port" suffix ignored, case-insensitive) against the routed apps. `-dot-` in
// the label stands for '.' in app names; a trailing all-digit label part is a port; where names contain '-',
// the split that names an existing app wins, preferring the longest app name. NotFound when the host is under
// the base domain but names no published app; InvalidArgument when it is not under the base domain.
Result<DirectTarget> ResolveHost(std::string_view host, std::string_view base_domain,
                                 const gateway::RouteTable::Snapshot& routes);

class DirectUrl {
 public:
  // All pointers must outlive the DirectUrl.
  DirectUrl(std::string base_domain, const gateway::RouteTable* routes, const gateway::Invoker* invoker,
            Authenticator* auth, boost::asio::thread_pool* pool);
  // Whether `host` is under the base domain (so this surface answers it).
  bool Claims(std::string_view host) const;
  // Runs on the connection's event loop (an http::StreamHandler); only an uncached token visits the pool.
  void Handle(std::shared_ptr<http::Request> req, std::shared_ptr<http::Exchange> exchange);

 private:
  std::string base_domain_;
  const gateway::RouteTable* routes_;
  const gateway::Invoker* invoker_;
  Authenticator* auth_;
  boost::asio::thread_pool* pool_;
};

}  // namespace ignite::api
