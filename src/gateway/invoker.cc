#include "gateway/invoker.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <chrono>

#include <fmt/format.h>

#include "gateway/call.h"

namespace ignite::gateway {

namespace asio = boost::asio;

Invoker::Invoker(const RouteTable* routes, instances::InstanceManager* instances, asio::thread_pool* blocking,
                 instances::LogCollector* logs, const Clock* clock)
    : routes_(routes), instances_(instances), blocking_(blocking), logs_(logs), clock_(clock) {}

void Invoker::Start(asio::any_io_executor executor, InvokeCall call, std::shared_ptr<BodySource> body,
                    StreamSink sink) const {
  auto snapshot = routes_->Get();
  auto it = snapshot->find(call.app_id);
  if (it == snapshot->end()) {
    // The API adds how to publish one (InvokeService::WhyNotRouted).
    Status st = FailedPrecondition(fmt::format("{} has no published version to invoke", call.app_id));
    asio::post(executor, [sink = std::move(sink), st = std::move(st)] { sink.on_done(st); });
    return;
  }
  const Route* route = &it->second;
  Run(std::move(executor), std::move(snapshot), route, std::move(call), std::move(body), std::move(sink));
}

void Invoker::StartRoute(asio::any_io_executor executor, std::shared_ptr<const Route> route, InvokeCall call,
                         std::shared_ptr<BodySource> body, StreamSink sink) const {
  const Route* r = route.get();
  Run(std::move(executor), std::move(route), r, std::move(call), std::move(body), std::move(sink));
}

namespace {

Status SchemaPayloadTooLarge(size_t max) {
  return InvalidArgument(fmt::format("the payload is larger than the {} bytes an app with an input schema "
                                     "accepts; send a smaller payload or remove the app's input schema",
                                     max));
}

// Reads a request body whole (for the payload check), refusing more than `max` bytes.
class BodyCollector : public std::enable_shared_from_this<BodyCollector> {
 public:
  using Done = std::function<void(Status, std::string)>;
  BodyCollector(std::shared_ptr<BodySource> body, size_t max, Done done)
      : body_(std::move(body)), max_(max), done_(std::move(done)) {}

  void Read() {
    if (auto n = body_->length(); n && *n > max_) return done_(TooLarge(), {});
    ReadPiece();
  }

 private:
  void ReadPiece() {
    body_->Read([self = shared_from_this()](Status st, std::string_view data, bool end) {
      if (!st.ok()) return self->done_(std::move(st), {});
      if (self->data_.size() + data.size() > self->max_) return self->done_(self->TooLarge(), {});
      self->data_.append(data);
      if (end) return self->done_(OkStatus(), std::move(self->data_));
      self->ReadPiece();
    });
  }

  Status TooLarge() const { return SchemaPayloadTooLarge(max_); }

  std::shared_ptr<BodySource> body_;
  size_t max_;
  Done done_;
  std::string data_;
};

// A chunked request body cut off once it passes the route's limit: the piece that passes it is not
// forwarded, and the read fails with PayloadTooLarge instead (the call then ends, closing the instance's
// connection mid-request, so the handler never sees a complete over-limit body).
class LimitedBody : public BodySource, public std::enable_shared_from_this<LimitedBody> {
 public:
  LimitedBody(std::shared_ptr<BodySource> body, const Route* route) : body_(std::move(body)), route_(route) {}
  std::optional<uint64_t> length() const override { return body_->length(); }
  void Read(std::function<void(Status, std::string_view data, bool end)> cb) override {
    body_->Read([self = shared_from_this(), cb = std::move(cb)](Status st, std::string_view data, bool end) {
      if (st.ok()) {
        self->read_ += data.size();
        if (self->read_ > self->route_->body_limit) return cb(PayloadTooLarge(self->route_->body_too_large), {}, true);
      }
      cb(std::move(st), data, end);
    });
  }

