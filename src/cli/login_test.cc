// The client side of `dodil login <id> <secret>` (login.h) against a scripted transport.
#include "cli/login.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/test_fakes.h"

namespace ignite::cli {
namespace {

using fakes::FakeTransport;

struct Client {
  FakeTransport* transport;
  ApiClient api;
  Client() : Client(std::make_unique<FakeTransport>()) {}

 private:
  explicit Client(std::unique_ptr<FakeTransport> t) : transport(t.get()), api(std::move(t), "") {}
};

TEST(ExchangeServiceAccountSecret, PostsTheCredentialsWithoutATokenAndReadsTheAnswer) {
  Client c;
  c.transport->Reply(200, R"({"accessToken":"ign_x_y","tokenType":"Bearer","expiresAtMs":"1716903600000",
      "organizationId":"01ORG","organizationName":"acme","role":"app-developer"})");
  auto token = ExchangeServiceAccountSecret(c.api, "sa_1", "s3cret");
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_EQ(token->access_token, "ign_x_y");
  EXPECT_EQ(token->expires_at_ms, 1716903600000);
  EXPECT_EQ(token->organization_id, "01ORG");
  EXPECT_EQ(token->organization_name, "acme");
  EXPECT_EQ(token->role, "app-developer");

  ASSERT_EQ(c.transport->sent.size(), 1u);
  const auto& sent = c.transport->sent[0];
  EXPECT_EQ(sent.verb, http::Verb::post);
  EXPECT_EQ(sent.target, "/v1/ignite/auth/token");
  EXPECT_EQ(sent.Header("Authorization"), "");
  EXPECT_EQ(sent.Header("Content-Type"), "application/json");
  EXPECT_EQ(nlohmann::json::parse(sent.body),
            nlohmann::json::parse(R"({"serviceAccountId":"sa_1","secret":"s3cret"})"));
}

TEST(ExchangeServiceAccountSecret, NumericExpiryAndMissingFields) {
  Client c;
  c.transport->Reply(200, R"({"accessToken":"t","expiresAtMs":1716903600000})");
  auto token = ExchangeServiceAccountSecret(c.api, "sa_1", "s");
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_EQ(token->expires_at_ms, 1716903600000);
  EXPECT_EQ(token->organization_name, "");

  c.transport->Reply(200, R"({"expiresAtMs":"1"})");
  auto no_token = ExchangeServiceAccountSecret(c.api, "sa_1", "s");
  ASSERT_FALSE(no_token.ok());
  EXPECT_EQ(no_token.status().code(), StatusCode::kInternal);

  c.transport->Reply(200, R"({"accessToken":"t","expiresAtMs":"soon"})");
  EXPECT_EQ(ExchangeServiceAccountSecret(c.api, "sa_1", "s").status().code(), StatusCode::kInternal);
}

TEST(ExchangeServiceAccountSecret, ServerErrorsKeepTheirCode) {
  Client c;
  c.transport->Reply(401, R"({"code":16,"message":"wrong service account id or secret","details":[]})");
  auto bad = ExchangeServiceAccountSecret(c.api, "sa_1", "wrong");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(bad.status().message(), "wrong service account id or secret");

  // An ignited without the route: say so, and offer the direct-token login.
  c.transport->Reply(404, R"({"code":5,"message":"no route for POST /v1/ignite/auth/token","details":[]})");
  auto old = ExchangeServiceAccountSecret(c.api, "sa_1", "s");
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.status().code(), StatusCode::kNotFound);
  EXPECT_NE(old.status().message().find("does not offer service-account login"), std::string::npos);
  EXPECT_NE(old.status().message().find("--token"), std::string::npos);

  // Another NotFound (e.g. an unknown account, if the server says so) is passed on unchanged.
  c.transport->Reply(404, R"({"code":5,"message":"service account sa_9 not found"})");
  EXPECT_EQ(ExchangeServiceAccountSecret(c.api, "sa_9", "s").status().message(), "service account sa_9 not found");
}

}  // namespace
}  // namespace ignite::cli
