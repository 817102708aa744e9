// The command tree. Each group's file adds its subcommands under `parent` (the program root for `ignite`,
// the `ignite` subcommand for `dodil`); the helpers keep every command's flags and behaviour uniform.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <google/protobuf/message.h>

#include "cli/context.h"
#include "common/status.h"
#include "dodil/ignite/v1/ignite_common.pb.h"

namespace ignite::cli {

// Adds -o/--output, --api-endpoint, --token, --org, --timeout and --config (group "Global options"), all
// bound to `flags`.
void AddGlobalFlags(CLI::App& app, GlobalFlags& flags);

// A runnable command under `parent`: global flags added, and `action` set as the context's action when the
// command is selected.
CLI::App* AddCommand(CLI::App& parent, CommandContext& ctx, const std::string& name,
                     const std::string& description, std::function<Status()> action);

// A command group under `parent` (selecting it without a subcommand prints its help and exits 1).
CLI::App* AddGroup(CLI::App& parent, CommandContext& ctx, const std::string& name,
                   const std::string& description);

// Prints `message` as JSON for -o json, or the text `table()` returns for -o table.
Status Emit(CommandContext& ctx, const google::protobuf::Message& message,
            const std::function<std::string()>& table);

// "go" -> {go: {}}, etc. for --runtime; other values are a local error listing the choices.
Result<dodil::ignite::v1::Runtime> RuntimeFromFlag(const std::string& name);

// The flags and the run of a command that sends a raw payload and prints the function's answer: `invoke`,
// `draft test`, `version test` (commands_invoke.cc has the output rules).
struct InvokeOptions {
  std::string id;
  std::string payload;
  std::string payload_file;
  std::vector<std::string> headers;
  bool async = false;  // `invoke --async`: start an execution and print its id
};

// Adds -p/--payload, --payload-file and -H/--header, bound to `opts`.
void AddPayloadFlags(CLI::App& cmd, InvokeOptions& opts);

// Sends the payload through `call` (one of ApiClient's NDJSON invoke routes) and prints the answer.
using InvokeCall = std::function<Status(ApiClient& client, const AppRef& app, std::string_view payload,
                                        const http::Headers& headers, InvokeStreamDecoder& decoder)>;
Status RunInvocation(CommandContext& ctx, const InvokeOptions& opts, const InvokeCall& call);

// Help text for an app id argument.
inline constexpr const char* kAppIdHelp = "App id: org:app, org/app, or app (organization from --org or config)";

// For `draft compile-logs` / `draft cancel`: whether an argument names an app (contains ':' or '/', or is a
// valid app name) rather than a deploy id (a ULID: uppercase, so never a valid app name).
bool LooksLikeAppRef(std::string_view arg);

// Where `version code` puts what it downloads, from -o, -O and whether stdout is a terminal:
//   -o json: the metadata as JSON on stdout, and the bytes to -O's file when one is given (-O - is an error);
//   table with -O PATH: the file only; with -O -: raw bytes on stdout;
//   table without -O: raw bytes on stdout, unless stdout is a terminal (a local error suggesting -O).
struct CodeDestination {
  bool file = false;
  bool raw_stdout = false;
  bool json = false;
};
Result<CodeDestination> ChooseCodeDestination(OutputFormat format, const std::string& output_file,
                                              bool stdout_is_terminal);

void AddAppCommands(CLI::App& parent, CommandContext& ctx);
void AddDraftCommands(CLI::App& parent, CommandContext& ctx);
void AddVersionCommands(CLI::App& parent, CommandContext& ctx);
void AddInvokeCommand(CLI::App& parent, CommandContext& ctx);
void AddExecutionCommands(CLI::App& parent, CommandContext& ctx);
// `secret create|get|list|delete` (commands_secret.cc).
void AddSecretCommands(CLI::App& parent, CommandContext& ctx);
// `config set|view` (commands_config.cc).
void AddConfigCommands(CLI::App& parent, CommandContext& ctx);
// `login` (commands_login.cc): `login <service_account_id> <secret>` or `login --token T [--api-endpoint E]
// [--org O]`; under the dodil root, `dodil ignite` and the ignite root.
void AddLoginCommand(CLI::App& parent, CommandContext& ctx);
// `completion bash` (commands_completion.cc): the bash completion script of the tree under `root`.
void AddCompletionCommand(CLI::App& root, CommandContext& ctx);
// `auth status` and `auth service-account create|list|delete` (commands_auth.cc); dodil root only.
void AddAuthCommands(CLI::App& root, CommandContext& ctx);

}  // namespace ignite::cli
