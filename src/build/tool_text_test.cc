// Unit tests of the pure parts of the Go build: text helpers, env, go.mod edits, checker output.
#include <set>

#include <gtest/gtest.h>

#include "build/go/go_env.h"
#include "build/go/go_mod.h"
#include "build/tool_text.h"
#include "build/go/source_check.h"

namespace ignite::build {
namespace {

using std::chrono::milliseconds;

TEST(GoText, FormatsDurationsLikeGo) {
  EXPECT_EQ(FormatGoDuration(milliseconds(10 * 60 * 1000)), "10m0s");
  EXPECT_EQ(FormatGoDuration(milliseconds(30000)), "30s");
  EXPECT_EQ(FormatGoDuration(milliseconds(3600000)), "1h0m0s");
  EXPECT_EQ(FormatGoDuration(milliseconds(1500)), "1.5s");
  EXPECT_EQ(FormatGoDuration(milliseconds(250)), "250ms");
  EXPECT_EQ(FormatGoDuration(milliseconds(0)), "0s");
}

TEST(GoText, TrimsSourceDir) {
  EXPECT_EQ(TrimSourceDir("/w/src/main.go:5:2: undefined: x", "/w/src"), "./main.go:5:2: undefined: x");
  EXPECT_EQ(TrimSourceDir("in /w/src now", "/w/src"), "in . now");
  EXPECT_EQ(TrimSourceDir("/w/srcx/y and /w/src: ok", "/w/src"), "/w/srcx/y and .: ok");
  EXPECT_EQ(TrimSourceDir("nothing", "/w/src"), "nothing");
}

TEST(GoText, CapsLongOutput) {
  std::string text = "line1\nline2\nline3\n";
  EXPECT_EQ(CapForMessage(text, 100), text);
  std::string capped = CapForMessage(text, 8);
  EXPECT_EQ(capped.rfind("line1\n...", 0), 0u) << capped;
  EXPECT_NE(capped.find("more bytes"), std::string::npos);
  EXPECT_EQ(TrimSpace("  a b \n"), "a b");
}

TEST(GoMod, PointsIgniteAtTheBundledSdk) {
  auto args = SdkModEditArgs(R"({"Module":{"Path":"hello"},"Go":"1.26","Require":null,"Replace":null})", "/sdk");
  ASSERT_TRUE(args.ok());
  EXPECT_EQ(*args, (std::vector<std::string>{"mod", "edit", "-require=ignite@v0.0.0", "-replace=ignite=/sdk"}));
}

TEST(GoMod, DropsTheUsersIgniteRequireAndReplaces) {
  const char* json = R"({"Module":{"Path":"hello"},
    "Require":[{"Path":"github.com/google/uuid","Version":"v1.6.0"},{"Path":"ignite","Version":"v1.2.3"}],
    "Replace":[{"Old":{"Path":"ignite"},"New":{"Path":"../ignite"}},
               {"Old":{"Path":"ignite","Version":"v1.2.3"},"New":{"Path":"./x"}},
               {"Old":{"Path":"other"},"New":{"Path":"./o"}}]})";
  auto args = SdkModEditArgs(json, "/sdk");
  ASSERT_TRUE(args.ok());
  EXPECT_EQ(*args, (std::vector<std::string>{"mod", "edit", "-droprequire=ignite", "-dropreplace=ignite",
                                             "-dropreplace=ignite@v1.2.3", "-require=ignite@v0.0.0",
                                             "-replace=ignite=/sdk"}));
  EXPECT_FALSE(SdkModEditArgs("not json", "/sdk").ok());
}

TEST(GoMod, LocalReplacesMustStayInsideTheSource) {
  auto json = [](const std::string& path, const std::string& version = "") {
    return R"({"Replace":[{"Old":{"Path":"example.com/lib"},"New":{"Path":")" + path + R"(","Version":")" +
           version + R"("}}]})";
  };
  EXPECT_TRUE(CheckLocalReplaces(json("./lib")).ok());
  EXPECT_TRUE(CheckLocalReplaces(json("lib/../other")).ok());
  EXPECT_TRUE(CheckLocalReplaces(json("example.com/fork", "v1.0.0")).ok());
  EXPECT_TRUE(CheckLocalReplaces(R"({"Replace":[{"Old":{"Path":"ignite"},"New":{"Path":"/abs"}}]})").ok());
  EXPECT_TRUE(CheckLocalReplaces(R"({"Replace":null})").ok());
  for (const char* bad : {"../lib", "/etc", "./a/../../b", "../../other-build/src"}) {
    Status st = CheckLocalReplaces(json(bad));
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(st.message().find("outside the uploaded source"), std::string::npos) << st.message();
  }
}

TEST(GoEnv, FiltersServerEnvironment) {
  Env env = FilterGoBaseEnv({{"PATH", "/bin"}, {"HOME", "/home/x"}, {"GOPROXY", "off"}, {"https_proxy", "p"},
                             {"GOFLAGS", "-race"}, {"GOROOT", "/x"}, {"SECRET", "s"}, {"CGO_ENABLED", "1"}});
  EXPECT_EQ(env, (Env{{"PATH", "/bin"}, {"HOME", "/home/x"}, {"GOPROXY", "off"}, {"https_proxy", "p"}}));
  EXPECT_EQ(FilterGoBaseEnv({}).at("PATH"), "/usr/local/bin:/usr/bin:/bin");
}

