#include "api/version_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/service_world_test.h"

namespace ignite::api {
namespace {

using ::testing::HasSubstr;

TEST(VersionServiceTest, PublishNumbersVersionsAndRoutesTheNewest) {
  ServiceWorld w;
  w.CreateApp("app");
  ASSERT_TRUE(w.Save("app", "toy:one").ok());
  ASSERT_EQ(w.Publish("app")->version(), 1u);
  ASSERT_TRUE(w.Save("app", "toy:two").ok());
  auto second = w.Publish("app");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->version(), 2u);
  EXPECT_EQ(second->version_info().status(), pb::VERSION_STATUS_ACTIVE);
  EXPECT_EQ(w.Invoke("app", "x")->body, "toy:two|x");

  pb::ListAppVersionsRequest list;
  list.set_organization_name("acme");
  list.set_app_name("app");
  auto versions = w.service->ListAppVersions(w.admin, list);
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->versions_size(), 2);
  EXPECT_EQ(versions->versions(0).version(), 2u);
  EXPECT_EQ(versions->versions(1).status(), pb::VERSION_STATUS_SUPERSEDED);
}

TEST(VersionServiceTest, RollbackRoutesTheOlderVersion) {
  ServiceWorld w;
  w.CreateApp("app");
  ASSERT_TRUE(w.Ship("app", "toy:one").ok());
  ASSERT_TRUE(w.Ship("app", "toy:two").ok());
  pb::RollbackAppRequest req;
  req.set_organization_name("acme");
  req.set_app_name("app");
  req.set_version(1);
  auto rolled = w.service->RollbackApp(w.admin, req);
  ASSERT_TRUE(rolled.ok()) << rolled.status().ToString();
  EXPECT_EQ(rolled->previous_version(), 2u);
  EXPECT_EQ(w.Invoke("app", "x")->body, "toy:one|x");

  req.set_version(7);
  auto missing = w.service->RollbackApp(w.admin, req);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("has no version 7"));
}

TEST(VersionServiceTest, PublishWithoutADraftSaysHowToSaveOne) {
  ServiceWorld w;
  w.CreateApp("app");
  auto published = w.Publish("app");
  ASSERT_FALSE(published.ok());
  EXPECT_EQ(published.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(published.status().message(), HasSubstr("dodil ignite draft save acme:app"));
}

}  // namespace
}  // namespace ignite::api
