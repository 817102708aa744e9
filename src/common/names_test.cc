#include "common/names.h"

#include <gtest/gtest.h>

namespace ignite {
namespace {

TEST(NamesTest, ValidatesOrgAndAppNames) {
  EXPECT_TRUE(ValidateOrgName("org").ok());
  EXPECT_TRUE(ValidateOrgName("a-1").ok());
  EXPECT_FALSE(ValidateOrgName("").ok());
  EXPECT_FALSE(ValidateOrgName("-a").ok());
  EXPECT_FALSE(ValidateOrgName("a-").ok());
  EXPECT_FALSE(ValidateOrgName("Abc").ok());
  EXPECT_FALSE(ValidateOrgName("a.b").ok());
  EXPECT_FALSE(ValidateOrgName(std::string(64, 'a')).ok());
  EXPECT_TRUE(ValidateOrgName(std::string(63, 'a')).ok());
  EXPECT_TRUE(ValidateAppName("my.app").ok());
  EXPECT_FALSE(ValidateAppName("a/b").ok());
  auto st = ValidateAppName("Bad_Name");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("lowercase"), std::string::npos);
}

TEST(NamesTest, ParsesAppRefs) {
  auto r = ParseAppRef("org:hello", "");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->id(), "org/hello");
  EXPECT_EQ(ParseAppRef("acme/app", "")->org, "acme");
  EXPECT_EQ(ParseAppRef("app", "dflt")->org, "dflt");
  EXPECT_FALSE(ParseAppRef("app", "").ok());
  EXPECT_FALSE(ParseAppRef("org:", "").ok());
  EXPECT_FALSE(ParseAppRef("org:a:b", "").ok());
}

}  // namespace
}  // namespace ignite
