#include "cli/yaml_output.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

namespace ignite::cli {
namespace {

TEST(JsonToYaml, MapsListsAndScalars) {
  auto json = nlohmann::ordered_json::parse(R"({
    "app": {"id": "org/hello", "activeVersion": 2, "ratio": 0.5, "public": true, "none": null},
    "lines": ["a", "b"], "empty": {}, "nothing": []
  })");
  EXPECT_EQ(JsonToYaml(json),
            "app:\n"
            "  id: org/hello\n"
            "  activeVersion: 2\n"
            "  ratio: 0.5\n"
            "  public: true\n"
            "  none: ~\n"
            "lines:\n"
            "  - a\n"
            "  - b\n"
            "empty: {}\n"
            "nothing: []\n");
}

TEST(JsonToYaml, StringsThatLookLikeOtherTypesAreQuoted) {
  // The protobuf JSON mapping writes int64 as strings: YAML must keep them strings.
  auto json = nlohmann::ordered_json::parse(
      R"({"createdAtMs": "1716900000000", "flag": "true", "word": "yes", "nul": "null", "empty": "",
          "neg": "-1.5", "inf": ".inf", "plain": "hello world", "id": "01J9Z3V7K2M4X8Q5R6T7W8Y9ZA",
          "multi": "line1\nline2", "colon": "a: b"})");
  std::string yaml = JsonToYaml(json);
  EXPECT_NE(yaml.find("createdAtMs: \"1716900000000\""), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("flag: \"true\""), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("word: \"yes\""), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("plain: hello world"), std::string::npos) << yaml;
  // Read back, every value is the same string.
  YAML::Node node = YAML::Load(yaml);
  for (const auto& [key, value] : json.items()) {
    EXPECT_EQ(node[key].as<std::string>(), value.get<std::string>()) << key;
    EXPECT_EQ(node[key].Tag() == "!" || node[key].Tag() == "?", true);
  }
  EXPECT_EQ(node["createdAtMs"].Tag(), "!");  // quoted: a non-specific string tag
}

TEST(YamlPlainScalarIsAmbiguous, Rules) {
  for (const char* text : {"", "1", "-1", "+3", ".5", "0x1F", "2024-01-01", "True", "NO", "~", "Null", ".NaN"}) {
    EXPECT_TRUE(YamlPlainScalarIsAmbiguous(text)) << text;
  }
  for (const char* text : {"hello", "org/app", "go", "succeeded", "a1", "-x", "ign_1"}) {
    EXPECT_FALSE(YamlPlainScalarIsAmbiguous(text)) << text;
  }
}

TEST(JsonTextToYaml, InvalidJsonBecomesAString) {
  EXPECT_EQ(JsonTextToYaml("{\"a\":\"b\"}"), "a: b\n");
  EXPECT_EQ(JsonTextToYaml("not json"), "not json\n");
}

}  // namespace
}  // namespace ignite::cli
