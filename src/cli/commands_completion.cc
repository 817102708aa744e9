// `completion bash`: prints the bash completion script of the whole program (completion.h).
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/completion.h"
#include "cli/errors.h"

namespace ignite::cli {

void AddCompletionCommand(CLI::App& root, CommandContext& ctx) {
  CLI::App* group = AddGroup(root, ctx, "completion", "Print a shell completion script");
  const CLI::App* tree = &root;
  const std::string program = root.get_name();
  CLI::App* bash = AddCommand(*group, ctx, "bash", "Print the bash completion script", [&ctx, tree] {
    ctx.out() << BashCompletionScript(*tree);
    ctx.out().flush();
    return OkStatus();
  });
  bash->footer(fmt::format(
      "Install for your user (bash-completion 2 loads it on demand):\n"
      "  mkdir -p ~/.local/share/bash-completion/completions\n"
      "  {0} completion bash > ~/.local/share/bash-completion/completions/{0}\n"
      "or load it in every shell: add `source <({0} completion bash)` to ~/.bashrc.",
      program));
}

}  // namespace ignite::cli
