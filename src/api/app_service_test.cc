#include "api/app_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/service_world_test.h"

namespace ignite::api {
namespace {

using ::testing::HasSubstr;

TEST(AppServiceTest, CreateShowsTheAppliedTierAndLimits) {
  ServiceWorld w;
  pb::CreateAppRequest req;
  req.set_organization_name("acme");
  req.set_name("app");
  auto created = w.service->CreateApp(w.admin, req);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->app().id(), "acme/app");
  EXPECT_EQ(created->applied_tier(), pb::RESOURCE_TIER_SMALL);
  EXPECT_EQ(created->applied_limits().memory_mb(), 256u);
  EXPECT_EQ(created->app().deployment_state(), pb::DEPLOYMENT_STATE_CREATED);
  auto twice = w.service->CreateApp(w.admin, req);
  EXPECT_EQ(twice.status().code(), StatusCode::kAlreadyExists);
}

TEST(AppServiceTest, CreateWithCodeIsAllOrNothing) {
  ServiceWorld w;
  pb::CreateAppRequest req;
  req.set_organization_name("acme");
  req.set_name("app");
  req.mutable_code()->mutable_compile()->set_source_code("not toy");
  auto created = w.service->CreateApp(w.admin, req);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w.store.GetApp("org-1", "app").status().code(), StatusCode::kNotFound);
}

TEST(AppServiceTest, AnInvalidConfigIsRefusedAndTheStoredOneKept) {
  ServiceWorld w;
  w.CreateApp("app");
  pb::UpdateAppConfigRequest req;
  req.set_organization_name("acme");
  req.set_app_name("app");
  (*req.mutable_env())["IGNITE_SECRET"] = "x";
  auto updated = w.service->UpdateAppConfig(w.admin, req, {"env"});
  ASSERT_FALSE(updated.ok());
  EXPECT_THAT(updated.status().message(), HasSubstr("reserved for the platform"));
  pb::GetAppRequest get;
  get.set_organization_name("acme");
  get.set_app_name("app");
  EXPECT_TRUE(w.service->GetApp(w.admin, get)->app().env().empty());
}

TEST(AppServiceTest, UpdatingAPublishedAppReroutesItWithoutRestartingIt) {
  ServiceWorld w;
  w.CreateApp("app");
  ASSERT_TRUE(w.Ship("app", "toy:a").ok());
  ASSERT_TRUE(w.Invoke("app", "1").ok());
  pb::UpdateAppConfigRequest req;
  req.set_organization_name("acme");
  req.set_app_name("app");
  req.set_max_concurrency(3);
  auto updated = w.service->UpdateAppConfig(w.admin, req, {"max_concurrency"});
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  auto routes = w.routes.Get();
  ASSERT_TRUE(routes->count("acme/app"));
  EXPECT_EQ(routes->at("acme/app").spec.max_concurrency, 3);
  EXPECT_THAT(routes->at("acme/app").spec.hints.logs, HasSubstr("dodil ignite app logs acme/app"));
  auto warm = w.Invoke("app", "2");
  ASSERT_TRUE(warm.ok());
  EXPECT_FALSE(warm->cold);
}

TEST(AppServiceTest, DeleteStopsRoutingAndAnotherOrgCannotSeeTheApp) {
  ServiceWorld w;
  w.CreateApp("app");
  ASSERT_TRUE(w.Ship("app", "toy:a").ok());
  pb::GetAppRequest get;
  get.set_organization_name("acme");
  get.set_app_name("app");
  EXPECT_EQ(w.service->GetApp(w.stranger, get).status().code(), StatusCode::kPermissionDenied);
  pb::DeleteAppRequest del;
  del.set_organization_name("acme");
  del.set_app_name("app");
  ASSERT_TRUE(w.service->DeleteApp(w.admin, del).ok());
  EXPECT_FALSE(w.routes.Get()->count("acme/app"));
  EXPECT_EQ(w.Invoke("app", "x").status().code(), StatusCode::kNotFound);
}

TEST(AppServiceTest, ListPagesByName) {
  ServiceWorld w;
  for (const char* n : {"c", "a", "b"}) w.CreateApp(n);
  pb::ListAppsRequest req;
  req.set_organization_name("acme");
  req.set_limit(2);
  auto page = w.service->ListApps(w.admin, req);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->apps_size(), 2);
  EXPECT_EQ(page->apps(0).name(), "a");
  EXPECT_EQ(page->next_cursor(), "b");
  req.set_cursor(page->next_cursor());
  auto rest = w.service->ListApps(w.admin, req);
  ASSERT_EQ(rest->apps_size(), 1);
  EXPECT_EQ(rest->apps(0).name(), "c");
}

}  // namespace
}  // namespace ignite::api
