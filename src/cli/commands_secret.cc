// `dodil ignite secret` (reference 3.10): the org's registry and git credentials (SecretService). `create`
// of an existing name overwrites it (rotation); `list` never shows values; `get` shows the value in full.
#include <memory>
#include <string>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/errors.h"
#include "cli/output.h"

namespace ignite::cli {
namespace {

struct CreateOptions {
  std::string name;
  std::string type;
  std::string username;
  std::string password;
  std::string server_address;
  std::string token;
};

Result<v1::CreateSecretRequest> CreateRequest(const CreateOptions& o) {
  v1::CreateSecretRequest req;
  req.set_name(o.name);
  if (o.type == "registry") {
    if (!o.token.empty()) return LocalError("--pat is for --type git; a registry secret takes --password");
    auto* r = req.mutable_value()->mutable_registry_secret();
    r->set_username(o.username);
    r->set_password(o.password);
    r->set_server_address(o.server_address);
  } else {
    if (!o.password.empty() || !o.server_address.empty()) {
      return LocalError("--password and --server-address are for --type registry; a git secret takes --pat");
    }
    auto* g = req.mutable_value()->mutable_git_secret();
    g->set_username(o.username);
    g->set_token(o.token);
  }
  return req;
}

std::string TypeLabel(const std::string& type) {
  if (type == "registry_secret") return "registry";
  if (type == "git_secret") return "git";
  return type;
}

Status CreateSecret(CommandContext& ctx, const CreateOptions& opts) {
  IGNITE_ASSIGN_OR_RETURN(v1::CreateSecretRequest request, CreateRequest(opts));
  IGNITE_ASSIGN_OR_RETURN(ApiClient * client, ctx.Client());
  IGNITE_ASSIGN_OR_RETURN(v1::CreateSecretResponse response, client->CreateSecret(request));
  const auto& m = response.metadata();
  return Emit(ctx, response, [&] {
    bool rotated = m.updated_at_ms() != m.created_at_ms();
    return fmt::format("{} secret {} ({})\n", rotated ? "Rotated" : "Created", m.name(), TypeLabel(m.type()));
  });
}

Status GetSecret(CommandContext& ctx, const std::string& name) {
  IGNITE_ASSIGN_OR_RETURN(ApiClient * client, ctx.Client());
  IGNITE_ASSIGN_OR_RETURN(v1::GetSecretResponse response, client->GetSecret(name));
  return Emit(ctx, response, [&] {
    const auto& v = response.value();
    std::vector<std::pair<std::string, std::string>> rows = {{"Name", response.metadata().name()},
                                                             {"Type", TypeLabel(response.metadata().type())}};
    if (v.has_registry_secret()) {
      rows.push_back({"Username", v.registry_secret().username()});
      rows.push_back({"Password", v.registry_secret().password()});
      rows.push_back({"Server", v.registry_secret().server_address().empty() ? "docker.io"
                                                                              : v.registry_secret().server_address()});
    } else {
      rows.push_back({"Username", v.git_secret().username()});
      rows.push_back({"Token", v.git_secret().token()});
    }
    rows.push_back({"Updated", FormatTimeMs(response.metadata().updated_at_ms())});
    return RenderKeyValues(rows);
  });
}

Status ListSecrets(CommandContext& ctx) {
  IGNITE_ASSIGN_OR_RETURN(ApiClient * client, ctx.Client());
  IGNITE_ASSIGN_OR_RETURN(v1::ListSecretsResponse response, client->ListSecrets());
  return Emit(ctx, response, [&] {
    if (response.secrets().empty()) return std::string("No secrets.\n");
    Table table{{"NAME", "TYPE", "CREATED", "UPDATED"}, {}};
    for (const auto& m : response.secrets()) {
      table.rows.push_back(
          {m.name(), TypeLabel(m.type()), FormatTimeMs(m.created_at_ms()), FormatTimeMs(m.updated_at_ms())});
    }
    return table.Render();
  });
}

Status DeleteSecret(CommandContext& ctx, const std::string& name) {
  IGNITE_ASSIGN_OR_RETURN(ApiClient * client, ctx.Client());
  IGNITE_ASSIGN_OR_RETURN(v1::DeleteSecretResponse response, client->DeleteSecret(name));
  return Emit(ctx, response, [&] {
    return response.deleted() ? fmt::format("Deleted secret {}\n", name)
                              : fmt::format("Secret {} did not exist (nothing to delete)\n", name);
  });
}

}  // namespace

void AddSecretCommands(CLI::App& parent, CommandContext& ctx) {
  CLI::App* secret = AddGroup(parent, ctx, "secret", "Registry and git credentials of your organization");

  auto create = std::make_shared<CreateOptions>();
  CLI::App* create_cmd = AddCommand(*secret, ctx, "create", "Create a secret, or overwrite (rotate) one of that name",
                                    [&ctx, create] { return CreateSecret(ctx, *create); });
  create_cmd->add_option("name", create->name, "1-64 letters, digits, '-' and '_'; unique in the org")->required();
  create_cmd->add_option("--type", create->type, "registry (image pulls) or git (clones)")
      ->required()
      ->check(CLI::IsMember({"registry", "git"}));
  create_cmd->add_option("--username", create->username, "The login");
  create_cmd->add_option("--password", create->password, "registry: the password or access token");
  create_cmd->add_option("--server-address", create->server_address,
                         "registry: the registry it is for, e.g. ghcr.io (default docker.io)");
  // The reference writes `--token <pat>`, but --token is every command's bearer-token flag here.
  create_cmd->add_option("--pat", create->token, "git: the personal access token");
  create_cmd->footer(
      "Values are encrypted at rest and never listed. Use a registry secret with\n"
      "`draft save|app deploy --image-ref REF --registry-secret-ref NAME`; re-running create rotates it, and\n"
      "the next pull uses the new value.\n\n"
      "Examples:\n"
      "  secret create ghcr-pull --type registry --username me --password <token> --server-address ghcr.io\n"
      "  secret create gh-clone --type git --username me --pat <token>");

  AddCommand(*secret, ctx, "list", "List your organization's secrets (name, type, times; never values)",
             [&ctx] { return ListSecrets(ctx); });

  auto get_name = std::make_shared<std::string>();
  AddCommand(*secret, ctx, "get", "Show a secret with its value in full (developers and admins)",
             [&ctx, get_name] { return GetSecret(ctx, *get_name); })
      ->add_option("name", *get_name, "The secret's name")
      ->required();

  auto delete_name = std::make_shared<std::string>();
  AddCommand(*secret, ctx, "delete", "Delete a secret (succeeds when it does not exist)",
             [&ctx, delete_name] { return DeleteSecret(ctx, *delete_name); })
      ->add_option("name", *delete_name, "The secret's name")
      ->required();
}

}  // namespace ignite::cli