TEST(GoEnv, BuildSettingsWin) {
  GoToolchain tc;
  tc.cache_dir = "/cache";
  tc.base_env = {{"PATH", "/bin"}, {"GOPROXY", "off"}};
  Env env = GoCommandEnv(tc, "/work");
  EXPECT_EQ(env.at("CGO_ENABLED"), "0");
  EXPECT_EQ(env.at("GOOS"), "linux");
  EXPECT_EQ(env.at("GOARCH"), "amd64");
  EXPECT_EQ(env.at("GOTOOLCHAIN"), "local");
  EXPECT_EQ(env.at("GOFLAGS"), "-mod=mod -modcacherw");
  EXPECT_EQ(env.at("GOCACHE"), "/cache/go-build");
  EXPECT_EQ(env.at("GOMODCACHE"), "/cache/gomod");
  EXPECT_EQ(env.at("HOME"), "/work/home");
  EXPECT_EQ(env.at("TMPDIR"), "/work/tmp");
  EXPECT_EQ(env.at("XDG_CONFIG_HOME"), "/cache/config");
  EXPECT_EQ(env.at("GOWORK"), "off");
  EXPECT_EQ(env.at("GOPROXY"), "off");
  tc.base_env["HOME"] = "/home/ignite";
  EXPECT_EQ(GoCommandEnv(tc, "/work").at("HOME"), "/home/ignite");
}

TEST(GoEnv, FindsGoInPathThenFallbacks) {
  auto only = [](std::set<std::string> present) {
    return [present](const std::string& p) { return present.count(p) > 0; };
  };
  EXPECT_EQ(FindGoBinary({{"PATH", "/a:/opt/go/bin:/b"}}, only({"/opt/go/bin/go", "/usr/local/go/bin/go"})),
            "/opt/go/bin/go");
  EXPECT_EQ(FindGoBinary({{"PATH", "/a"}}, only({"/usr/lib/go/bin/go"})), "/usr/lib/go/bin/go");
  EXPECT_EQ(FindGoBinary({{"PATH", "relative:/a"}}, only({"relative/go"})), "");
  EXPECT_EQ(FindGoBinary({}, only({})), "");
}

TEST(SourceCheck, FormatsProblems) {
  auto problems = ParseGoCheckOutput(R"({"problems":[{"pos":"./main.go:1:9","message":"bad package"},
                                                     {"message":"no ignite"}]})");
  ASSERT_TRUE(problems.ok());
  ASSERT_EQ(problems->size(), 2u);
  EXPECT_EQ(FormatProblems({(*problems)[0]}), "./main.go:1:9: bad package");
  EXPECT_EQ(FormatProblems(*problems), "the source has 2 problems:\n./main.go:1:9: bad package\nno ignite");
  EXPECT_EQ(ParseGoCheckOutput("panic: x").status().code(), StatusCode::kInternal);
}

TEST(RequiresModules, OnlyTheSdkOrNothingNeedsNoTidy) {
  EXPECT_FALSE(RequiresModules(R"({"Module":{"Path":"hello"},"Go":"1.26","Require":null,"Replace":null})"));
  EXPECT_FALSE(RequiresModules(R"({"Module":{"Path":"hello"},"Require":[{"Path":"ignite","Version":"v0.1.0"}],
                                 "Replace":[{"Old":{"Path":"ignite"},"New":{"Path":"../sdk"}}]})"));
  EXPECT_TRUE(RequiresModules(R"({"Module":{"Path":"h"},"Require":[{"Path":"github.com/google/uuid","Version":"v1.6.0"}]})"));
  EXPECT_TRUE(RequiresModules(R"({"Module":{"Path":"h"},"Replace":[{"Old":{"Path":"example.com/x"},"New":{"Path":"./x"}}]})"));
  EXPECT_TRUE(RequiresModules("not json"));
}

TEST(SourceCheck, ExternalImportsAreKnownOnlyWithAModule) {
  EXPECT_EQ(ParseGoCheckExternalImports(R"({"problems":[],"importsKnown":true,"externalImports":["github.com/google/uuid"]})"),
            std::optional<std::vector<std::string>>(std::vector<std::string>{"github.com/google/uuid"}));
  EXPECT_EQ(ParseGoCheckExternalImports(R"({"problems":[],"importsKnown":true,"externalImports":[]})"),
            std::optional<std::vector<std::string>>(std::vector<std::string>{}));
  EXPECT_EQ(ParseGoCheckExternalImports(R"({"problems":[],"importsKnown":false,"externalImports":[]})"), std::nullopt);
  EXPECT_EQ(ParseGoCheckExternalImports(R"({"problems":[]})"), std::nullopt);
}

}  // namespace
}  // namespace ignite::build
