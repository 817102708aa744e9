// go.mod rewriting for the bundled SDK. Pure logic over `go mod edit -json` output. Thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ignite::build {

// Given the JSON printed by `go mod edit -json` for the user's go.mod, the arguments of the one `go mod edit`
// that points "ignite" at the bundled SDK: drop every require and replace of "ignite" (any version), then
// -require=ignite@v0.0.0 -replace=ignite=<sdk_dir>. Internal if the JSON cannot be parsed.
Result<std::vector<std::string>> SdkModEditArgs(std::string_view mod_json, const std::string& sdk_dir);

// Whether the go.mod (JSON as above) requires any module other than "ignite", or replaces any: then
// `go mod tidy` has work to do (downloads, go.sum). True when the JSON cannot be parsed (the safe answer).
bool RequiresModules(std::string_view mod_json);

// Checks the user's directory replacements (`replace x => ../y`, JSON as above): they must be relative paths
// that stay inside the uploaded source, so a build cannot read other directories of the server (other
// builds, the platform's files). Replacements of "ignite" are ignored (they are dropped). InvalidArgument
// naming the offending line's module and path; Internal if the JSON cannot be parsed.
Status CheckLocalReplaces(std::string_view mod_json);

}  // namespace ignite::build
