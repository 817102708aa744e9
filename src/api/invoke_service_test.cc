#include "api/invoke_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/access.h"
#include "api/service_world_test.h"

namespace ignite::api {
namespace {

using ::testing::HasSubstr;

TEST(InvokeServiceTest, NotRoutedSaysWhetherTheAppIsMissingOrUnpublished) {
  ServiceWorld w;
  auto missing = w.Invoke("ghost", "x");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  w.CreateApp("idle");
  auto unpublished = w.Invoke("idle", "x");
  ASSERT_FALSE(unpublished.ok());
  EXPECT_EQ(unpublished.status().code(), StatusCode::kFailedPrecondition);
  // The gateway says what is wrong; the API adds the command that fixes it.
  EXPECT_EQ(unpublished.status().message(),
            "acme/idle has no published version to invoke; publish one with `dodil ignite draft publish acme/idle`");
}

TEST(InvokeServiceTest, AnotherOrganizationMayNotInvoke) {
  ServiceWorld w;
  w.CreateApp("app");
  ASSERT_TRUE(w.Ship("app", "toy:a").ok());
  auto denied = w.Invoke("app", "x", &w.stranger);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(denied.status().message(), HasSubstr("acme/app can be called only by its own organization"));
}

TEST(InvokeServiceTest, PublicAppsAreOpenToEveryOrganizationForInvokeOnly) {
  Principal p{.org_name = "other"};
  EXPECT_TRUE(CheckInvokeAccess(p, "public", "tool").ok());
  EXPECT_EQ(CheckOrgAccess(p, "public").code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(CheckOrgAccess(p, "other").ok());
}

TEST(InvokeServiceTest, TestDraftRunsUnpublishedCodeAndReusesItsInstance) {
  ServiceWorld w;
  w.CreateApp("app");
  ASSERT_TRUE(w.Save("app", "toy:draft").ok());
  gateway::InvokeCall call;
  call.payload = "t";
  auto tested = w.service->TestDraft(w.admin, "acme", "app", call);
  ASSERT_TRUE(tested.ok()) << tested.status().ToString();
  EXPECT_EQ(tested->body, "toy:draft|t");
  auto again = w.service->TestDraft(w.admin, "acme", "app", call);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->cold);
  // Nothing was published.
  EXPECT_EQ(w.Invoke("app", "x").status().code(), StatusCode::kFailedPrecondition);
}

TEST(InvokeServiceTest, TestAppVersionRunsAnInactiveVersion) {
  ServiceWorld w;
  w.CreateApp("app");
  ASSERT_TRUE(w.Ship("app", "toy:one").ok());
  ASSERT_TRUE(w.Ship("app", "toy:two").ok());
  gateway::InvokeCall call;
  call.payload = "v";
  auto tested = w.service->TestAppVersion(w.admin, "acme", "app", 1, call);
  ASSERT_TRUE(tested.ok()) << tested.status().ToString();
  EXPECT_EQ(tested->body, "toy:one|v");
  EXPECT_EQ(w.Invoke("app", "x")->body, "toy:two|x");
}

TEST(InvokeServiceTest, BodyLimitComesFromTheConfig) {
  ServiceWorld w;
  pb::CreateAppRequest req;
  req.set_organization_name("acme");
  req.set_name("small");
  req.mutable_limits()->set_body_limit_mb(2);
  ASSERT_TRUE(w.service->CreateApp(w.admin, req).ok());
  auto limit = w.service->BodyLimitOf(w.admin, "acme", "small");
  ASSERT_TRUE(limit.ok());
  EXPECT_EQ(limit->bytes, uint64_t{2} << 20);
  EXPECT_THAT(limit->message, HasSubstr("--body-limit-mb"));
  EXPECT_EQ(w.service->DefaultBodyLimit("acme/x").bytes, uint64_t{100} << 20);
}

}  // namespace
}  // namespace ignite::api
