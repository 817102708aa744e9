// The Go compile path: check a saved source, then build it into a static linux/amd64 binary with the
// installed Go toolchain against the SDK bundled with the platform.
//
// Thread-safety: all functions are reentrant. Concurrent builds are safe as long as each has its own
// work_dir; they may share cache_dir (the Go build and module caches are safe for concurrent use).
// All functions block the calling thread while child processes run: never call them on an event loop.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "archive/archive.h"
#include "common/result.h"

namespace ignite::build {

// How to run the Go toolchain; DefaultGoToolchain fills it in.
struct GoToolchain {
  std::string go_binary;       // absolute path of `go`
  std::string go_version;      // "go1.26.8", as `go env GOVERSION` reports it
  std::string sdk_dir;         // absolute path of the bundled SDK (module "ignite"); holds go.mod and VERSION
  std::string sdk_version;     // content of sdk_dir/VERSION, trimmed
  std::string cache_dir;       // GOCACHE is <cache_dir>/go-build, GOMODCACHE <cache_dir>/gomod; survives restarts
  std::string gocheck_binary;  // the ignite-gocheck source checker; empty: the one built with this tree
  // The environment passed to every go command before the build's own settings: PATH, HOME, proxy and
  // module-fetching settings (GOPROXY, GOPRIVATE, GOSUMDB, HTTPS_PROXY, ...). Nothing else is inherited.
  std::map<std::string, std::string> base_env;
};

struct GoBuildOptions {
  std::string app_name;  // module path for `go mod init` when go.mod is missing ("app" if empty)
  std::string work_dir;  // an empty, existing directory owned by this build; src/, out/, tmp/ go inside
  std::chrono::milliseconds timeout{10 * 60 * 1000};  // wall clock for the whole build
  archive::Limits limits;
  std::function<void(std::string_view)> on_log;  // each log line as the build runs (may be empty); called on
                                                 // the building thread
  const std::atomic<bool>* cancel = nullptr;  // when it becomes true the running step is killed: Cancelled
  // bubblewrap (DetectBuildSandbox's path): every step, the source check included, runs in the build
  // sandbox (build/sandbox.h), with the network only for `go mod tidy`. Empty: no sandbox.
  std::string sandbox_bwrap;
  // cgroup.procs files every step joins before it starts (SpawnSpec::join_cgroups), so the build's limits
  // hold for the go command and every compiler and linker it starts. Empty: no groups.
  std::vector<std::string> cgroup_procs;
};

struct GoBuildOutput {
  std::string binary_path;    // <work_dir>/out/app: a static, stripped linux/amd64 ELF executable
  uint64_t binary_size = 0;
  std::string binary_sha256;  // lowercase hex
  std::string sdk_version;    // the SDK the binary was built against (sdk_dir/VERSION)
  std::string go_version;     // the toolchain that built it
  std::string log;            // everything the build printed: "==> step" lines and tool output
};

// Checks a saved source (zip / tar.gz / single .go file, which becomes main.go) BEFORE any build: archive
// safety (archive::ExtractTo's checks, with `limits`) and layout, using the Go parser (ignite-gocheck):
// main.go at the root declaring `package main`, a `func main()` that calls ignite.Start(...), an
// `import "ignite"` in a root .go file, every root .go file in package main, no syntax errors in the
// packages of the build, no `import "C"` (cgo is unsupported), go.mod not claiming the module path "ignite".
// Every problem -> one InvalidArgument listing them all, each as "./file.go:line:col: what is wrong and how
// to fix it". Extracts into a fresh temp dir under `scratch_dir` (an existing directory) and removes it.
// FailedPrecondition if the checker binary is missing; Internal if it fails to run. With `sandbox_bwrap` the
// checker runs in the build sandbox (see GoBuildOptions::sandbox_bwrap).
Status CheckGoSource(const GoToolchain& tc, std::string_view archive, std::string_view file_name,
                     const std::string& scratch_dir, const archive::Limits& limits,
                     const std::string& sandbox_bwrap = "");

// Builds the source:
//   1. extract to <work_dir>/src (archive::ExtractTo; a single file becomes main.go) and run the same layout
//      check as CheckGoSource;
//   2. `go mod init <app_name>` if there is no go.mod;
//   3. `go mod edit`: drop every require/replace of "ignite" the user wrote, then
//      -require=ignite@v0.0.0 -replace=ignite=../ignite-sdk, where <work_dir>/ignite-sdk is a symlink to
//      sdk_dir (a relative path keeps machine-specific paths out of the binary's build info, so the same
//      source and SDK give the same binary wherever the platform is installed); directory replacements of
//      other modules must point inside the source (CheckLocalReplaces);
//   4. `go mod tidy`;
//   5. `go build -trimpath -buildvcs=false -ldflags="-s -w -buildid=" -o <work_dir>/out/app .`
// with CGO_ENABLED=0 GOOS=linux GOARCH=amd64 GOTOOLCHAIN=local GOWORK=off GOFLAGS="-mod=mod -modcacherw",
// GOCACHE/GOMODCACHE/GOPATH under cache_dir, XDG_CONFIG_HOME=<cache_dir>/config (go telemetry off, no
// `go env -w` settings), TMPDIR=<work_dir>/tmp and HOME=<work_dir>/home unless base_env has HOME (in the sandbox
// always, see AdaptEnvForSandbox); then verifies the output with CheckStaticElf (ELF64 x86-64 executable, no PT_INTERP, no
// PT_DYNAMIC, no .symtab). Each step is logged as a "==> step" line, tool output line by line, through
// on_log and into GoBuildOutput::log; paths under work_dir/src are shown relative ("./main.go:5:2").
// Errors (messages are for users):
//   - bad archive or layout: InvalidArgument (as CheckGoSource);
//   - invalid go.mod: InvalidArgument "go.mod is invalid: <go's message>";
//   - go.mod replaces a module with a directory outside the source: InvalidArgument naming it;
//   - `go mod tidy` fails: InvalidArgument "resolving dependencies failed: <go's message>";
//   - compile error: InvalidArgument "build failed:\n<compiler output>" with the compiler's file:line:col lines;
//   - the timeout passes: DeadlineExceeded "build exceeded the 10m0s limit (during <step>)";
//   - go_binary or sdk_dir missing: FailedPrecondition naming the path;
//   - anything else (tool killed by a signal, output not a static ELF, a cgroup that cannot be joined, I/O
//     errors): Internal.
// On failure the log so far has only been delivered through on_log (collect it there to keep it), and
// work_dir keeps whatever was produced; the caller removes work_dir in all cases.
Result<GoBuildOutput> BuildGo(const GoToolchain& tc, std::string_view archive, std::string_view file_name,
                              const GoBuildOptions& opts);

// Finds `go` (the PATH of `env`, then /usr/local/go/bin/go, /usr/lib/go/bin/go), asks it for its version,
// reads sdk_dir/VERSION and checks sdk_dir/go.mod, makes the paths absolute, takes base_env from `env`
// (see GoToolchain::base_env) and the checker from env IGNITE_GOCHECK (else the built-in path). Creates
// <cache_dir>/config (the go command's config dir, telemetry off). FailedPrecondition naming what is missing
// and how to provide it; Internal if cache_dir cannot be written.
Result<GoToolchain> DefaultGoToolchain(const std::string& sdk_dir, const std::string& cache_dir,
                                       const std::map<std::string, std::string>& env);

}  // namespace ignite::build
