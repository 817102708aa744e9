// Shell completion: a bash script generated from the CLI11 command tree, so it always matches the commands
// and flags the program has.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace ignite::cli {

// A bash script defining _<program>_complete and registering it with `complete -o default -F ... <program>`
// (<program> = root's name, e.g. ignite or dodil). At each level it offers the subcommands (canonical names)
// or, for a word starting with '-', the flags of the command reached so far; aliases (fn, exec, status) are
// followed when walking the words already typed, and a flag that takes a value skips its value. After -o /
// --output it offers table, json, yaml and wide; after other flags with values, and for positional
// arguments, bash's default (file names). Subcommands hidden from help (empty group) are left out.
std::string BashCompletionScript(const CLI::App& root);

}  // namespace ignite::cli
