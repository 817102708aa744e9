// The layout/syntax check shared by CheckGoSource and BuildGo: runs ignite-gocheck over an extracted source
// directory and turns its findings into one user-facing InvalidArgument. Thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "build/go/go_builder.h"

namespace ignite::build {

struct SourceProblem {
  std::string pos;      // "./main.go:3:9", or "" when the problem has no position
  std::string message;
};

// The checker binary: tc.gocheck_binary, else the one built with this tree (IGNITE_GOCHECK_PATH).
std::string GoCheckBinary(const GoToolchain& tc);

// Parses ignite-gocheck's JSON ({"problems":[{"pos":..,"message":..}]}). Internal if malformed.
Result<std::vector<SourceProblem>> ParseGoCheckOutput(std::string_view json);

// The third-party import paths ignite-gocheck found (sorted), or nullopt when it could not tell (no module
// path, or output without the field). An empty list means the build needs no module downloads.
std::optional<std::vector<std::string>> ParseGoCheckExternalImports(std::string_view json);

// One message for all problems: a single problem is "pos: message"; several are
// "the source has N problems:\n" followed by one "pos: message" line each.
std::string FormatProblems(const std::vector<SourceProblem>& problems);

// How RunGoCheck isolates the checker.
struct GoCheckIsolation {
  std::string bwrap;                      // run it in the build sandbox (build/go/go_sandbox.h: GoCheckView); empty: not
  std::vector<std::string> cgroup_procs;  // cgroup.procs files it joins first (SpawnSpec::join_cgroups)
};

// Runs the checker over `dir`. `module_hint` is the module path to assume when dir has no go.mod (may be
// empty). OK, InvalidArgument (the problems), FailedPrecondition (checker missing) or Internal.
// When `external_imports` is set it receives ParseGoCheckExternalImports of the output.
Status RunGoCheck(const GoToolchain& tc, const std::string& dir, const std::string& module_hint,
                  std::chrono::milliseconds timeout,
                  std::optional<std::vector<std::string>>* external_imports = nullptr,
                  const GoCheckIsolation& isolation = {});

}  // namespace ignite::build
