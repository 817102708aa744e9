#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/errors.h"

namespace ignite::cli {

void AddGlobalFlags(CLI::App& app, GlobalFlags& flags) {
  const std::string group = "Global options";
  app.add_option("-o,--output", flags.output, "Output format: table or json (default table)")->group(group);
  app.add_option("--api-endpoint", flags.api_endpoint,
                 "ignited address, e.g. http://127.0.0.1:7070 (env IGNITE_API_ENDPOINT)")
      ->group(group);
  app.add_option("--token", flags.token, "Bearer token (env DODIL_TOKEN, IGNITE_TOKEN)")->group(group);
  app.add_option("--org", flags.org, "Organization (env IGNITE_ORG_ID, IGNITE_ORG_NAME)")->group(group);
  app.add_option("--timeout", flags.timeout,
                 "Request timeout, e.g. 30s, 5m, 0 for none (default 5m; none when following a build log)")
      ->group(group);
  app.add_option("--config", flags.config, "Config file (default: see docs/cli.md)")->group(group);
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
  if (format == OutputFormat::kJson) {
    ctx.out() << MessageToPrettyJson(message);
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
