#include "gateway/route_table.h"

#include <gtest/gtest.h>

namespace ignite::gateway {
namespace {

Route R(std::string app, uint32_t v) {
  Route r;
  r.app_id = app;
  r.version = v;
  r.spec.key = app + "@" + std::to_string(v);
  return r;
}

TEST(RouteTableTest, SnapshotsAreImmutable) {
  RouteTable t;
  EXPECT_EQ(t.Set(R("org/a", 1)), "");
  auto before = t.Get();
  EXPECT_EQ(t.Set(R("org/a", 2)), "org/a@1");
  EXPECT_EQ(before->at("org/a").version, 1u);  // an in-flight reader keeps its view
  EXPECT_EQ(t.Get()->at("org/a").version, 2u);
  EXPECT_EQ(t.Remove("org/a"), "org/a@2");
  EXPECT_EQ(t.Remove("org/a"), "");
  EXPECT_TRUE(t.Get()->empty());
}

}  // namespace
}  // namespace ignite::gateway
