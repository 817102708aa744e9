#include "cli/api_client.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "cli/test_fakes.h"

namespace ignite::cli {
namespace {

using fakes::FakeTransport;

TEST(StatusFromErrorBody, UsesTheBodyCodeAndMessage) {
  Status s = StatusFromErrorBody(404, R"({"code": 5, "message": "app org/x does not exist", "details": []})");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "app org/x does not exist");
  EXPECT_EQ(ExitCodeFor(s.code()), 5);

  // Each mapped code gives the reference's exit code.
  struct Case {
    int http, grpc, exit;
  } cases[] = {{400, 3, 2}, {401, 16, 3}, {403, 7, 4}, {404, 5, 5}, {409, 6, 6},
               {429, 8, 7}, {504, 4, 8}, {503, 14, 9}, {500, 13, 10}, {400, 9, 1}};
  for (const Case& c : cases) {
    Status st = StatusFromErrorBody(c.http, fmt::format(R"({{"code":{},"message":"m"}})", c.grpc));
    EXPECT_EQ(ExitCodeFor(st.code()), c.exit) << c.grpc;
  }
}

TEST(StatusFromErrorBody, FallsBackToTheHttpStatus) {
  Status s = StatusFromErrorBody(503, "<html>Service Unavailable</html>");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("HTTP 503"), std::string::npos);
  EXPECT_NE(s.message().find("Service Unavailable"), std::string::npos);

  EXPECT_EQ(StatusFromErrorBody(401, "").code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(StatusFromErrorBody(418, "").code(), StatusCode::kUnknown);
  EXPECT_EQ(StatusFromErrorBody(404, R"({"message":"gone"})").code(), StatusCode::kNotFound);
}

ApiClient MakeClient(FakeTransport*& raw, std::string token = "tok") {
  auto transport = std::make_unique<FakeTransport>();
  raw = transport.get();
  return ApiClient(std::move(transport), std::move(token));
}

TEST(ApiClient, SendsRoutesTokenAndProtoJson) {
  FakeTransport* t;
  ApiClient client = MakeClient(t);
  t->Reply(200, R"({"appId":"org/hello","deploymentState":"DEPLOYMENT_STATE_CREATED","newField":1})");
  v1::CreateAppRequest request;
  request.set_name("hello");
  request.set_resource_tier(v1::RESOURCE_TIER_MEDIUM);
  auto created = client.CreateApp("org", request);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->app_id(), "org/hello");
  EXPECT_EQ(created->deployment_state(), v1::DEPLOYMENT_STATE_CREATED);
  ASSERT_EQ(t->sent.size(), 1u);
  EXPECT_EQ(t->sent[0].verb, http::Verb::post);
  EXPECT_EQ(t->sent[0].target, "/v1/ignite/app/org");
  EXPECT_EQ(t->sent[0].Header("Authorization"), "Bearer tok");
  EXPECT_EQ(t->sent[0].Header("Content-Type"), "application/json");
  EXPECT_EQ(t->sent[0].body, R"({"name":"hello","resourceTier":"RESOURCE_TIER_MEDIUM"})");

  AppRef ref{"org", "hello"};
  t->Reply(200, "{}");
  ASSERT_TRUE(client.ListApps("org", 5, "a b/c").ok());
  EXPECT_EQ(t->sent[1].target, "/v1/ignite/app/org?limit=5&cursor=a%20b%2Fc");
  EXPECT_EQ(t->sent[1].body, "");

  t->Reply(200, R"({"activeVersion":1,"previousVersion":2})");
  auto rolled = client.RollbackApp(ref, 1);
  ASSERT_TRUE(rolled.ok());
  EXPECT_EQ(t->sent[2].target, "/v1/ignite/app/org/hello/rollback");
  EXPECT_EQ(t->sent[2].body, R"({"version":1})");
  EXPECT_EQ(rolled->previous_version(), 2u);

