// The build sandbox's views (build/sandbox.h) of the Go compile path's steps: the go command and the source
// checker. Pure functions except GoRoot. Thread-safe.
#pragma once

#include <map>
#include <string>

#include "build/go/go_builder.h"
#include "build/sandbox.h"

namespace ignite::build {

// The view of a go command of a build: read-only `go_root` (GoRoot), tc.sdk_dir and SandboxEnvFiles(env);
// read-write exactly `work_dir` and env's GOCACHE, GOMODCACHE and XDG_CONFIG_HOME (GoCommandEnv puts all
// three under tc.cache_dir); cwd `cwd`.
SandboxView GoStepView(const GoToolchain& tc, const std::map<std::string, std::string>& env,
                       const std::string& go_root, const std::string& work_dir, const std::string& cwd,
                       bool network);

// The view of the source checker: read-only the checker binary and the source directory; no network.
SandboxView GoCheckView(const std::string& checker, const std::string& source_dir);

// The Go installation root of `go_binary`: two levels above the binary with symlinks resolved
// (/usr/local/go/bin/go -> /usr/local/go). Empty if it cannot be resolved.
std::string GoRoot(const std::string& go_binary);

}  // namespace ignite::build
