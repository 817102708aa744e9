// The environment of go commands, and where to find `go`. Pure logic (file checks are injected), so the
// rules are unit-tested without a toolchain, except PrepareGoConfigDir. Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "build/go/go_builder.h"

namespace ignite::build {

using Env = std::map<std::string, std::string>;

// The subset of a server environment that go needs: PATH, HOME, module fetching (GOPROXY, GONOPROXY,
// GOPRIVATE, GONOSUMDB, GONOSUMCHECK, GOSUMDB, GOINSECURE, GOVCS, GOAUTH, NETRC, GOENV), proxies
// (HTTP_PROXY, HTTPS_PROXY, NO_PROXY, ALL_PROXY, either case), TLS roots (SSL_CERT_FILE, SSL_CERT_DIR) and
// git over ssh (GIT_SSH_COMMAND, SSH_AUTH_SOCK). PATH defaults to /usr/local/bin:/usr/bin:/bin.
Env FilterGoBaseEnv(const Env& env);

// The full environment of a build's go commands: base_env plus the build's fixed settings (see BuildGo),
// including XDG_CONFIG_HOME=<cache_dir>/config (see PrepareGoConfigDir).
Env GoCommandEnv(const GoToolchain& tc, const std::string& work_dir);

// The go command's own config dir, <cache_dir>/config/go: writes telemetry/mode = "off" there (once,
// atomically). Without it every go command writes telemetry counters and may start a detached sidecar
// process (its own session, so it outlives the build's process group) that keeps writing under the
// config dir after the build is over. It also means `go env -w` settings of the server's user are not
// used: configure the build through ignited's environment instead. Internal on I/O errors.
Status PrepareGoConfigDir(const std::string& cache_dir);

// The first executable `go` in PATH's directories (from `env`), then /usr/local/go/bin/go, /usr/lib/go/bin/go.
// `is_executable` decides (access(X_OK) on a regular file in production). Empty if none.
std::string FindGoBinary(const Env& env, const std::function<bool(const std::string&)>& is_executable);

}  // namespace ignite::build
