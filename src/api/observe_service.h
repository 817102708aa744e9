// ObserveService: what users watch: app logs (read and follow), lifecycle events (read and follow),
// execution statistics, and the platform's health. Followers block their thread until the receiver goes
// away or shutdown begins: call them off event loops. Thread-safe.
#pragma once

#include <functional>

#include "api/service_context.h"

namespace ignite::api {

class ObserveService {
 public:
  // `ctx` must outlive the service.
  explicit ObserveService(ServiceContext* ctx) : ctx_(ctx) {}

  pb::HealthCheckResponse HealthCheck() const;
  Result<pb::GetAppLogsResponse> GetAppLogs(const Principal& p, const pb::GetAppLogsRequest& req);
  // Sends the newest lines, then each new line as it is written (filtered by replica and execution when
  // given). `send(nullptr)` is an idle tick, about once a second without lines. Ends when `send` returns
  // false (the receiver is gone), or with Unavailable once BeginShutdown was called. A receiver slower than
  // the app's logging loses lines beyond 10,000 queued, and is told how many in a "platform" line. Errors
  // before the first send: those of GetAppLogs.
  Status StreamAppLogs(const Principal& p, const pb::StreamAppLogsRequest& req,
                       const std::function<bool(const pb::LogLine*)>& send);
  // Aggregates over the app's invocations since req.since_ms (0: the last 24 hours), never counting those before
  // the app was created (a re-created app starts from zero). Reads the store after saving what is pending.
  Result<pb::GetExecutionStatsResponse> GetExecutionStats(const Principal& p, const pb::GetExecutionStatsRequest& req);
  // The app's newest lifecycle events (memory only; see instances/app_events.h).
  Result<pb::GetAppEventsResponse> GetAppEvents(const Principal& p, const pb::GetAppEventsRequest& req);
  // Like StreamAppLogs, for events: the newest `tail`, then each new event; send(nullptr) is an idle tick about
  // once a second. Ends when `send` returns false, or with Unavailable once BeginShutdown was called.
  Status StreamAppEvents(const Principal& p, const pb::StreamAppEventsRequest& req,
                         const std::function<bool(const pb::AppEvent*)>& send);
  // Streams that follow something open-ended end soon after this, so a drain is not held up.
  void BeginShutdown() { ctx_->shutting_down = true; }

 private:
  ServiceContext* ctx_;
};

}  // namespace ignite::api
