#include "api/observe_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/service_world_test.h"

namespace ignite::api {
namespace {

using ::testing::HasSubstr;

TEST(ObserveServiceTest, BuildAndPublishLeaveEvents) {
  ServiceWorld w;
  w.CreateApp("app");
  ASSERT_TRUE(w.Ship("app", "toy:a").ok());
  pb::GetAppEventsRequest req;
  req.set_organization_name("acme");
  req.set_app_name("app");
  auto events = w.service->GetAppEvents(w.admin, req);
  ASSERT_TRUE(events.ok());
  std::vector<std::string> types;
  for (const auto& e : events->events()) types.push_back(e.type());
  EXPECT_THAT(types, ::testing::IsSupersetOf({std::string(instances::event::kBuildStarted),
                                              std::string(instances::event::kBuildSucceeded),
                                              std::string(instances::event::kVersionPublished)}));
}

TEST(ObserveServiceTest, StreamsEndOnShutdown) {
  ServiceWorld w;
  w.CreateApp("app");
  pb::StreamAppEventsRequest req;
  req.set_organization_name("acme");
  req.set_app_name("app");
  int ticks = 0;
  Status st = w.service->StreamAppEvents(w.admin, req, [&](const pb::AppEvent* e) {
    if (!e && ++ticks == 1) w.service->BeginShutdown();
    return ticks < 10;  // bounded: the stream must end by itself well before
  });
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_THAT(st.message(), HasSubstr("ignited is stopping"));
}

TEST(ObserveServiceTest, StatsWithoutARecorderAreZeroAndHealthServes) {
  ServiceWorld w;
  w.CreateApp("app");
  pb::GetExecutionStatsRequest req;
  req.set_organization_name("acme");
  req.set_app_name("app");
  auto stats = w.service->GetExecutionStats(w.admin, req);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->total(), 0u);
  EXPECT_EQ(stats->app_id(), "acme/app");
  EXPECT_EQ(w.service->HealthCheck().status(), "SERVING");
}

}  // namespace
}  // namespace ignite::api
