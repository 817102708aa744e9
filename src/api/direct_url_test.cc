#include "api/direct_url.h"

#include <gtest/gtest.h>

namespace ignite::api {
namespace {

gateway::RouteTable::Snapshot Routes(std::initializer_list<const char*> ids) {
  auto m = std::make_shared<std::map<std::string, gateway::Route>>();
  for (const char* id : ids) (*m)[id] = gateway::Route{};
  return m;
}

TEST(ResolveHostTest, SplitsAgainstExistingApps) {
  auto routes = Routes({"org/hello", "acme-corp/my-app", "public/warehouse-query", "org/app.v2", "b-c/a", "c/a-b"});
  auto t = ResolveHost("hello-org.ignite.localhost:7070", "ignite.localhost", routes);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->org, "org");
  EXPECT_EQ(t->app, "hello");
  EXPECT_EQ(t->port, 80u);

  t = ResolveHost("my-app-acme-corp.ignite.localhost", "ignite.localhost", routes);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->org, "acme-corp");
  EXPECT_EQ(t->app, "my-app");

  t = ResolveHost("WAREHOUSE-QUERY-PUBLIC-8080.Ignite.Localhost.", "ignite.localhost", routes);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->app, "warehouse-query");
  EXPECT_EQ(t->port, 8080u);

  t = ResolveHost("app-dot-v2-org.ignite.localhost", "ignite.localhost", routes);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->app, "app.v2");

  // "a-b-c": both a/(b-c) and (a-b)/c exist; the longest app name wins.
  t = ResolveHost("a-b-c.ignite.localhost", "ignite.localhost", routes);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->app, "a-b");
  EXPECT_EQ(t->org, "c");
}

TEST(ResolveHostTest, RejectsOtherHosts) {
  auto routes = Routes({"org/hello"});
  EXPECT_EQ(ResolveHost("nope-org.ignite.localhost", "ignite.localhost", routes).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(ResolveHost("a.b.ignite.localhost", "ignite.localhost", routes).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ResolveHost("127.0.0.1:7070", "ignite.localhost", routes).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ResolveHost("ignite.localhost", "ignite.localhost", routes).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ignite::api
