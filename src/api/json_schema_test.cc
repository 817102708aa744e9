#include "api/json_schema.h"

#include <gtest/gtest.h>

namespace ignite::api {
namespace {

constexpr std::string_view kPerson =
    R"({"type":"object","required":["name"],"properties":{"name":{"type":"string"},"age":{"type":"integer","minimum":0},
        "tags":{"type":"array","items":{"type":"string"}}}})";

TEST(JsonSchemaTest, AcceptsMatchingPayloads) {
  auto schema = CompileJsonSchema(kPerson, "input_schema");
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  EXPECT_TRUE((*schema)->Check(R"({"name":"ada","age":36,"tags":["x"]})").ok());
  EXPECT_EQ((*schema)->max_bytes(), JsonSchema::kMaxPayloadBytes);
}

TEST(JsonSchemaTest, RejectionsSayWhereAndWhat) {
  auto schema = CompileJsonSchema(kPerson, "input_schema");
  ASSERT_TRUE(schema.ok());
  Status missing = (*schema)->Check(R"({"age":3})");
  EXPECT_EQ(missing.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(missing.message().find("input schema"), std::string::npos) << missing.message();
  EXPECT_NE(missing.message().find("name"), std::string::npos) << missing.message();

  Status wrong_type = (*schema)->Check(R"({"name":"a","age":"old"})");
  EXPECT_EQ(wrong_type.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wrong_type.message().find("/age"), std::string::npos) << wrong_type.message();

  Status nested = (*schema)->Check(R"({"name":"a","tags":["x", 7]})");
  EXPECT_NE(nested.message().find("/tags/1"), std::string::npos) << nested.message();

  Status not_json = (*schema)->Check("hello");
  EXPECT_EQ(not_json.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(not_json.message().find("not valid JSON"), std::string::npos) << not_json.message();
}

TEST(JsonSchemaTest, InvalidSchemasAreRefusedWithTheReason) {
  auto not_json = CompileJsonSchema("{type: object", "input_schema");
  EXPECT_EQ(not_json.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(not_json.status().message().find("input_schema is not valid JSON"), std::string::npos);

  auto not_object = CompileJsonSchema("[1,2]", "output_schema");
  EXPECT_EQ(not_object.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(not_object.status().message().find("output_schema must be a JSON Schema object"), std::string::npos);

  auto bad_keyword = CompileJsonSchema(R"({"type":"object","required":"name"})", "input_schema");
  EXPECT_EQ(bad_keyword.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_keyword.status().message().find("not a valid JSON Schema"), std::string::npos)
      << bad_keyword.status().message();

  auto bad_type = CompileJsonSchema(R"({"type":"strin"})", "input_schema");
  EXPECT_EQ(bad_type.status().code(), StatusCode::kInvalidArgument);

  auto empty = CompileOptionalSchema("", "input_schema");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, nullptr);
  EXPECT_TRUE(CompileJsonSchema("true", "input_schema").ok());
}

}  // namespace
}  // namespace ignite::api
