// The two programs: `dodil` (`dodil ignite <group> ...` plus `dodil login` and `dodil completion`) and
// `ignite` (the same groups, `login` and `completion` without the prefix). Parsing, dispatch, error printing
// and exit codes live here.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli/context.h"

namespace CLI {
class App;
}

namespace ignite::cli {

enum class Program { kDodil, kIgnite };

// The whole command tree of `program`, every command bound to `ctx` (which must outlive it). RunCli parses
// with it; tests walk it (every command's --help) and `completion bash` generates its script from it.
std::unique_ptr<CLI::App> BuildCli(Program program, CommandContext& ctx);

// Runs one command line (`args` excludes the program name) against `io`. Errors are printed to io.err as
// "Error: <message>"; returns the exit code: 0 success, ExitCodeFor(code) for API errors, 1 for usage and
// local errors (CLI11 parse errors included), 0 for --help.
int RunCli(Program program, const std::vector<std::string>& args, CliIo io);

// RunCli with the real environment, filesystem, stdin/stdout/stderr and HTTP transport.
int Main(Program program, int argc, char** argv);

}  // namespace ignite::cli
