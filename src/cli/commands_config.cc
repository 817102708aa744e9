// `config set <key> <value>` and `config view` (reference 3.1): the CLI's own settings, written under
// `ignite.` in the config file the next run reads (config_write.h says which), and the effective values
// with where each came from.
#include <memory>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/config_write.h"
#include "cli/errors.h"
#include "cli/output.h"
#include "common/names.h"
#include "http/client.h"

namespace ignite::cli {
namespace {

std::string KnownKeys() {
  std::string out;
  for (std::string_view key : kConfigKeys) out += (out.empty() ? "" : ", ") + std::string(key);
  return out;
}

// A value `config set` (or `login`) may store under `key`; the same checks the commands apply when reading.
Status ValidateConfigValue(const std::string& key, const std::string& value) {
  if (value.empty()) return InvalidArgument(fmt::format("config set {}: the value is empty", key));
  if (key == "api_endpoint") {
    auto endpoint = http::ParseEndpoint(value);
    if (!endpoint.ok()) return InvalidArgument(fmt::format("config set api_endpoint: {}", endpoint.status().message()));
  } else if (key == "org_id") {
    Status valid = ValidateOrgName(value);
    if (!valid.ok()) return InvalidArgument(fmt::format("config set org_id: {}", valid.message()));
  }
  return OkStatus();
}

struct SetOptions {
  std::string key;
  std::string value;
};

Status ConfigSet(CommandContext& ctx, const SetOptions& opts) {
  if (!IsKnownConfigKey(opts.key)) {
    return InvalidArgument(fmt::format("unknown config key \"{}\": the keys are {}", opts.key, KnownKeys()));
  }
  IGNITE_RETURN_IF_ERROR(ValidateConfigValue(opts.key, opts.value));
  IGNITE_ASSIGN_OR_RETURN(std::string path, ConfigWritePath(ctx.flags().config, ctx.env(), ctx.fs()));
  IGNITE_RETURN_IF_ERROR(WriteIgniteKeys(ctx.fs(), path, {{opts.key, opts.value}}));
  const std::string shown = opts.key == "token" ? MaskToken(opts.value) : opts.value;
  IGNITE_ASSIGN_OR_RETURN(OutputFormat format, ctx.Format());
  if (IsStructured(format)) {
    nlohmann::ordered_json out;
    out["key"] = opts.key;
    out["value"] = shown;
    out["configFile"] = path;
    ctx.out() << RenderStructured(format, out.dump(2));
  } else {
    ctx.out() << fmt::format("Set ignite.{} = {} in {}\n", opts.key, shown, path);
  }
  return OkStatus();
}

// One row of `config view`.
struct ViewRow {
  const char* key;
  std::string value;
  const SettingSource* source;
};

Status ConfigView(CommandContext& ctx) {
  IGNITE_ASSIGN_OR_RETURN(Settings settings, ctx.GetSettings());
  IGNITE_ASSIGN_OR_RETURN(OutputFormat format, ctx.Format());
  const ViewRow rows[] = {
      {"api_endpoint", settings.api_endpoint, &settings.api_endpoint_source},
      {"org_id", settings.org, &settings.org_source},
      {"token", MaskToken(settings.token), &settings.token_source},
  };
  if (IsStructured(format)) {
    nlohmann::ordered_json out;
    out["configFile"] = settings.config_file;
    nlohmann::ordered_json values = nlohmann::ordered_json::object();
    for (const ViewRow& row : rows) {
      nlohmann::ordered_json entry;
      entry["value"] = row.value;
      entry["source"] = row.source->kind.empty() ? "unset" : row.source->kind;
      if (!row.source->name.empty()) entry["from"] = row.source->name;
      values[row.key] = entry;
    }
    out["values"] = values;
    out["debug"] = settings.debug;
    ctx.out() << RenderStructured(format, out.dump(2));
    return OkStatus();
  }
  Table table{{"KEY", "VALUE", "SOURCE"}, {}};
  for (const ViewRow& row : rows) table.rows.push_back({row.key, row.value, DescribeSource(*row.source)});
  std::string text = table.Render() + "\n";
  if (settings.config_file.empty()) {
    auto target = ConfigWritePath(ctx.flags().config, ctx.env(), ctx.fs());
    text += fmt::format("Config file: none ({})\n",
                        target.ok() ? "`config set` would create " + *target : target.status().message());
  } else {
    text += fmt::format("Config file: {}\n", settings.config_file);
  }
  if (settings.debug) text += "Debug: on (requests are logged to stderr)\n";
  ctx.out() << text;
  return OkStatus();
}

}  // namespace

void AddConfigCommands(CLI::App& parent, CommandContext& ctx) {
  CLI::App* group = AddGroup(parent, ctx, "config", "Show and change the CLI's settings (endpoint, token, org)");

  auto set = std::make_shared<SetOptions>();
  CLI::App* set_cmd = AddCommand(*group, ctx, "set", "Store a setting under ignite.<key> in the config file",
                                 [&ctx, set] { return ConfigSet(ctx, *set); });
  set_cmd->add_option("key", set->key, "api_endpoint, org_id or token")->required();
  set_cmd->add_option("value", set->value, "The value")->required();
  set_cmd->footer(
      "Writes the config file the next run reads: --config PATH, else $DODIL_CONFIG_DIR/config.yaml or\n"
      "$IGNITE_CONFIG_DIR/config.yaml when set, else the first existing of ~/.config/unified-cli/config.yaml,\n"
      "~/.ignite/config.yaml, ~/.config/dodil/config.yaml, else it creates ~/.config/unified-cli/config.yaml.\n"
      "Other keys in the file are kept (comments are not); the file is written with mode 0600.\n\n"
      "Examples:\n"
      "  config set api_endpoint http://10.0.0.5:7070\n"
      "  config set token ign_...\n"
      "  config set org_id acme");

  CLI::App* view_cmd = AddCommand(*group, ctx, "view", "Show the effective settings and where each comes from",
                                  [&ctx] { return ConfigView(ctx); });
  view_cmd->footer(
      "Sources: flag (--api-endpoint, --token, --org, --org-name), env (DODIL_TOKEN, IGNITE_TOKEN,\n"
      "IGNITE_API_ENDPOINT, IGNITE_ORG_ID, IGNITE_ORG_NAME), file (ignite.<key>, else global.<key>) or default.\n"
      "The token is masked except its last 4 characters.\n\n"
      "Examples:\n"
      "  config view\n"
      "  config view -o json");
}

}  // namespace ignite::cli
