// ignite: the `dodil ignite` commands without the prefix (`ignite app list` == `dodil ignite app list`).
#include "cli/cli.h"

int main(int argc, char** argv) { return ignite::cli::Main(ignite::cli::Program::kIgnite, argc, argv); }
