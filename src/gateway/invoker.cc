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

enum class Step { kConnect, kSend, kReceiveHead, kReceiveBody };

struct Exchange {
  beast::error_code ec;
  Step failed_at = Step::kConnect;
  unsigned status = 0;
  Headers headers;
};

// One request over a fresh connection to the instance's socket, bounded by `timeout` overall. The head is
// handed to `on_head` and the body, as it arrives, to `on_body` (false stops reading).
Exchange Roundtrip(const std::string& socket_path, http::request<http::string_body>& req,
                   std::chrono::steady_clock::duration timeout, const std::function<void(const Exchange&)>& on_head,
                   const std::function<bool(std::string_view)>& on_body) {
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
  ex.failed_at = Step::kReceiveHead;
  beast::flat_buffer buf;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(kMaxResponseBytes);
  http::async_read_header(stream, buf, parser, [&](beast::error_code e, size_t) { ex.ec = e; });
  run();
  if (ex.ec) return ex;
  ex.status = parser.get().result_int();
  for (const auto& f : parser.get()) {
    std::string name(f.name_string());
    if (Forwardable(name)) ex.headers.emplace_back(std::move(name), std::string(f.value()));
  }
  on_head(ex);
  ex.failed_at = Step::kReceiveBody;
  std::string chunk(256 << 10, '\0');
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    http::async_read(stream, buf, parser, [&](beast::error_code e, size_t) { ex.ec = e; });
    run();
    if (ex.ec == http::error::need_buffer) ex.ec = {};
    if (ex.ec) return ex;
    size_t n = chunk.size() - parser.get().body().size;
    if (n > 0 && !on_body(std::string_view(chunk.data(), n))) {
      ex.ec = asio::error::operation_aborted;
      return ex;
    }
  }
  return ex;
}

}  // namespace

Invoker::Invoker(const RouteTable* routes, runtime::InstanceManager* instances)
    : routes_(routes), instances_(instances) {}

Result<InvokeResult> Invoker::Invoke(InvokeCall call, const InvokeSink* sink) const {
  auto snapshot = routes_->Get();
  auto it = snapshot->find(call.app_id);
  if (it == snapshot->end()) {
    return FailedPrecondition(fmt::format(
        "{} has no published version to invoke; publish one with `dodil ignite draft publish {}`", call.app_id,
        call.app_id));
  }
  return InvokeRoute(it->second, std::move(call), sink);
}

Result<InvokeResult> Invoker::InvokeRoute(const Route& route, InvokeCall call, const InvokeSink* sink) const {
  auto start = std::chrono::steady_clock::now();
  InvokeResult result;
  result.execution_id = call.execution_id.empty() ? NewUlid() : std::move(call.execution_id);
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
  req.body() = std::move(call.payload);
  req.prepare_payload();

  bool head_sent = false;
  runtime::Instance* current = nullptr;
  auto on_head = [&](const Exchange& ex) {
    if (current) instances_->MarkServed(*current);
    result.status = ex.status;
    result.headers = ex.headers;
    head_sent = true;
    if (sink) sink->on_head(result);
  };
  auto on_body = [&](std::string_view data) {
    if (sink) return sink->on_body(data);
    result.body.append(data);
    return true;
  };
  auto elapsed = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  };
  // Platform-made answers (502, 504) look like an instance's: a head and a JSON body.
  auto fail = [&](unsigned status, std::string message) {
    result.error = std::move(message);
    result.duration_ms = elapsed();
    if (head_sent) return result;  // the instance's head is out; the error travels in the trailer
    result.status = status;
    result.headers = {{"Content-Type", "application/json"}};
    std::string body = nlohmann::json{{"error", result.error}}.dump();
    if (sink) {
      sink->on_head(result);
      sink->on_body(body);
    } else {
      result.body = std::move(body);
    }
    return result;
  };

  // A connection refused by a warm instance means it died between requests: the request never reached it,
  // so it is safe to retry once on a fresh instance.
  for (int attempt = 0;; ++attempt) {
    auto lease = instances_->Acquire(route.spec, start + route.timeout);
    if (!lease.ok()) {
      StatusCode code = lease.status().code();
      if (code == StatusCode::kResourceExhausted || code == StatusCode::kUnavailable) return lease.status();
      if (code == StatusCode::kDeadlineExceeded) return fail(504, lease.status().message());
      return Unavailable(fmt::format("cannot start an instance of {}: {}", route.app_id, lease.status().message()));
    }
    result.cold = result.cold || lease->cold();
    current = &lease->instance();
    auto deadline = start + route.timeout;
    Exchange ex = Roundtrip(lease->instance().process->socket_path(), req,
                            deadline - std::chrono::steady_clock::now(), on_head, on_body);
    if (!ex.ec) {
      result.duration_ms = elapsed();
      return result;
    }
    if (ex.ec == asio::error::operation_aborted && ex.failed_at == Step::kReceiveBody) {
      return fail(499, "the caller went away");
    }
    if (ex.ec == beast::error::timeout) {
      // The handler is stuck; replace this instance rather than leave it occupied.
      instances_->RetireInstance(lease->instance());
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
      instances_->RetireInstance(lease->instance());
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
