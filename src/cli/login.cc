#include "cli/login.h"

#include <charconv>

#include <fmt/format.h>
#include <google/protobuf/struct.pb.h>

namespace ignite::cli {
namespace {

std::string StringField(const google::protobuf::Struct& s, const std::string& name) {
  auto it = s.fields().find(name);
  if (it == s.fields().end() || it->second.kind_case() != google::protobuf::Value::kStringValue) return "";
  return it->second.string_value();
}

// expiresAtMs: the protobuf JSON mapping writes int64 as a string; a plain number is accepted too.
Result<int64_t> MillisField(const google::protobuf::Struct& s, const std::string& name) {
  auto it = s.fields().find(name);
  if (it == s.fields().end()) return int64_t{0};
  const google::protobuf::Value& v = it->second;
  if (v.kind_case() == google::protobuf::Value::kNumberValue) return static_cast<int64_t>(v.number_value());
  if (v.kind_case() == google::protobuf::Value::kStringValue) {
    const std::string& text = v.string_value();
    int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc() && end == text.data() + text.size()) return value;
  }
  return Internal(fmt::format("ignited answered {} with an {} that is not a number", kTokenRoute, name));
}

}  // namespace

Result<IssuedToken> ExchangeServiceAccountSecret(ApiClient& client, const std::string& service_account_id,
                                                 const std::string& secret) {
  google::protobuf::Struct request;
  (*request.mutable_fields())["serviceAccountId"].set_string_value(service_account_id);
  (*request.mutable_fields())["secret"].set_string_value(secret);
  google::protobuf::Struct response;
  Status status = client.Call(http::Verb::post, kTokenRoute, &request, &response);
  if (status.code() == StatusCode::kNotFound && status.message().rfind("no route for", 0) == 0) {
    return Status(StatusCode::kNotFound,
                  fmt::format("{} (POST {}): this ignited does not offer service-account login; upgrade it, or "
                              "log in with a token: `ignite login --token T --api-endpoint E --org O`",
                              status.message(), kTokenRoute));
  }
  IGNITE_RETURN_IF_ERROR(status);
  IssuedToken token;
  token.access_token = StringField(response, "accessToken");
  if (token.access_token.empty()) {
    return Internal(fmt::format("ignited answered {} without an accessToken", kTokenRoute));
  }
  IGNITE_ASSIGN_OR_RETURN(token.expires_at_ms, MillisField(response, "expiresAtMs"));
  token.organization_id = StringField(response, "organizationId");
  token.organization_name = StringField(response, "organizationName");
  token.role = StringField(response, "role");
  return token;
}

}  // namespace ignite::cli
