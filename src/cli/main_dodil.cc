// dodil: `dodil ignite <group> ...` and `dodil login`.
#include "cli/cli.h"

int main(int argc, char** argv) { return ignite::cli::Main(ignite::cli::Program::kDodil, argc, argv); }
