#include "api/proto_json.h"

#include <gtest/gtest.h>

#include "dodil/ignite/v1/ignite_compute.pb.h"

namespace ignite::api {
namespace {

namespace pb = ::dodil::ignite::v1;

TEST(ProtoJsonTest, UsesThePbjsonMapping) {
  pb::ListAppVersionsResponse r;
  auto* v = r.add_versions();
  v->set_version(4);
  v->set_code_hash("9f1c2a7e");
  v->set_created_at_ms(1716900300000);
  v->set_status(pb::VERSION_STATUS_ACTIVE);
  EXPECT_EQ(MessageToJson(r),
            R"({"versions":[{"version":4,"codeHash":"9f1c2a7e","createdAtMs":"1716900300000","status":"VERSION_STATUS_ACTIVE"}]})");
}

TEST(ProtoJsonTest, ParsesTheReferenceCreateAppExample) {
  pb::CreateAppRequest req;
  ASSERT_TRUE(JsonToMessage(R"({"name":"my-data-processor","resourceTier":"RESOURCE_TIER_MEDIUM",
    "description":"Parses a PDF","env":{"LOG_LEVEL":"info"}})", &req).ok());
  EXPECT_EQ(req.name(), "my-data-processor");
  EXPECT_EQ(req.resource_tier(), pb::RESOURCE_TIER_MEDIUM);
  EXPECT_EQ(req.env().at("LOG_LEVEL"), "info");
}

TEST(ProtoJsonTest, RejectsUnknownFieldsAndBadJson) {
  pb::CreateAppRequest req;
  auto st = JsonToMessage(R"({"nmae":"x"})", &req);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("nmae"), std::string::npos);
  EXPECT_EQ(JsonToMessage("{", &req).code(), StatusCode::kInvalidArgument);
}

TEST(ProtoJsonTest, SetsFieldsFromParameters) {
  pb::GetAppVersionRequest req;
  ASSERT_TRUE(SetFields({{"organization_name", "org"}, {"app_name", "a"}, {"version", "3"}}, &req).ok());
  EXPECT_EQ(req.version(), 3u);
  EXPECT_EQ(req.app_name(), "a");
  pb::ListAppsRequest list;
  ASSERT_TRUE(SetFields({{"limit", "10"}, {"cursor", "abc"}}, &list).ok());
  EXPECT_EQ(list.limit(), 10u);
  EXPECT_EQ(SetFields({{"version", "x"}}, &req).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SetFields({{"bogus", "1"}}, &req).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ignite::api
