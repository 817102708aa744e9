#include "cli/cli.h"

#include <unistd.h>

#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/errors.h"

namespace ignite::cli {
namespace {

constexpr const char* kQuickstart =
    "Quick start (Go):\n"
    "  {p}app create hello --runtime go\n"
    "  {p}draft save org:hello --code ./\n"
    "  {p}draft publish org:hello\n"
    "  {p}invoke org:hello -p '{{\"name\": \"world\"}}'\n";

std::string Quickstart(const std::string& prefix) {
  std::string text = kQuickstart;
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 3, "{p}") == 0) {
      out += prefix;
      i += 2;
    } else if (text.compare(i, 2, "{{") == 0 || text.compare(i, 2, "}}") == 0) {
      out += text[i];
      ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

void AddIgniteGroups(CLI::App& parent, CommandContext& ctx) {
  AddAppCommands(parent, ctx);
  AddDraftCommands(parent, ctx);
  AddVersionCommands(parent, ctx);
  AddInvokeCommand(parent, ctx);
  AddExecutionCommands(parent, ctx);
  AddSecretCommands(parent, ctx);
  AddConfigCommands(parent, ctx);
  AddLoginCommand(parent, ctx);
}

}  // namespace

std::unique_ptr<CLI::App> BuildCli(Program program, CommandContext& ctx) {
  const bool dodil = program == Program::kDodil;
  auto app = std::make_unique<CLI::App>(
      dodil ? "dodil: the Dodil CLI. Ignite (serverless functions) lives under `dodil ignite`."
            : "ignite: deploy and invoke serverless functions on an Ignite platform (ignited).",
      dodil ? "dodil" : "ignite");
  CLI::App& root = *app;
  AddGlobalFlags(root, ctx.flags());
  CLI::App* ignite_root = &root;
  if (dodil) {
    ignite_root =
        AddGroup(root, ctx, "ignite", "Ignite: apps, drafts, versions, invocations, executions, config and login");
    AddLoginCommand(root, ctx);
    AddAuthCommands(root, ctx);
  }
  AddIgniteGroups(*ignite_root, ctx);
  AddCompletionCommand(root, ctx);
  ignite_root->footer(Quickstart(dodil ? "dodil ignite " : "ignite "));
  return app;
}

int RunCli(Program program, const std::vector<std::string>& args, CliIo io) {
  std::ostream& out = *io.out;
  std::ostream& err = *io.err;
  CommandContext ctx(std::move(io));
  std::unique_ptr<CLI::App> app = BuildCli(program, ctx);
  CLI::App& root = *app;

  std::vector<std::string> argv_storage;
  argv_storage.push_back(root.get_name());
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argv_storage) argv.push_back(arg.data());
  try {
    root.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::CallForHelp& e) {
    root.exit(e, out, err);
    return 0;
  } catch (const CLI::CallForAllHelp& e) {
    root.exit(e, out, err);
    return 0;
  } catch (const CLI::ParseError& e) {
    err << "Error: " << e.what() << "\nRun with --help for more information.\n";
    return 1;
  }

  if (!ctx.HasAction()) {
    err << root.help();  // help of the most specific command selected
    err << "Error: choose a command (see above).\n";
    return 1;
  }
  Status status = ctx.Format().status();
  if (status.ok()) status = ctx.RunAction();
  out.flush();
  if (!status.ok()) {
    err << "Error: " << status.message() << "\n";
    err.flush();
    return ExitCodeForStatus(status);
  }
  return 0;
}

int Main(Program program, int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  CliIo io;
  io.env = ProcessEnvironment();
  io.fs = &RealFileSystem();
  io.in = &std::cin;
  io.out = &std::cout;
  io.err = &std::cerr;
  io.transport_factory = HttpTransportFactory();
  io.stdout_is_terminal = ::isatty(STDOUT_FILENO) == 1;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  return RunCli(program, args, std::move(io));
}

}  // namespace ignite::cli
