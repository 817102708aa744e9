// `login` (reference 3.1), two forms:
//   login <service_account_id> <service_account_secret>   exchanges the credentials for a token (login.h)
//                                                          and stores token, org_id and api_endpoint;
//   login --token T [--api-endpoint E] [--org O]           stores what is given (direct-token login).
// Both write under `ignite.` in the config file `config set` writes (config_write.h).
#include <memory>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/config_write.h"
#include "cli/errors.h"
#include "cli/login.h"
#include "cli/output.h"
#include "common/names.h"

namespace ignite::cli {
namespace {

struct LoginOptions {
  std::string service_account_id;
  std::string secret;
};

Status ServiceAccountLogin(CommandContext& ctx, const LoginOptions& opts) {
  IGNITE_ASSIGN_OR_RETURN(OutputFormat format, ctx.Format());
  ctx.AllowMissingConfigFile();  // --config PATH is where the login is written
  IGNITE_ASSIGN_OR_RETURN(Settings settings, ctx.GetSettings());
  IGNITE_ASSIGN_OR_RETURN(std::unique_ptr<ApiClient> client, ctx.AnonymousClient());
  IGNITE_ASSIGN_OR_RETURN(IssuedToken token,
                          ExchangeServiceAccountSecret(*client, opts.service_account_id, opts.secret));
  ConfigValues values{{"token", token.access_token}, {"api_endpoint", settings.api_endpoint}};
  if (!token.organization_name.empty()) values.emplace_back("org_id", token.organization_name);
  IGNITE_ASSIGN_OR_RETURN(std::string path, ConfigWritePath(ctx.flags().config, ctx.env(), ctx.fs()));
  IGNITE_RETURN_IF_ERROR(WriteIgniteKeys(ctx.fs(), path, values));

  if (IsStructured(format)) {
    nlohmann::ordered_json out;
    out["serviceAccountId"] = opts.service_account_id;
    out["organizationId"] = token.organization_id;
    out["organizationName"] = token.organization_name;
    out["role"] = token.role;
    out["expiresAtMs"] = std::to_string(token.expires_at_ms);  // int64 as a string, as the API writes it
    out["apiEndpoint"] = settings.api_endpoint;
    out["configFile"] = path;
    ctx.out() << RenderStructured(format, out.dump(2));
    return OkStatus();
  }
  std::string who = token.organization_name.empty() ? "" : fmt::format(" in organization {}", token.organization_name);
  std::string role = token.role.empty() ? "" : fmt::format(" (role {})", token.role);
  ctx.out() << fmt::format("Logged in to {} as service account {}{}{}.\n", settings.api_endpoint,
                           opts.service_account_id, who, role);
  if (token.expires_at_ms > 0) {
    ctx.out() << fmt::format("The token expires at {}; run `dodil login` again after that.\n",
                             FormatTimeMs(token.expires_at_ms));
  }
  ctx.out() << fmt::format("Saved token, org_id and api_endpoint in {}\n", path);
  return OkStatus();
}

Status TokenLogin(CommandContext& ctx) {
  const GlobalFlags& flags = ctx.flags();
  IGNITE_ASSIGN_OR_RETURN(OutputFormat format, ctx.Format());
  ConfigValues values{{"token", flags.token}};
  if (!flags.api_endpoint.empty()) {
    auto endpoint = http::ParseEndpoint(flags.api_endpoint);
    if (!endpoint.ok()) return InvalidArgument(fmt::format("--api-endpoint: {}", endpoint.status().message()));
    values.emplace_back("api_endpoint", flags.api_endpoint);
  }
  const std::string& org = !flags.org.empty() ? flags.org : flags.org_name;
  if (!org.empty()) {
    IGNITE_RETURN_IF_ERROR(ValidateOrgName(org));
    values.emplace_back("org_id", org);
  }
  IGNITE_ASSIGN_OR_RETURN(std::string path, ConfigWritePath(flags.config, ctx.env(), ctx.fs()));
  IGNITE_RETURN_IF_ERROR(WriteIgniteKeys(ctx.fs(), path, values));
  if (IsStructured(format)) {
    nlohmann::ordered_json out;
    out["token"] = MaskToken(flags.token);
    if (!flags.api_endpoint.empty()) out["apiEndpoint"] = flags.api_endpoint;
    if (!org.empty()) out["orgId"] = org;
    out["configFile"] = path;
    ctx.out() << RenderStructured(format, out.dump(2));
    return OkStatus();
  }
  std::string keys;
  for (const auto& [key, value] : values) keys += (keys.empty() ? "" : ", ") + key;
  ctx.out() << fmt::format("Saved {} in {}\n", keys, path);
  return OkStatus();
}

Status Login(CommandContext& ctx, const LoginOptions& opts) {
  const bool credentials = !opts.service_account_id.empty();
  const bool token = !ctx.flags().token.empty();
  if (credentials && opts.secret.empty()) {
    return InvalidArgument("login: give the service account's secret after its id: login <id> <secret>");
  }
  if (credentials && token) {
    return InvalidArgument("login: give either <service_account_id> <secret> or --token, not both");
  }
  if (credentials) return ServiceAccountLogin(ctx, opts);
  if (token) return TokenLogin(ctx);
  return InvalidArgument(
      "login: give a service account's credentials (login <service_account_id> <secret>) or a token "
      "(login --token T [--api-endpoint E] [--org O])");
}

}  // namespace

void AddLoginCommand(CLI::App& parent, CommandContext& ctx) {
  auto opts = std::make_shared<LoginOptions>();
  CLI::App* cmd = AddCommand(parent, ctx, "login",
                             "Log in: exchange service account credentials for a token, or store a token",
                             [&ctx, opts] { return Login(ctx, *opts); });
  cmd->add_option("service_account_id", opts->service_account_id, "Service account id (sa_...)");
  cmd->add_option("service_account_secret", opts->secret, "The secret shown when the account was created");
  cmd->footer(
      "With credentials: POSTs them to <api-endpoint>/v1/ignite/auth/token and stores the token it answers,\n"
      "the account's organization (as org_id) and the endpoint. With --token: stores the token and, when\n"
      "given, --api-endpoint and --org. Either way the values go under ignite. in the config file that\n"
      "`config set` writes (see `config set --help`), mode 0600; later commands need no --token.\n\n"
      "Examples:\n"
      "  login sa_0123... 9f8e... --api-endpoint http://10.0.0.5:7070\n"
      "  login --token ign_... --api-endpoint 127.0.0.1:7070 --org acme");
}

}  // namespace ignite::cli
