#include "api/observe_service.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>

#include <fmt/format.h>

namespace ignite::api {
namespace {

constexpr int64_t kDefaultStatsWindowMs = 24 * 60 * 60 * 1000;
constexpr uint32_t kMaxEvents = 1000;

pb::AppEvent ToProto(const instances::AppEvent& e) {
  pb::AppEvent out;
  out.set_timestamp_ms(e.timestamp_ms);
  out.set_type(e.type);
  out.set_replica_id(e.replica_id);
  out.set_version(e.version);
  out.set_message(e.message);
  return out;
}

}  // namespace

pb::HealthCheckResponse ObserveService::HealthCheck() const {
  pb::HealthCheckResponse r;
  r.set_status("SERVING");
  r.set_version(IGNITE_VERSION);
  r.set_uptime_ms(ctx_->deps.clock->NowUnixMs() - ctx_->started_ms);
  r.set_sandbox(ctx_->options.sandbox_description);
  r.set_limits(ctx_->options.limits_description);
  r.set_images(ctx_->options.images_description);
  return r;
}

Result<pb::GetAppLogsResponse> ObserveService::GetAppLogs(const Principal& p, const pb::GetAppLogsRequest& req) {
  IGNITE_ASSIGN_OR_RETURN(auto app, ctx_->LoadApp(p, req.organization_name(), req.app_name()));
  uint32_t limit = req.limit() == 0 ? 1000 : std::min<uint32_t>(req.limit(), 10000);
  pb::GetAppLogsResponse resp;
  for (auto& line : ctx_->deps.logs->Read(req.organization_name() + "/" + app.name, limit, req.replica_id(),
                                     req.execution_id())) {
    auto* l = resp.add_lines();
    l->set_timestamp_ms(line.timestamp_ms);
    l->set_replica_id(std::move(line.replica_id));
    l->set_stream(std::move(line.stream));
    l->set_execution_id(std::move(line.execution_id));
    l->set_message(std::move(line.message));
  }
  return resp;
}

Status ObserveService::StreamAppLogs(const Principal& p, const pb::StreamAppLogsRequest& req,
                                     const std::function<bool(const pb::LogLine*)>& send) {
  IGNITE_ASSIGN_OR_RETURN(auto app, ctx_->LoadApp(p, req.organization_name(), req.app_name()));
  const std::string app_id = req.organization_name() + "/" + app.name;
  constexpr size_t kMaxQueued = 10000;
  struct Queue {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<instances::LogLine> lines;  // guarded by mu
    size_t dropped = 0;                  // guarded by mu
  };
  auto queue = std::make_shared<Queue>();
  auto wanted = [&req](const instances::LogLine& l) {
    return (req.replica_id().empty() || l.replica_id == req.replica_id()) &&
           (req.execution_id().empty() || l.execution_id == req.execution_id());
  };
  uint32_t tail = req.tail() == 0 ? 100 : std::min<uint32_t>(req.tail(), 10000);
  auto followed = ctx_->deps.logs->Follow(app_id, tail, req.replica_id(), req.execution_id(),
                                     [queue, wanted](const instances::LogLine& l) {
                                       if (!wanted(l)) return;
                                       std::lock_guard<std::mutex> lock(queue->mu);
                                       if (queue->lines.size() >= kMaxQueued) {
                                         ++queue->dropped;
                                         return;
                                       }
                                       queue->lines.push_back(l);
                                       queue->cv.notify_one();
                                     });
  struct Unfollow {
    instances::LogCollector* logs;
    uint64_t id;
    ~Unfollow() { logs->Unfollow(id); }
  } unfollow{ctx_->deps.logs, followed.id};
  auto to_proto = [](const instances::LogLine& l) {
    pb::LogLine out;
    out.set_timestamp_ms(l.timestamp_ms);
    out.set_replica_id(l.replica_id);
    out.set_stream(l.stream);
    out.set_execution_id(l.execution_id);
    out.set_message(l.message);
    return out;
  };
  for (const auto& l : followed.tail) {
    auto line = to_proto(l);
    if (!send(&line)) return OkStatus();
  }
  if (!send(nullptr)) return OkStatus();  // the head goes out now, even when the app is quiet
  for (;;) {
    std::deque<instances::LogLine> batch;
    size_t dropped;
    {
      std::unique_lock<std::mutex> lock(queue->mu);
      queue->cv.wait_for(lock, std::chrono::seconds(1), [&] { return !queue->lines.empty(); });
      batch.swap(queue->lines);
      dropped = std::exchange(queue->dropped, 0);
    }
    if (ctx_->shutting_down) return Unavailable("ignited is stopping; follow the logs again once it is back");
    if (dropped > 0) {
      pb::LogLine note;
      note.set_timestamp_ms(ctx_->deps.clock->NowUnixMs());
      note.set_stream("platform");
      note.set_message(fmt::format("ignite: {} lines were dropped because this reader fell behind", dropped));
      if (!send(&note)) return OkStatus();
    }
    if (batch.empty() && !send(nullptr)) return OkStatus();
    for (const auto& l : batch) {
      auto line = to_proto(l);
      if (!send(&line)) return OkStatus();
    }
  }
}

Result<pb::GetExecutionStatsResponse> ObserveService::GetExecutionStats(const Principal& p,
                                                                        const pb::GetExecutionStatsRequest& req) {
  IGNITE_ASSIGN_OR_RETURN(auto app, ctx_->LoadApp(p, req.organization_name(), req.app_name()));
  if (req.since_ms() < 0) return InvalidArgument("since_ms must be a Unix time in milliseconds (or 0 for 24 hours ago)");
  const int64_t now = ctx_->deps.clock->NowUnixMs();
  pb::GetExecutionStatsResponse resp;
  resp.set_app_id(req.organization_name() + "/" + app.name);
  resp.set_since_ms(std::max(req.since_ms() == 0 ? now - kDefaultStatsWindowMs : req.since_ms(), app.created_at_ms));
  resp.set_until_ms(now + 1);
  if (!ctx_->deps.invocations) return resp;
  // Invocations that finished before this call are counted, even those not yet saved by the writer.
  IGNITE_RETURN_IF_ERROR(ctx_->deps.invocations->Flush());
  IGNITE_ASSIGN_OR_RETURN(auto stats,
                          ctx_->deps.store->InvocationStatsFor(p.org_id, resp.app_id(), resp.since_ms(), resp.until_ms()));
  resp.set_total(stats.total);
  resp.set_succeeded(stats.succeeded);
  resp.set_failed(stats.total - stats.succeeded);
  resp.set_error_rate(stats.total ? static_cast<double>(stats.total - stats.succeeded) / static_cast<double>(stats.total)
                                  : 0.0);
  resp.set_p50_duration_ms(stats.p50_ms);
  resp.set_p95_duration_ms(stats.p95_ms);
  resp.set_p99_duration_ms(stats.p99_ms);
  resp.set_max_duration_ms(stats.max_ms);
  resp.set_mean_duration_ms(stats.mean_ms);
  resp.set_cold_starts(stats.cold_starts);
  return resp;
}

Result<pb::GetAppEventsResponse> ObserveService::GetAppEvents(const Principal& p, const pb::GetAppEventsRequest& req) {
  IGNITE_ASSIGN_OR_RETURN(auto app, ctx_->LoadApp(p, req.organization_name(), req.app_name()));
  pb::GetAppEventsResponse resp;
  if (!ctx_->deps.events) return resp;
  uint32_t limit = req.limit() == 0 ? kMaxEvents : std::min(req.limit(), kMaxEvents);
  for (const auto& e : ctx_->deps.events->Read(req.organization_name() + "/" + app.name, limit, req.replica_id())) {
    *resp.add_events() = ToProto(e);
  }
  return resp;
}

Status ObserveService::StreamAppEvents(const Principal& p, const pb::StreamAppEventsRequest& req,
                                       const std::function<bool(const pb::AppEvent*)>& send) {
  IGNITE_ASSIGN_OR_RETURN(auto app, ctx_->LoadApp(p, req.organization_name(), req.app_name()));
  if (!ctx_->deps.events) return Unavailable("app events are not kept by this server");
  struct Queue {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<instances::AppEvent> events;  // guarded by mu; bounded by the producers' rate, at most kMaxEvents
    size_t dropped = 0;                    // guarded by mu
  };
  auto queue = std::make_shared<Queue>();
  const std::string replica = req.replica_id();
  uint32_t tail = req.tail() == 0 ? 100 : std::min(req.tail(), kMaxEvents);
  auto followed = ctx_->deps.events->Follow(req.organization_name() + "/" + app.name, tail, replica,
                                       [queue, replica](const instances::AppEvent& e) {
                                         if (!replica.empty() && e.replica_id != replica) return;
                                         std::lock_guard<std::mutex> lock(queue->mu);
                                         if (queue->events.size() >= kMaxEvents) {
                                           ++queue->dropped;
                                           return;
                                         }
                                         queue->events.push_back(e);
                                         queue->cv.notify_one();
                                       });
  struct Unfollow {
    instances::AppEventLog* events;
    uint64_t id;
    ~Unfollow() { events->Unfollow(id); }
  } unfollow{ctx_->deps.events, followed.id};
  for (const auto& e : followed.tail) {
    auto event = ToProto(e);
    if (!send(&event)) return OkStatus();
  }
  if (!send(nullptr)) return OkStatus();  // the head goes out now, even when nothing happens
  for (;;) {
    std::deque<instances::AppEvent> batch;
    size_t dropped;
    {
      std::unique_lock<std::mutex> lock(queue->mu);
      queue->cv.wait_for(lock, std::chrono::seconds(1), [&] { return !queue->events.empty(); });
      batch.swap(queue->events);
      dropped = std::exchange(queue->dropped, 0);
    }
    if (ctx_->shutting_down) return Unavailable("ignited is stopping; follow the events again once it is back");
    if (dropped > 0) {
      pb::AppEvent note;
      note.set_timestamp_ms(ctx_->deps.clock->NowUnixMs());
      note.set_type("EVENTS_DROPPED");
      note.set_message(fmt::format("{} events were dropped because this reader fell behind", dropped));
      if (!send(&note)) return OkStatus();
    }
    if (batch.empty() && !send(nullptr)) return OkStatus();
    for (const auto& e : batch) {
      auto event = ToProto(e);
      if (!send(&event)) return OkStatus();
    }
  }
}


}  // namespace ignite::api
