#include "api/direct_url.h"

#include <boost/asio/post.hpp>
#include <boost/beast/core/string.hpp>

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "api/access.h"
#include "api/on_loop.h"
#include "api/roles.h"
#include "common/names.h"
#include "http/server.h"

namespace ignite::api {
namespace {

std::string HostOnly(std::string_view host) {
  std::string h(host.substr(0, host.rfind(':') == std::string_view::npos ? host.size() : host.rfind(':')));
  std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) { return std::tolower(c); });
  while (!h.empty() && h.back() == '.') h.pop_back();
  return h;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

void AddCors(http::Response* r) { r->headers.emplace_back("Access-Control-Allow-Origin", "*"); }

}  // namespace

Result<DirectTarget> ResolveHost(std::string_view host, std::string_view base_domain,
                                 const gateway::RouteTable::Snapshot& routes) {
  std::string h = HostOnly(host);
  std::string suffix = "." + std::string(base_domain);
  if (h.size() <= suffix.size() || h.compare(h.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return InvalidArgument(fmt::format("host {} is not under {}", h, base_domain));
  }
  std::string label = h.substr(0, h.size() - suffix.size());
  if (label.find('.') != std::string::npos) return NotFound(fmt::format("no app answers at {}", h));
  for (size_t pos; (pos = label.find("-dot-")) != std::string::npos;) label.replace(pos, 5, ".");
  DirectTarget t;
  std::vector<std::string> candidates = {label};
  if (size_t dash = label.rfind('-'); dash != std::string::npos && AllDigits(label.substr(dash + 1))) {
    candidates.insert(candidates.begin(), label.substr(0, dash));
  }
  for (const auto& name : candidates) {
    for (size_t i = name.size(); i-- > 0;) {
      if (name[i] != '-') continue;
      std::string app = name.substr(0, i), org = name.substr(i + 1);
      if (routes->count(org + "/" + app)) {
        t.org = org;
        t.app = app;
        t.port = name.size() == label.size() ? 80 : static_cast<uint32_t>(std::stoul(label.substr(name.size() + 1)));
        return t;
      }
    }
  }
  return NotFound(fmt::format("no published app answers at {}; the URL of app APP in org ORG is "
                              "APP-ORG.{} (dots in app names written as -dot-)",
                              h, base_domain));
}

DirectUrl::DirectUrl(std::string base_domain, const gateway::RouteTable* routes, const gateway::Invoker* invoker,
                     Authenticator* auth, boost::asio::thread_pool* pool)
    : base_domain_(std::move(base_domain)), routes_(routes), invoker_(invoker), auth_(auth), pool_(pool) {}

bool DirectUrl::Claims(std::string_view host) const {
  std::string h = HostOnly(host);
  std::string suffix = "." + base_domain_;
  return h.size() > suffix.size() && h.compare(h.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void DirectUrl::Handle(std::shared_ptr<http::Request> req, std::shared_ptr<http::Exchange> ex) {
  auto snapshot = routes_->Get();
  auto target = ResolveHost(req->Header("host"), base_domain_, snapshot);
  if (!target.ok()) return ex->Respond(http::ErrorResponse(target.status()));
  if (target->port != 80) {
    return ex->Respond(http::ErrorResponse(NotFound(fmt::format(
        "{}/{} does not expose port {}; compiled apps serve on the default port only", target->org, target->app,
        target->port))));
  }
  // Aliases the snapshot: the route stays valid for the whole call without a copy.
  std::shared_ptr<const gateway::Route> route(snapshot, &snapshot->at(target->org + "/" + target->app));
  const std::string method(req->raw.method_string());
  if (route->allow_unauthenticated && method == "OPTIONS") {
    // CORS preflight, as the hosted service answers it: any origin, only the content-type header.
    http::Response r;
    r.status = 204;
    r.content_type = "text/plain";
    AddCors(&r);
    r.headers.emplace_back("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS");
    r.headers.emplace_back("Access-Control-Allow-Headers", "content-type");
    r.headers.emplace_back("Access-Control-Max-Age", "600");
    return ex->Respond(std::move(r));
  }
  auto proceed = [this, req, ex, route, target = *target, method]() {
    if (method == "GET" && req->path == "/" && ex->body_length() == 0 && req->raw.target() == "/") {
      http::Response r;
      r.body = R"({"status":"ok"})";
      if (route->allow_unauthenticated) AddCors(&r);
      return ex->Respond(std::move(r));
    }
    gateway::InvokeCall call;
    call.app_id = route->app_id;
    call.method = method;
    call.target = std::string(req->raw.target());
    call.check_input = false;  // any method and path: not "the payload" an input schema describes
    for (const auto& f : req->raw) call.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    gateway::StreamSink sink;
    sink.on_head = [ex, route, head_only = method == "HEAD"](const gateway::InvokeResult& head) {
      http::Response r;
      r.status = head.status;
      r.content_type = "application/octet-stream";
      for (const auto& [k, v] : head.headers) {
        if (boost::beast::iequals(k, "content-type")) {
          r.content_type = v;
        } else {
          r.headers.emplace_back(k, v);
        }
      }
      r.headers.emplace_back("x-ignite-execution-id", head.execution_id);
      if (route->allow_unauthenticated) AddCors(&r);
      ex->StartStream(r, head_only || head.status == 204 || head.status == 304 || head.status < 200);
    };
    sink.on_body = [ex](std::string_view data, std::function<void(bool)> next) {
      ex->Send(data);
      ex->WhenWritable(std::move(next));
    };
    sink.on_done = [ex](Result<gateway::InvokeResult> result) {
      if (!result.ok()) return ex->Respond(http::ErrorResponse(result.status()));
      // A failure after the instance's head: the answer is cut short (the client sees an incomplete chunked
      // body). A platform-made answer (502, 429 for an out-of-memory kill, 504) is complete as it is.
      ex->End(!result->cut_short);
    };
    invoker_->StartRoute(ex->executor(), route, std::move(call), std::make_shared<ExchangeBody>(ex), std::move(sink));
  };
  if (route->allow_unauthenticated) return proceed();
  AuthenticateOnLoop(auth_, pool_, ex->executor(), req->Header("authorization"),
                     [ex, target = *target, proceed = std::move(proceed)](Result<Principal> p) {
                       if (!p.ok()) return ex->Respond(http::ErrorResponse(p.status()));
                       if (Status st = CheckRole(*p, "Invoke"); !st.ok()) return ex->Respond(http::ErrorResponse(st));
                       if (Status st = CheckInvokeAccess(*p, target.org, target.app); !st.ok()) {
                         return ex->Respond(http::ErrorResponse(st));
                       }
                       proceed();
                     });
}

}  // namespace ignite::api
