// `dodil auth` (reference 3.1, observed): `status` (who the configured token is) and `service-account
// create|list|delete` (AuthService, admin only). `dodil login <id> <secret>` exchanges a service account's
// credentials for a token (commands_login.cc). Only under the dodil root.
#include <memory>
#include <string>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/errors.h"
#include "cli/output.h"

namespace ignite::cli {
namespace {

std::string ExpiryLabel(int64_t expires_at_ms) {
  return expires_at_ms == 0 ? "never" : FormatTimeMs(expires_at_ms);
}

Status ShowStatus(CommandContext& ctx) {
  IGNITE_ASSIGN_OR_RETURN(Settings settings, ctx.GetSettings());
  IGNITE_ASSIGN_OR_RETURN(ApiClient * client, ctx.Client());
  IGNITE_ASSIGN_OR_RETURN(v1::WhoAmIResponse who, client->WhoAmI());
  return Emit(ctx, who, [&] {
    return RenderKeyValues({
        {"Endpoint", settings.api_endpoint},
        {"Organization", fmt::format("{} ({})", who.organization_name(), who.organization_id())},
        {"Role", who.role()},
        {"Token", who.token_id()},
        {"Service account", who.service_account_id()},
        {"Expires", ExpiryLabel(who.expires_at_ms())},
    });
  });
}

struct CreateOptions {
  std::string name;
  std::string role = "app-developer";
  std::string description;
};

Status CreateServiceAccount(CommandContext& ctx, const CreateOptions& opts) {
  IGNITE_ASSIGN_OR_RETURN(ApiClient * client, ctx.Client());
  v1::CreateServiceAccountRequest request;
  request.set_name(opts.name);
  request.set_role(opts.role);
  request.set_description(opts.description);
  IGNITE_ASSIGN_OR_RETURN(v1::CreateServiceAccountResponse response, client->CreateServiceAccount(request));
  const v1::ServiceAccount& sa = response.service_account();
  IGNITE_RETURN_IF_ERROR(Emit(ctx, response, [&] {
    return RenderKeyValues({
        {"ID", sa.id()},
        {"Secret", response.secret()},
        {"Name", sa.name()},
        {"Role", sa.role()},
        {"Organization", sa.organization_name()},
    });
  }));
  ctx.err() << fmt::format(
      "The secret is shown only now and cannot be read again: store it safely. Log in with\n"
      "  dodil login {} <secret>\n",
      sa.id());
  return OkStatus();
}

Status ListServiceAccounts(CommandContext& ctx) {
  IGNITE_ASSIGN_OR_RETURN(ApiClient * client, ctx.Client());
  IGNITE_ASSIGN_OR_RETURN(v1::ListServiceAccountsResponse response, client->ListServiceAccounts());
  return Emit(ctx, response, [&] {
    if (response.service_accounts().empty()) return std::string("No service accounts.\n");
    Table table{{"ID", "NAME", "ROLE", "CREATED", "DESCRIPTION"}, {}};
    for (const v1::ServiceAccount& sa : response.service_accounts()) {
      table.rows.push_back({sa.id(), sa.name(), sa.role(), FormatTimeMs(sa.created_at_ms()), sa.description()});
    }
    return table.Render();
  });
}

Status DeleteServiceAccount(CommandContext& ctx, const std::string& id) {
  IGNITE_ASSIGN_OR_RETURN(ApiClient * client, ctx.Client());
  IGNITE_ASSIGN_OR_RETURN(v1::DeleteServiceAccountResponse response, client->DeleteServiceAccount(id));
  return Emit(ctx, response, [&] {
    return fmt::format("Deleted service account {} (revoked {} token{})\n", id, response.revoked_tokens(),
                       response.revoked_tokens() == 1 ? "" : "s");
  });
}

}  // namespace

void AddAuthCommands(CLI::App& root, CommandContext& ctx) {
  CLI::App* auth = AddGroup(root, ctx, "auth", "Who you are, and service accounts for apps and CI");

  AddCommand(*auth, ctx, "status", "Show the organization, role and expiry of the token in use",
             [&ctx] { return ShowStatus(ctx); })
      ->footer("Asks the server (GET /v1/ignite/auth/whoami), so it also checks that the token works.\n\n"
               "Examples:\n"
               "  dodil auth status\n"
               "  dodil auth status -o json");

  CLI::App* sa = AddGroup(*auth, ctx, "service-account", "Create, list and delete service accounts (admin)");
  sa->alias("sa");

  auto create = std::make_shared<CreateOptions>();
  CLI::App* create_cmd =
      AddCommand(*sa, ctx, "create", "Create a service account in your organization; prints its id and secret",
                 [&ctx, create] { return CreateServiceAccount(ctx, *create); });
  create_cmd->add_option("name", create->name, "Name: lowercase letters, digits and '-', unique in the org")
      ->required();
  create_cmd->add_option("--role", create->role, "app-viewer, app-developer or admin")->capture_default_str();
  create_cmd->add_option("--description", create->description, "What the account is for");
  create_cmd->footer(
      "The secret is printed once; only a salted hash is kept. Exchange the pair for an expiring token with\n"
      "`dodil login <id> <secret>` or POST /v1/ignite/auth/token.\n\n"
      "Examples:\n"
      "  dodil auth service-account create ci --role app-developer --description \"GitHub Actions\"\n"
      "  dodil auth service-account create dashboards --role app-viewer -o json");

  AddCommand(*sa, ctx, "list", "List your organization's service accounts (never their secrets)",
             [&ctx] { return ListServiceAccounts(ctx); });

  auto delete_id = std::make_shared<std::string>();
  CLI::App* delete_cmd =
      AddCommand(*sa, ctx, "delete", "Delete a service account; tokens issued from it stop working",
                 [&ctx, delete_id] { return DeleteServiceAccount(ctx, *delete_id); });
  delete_cmd->add_option("id", *delete_id, "Service account id (sa_...)")->required();
}

}  // namespace ignite::cli
