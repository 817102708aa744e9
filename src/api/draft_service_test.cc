#include "api/draft_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/service_world_test.h"

namespace ignite::api {
namespace {

using ::testing::HasSubstr;

TEST(DraftServiceTest, CodeTheCodePathRefusesIsNotStored) {
  ServiceWorld w;
  w.CreateApp("app");
  auto saved = w.Save("app", "print('hi')");
  ASSERT_FALSE(saved.ok());
  EXPECT_EQ(saved.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(saved.status().message(), HasSubstr("not toy code"));
  auto draft = w.store.GetDraft("org-1", "app");
  ASSERT_TRUE(draft.ok());
  EXPECT_FALSE(draft->has_value());
}

TEST(DraftServiceTest, ACodePathThePlatformDoesNotHaveIsUnimplemented) {
  ServiceWorld w;
  w.CreateApp("app");
  pb::SaveDraftRequest req;
  req.set_organization_name("acme");
  req.set_app_name("app");
  req.mutable_code()->mutable_compile()->set_source_code("x");
  req.mutable_code()->mutable_compile()->mutable_runtime()->mutable_python();
  auto saved = w.service->SaveDraft(w.admin, req);
  ASSERT_FALSE(saved.ok());
  EXPECT_EQ(saved.status().code(), StatusCode::kUnimplemented);
  EXPECT_THAT(saved.status().message(), HasSubstr("the python runtime is not supported by this platform; it builds toy"));
}

TEST(DraftServiceTest, CompileBuildsOnceAndTheLogIsKept) {
  ServiceWorld w;
  w.CreateApp("app");
  ASSERT_TRUE(w.Save("app", "toy:v1").ok());
  pb::CompileDraftRequest compile;
  compile.set_organization_name("acme");
  compile.set_app_name("app");
  auto started = w.service->CompileDraft(w.admin, compile);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  auto built = w.service->BuildDraft(w.admin, "app");
  ASSERT_TRUE(built.ok()) << built.status().ToString();
  EXPECT_EQ(built->build.id, started->deploy_id());
  EXPECT_EQ(built->build.sdk_version, "toy-sdk 1");
  // The same code again: the finished build is reused.
  auto again = w.service->CompileDraft(w.admin, compile);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->deploy_id(), started->deploy_id());
  EXPECT_EQ(again->status(), pb::BUILD_STATUS_SUCCEEDED);
  EXPECT_EQ(w.builder().builds(), 1);

  pb::GetBuildLogRequest log;
  log.set_organization_name("acme");
  log.set_app_name("app");
  log.set_build_id(started->deploy_id());
  auto read = w.service->GetBuildLog(w.admin, log);
  ASSERT_TRUE(read.ok());
  EXPECT_THAT(read->log(), HasSubstr("toy: building 6 bytes"));
  EXPECT_EQ(read->status(), pb::BUILD_STATUS_SUCCEEDED);
}

TEST(DraftServiceTest, AFailedBuildSaysWhyAndPublishesNothing) {
  ServiceWorld w;
  w.CreateApp("app");
  ASSERT_TRUE(w.Save("app", "toy:fail").ok());
  auto published = w.Publish("app");
  ASSERT_FALSE(published.ok());
  EXPECT_EQ(published.status().code(), StatusCode::kInvalidArgument);  // the build's own error
  EXPECT_THAT(published.status().message(), HasSubstr("the code asked to fail"));
  auto versions = w.store.ListVersions("org-1", "app");
  ASSERT_TRUE(versions.ok());
  EXPECT_TRUE(versions->empty());
}

TEST(DraftServiceTest, StoredCodeReadsBack) {
  ServiceWorld w;
  w.CreateApp("app");
  ASSERT_TRUE(w.Save("app", "toy:source").ok());
  pb::GetAppCodeRequest req;
  req.set_organization_name("acme");
  req.set_app_name("app");
  auto code = w.service->GetAppCode(w.admin, req);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(code->source_code(), "toy:source");
  EXPECT_EQ(code->file_name(), "main.toy");
}

}  // namespace
}  // namespace ignite::api
