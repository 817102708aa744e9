#include "gateway/invoker.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/ids.h"

namespace ignite::gateway {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Stream = beast::basic_stream<asio::local::stream_protocol>;

constexpr uint64_t kMaxResponseBytes = 100ull << 20;

// Headers a client may not pass to an instance: the identity headers the platform sets (so handlers can
// trust them), the caller's platform credentials, and hop-by-hop headers.
bool Forwardable(std::string_view name) {
  static const char* kDrop[] = {"authorization", "connection", "keep-alive", "proxy-authorization", "te", "trailer",
                                "transfer-encoding", "upgrade", "host", "content-length", "expect"};
  if (name.size() >= 9 && beast::iequals(name.substr(0, 9), "x-ignite-")) return false;
  for (const char* d : kDrop) {
    if (beast::iequals(name, d)) return false;
  }
  return true;
}

enum class Step { kConnect, kSend, kReceive };

struct Exchange {
  beast::error_code ec;
  Step failed_at = Step::kConnect;
  http::response<http::string_body> response;
};

// One request over a fresh connection to the instance's socket, bounded by `timeout` overall.
Exchange Roundtrip(const std::string& socket_path, http::request<http::string_body>& req,
                   std::chrono::steady_clock::duration timeout) {
  Exchange ex;
  asio::io_context io(1);
  Stream stream(io);
  stream.expires_after(timeout);
  auto run = [&] {
    io.run();
    io.restart();
  };
  stream.async_connect(asio::local::stream_protocol::endpoint(socket_path), [&](beast::error_code e) { ex.ec = e; });
  run();
  if (ex.ec) return ex;
  ex.failed_at = Step::kSend;
  http::async_write(stream, req, [&](beast::error_code e, size_t) { ex.ec = e; });
  run();
  if (ex.ec) return ex;
  ex.failed_at = Step::kReceive;
  beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxResponseBytes);
  http::async_read(stream, buf, parser, [&](beast::error_code e, size_t) { ex.ec = e; });
  run();
  if (!ex.ec) ex.response = parser.release();
  return ex;
}

}  // namespace

Invoker::Invoker(const RouteTable* routes, runtime::InstanceManager* instances)
    : routes_(routes), instances_(instances) {}

Result<InvokeResult> Invoker::Invoke(const InvokeCall& call) const {
  auto snapshot = routes_->Get();
  auto it = snapshot->find(call.app_id);
  if (it == snapshot->end()) {
    return FailedPrecondition(fmt::format(
        "{} has no published version to invoke; publish one with `dodil ignite draft publish {}`", call.app_id,
        call.app_id));
  }
  return InvokeRoute(it->second, call);
}

Result<InvokeResult> Invoker::InvokeRoute(const Route& route, const InvokeCall& call) const {
  auto start = std::chrono::steady_clock::now();
  InvokeResult result;
  result.execution_id = NewUlid();
  result.version = route.version;

  http::request<http::string_body> req;
  req.version(11);
  req.method_string(call.method);
  req.target(call.target);
  for (const auto& [k, v] : call.headers) {
    if (Forwardable(k)) req.insert(k, v);
  }
  req.set(http::field::host, "instance");
  req.set("x-ignite-execution-id", result.execution_id);
  req.set("x-ignite-function-id", route.app_id);
  req.set("x-ignite-organization-id", route.org_id);
  req.keep_alive(false);
  req.body() = call.payload;
  req.prepare_payload();

  // A connection refused by a warm instance means it died between requests: the request never reached it,
  // so it is safe to retry once on a fresh instance.
  for (int attempt = 0;; ++attempt) {
    auto lease = instances_->Acquire(route.spec);
    if (!lease.ok()) {
      return Unavailable(fmt::format("cannot start an instance of {}: {}", route.app_id, lease.status().message()));
    }
    result.cold = result.cold || lease->cold();
    auto deadline = start + route.timeout;
    Exchange ex = Roundtrip(lease->instance().process->socket_path(), req, deadline - std::chrono::steady_clock::now());
    if (!ex.ec) {
      result.status = ex.response.result_int();
      for (const auto& f : ex.response) {
        std::string name(f.name_string());
        if (Forwardable(name)) result.headers.emplace_back(std::move(name), std::string(f.value()));
      }
      result.body = std::move(ex.response.body());
      result.duration_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
      return result;
    }
    auto fail = [&](unsigned status, std::string message) {
      result.status = status;
      result.error = std::move(message);
      result.headers = {{"Content-Type", "application/json"}};
      result.body = nlohmann::json{{"error", result.error}}.dump();
      result.duration_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
      return result;
    };
    if (ex.ec == beast::error::timeout) {
      // The handler is stuck; replace the instance rather than leave it occupied.
      instances_->Retire(route.spec.key);
      return fail(504, fmt::format("{} did not answer within its execution timeout of {}s (execution {}); raise "
                                   "it with --timeout-secs (at most 900)",
                                   route.app_id, route.timeout.count(), result.execution_id));
    }
    std::string how = instances_->CheckExited(lease->instance());
    if (ex.failed_at == Step::kConnect && attempt == 0 && !lease->cold()) continue;
    if (how.empty()) {
      // Still alive but the exchange failed: wait briefly so a dying process can be described.
      for (int i = 0; i < 50 && how.empty(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        how = instances_->CheckExited(lease->instance());
      }
    }
    if (how.empty()) {
      // Alive but misbehaving: take it out of service all the same.
      instances_->Retire(route.spec.key);
    }
    return fail(502, fmt::format(
        "the instance {} of {} {} before answering (execution {}); the next invocation starts a new instance. "
        "See `dodil ignite app logs {}` for what it printed",
        lease->instance().replica_id, route.app_id,
        how.empty() ? "closed the connection (" + ex.ec.message() + ")" : "exited with " + how,
        result.execution_id, route.app_id));
  }
}

}  // namespace ignite::gateway
