// The command tree. Each group's file adds its subcommands under `parent` (the program root for `ignite`,
// the `ignite` subcommand for `dodil`); the helpers keep every command's flags and behaviour uniform.
#pragma once

#include <functional>
#include <string>

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

void AddAppCommands(CLI::App& parent, CommandContext& ctx);
void AddDraftCommands(CLI::App& parent, CommandContext& ctx);
void AddVersionCommands(CLI::App& parent, CommandContext& ctx);
void AddInvokeCommand(CLI::App& parent, CommandContext& ctx);

}  // namespace ignite::cli
