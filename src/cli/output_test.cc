#include "cli/output.h"

#include <gtest/gtest.h>

#include "dodil/ignite/v1/ignite_compute.pb.h"

namespace ignite::cli {
namespace {

TEST(Table, AlignsColumnsWithoutTrailingSpaces) {
  Table table{{"NAME", "RUNTIME", "ACTIVE"}, {{"hello", "go", "1"}, {"a-much-longer-name", "", "12"}}};
  EXPECT_EQ(table.Render(),
            "NAME                 RUNTIME   ACTIVE\n"
            "hello                go        1\n"
            "a-much-longer-name   -         12\n");
}

TEST(Table, HeaderOnly) { EXPECT_EQ((Table{{"A", "B"}, {}}).Render(), "A   B\n"); }

TEST(RenderKeyValues, AlignsAndSkipsEmpty) {
  EXPECT_EQ(RenderKeyValues({{"State", "created"}, {"Description", ""}, {"Code hash", "abc"}}),
            "State:      created\n"
            "Code hash:  abc\n");
}

TEST(ParseOutputFormat, Choices) {
  EXPECT_EQ(*ParseOutputFormat("table"), OutputFormat::kTable);
  EXPECT_EQ(*ParseOutputFormat("json"), OutputFormat::kJson);
  EXPECT_EQ(*ParseOutputFormat("yaml"), OutputFormat::kYaml);
  EXPECT_EQ(*ParseOutputFormat("wide"), OutputFormat::kWide);
  auto xml = ParseOutputFormat("xml");
  ASSERT_FALSE(xml.ok());
  EXPECT_NE(xml.status().message().find("table, json, yaml or wide"), std::string::npos);
  EXPECT_EQ(ExitCodeFor(xml.status().code()), 2);  // a usage error
  EXPECT_TRUE(IsStructured(OutputFormat::kYaml));
  EXPECT_FALSE(IsStructured(OutputFormat::kWide));
}

TEST(RenderStructured, JsonAsIsYamlConverted) {
  EXPECT_EQ(RenderStructured(OutputFormat::kJson, "{\"a\": 1}"), "{\"a\": 1}\n");
  EXPECT_EQ(RenderStructured(OutputFormat::kYaml, "{\"a\": 1}"), "a: 1\n");
  EXPECT_EQ(RenderStreamItem(OutputFormat::kJson, "{\"a\":1}"), "{\"a\":1}\n");
  EXPECT_EQ(RenderStreamItem(OutputFormat::kYaml, "{\"a\":1}"), "---\na: 1\n");
}

TEST(Labels, EnumsRuntimesLimits) {
  EXPECT_EQ(EnumLabel("RESOURCE_TIER_MEDIUM", "RESOURCE_TIER_"), "medium");
  EXPECT_EQ(EnumLabel("RESOURCE_TIER_UNSPECIFIED", "RESOURCE_TIER_"), "");
  EXPECT_EQ(EnumLabel("BUILD_STATUS_SUCCEEDED", "BUILD_STATUS_"), "succeeded");

  dodil::ignite::v1::Runtime runtime;
  EXPECT_EQ(RuntimeLabel(runtime), "");
  runtime.mutable_go();
  EXPECT_EQ(RuntimeLabel(runtime), "go");
  runtime.mutable_rust()->set_target(dodil::ignite::v1::RUST_COMPILATION_TARGET_WASM);
  EXPECT_EQ(RuntimeLabel(runtime), "rust (wasm)");

  dodil::ignite::v1::ResourceLimits limits;
  EXPECT_EQ(LimitsLabel(limits), "");
  limits.set_memory_mb(512);
  limits.set_cpu_millicores(500);
  EXPECT_EQ(LimitsLabel(limits), "512 MB memory, 500 millicores CPU");
}

TEST(Format, TimesAndBytes) {
  EXPECT_EQ(FormatTimeMs(0), "");
  EXPECT_EQ(FormatTimeMs(1716900000000), "2024-05-28 12:40:00 UTC");
  EXPECT_EQ(FormatBytes(812), "812 B");
  EXPECT_EQ(FormatBytes(2048), "2.0 KiB");
  EXPECT_EQ(FormatBytes(3 * 1024 * 1024), "3.0 MiB");
}

TEST(MessageToPrettyJson, UsesTheProtobufJsonMapping) {
  dodil::ignite::v1::CreateAppResponse response;
  response.set_app_id("org/hello");
  response.set_applied_tier(dodil::ignite::v1::RESOURCE_TIER_SMALL);
  std::string json = MessageToPrettyJson(response);
  EXPECT_NE(json.find("\"appId\": \"org/hello\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"appliedTier\": \"RESOURCE_TIER_SMALL\""), std::string::npos) << json;
  EXPECT_EQ(json.back(), '\n');
}

TEST(Utf8AndBase64, Basics) {
  EXPECT_TRUE(IsValidUtf8("hello, \xc3\xa9t\xc3\xa9 \xf0\x9f\x94\xa5"));
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));  // surrogate
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode(std::string("\xff\x00\x01", 3)), "/wAB");
}

TEST(FormatRfc3339Ms, UtcWithMilliseconds) {
  EXPECT_EQ(FormatRfc3339Ms(1716900000123), "2024-05-28T12:40:00.123Z");
  EXPECT_EQ(FormatRfc3339Ms(1716900000000), "2024-05-28T12:40:00.000Z");
  EXPECT_EQ(FormatRfc3339Ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339Ms(-1), "1969-12-31T23:59:59.999Z");
}

TEST(RenderLogLine, TimeReplicaExecutionMessage) {
  dodil::ignite::v1::LogLine line;
  line.set_timestamp_ms(1716900000007);
  line.set_replica_id("r-2");
  line.set_execution_id("01EXEC");
  line.set_stream("stderr");
  line.set_message("2024/05/28 handled request\r\n");
  EXPECT_EQ(RenderLogLine(line), "2024-05-28T12:40:00.007Z r-2 01EXEC 2024/05/28 handled request\n");
  line.clear_execution_id();
  line.clear_replica_id();
  line.set_message("  indented, no newline");
  EXPECT_EQ(RenderLogLine(line), "2024-05-28T12:40:00.007Z - -   indented, no newline\n");
  line.set_message("");
  EXPECT_EQ(RenderLogLine(line), "2024-05-28T12:40:00.007Z - - \n");
}

}  // namespace
}  // namespace ignite::cli