  t->Reply(200, R"({"version":3})");
  ASSERT_TRUE(client.PublishDraft(ref).ok());
  EXPECT_EQ(t->sent[3].target, "/v1/ignite/app/org/hello/draft/publish");
  EXPECT_EQ(t->sent[3].body, "{}");

  t->Reply(200, "{}");
  ASSERT_TRUE(client.GetAppVersion(ref, 7).ok());
  EXPECT_EQ(t->sent[4].target, "/v1/ignite/app/org/hello/versions/7");
  EXPECT_EQ(t->sent[4].verb, http::Verb::get);

  t->Reply(200, "{}");
  ASSERT_TRUE(client.DeleteApp(ref).ok());
  EXPECT_EQ(t->sent[5].verb, http::Verb::delete_);
  EXPECT_EQ(t->sent[5].target, "/v1/ignite/app/org/hello");
}

TEST(ApiClient, NoTokenNoAuthorization) {
  FakeTransport* t;
  ApiClient client = MakeClient(t, "");
  t->Reply(200, "{}");
  ASSERT_TRUE(client.GetApp(AppRef{"org", "a"}).ok());
  EXPECT_EQ(t->sent[0].Header("Authorization"), "");
}

TEST(ApiClient, ErrorsAndTransportFailures) {
  FakeTransport* t;
  ApiClient client = MakeClient(t);
  t->Reply(409, R"({"code":6,"message":"app org/a already exists","details":[]})");
  auto exists = client.GetApp(AppRef{"org", "a"});
  ASSERT_FALSE(exists.ok());
  EXPECT_EQ(exists.status().code(), StatusCode::kAlreadyExists);

  t->Fail(Unavailable("cannot reach 127.0.0.1:1: Connection refused"));
  auto refused = client.GetApp(AppRef{"org", "a"});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(ExitCodeFor(refused.status().code()), 1);  // decisions.md: connection errors exit 1
  EXPECT_NE(refused.status().message().find("Connection refused. Is ignited running"), std::string::npos);

  t->Fail(DeadlineExceeded("no complete answer"));
  auto slow = client.GetApp(AppRef{"org", "a"});
  EXPECT_EQ(slow.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(slow.status().message().find("--timeout"), std::string::npos);

  t->Reply(200, "not json");
  auto garbage = client.GetApp(AppRef{"org", "a"});
  EXPECT_EQ(garbage.status().code(), StatusCode::kInternal);
}

TEST(ApiClient, InvokeSendsRawPayloadAndDecodesStream) {
  FakeTransport* t;
  ApiClient client = MakeClient(t);
  t->Reply(200,
           "{\"result\":{\"head\":{\"status\":200,\"executionId\":\"E1\"}}}\n"
           "{\"result\":{\"chunk\":{\"data\":\"aGk=\"}}}\n"
           "{\"result\":{\"trailer\":{\"durationMs\":\"4\"}}}\n");
  std::string data;
  InvokeStreamDecoder decoder({nullptr, [&](std::string_view d) { data.append(d); }, nullptr});
  Status st = client.Invoke(AppRef{"org", "hello"}, "{\"name\":\"x\"}", {{"X-Custom", "1"}}, decoder);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(data, "hi");
  EXPECT_EQ(t->sent[0].target, "/v1/ignite/app/org/hello/invoke");
  EXPECT_EQ(t->sent[0].body, "{\"name\":\"x\"}");
  EXPECT_EQ(t->sent[0].Header("Content-Type"), "application/octet-stream");
  EXPECT_EQ(t->sent[0].Header("X-Custom"), "1");

  t->Reply(404, R"({"code":5,"message":"app org/nope does not exist"})");
  InvokeStreamDecoder decoder2({});
  Status missing = client.Invoke(AppRef{"org", "nope"}, "", {}, decoder2);
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.message(), "app org/nope does not exist");
}

}  // namespace
}  // namespace ignite::cli
