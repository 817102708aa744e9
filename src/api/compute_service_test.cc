// The seam, proven without Go: a made-up code path (src/testing/toy_code_path.h) registered in a
// BuilderRegistry and a DispatchingLauncher goes through save, build, publish and invoke.
#include "api/compute_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/service_world_test.h"

namespace ignite::api {
namespace {

using ::testing::HasSubstr;

TEST(ComputeServiceSeamTest, AToyCodePathGoesThroughSaveBuildPublishAndInvoke) {
  ServiceWorld w;
  w.CreateApp("echo");
  auto saved = w.Save("echo", "toy:hello");
  ASSERT_TRUE(saved.ok()) << saved.status().ToString();
  EXPECT_EQ(saved->draft().code_size_bytes(), 9);

  auto published = w.Publish("echo");
  ASSERT_TRUE(published.ok()) << published.status().ToString();
  EXPECT_EQ(published->version(), 1u);
  EXPECT_EQ(w.builder().builds(), 1);

  auto answer = w.Invoke("echo", "ping");
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_EQ(answer->status, 200u);
  EXPECT_EQ(answer->body, "toy:hello|ping");
  EXPECT_TRUE(answer->cold);
  EXPECT_EQ(answer->version, 1u);

  // The instance was started from the builder's layout, through the launcher its layout names.
  auto launched = w.toy->launched();
  ASSERT_EQ(launched.size(), 1u);
  EXPECT_EQ(launched[0].launcher, "toy");
  EXPECT_EQ(launched[0].argv, std::vector<std::string>{"/app/toy"});
  EXPECT_EQ(launched[0].binds[0].source, w.blobs.PathFor(published->version_info().artifact_sha256()));

  // Warm: the same instance answers again.
  auto again = w.Invoke("echo", "pong");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->body, "toy:hello|pong");
  EXPECT_FALSE(again->cold);
  EXPECT_EQ(w.toy->launched().size(), 1u);
}

TEST(ComputeServiceSeamTest, ALayoutWhoseLauncherIsMissingIsAClearError) {
  instances::DispatchingLauncher empty;
  instances::InstanceSpec spec;
  spec.app_id = "acme/x";
  spec.layout.launcher = "zygote";
  auto launched = empty.Launch(spec, "r1");
  ASSERT_FALSE(launched.ok());
  EXPECT_EQ(launched.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(launched.status().message(), HasSubstr("'zygote' launcher"));
}

}  // namespace
}  // namespace ignite::api
