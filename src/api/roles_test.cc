#include "api/roles.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "api/async_invoke.h"
#include "api/auth_http.h"
#include "api/http_api.h"
#include "http/router.h"

namespace ignite::api {
namespace {

Principal As(std::string role) { return Principal{"t", "o1", "org", std::move(role)}; }

TEST(Roles, ViewersReadDevelopersChangeAdminsDoAll) {
  EXPECT_TRUE(CheckRole(As("app-viewer"), "GetApp").ok());
  EXPECT_TRUE(CheckRole(As("app-viewer"), "StreamAppLogs").ok());
  EXPECT_EQ(CheckRole(As("app-viewer"), "SaveDraft").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckRole(As("app-viewer"), "Invoke").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckRole(As("app-viewer"), "GetAppCode").code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(CheckRole(As("app-developer"), "Invoke").ok());
  EXPECT_TRUE(CheckRole(As("app-developer"), "GetApp").ok());
  EXPECT_TRUE(CheckRole(As("admin"), "DeleteApp").ok());
  EXPECT_EQ(CheckRole(As("app-developer"), "CreateServiceAccount").code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(CheckRole(As("admin"), "DeleteServiceAccount").ok());
  EXPECT_TRUE(CheckRole(As("app-viewer"), "WhoAmI").ok());
}

TEST(Roles, UnknownRpcsNeedAdminAndUnknownRolesMayDoNothing) {
  EXPECT_EQ(RequiredRole("SomethingNew"), Role::kAdmin);
  EXPECT_EQ(CheckRole(As("app-developer"), "SomethingNew").code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(CheckRole(As("admin"), "SomethingNew").ok());
  EXPECT_EQ(CheckRole(As("superuser"), "GetApp").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckRole(As(""), "GetApp").code(), StatusCode::kPermissionDenied);
}

TEST(Roles, TheMessageNamesTheNeededRole) {
  Status st = CheckRole(As("app-viewer"), "PublishDraft");
  EXPECT_NE(st.message().find("needs app-developer"), std::string::npos) << st.message();
  EXPECT_FALSE(ParseRole("root").ok());
}

// Every route the server registers has an entry (else it would silently need admin).
TEST(Roles, EveryRegisteredRouteHasARole) {
  http::Router router;
  HttpApi(nullptr, nullptr, nullptr).Register(&router);
  RegisterAsyncRoutes(&router, nullptr, nullptr, nullptr);
  RegisterAuthRoutes(&router, nullptr, nullptr, nullptr);
  auto known = KnownRpcs();
  auto routes = router.Describe();
  ASSERT_FALSE(routes.empty());
  for (const std::string& line : routes) {
    std::string method, pattern, name;
    std::istringstream(line) >> method >> pattern >> name;
    EXPECT_NE(std::find(known.begin(), known.end(), name), known.end()) << line;
  }
}

}  // namespace
}  // namespace ignite::api