 private:
  std::shared_ptr<BodySource> body_;
  const Route* route_;  // kept alive by the call
  uint64_t read_ = 0;
};

}  // namespace

void Invoker::Run(asio::any_io_executor executor, std::shared_ptr<const void> owner, const Route* route,
                  InvokeCall call, std::shared_ptr<BodySource> body, StreamSink sink) const {
  if (observer_ && call.count) {
    // Wraps on_done to report the outcome: results, and refusals for want of capacity (no handler ran).
    const Clock* clock = clock_;
    auto started = clock->Now();
    // `owner` keeps the snapshot holding `route` alive; the ids are copied only into the outcome.
    sink.on_done = [observer = observer_, clock, done = std::move(sink.on_done), owner, route,
                    started](Result<InvokeResult> r) {
      InvocationOutcome o;
      if (r.ok()) {
        o.status = r->status;
        o.cold = r->cold;
        o.duration_ms = r->duration_ms;
      } else if (r.status().code() == StatusCode::kUnavailable || r.status().code() == StatusCode::kResourceExhausted) {
        o.status = static_cast<unsigned>(r.status().http_status());  // 503, 429, or 413 for a body over the limit
        o.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock->Now() - started).count();
      }
      if (o.status != 0) {
        o.app_id = route->app_id;
        o.org_id = route->org_id;
        o.version = route->version;
        o.finished_at_ms = clock->NowUnixMs();
        observer->OnInvocation(std::move(o));
      }
      done(std::move(r));
    };
  }
  if (route->body_limit) {
    // A declared length over the limit is refused before anything is read (no `100 Continue`) or forwarded.
    std::optional<uint64_t> length = body ? body->length() : std::optional<uint64_t>(call.payload.size());
    if (length && *length > route->body_limit) {
      asio::post(executor, [sink = std::move(sink), st = PayloadTooLarge(route->body_too_large)] { sink.on_done(st); });
      return;
    }
    if (body && !length) body = std::make_shared<LimitedBody>(std::move(body), route);
  }
  if (call.check_input && route->input_check) {
    const PayloadCheck& check = *route->input_check;
    if (!body) {
      Status st = call.payload.size() > check.max_bytes() ? SchemaPayloadTooLarge(check.max_bytes())
                                                           : check.Check(call.payload);
      if (!st.ok()) {
        asio::post(executor, [sink = std::move(sink), st = std::move(st)] { sink.on_done(st); });
        return;
      }
    } else {
      // Read the whole body first (bounded), check it, then call the instance with it as the payload.
      auto collector = std::make_shared<BodyCollector>(
          std::move(body), check.max_bytes(),
          [this, executor, owner = std::move(owner), route, call = std::move(call),
           sink = std::move(sink)](Status st, std::string payload) mutable {
            if (st.ok()) st = route->input_check->Check(payload);
            if (!st.ok()) return sink.on_done(std::move(st));
            call.payload = std::move(payload);
            call.check_input = false;
            auto c = std::make_shared<Call>(executor, instances_, blocking_, logs_, clock_, std::move(owner), route,
                                            std::move(call), nullptr, std::move(sink));
            c->Start();
          });
      asio::post(executor, [collector] { collector->Read(); });
      return;
    }
  }
  auto c = std::make_shared<Call>(executor, instances_, blocking_, logs_, clock_, std::move(owner), route,
                                  std::move(call), std::move(body), std::move(sink));
  asio::post(executor, [c] { c->Start(); });
}

namespace {

// Runs a call to completion on an event loop of the calling thread; Acquire may block here.
Result<InvokeResult> RunBlocking(const std::function<void(asio::any_io_executor, StreamSink)>& start,
                                 const InvokeSink* sink) {
  asio::io_context io(1);
  Result<InvokeResult> out = Internal("the invocation did not finish");
  std::string body;
  StreamSink s;
  s.on_head = [&](const InvokeResult& head) {
    if (sink) sink->on_head(head);
  };
  s.on_body = [&](std::string_view data, std::function<void(bool)> next) {
    if (sink) return next(sink->on_body(data));
    body.append(data);
    next(true);
  };
  s.on_done = [&](Result<InvokeResult> r) { out = std::move(r); };
  start(io.get_executor(), std::move(s));
  io.run();
  if (out.ok() && !sink) out->body = std::move(body);
  return out;
}

}  // namespace

Result<InvokeResult> Invoker::Invoke(InvokeCall call, const InvokeSink* sink) const {
  Invoker blocking(routes_, instances_, nullptr, logs_, clock_);
  blocking.observer_ = observer_;
  return RunBlocking(
      [&](asio::any_io_executor ex, StreamSink s) { blocking.Start(ex, std::move(call), nullptr, std::move(s)); },
      sink);
}

Result<InvokeResult> Invoker::InvokeRoute(const Route& route, InvokeCall call, const InvokeSink* sink) const {
  Invoker blocking(routes_, instances_, nullptr, logs_, clock_);
  blocking.observer_ = observer_;
  return RunBlocking(
      [&](asio::any_io_executor ex, StreamSink s) {
        blocking.StartRoute(ex, std::make_shared<Route>(route), std::move(call), nullptr, std::move(s));
      },
      sink);
}

}  // namespace ignite::gateway
