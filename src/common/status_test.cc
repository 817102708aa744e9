#include "common/status.h"

#include <gtest/gtest.h>

#include "common/result.h"

namespace ignite {
namespace {

TEST(StatusTest, MapsCodesToHttpAndExitCodes) {
  EXPECT_EQ(HttpStatusFor(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(StatusCode::kFailedPrecondition), 400);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusFor(StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusFor(StatusCode::kAborted), 409);
  EXPECT_EQ(HttpStatusFor(StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnimplemented), 501);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFor(StatusCode::kDeadlineExceeded), 504);
  EXPECT_EQ(HttpStatusFor(StatusCode::kInternal), 500);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnknown), 500);

  EXPECT_EQ(ExitCodeFor(StatusCode::kOk), 0);
  EXPECT_EQ(ExitCodeFor(StatusCode::kInvalidArgument), 2);
  EXPECT_EQ(ExitCodeFor(StatusCode::kUnauthenticated), 3);
  EXPECT_EQ(ExitCodeFor(StatusCode::kPermissionDenied), 4);
  EXPECT_EQ(ExitCodeFor(StatusCode::kNotFound), 5);
  EXPECT_EQ(ExitCodeFor(StatusCode::kAlreadyExists), 6);
  EXPECT_EQ(ExitCodeFor(StatusCode::kResourceExhausted), 7);
  EXPECT_EQ(ExitCodeFor(StatusCode::kDeadlineExceeded), 8);
  EXPECT_EQ(ExitCodeFor(StatusCode::kUnavailable), 9);
  EXPECT_EQ(ExitCodeFor(StatusCode::kInternal), 10);
  EXPECT_EQ(ExitCodeFor(StatusCode::kFailedPrecondition), 1);
}

TEST(StatusTest, RoundTripsWireNumbers) {
  for (int i = 0; i <= 16; ++i) EXPECT_EQ(static_cast<int>(StatusCodeFromInt(i)), i);
  EXPECT_EQ(StatusCodeFromInt(99), StatusCode::kUnknown);
  EXPECT_EQ(NotFound("x").ToString(), "NOT_FOUND: x");
}

Result<int> Half(int x) {
  if (x % 2) return InvalidArgument("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  IGNITE_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

TEST(ResultTest, PropagatesErrors) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().code(), StatusCode::kInvalidArgument);
  Result<int> bad = OkStatus();
  EXPECT_EQ(bad.status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace ignite
