#include "cli/config.h"

#include <gtest/gtest.h>

#include "cli/test_fakes.h"

namespace ignite::cli {
namespace {

using fakes::FakeFileSystem;

TEST(MergeSettings, FlagsBeatEnvironmentBeatsFile) {
  FileConfig file{"http://file:1", "file-token", "file-org"};
  EnvMap env{{"DODIL_TOKEN", "dodil-token"},
             {"IGNITE_TOKEN", "ignite-token"},
             {"IGNITE_API_ENDPOINT", "http://env:2"},
             {"IGNITE_ORG_ID", "env-org-id"},
             {"IGNITE_ORG_NAME", "env-org-name"}};
  ConfigFlags flags{"http://flag:3", "flag-token", "flag-org", ""};

  Settings s = MergeSettings(flags, env, file);
  EXPECT_EQ(s.api_endpoint, "http://flag:3");
  EXPECT_EQ(s.token, "flag-token");
  EXPECT_EQ(s.org, "flag-org");

  s = MergeSettings(ConfigFlags{}, env, file);
  EXPECT_EQ(s.api_endpoint, "http://env:2");
  EXPECT_EQ(s.token, "dodil-token");
  EXPECT_EQ(s.org, "env-org-id");

  env.erase("DODIL_TOKEN");
  env.erase("IGNITE_ORG_ID");
  s = MergeSettings(ConfigFlags{}, env, file);
  EXPECT_EQ(s.token, "ignite-token");
  EXPECT_EQ(s.org, "env-org-name");

  s = MergeSettings(ConfigFlags{}, EnvMap{}, file);
  EXPECT_EQ(s.api_endpoint, "http://file:1");
  EXPECT_EQ(s.token, "file-token");
  EXPECT_EQ(s.org, "file-org");
}

TEST(MergeSettings, DefaultsWhenNothingIsConfigured) {
  Settings s = MergeSettings(ConfigFlags{}, EnvMap{{"IGNITE_TOKEN", ""}}, FileConfig{});
  EXPECT_EQ(s.api_endpoint, "http://127.0.0.1:7070");
  EXPECT_EQ(s.token, "");
  EXPECT_EQ(s.org, "org");
}

TEST(ParseConfigYaml, IgniteKeysWinOverGlobal) {
  auto c = ParseConfigYaml(R"(
global:
  api_endpoint: http://global:1
  token: global-token
  org_id: global-org
ignite:
  token: ignite-token
)",
                           "c.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->token, "ignite-token");
  EXPECT_EQ(c->api_endpoint, "http://global:1");
  EXPECT_EQ(c->org, "global-org");
}

TEST(ParseConfigYaml, FlatDottedKeysAndOrgName) {
  auto c = ParseConfigYaml("ignite.api_endpoint: 127.0.0.1:9\nignite.org_name: acme\n", "c.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->api_endpoint, "127.0.0.1:9");
  EXPECT_EQ(c->org, "acme");
}

TEST(ParseConfigYaml, EmptyAndMalformed) {
  auto empty = ParseConfigYaml("", "c.yaml");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->token, "");

  auto bad = ParseConfigYaml("ignite: [unclosed", "/x/c.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(ExitCodeFor(bad.status().code()), 1);
  EXPECT_NE(bad.status().message().find("/x/c.yaml"), std::string::npos);

  auto list = ParseConfigYaml("- a\n- b\n", "c.yaml");
  EXPECT_FALSE(list.ok());

  auto nested = ParseConfigYaml("ignite:\n  token: [a, b]\n", "c.yaml");
  EXPECT_FALSE(nested.ok());
}

TEST(ConfigFileCandidates, EnvironmentDirectoriesComeFirstAndIsolate) {
  FakeFileSystem fs;
  fs.AddDir("/cfg/dodil");
  fs.AddDir("/cfg/ignite");
  EnvMap env{{"HOME", "/home/u"}, {"DODIL_CONFIG_DIR", "/cfg/dodil"}, {"IGNITE_CONFIG_DIR", "/cfg/ignite"}};
  EXPECT_EQ(ConfigFileCandidates(env, fs), std::vector<std::string>{"/cfg/dodil/config.yaml"});

  env["DODIL_CONFIG_DIR"] = "/does/not/exist";
  EXPECT_EQ(ConfigFileCandidates(env, fs), std::vector<std::string>{"/cfg/ignite/config.yaml"});

  env.erase("IGNITE_CONFIG_DIR");
  EXPECT_EQ(ConfigFileCandidates(env, fs),
            (std::vector<std::string>{"/home/u/.config/unified-cli/config.yaml", "/home/u/.ignite/config.yaml",
                                      "/home/u/.config/dodil/config.yaml"}));
}

TEST(FindConfigFile, SearchOrder) {
  FakeFileSystem fs;
  EnvMap env{{"HOME", "/home/u"}};
  auto none = FindConfigFile(ConfigFlags{}, env, fs);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, "");

  fs.AddFile("/home/u/.config/dodil/config.yaml", "");
  EXPECT_EQ(*FindConfigFile(ConfigFlags{}, env, fs), "/home/u/.config/dodil/config.yaml");
  fs.AddFile("/home/u/.ignite/config.yaml", "");
  EXPECT_EQ(*FindConfigFile(ConfigFlags{}, env, fs), "/home/u/.ignite/config.yaml");
  fs.AddFile("/home/u/.config/unified-cli/config.yaml", "");
  EXPECT_EQ(*FindConfigFile(ConfigFlags{}, env, fs), "/home/u/.config/unified-cli/config.yaml");

  // An existing $DODIL_CONFIG_DIR without config.yaml means "no config file", not "look in $HOME".
  fs.AddDir("/isolated");
  env["DODIL_CONFIG_DIR"] = "/isolated";
  EXPECT_EQ(*FindConfigFile(ConfigFlags{}, env, fs), "");
  fs.AddFile("/isolated/config.yaml", "");
  EXPECT_EQ(*FindConfigFile(ConfigFlags{}, env, fs), "/isolated/config.yaml");

  // --config wins over everything, and must exist.
  ConfigFlags flags;
  flags.config_path = "/explicit.yaml";
  auto missing = FindConfigFile(flags, env, fs);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(ExitCodeFor(missing.status().code()), 1);
  EXPECT_NE(missing.status().message().find("/explicit.yaml"), std::string::npos);
  fs.AddFile("/explicit.yaml", "");
  EXPECT_EQ(*FindConfigFile(flags, env, fs), "/explicit.yaml");
}

TEST(ResolveSettings, ReadsTheFoundFileUnderFlagsAndEnvironment) {
  FakeFileSystem fs;
  fs.AddFile("/home/u/.config/unified-cli/config.yaml",
             "ignite:\n  api_endpoint: http://127.0.0.1:7071\n  token: secret\n  org_id: org\n");
  EnvMap env{{"HOME", "/home/u"}, {"IGNITE_ORG_ID", "other"}};
  auto s = ResolveSettings(ConfigFlags{}, env, fs);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->api_endpoint, "http://127.0.0.1:7071");
  EXPECT_EQ(s->token, "secret");
  EXPECT_EQ(s->org, "other");
  EXPECT_EQ(s->config_file, "/home/u/.config/unified-cli/config.yaml");

  ConfigFlags flags;
  flags.token = "flag";
  EXPECT_EQ(ResolveSettings(flags, env, fs)->token, "flag");
}

}  // namespace
}  // namespace ignite::cli
