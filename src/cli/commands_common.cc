#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/errors.h"

namespace ignite::cli {

void AddGlobalFlags(CLI::App& app, GlobalFlags& flags) {
  const std::string group = "Global options";
  app.add_option("-o,--output", flags.output,
                 "Output format: table (default), json, yaml (the json as YAML) or wide (table with more columns)")
      ->group(group);
  app.add_option("--api-endpoint", flags.api_endpoint,
                 "ignited address, e.g. http://127.0.0.1:7070 (env IGNITE_API_ENDPOINT; default from the config "
                 "file, else http://127.0.0.1:7070)")
      ->group(group);
  app.add_option("--token", flags.token, "Bearer token (env DODIL_TOKEN, then IGNITE_TOKEN; then the config file)")
      ->group(group);
  app.add_option("--org", flags.org, "Organization name (env IGNITE_ORG_ID, IGNITE_ORG_NAME; default org)")
      ->group(group);
  app.add_option("--org-name", flags.org_name, "Dev/test: organization name as direct context (--org wins)")
      ->group(group);
  app.add_option("--timeout", flags.timeout,
                 "Request timeout, e.g. 30s, 5m, 0 for none (default 5m; none when following a build log)")
      ->group(group);
  app.add_option("--config", flags.config,
                 "Config file to read (and for config set/login, write); default: $DODIL_CONFIG_DIR, "
                 "$IGNITE_CONFIG_DIR, ~/.config/unified-cli, ~/.ignite, ~/.config/dodil")
      ->group(group);
  app.add_flag("--debug", flags.debug,
               "Log each request and answer to stderr (env IGNITE_DEBUG=1). The CLI uses plain HTTP to ignited; "
               "there is no TLS to disable")
      ->group(group);
}

CLI::App* AddCommand(CLI::App& parent, CommandContext& ctx, const std::string& name,
                     const std::string& description, std::function<Status()> action) {
  CLI::App* cmd = parent.add_subcommand(name, description);
  AddGlobalFlags(*cmd, ctx.flags());
  cmd->callback([&ctx, action = std::move(action)] { ctx.SetAction(action); });
  return cmd;
}

CLI::App* AddGroup(CLI::App& parent, CommandContext& ctx, const std::string& name,
                   const std::string& description) {
  CLI::App* group = parent.add_subcommand(name, description);
  AddGlobalFlags(*group, ctx.flags());
  return group;
}

Status Emit(CommandContext& ctx, const google::protobuf::Message& message,
            const std::function<std::string()>& table) {
  IGNITE_ASSIGN_OR_RETURN(OutputFormat format, ctx.Format());
  if (IsStructured(format)) {
    ctx.out() << RenderStructured(format, MessageToPrettyJson(message));
  } else {
    ctx.out() << table();
  }
  ctx.out().flush();
  return OkStatus();
}

Result<dodil::ignite::v1::Runtime> RuntimeFromFlag(const std::string& name) {
  dodil::ignite::v1::Runtime runtime;
  if (name == "go") {
    runtime.mutable_go();
  } else if (name == "python") {
    runtime.mutable_python();
  } else if (name == "rust") {
    runtime.mutable_rust();
  } else if (name == "deno") {
    runtime.mutable_deno();
  } else {
    return LocalError(fmt::format("unknown runtime \"{}\": use go, python, rust or deno", name));
  }
  return runtime;
}

}  // namespace ignite::cli
