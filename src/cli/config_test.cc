#include "cli/config.h"

#include <gtest/gtest.h>

#include "cli/config_write.h"
#include "cli/test_fakes.h"

namespace ignite::cli {
namespace {

using fakes::FakeFileSystem;

TEST(MergeSettings, FlagsBeatEnvironmentBeatsFile) {
  FileConfig file{"http://file:1", "file-token", "file-org", "ignite.api_endpoint", "global.token", "ignite.org_id"};
  EnvMap env{{"DODIL_TOKEN", "dodil-token"},
             {"IGNITE_TOKEN", "ignite-token"},
             {"IGNITE_API_ENDPOINT", "http://env:2"},
             {"IGNITE_ORG_ID", "env-org-id"},
             {"IGNITE_ORG_NAME", "env-org-name"}};
  ConfigFlags flags{"http://flag:3", "flag-token", "flag-org", "", "flag-org-name", false};

  Settings s = MergeSettings(flags, env, file);
  EXPECT_EQ(s.api_endpoint, "http://flag:3");
  EXPECT_EQ(s.token, "flag-token");
  EXPECT_EQ(s.org, "flag-org");
  EXPECT_EQ(DescribeSource(s.api_endpoint_source), "flag --api-endpoint");
  EXPECT_EQ(DescribeSource(s.token_source), "flag --token");
  EXPECT_EQ(DescribeSource(s.org_source), "flag --org");

  // --org-name is the next flag in line for the organization, before the environment.
  flags.org.clear();
  s = MergeSettings(flags, env, file);
  EXPECT_EQ(s.org, "flag-org-name");
  EXPECT_EQ(DescribeSource(s.org_source), "flag --org-name");

  s = MergeSettings(ConfigFlags{}, env, file);
  EXPECT_EQ(s.api_endpoint, "http://env:2");
  EXPECT_EQ(s.token, "dodil-token");
  EXPECT_EQ(s.org, "env-org-id");
  EXPECT_EQ(DescribeSource(s.token_source), "env DODIL_TOKEN");
  EXPECT_EQ(DescribeSource(s.api_endpoint_source), "env IGNITE_API_ENDPOINT");
  EXPECT_EQ(DescribeSource(s.org_source), "env IGNITE_ORG_ID");

  env.erase("DODIL_TOKEN");
  env.erase("IGNITE_ORG_ID");
  s = MergeSettings(ConfigFlags{}, env, file);
  EXPECT_EQ(s.token, "ignite-token");
  EXPECT_EQ(s.org, "env-org-name");
  EXPECT_EQ(DescribeSource(s.token_source), "env IGNITE_TOKEN");
  EXPECT_EQ(DescribeSource(s.org_source), "env IGNITE_ORG_NAME");

  s = MergeSettings(ConfigFlags{}, EnvMap{}, file);
  EXPECT_EQ(s.api_endpoint, "http://file:1");
  EXPECT_EQ(s.token, "file-token");
  EXPECT_EQ(s.org, "file-org");
  EXPECT_EQ(DescribeSource(s.api_endpoint_source), "file ignite.api_endpoint");
  EXPECT_EQ(DescribeSource(s.token_source), "file global.token");
  EXPECT_EQ(DescribeSource(s.org_source), "file ignite.org_id");
}

TEST(MergeSettings, DebugFromFlagOrIgniteDebug) {
  EXPECT_FALSE(MergeSettings(ConfigFlags{}, EnvMap{}, FileConfig{}).debug);
  ConfigFlags flags;
  flags.debug = true;
  EXPECT_TRUE(MergeSettings(flags, EnvMap{}, FileConfig{}).debug);
  for (const char* on : {"1", "true", "TRUE", "yes", "on"}) {
    EXPECT_TRUE(MergeSettings(ConfigFlags{}, EnvMap{{"IGNITE_DEBUG", on}}, FileConfig{}).debug) << on;
  }
  for (const char* off : {"", "0", "false", "no", "off"}) {
    EXPECT_FALSE(MergeSettings(ConfigFlags{}, EnvMap{{"IGNITE_DEBUG", off}}, FileConfig{}).debug) << off;
  }
}

TEST(MergeSettings, DefaultsWhenNothingIsConfigured) {
  Settings s = MergeSettings(ConfigFlags{}, EnvMap{{"IGNITE_TOKEN", ""}}, FileConfig{});
  EXPECT_EQ(s.api_endpoint, "http://127.0.0.1:7070");
  EXPECT_EQ(s.token, "");
  EXPECT_EQ(s.org, "org");
  EXPECT_EQ(DescribeSource(s.api_endpoint_source), "default");
  EXPECT_EQ(DescribeSource(s.org_source), "default");
  EXPECT_EQ(DescribeSource(s.token_source), "unset");
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
  EXPECT_EQ(c->token_key, "ignite.token");
  EXPECT_EQ(c->api_endpoint_key, "global.api_endpoint");
  EXPECT_EQ(c->org_key, "global.org_id");
}

TEST(ParseConfigYaml, FlatDottedKeysAndOrgName) {
  auto c = ParseConfigYaml("ignite.api_endpoint: 127.0.0.1:9\nignite.org_name: acme\n", "c.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->api_endpoint, "127.0.0.1:9");
  EXPECT_EQ(c->org, "acme");
  EXPECT_EQ(c->org_key, "ignite.org_name");
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

// ---- Writing the config file (config_write.h) ----

TEST(ConfigWritePath, FollowsTheReadOrderAndCreatesTheFirstChoice) {
  FakeFileSystem fs;
  EnvMap env{{"HOME", "/home/u"}};
  // Nothing exists: the reference's ~/.config/unified-cli/config.yaml.
  EXPECT_EQ(*ConfigWritePath("", env, fs), "/home/u/.config/unified-cli/config.yaml");
  // An existing file further down the read order is the one read, so it is the one written.
  fs.AddFile("/home/u/.config/dodil/config.yaml", "");
  EXPECT_EQ(*ConfigWritePath("", env, fs), "/home/u/.config/dodil/config.yaml");
  fs.AddFile("/home/u/.ignite/config.yaml", "");
  EXPECT_EQ(*ConfigWritePath("", env, fs), "/home/u/.ignite/config.yaml");
  // The variables name the directory even before it exists; DODIL_CONFIG_DIR first.
  env["IGNITE_CONFIG_DIR"] = "/cfg/ignite";
  EXPECT_EQ(*ConfigWritePath("", env, fs), "/cfg/ignite/config.yaml");
  env["DODIL_CONFIG_DIR"] = "/cfg/dodil/";
  EXPECT_EQ(*ConfigWritePath("", env, fs), "/cfg/dodil/config.yaml");
  // --config wins.
  EXPECT_EQ(*ConfigWritePath("/x/my.yaml", env, fs), "/x/my.yaml");
  // No HOME and no variable: nowhere to write.
  auto nowhere = ConfigWritePath("", EnvMap{}, fs);
  ASSERT_FALSE(nowhere.ok());
  EXPECT_NE(nowhere.status().message().find("DODIL_CONFIG_DIR"), std::string::npos);
}

TEST(SetIgniteKeys, AddsUnderIgniteAndKeepsTheRest) {
  auto fresh = SetIgniteKeys("", {{"token", "t1"}, {"org_id", "acme"}}, "c.yaml");
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  EXPECT_EQ(*fresh, "ignite:\n  token: t1\n  org_id: acme\n");

  auto kept = SetIgniteKeys("global:\n  token: g\nignite:\n  api_endpoint: http://a:1\n  token: old\nother: 3\n",
                            {{"token", "new"}}, "c.yaml");
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  auto parsed = ParseConfigYaml(*kept, "c.yaml");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->token, "new");
  EXPECT_EQ(parsed->api_endpoint, "http://a:1");
  EXPECT_NE(kept->find("other: 3"), std::string::npos) << *kept;
  EXPECT_NE(kept->find("global:"), std::string::npos) << *kept;

  // A flat dotted key for the same setting is replaced by the nested one.
  auto flat = SetIgniteKeys("ignite.token: old\nignite.org_id: acme\n", {{"token", "new"}}, "c.yaml");
  ASSERT_TRUE(flat.ok());
  EXPECT_EQ(flat->find("ignite.token"), std::string::npos) << *flat;
  EXPECT_NE(flat->find("ignite.org_id: acme"), std::string::npos) << *flat;
  EXPECT_EQ(ParseConfigYaml(*flat, "c.yaml")->token, "new");

  EXPECT_FALSE(SetIgniteKeys("- a\n", {{"token", "x"}}, "c.yaml").ok());
  EXPECT_FALSE(SetIgniteKeys("ignite: 3\n", {{"token", "x"}}, "c.yaml").ok());
  auto bad = SetIgniteKeys("ignite: [unclosed", {{"token", "x"}}, "/x/c.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("/x/c.yaml"), std::string::npos);
}

TEST(WriteIgniteKeys, CreatesTheDirectoryAndAPrivateFile) {
  FakeFileSystem fs;
  ASSERT_TRUE(WriteIgniteKeys(fs, "/home/u/.config/unified-cli/config.yaml", {{"token", "t"}}).ok());
  EXPECT_TRUE(fs.IsDirectory("/home/u/.config/unified-cli"));
  EXPECT_TRUE(fs.IsPrivate("/home/u/.config/unified-cli/config.yaml"));
  EXPECT_EQ(*fs.ReadFile("/home/u/.config/unified-cli/config.yaml"), "ignite:\n  token: t\n");
  ASSERT_TRUE(WriteIgniteKeys(fs, "/home/u/.config/unified-cli/config.yaml", {{"org_id", "o"}}).ok());
  EXPECT_EQ(*fs.ReadFile("/home/u/.config/unified-cli/config.yaml"), "ignite:\n  token: t\n  org_id: o\n");
}

TEST(MaskToken, KeepsOnlyTheLastFourCharacters) {
  EXPECT_EQ(MaskToken(""), "");
  EXPECT_EQ(MaskToken("short"), "****");
  EXPECT_EQ(MaskToken("12345678"), "****");
  EXPECT_EQ(MaskToken("ign_abcdefgh1234"), "****1234");
  EXPECT_TRUE(IsKnownConfigKey("token"));
  EXPECT_FALSE(IsKnownConfigKey("tokens"));
}

}  // namespace
}  // namespace ignite::cli
