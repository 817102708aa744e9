#include "http/router.h"

#include <gtest/gtest.h>

namespace ignite::http {
namespace {

TEST(RouterTest, MatchesParamsAndMethods) {
  Router r;
  int hit = 0;
  r.Add("GET", "/v1/ignite/app/{org}/{app}", [&](auto, auto) { hit = 1; }, "GetApp");
  r.Add("GET", "/v1/ignite/app/{org}/{app}/draft", [&](auto, auto) { hit = 2; }, "GetDraftInfo");
  r.Add("POST", "/v1/ignite/app/{org}/{app}/draft", [&](auto, auto) { hit = 3; }, "SaveDraft");

  auto m = r.Find("GET", "/v1/ignite/app/acme/my.app");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(m.name, "GetApp");
  EXPECT_EQ(m.params["org"], "acme");
  EXPECT_EQ(m.params["app"], "my.app");

  m = r.Find("POST", "/v1/ignite/app/acme/x/draft");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(m.name, "SaveDraft");

  m = r.Find("DELETE", "/v1/ignite/app/acme/x/draft");
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_TRUE(m.path_known);

  m = r.Find("GET", "/v1/ignite/nope");
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_FALSE(m.path_known);
}

TEST(RouterTest, DecodesPercentEscapes) {
  std::vector<std::string> segs;
  ASSERT_TRUE(SplitPath("/a/b%2Fc//d", &segs));
  EXPECT_EQ(segs, (std::vector<std::string>{"a", "b/c", "d"}));
  EXPECT_FALSE(SplitPath("/a/%zz", &segs));
}

}  // namespace
}  // namespace ignite::http
