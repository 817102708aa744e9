#include "api/app_config.h"

#include <gtest/gtest.h>

#include "api/proto_json.h"

namespace ignite::api {
namespace {

namespace pb = ::dodil::ignite::v1;

std::vector<std::string> Fields(std::string_view json) {
  auto f = ConfigFieldsInBody(json);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  return f.ok() ? *f : std::vector<std::string>{};
}

TEST(AppConfigTest, FieldsInBodyByProtoNameWithSubFieldsOfLimitsAndScaling) {
  EXPECT_TRUE(Fields("").empty());
  EXPECT_TRUE(Fields("  {}").empty());
  EXPECT_EQ(Fields(R"({"description":"x","maxConcurrency":0,"organizationName":"o","app_name":"a"})"),
            (std::vector<std::string>{"description", "max_concurrency"}));
  EXPECT_EQ(Fields(R"({"limits":{"timeoutSecs":5},"scaling":{"max_replicas":2,"idleTimeoutSecs":9}})"),
            (std::vector<std::string>{"limits.timeout_secs", "scaling.idle_timeout_secs", "scaling.max_replicas"}));
  EXPECT_EQ(Fields(R"({"env":{"A":"1"},"scaling":null})"), (std::vector<std::string>{"env", "scaling"}));
  EXPECT_FALSE(ConfigFieldsInBody(R"({"nope":1})").ok());
  EXPECT_FALSE(ConfigFieldsInBody(R"({"limits":{"nope":1}})").ok());
  EXPECT_FALSE(ConfigFieldsInBody("[1]").ok());
  EXPECT_FALSE(ConfigFieldsInBody("{").ok());
}

TEST(AppConfigTest, ApplyCopiesOnlyTheNamedFields) {
  pb::AppMeta spec;
  spec.set_description("old");
  spec.set_max_concurrency(7);
  spec.mutable_limits()->set_memory_mb(512);
  spec.mutable_limits()->set_timeout_secs(30);
  spec.mutable_scaling()->set_max_replicas(4);
  spec.mutable_scaling()->set_reserved(1);
  (*spec.mutable_env())["A"] = "1";
  (*spec.mutable_env())["B"] = "2";
  spec.set_storage_mode(pb::STORAGE_MODE_EPHEMERAL);

  std::string body = R"({"description":"new","limits":{"timeoutSecs":60},"scaling":{"maxReplicas":0},)"
                     R"("env":{"C":"3"},"maxConcurrency":0})";
  pb::UpdateAppConfigRequest req;
  ASSERT_TRUE(JsonToMessage(body, &req).ok());
  auto fields = ConfigFieldsInBody(body);
  ASSERT_TRUE(fields.ok());
  ApplyConfigFields(req, *fields, &spec);

  EXPECT_EQ(spec.description(), "new");
  EXPECT_EQ(spec.max_concurrency(), 0u);          // present with its default: reset
  EXPECT_EQ(spec.limits().timeout_secs(), 60u);   // replaced
  EXPECT_EQ(spec.limits().memory_mb(), 512u);     // sibling kept
  EXPECT_EQ(spec.scaling().max_replicas(), 0u);
  EXPECT_EQ(spec.scaling().reserved(), 1u);
  ASSERT_EQ(spec.env().size(), 1u);               // the whole map replaced
  EXPECT_EQ(spec.env().at("C"), "3");
  EXPECT_EQ(spec.storage_mode(), pb::STORAGE_MODE_EPHEMERAL);  // absent: kept

  pb::UpdateAppConfigRequest whole;
  ApplyConfigFields(whole, {"limits", "storage_mode"}, &spec);
  EXPECT_EQ(spec.limits().memory_mb(), 0u);
  EXPECT_EQ(spec.storage_mode(), pb::STORAGE_MODE_PERSISTENT);
}

}  // namespace
}  // namespace ignite::api
