// The sandbox every step of a build runs in (each code path picks a SandboxView per step; build/go/go_sandbox.h
// has the Go compile path's): bubblewrap (`bwrap`, Debian package `bubblewrap`), started
// through SpawnSpec::sandbox_prefix (common/process.h). docs/security.md ("Builds") has the threat model.
//
// Each step (the ignite-gocheck parser, `go mod init/edit/tidy`, `go build`) gets:
//   - its own PID, IPC, UTS and cgroup namespaces; it dies with ignited (--die-with-parent, on top of the
//     process wrapper's own parent-death handling) and runs in a new session (no terminal to inject into);
//   - no capabilities (--cap-drop ALL) and no_new_privs (bwrap sets it), so it cannot regain any through
//     exec. It keeps uid 0: bwrap changes the uid only inside a user namespace, which as root maps the new
//     uid back to host uid 0 (nothing gained), and a real unprivileged host uid would have to own the Go
//     caches that all builds share (and that unsandboxed runs fill as root). What uid 0 without
//     capabilities could still write is closed by the mount view: /proc is read-only (the sysctls under
//     /proc/sys are writable by uid 0 otherwise) and /sys is not mounted;
//   - a root that shows only: read-only /usr, /lib, /lib64, /bin, /sbin (a symlink such as merged /usr's
//     /bin -> usr/bin stays the same symlink), /etc/ssl, /etc/ca-certificates, /etc/resolv.conf,
//     /etc/hosts, /etc/nsswitch.conf, /etc/passwd, /etc/group (each only when present on the host), the
//     step's own read-only paths (the Go toolchain root, the bundled SDK, the checker binary, files the
//     server's environment names for module fetching); read-write only the step's own paths (the build's
//     work dir and the go command's caches); its own /proc, a minimal /dev and an empty tmpfs /tmp. Every
//     path appears at its host path, so the go command's paths and messages are the same as without it.
//     Nothing else: not the data dir, the database, the blobs, nor other builds' work dirs;
//   - the host's network only when the step fetches modules (`go mod tidy`), else none at all (a network
//     namespace with only loopback). The go command runs no user code in any step (CGO_ENABLED=0,
//     GOTOOLCHAIN=local, no `go generate`, no tests): a step with network is the toolchain talking to the
//     module proxy, not the user's program.
//
// Pure functions except ProbeHostPath and DetectBuildSandbox. Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"

namespace ignite::build {

// What one step sees besides the system paths. Paths are absolute host paths, shown at the same path.
struct SandboxView {
  std::vector<std::string> read_only;
  std::vector<std::string> read_write;
  bool network = false;  // the host's network (only to fetch modules); false: none
  std::string cwd;       // the working directory inside (a path the view shows); empty: /
};

// A host path as lstat sees it.
struct HostPath {
  enum class Kind { kMissing, kSymlink, kOther };
  Kind kind = Kind::kMissing;
  std::string link_target;  // for kSymlink: readlink's answer
};
using HostPathProbe = std::function<HostPath(const std::string& path)>;
HostPath ProbeHostPath(const std::string& path);

// The system paths every step sees read-only, in mount order.
const std::vector<std::string>& SandboxSystemPaths();

// The argv prefix {bwrap, options..., "--"} that runs a command with `view`. System paths the probe reports
// missing are left out, symlinks become the same symlinks (--symlink), others are --ro-bind. View paths
// the probe reports missing are left out; a read-only view path inside another read-only path is left out
// (it is visible already); the view's binds are mounted parents first, so a path inside another keeps its
// own mode. /tmp (a tmpfs) is mounted before every bind, so binds under /tmp stay visible.
std::vector<std::string> BuildSandboxArgv(const std::string& bwrap, const SandboxView& view,
                                          const HostPathProbe& probe);

// Absolute paths of files the go command (or git under it) reads that `env` names: SSL_CERT_FILE,
// SSL_CERT_DIR (a ':' list), NETRC, GIT_CONFIG_GLOBAL, GOENV, SSH_AUTH_SOCK.
std::vector<std::string> SandboxEnvFiles(const std::map<std::string, std::string>& env);

// Points HOME at `home` (a directory inside the build's work dir; the server's HOME is not in the view).
// Credentials the go command and git would have found in the server's HOME keep working: when NETRC is
// unset and <old HOME>/.netrc exists, NETRC names it; likewise GIT_CONFIG_GLOBAL for <old HOME>/.gitconfig
// (both then appear in SandboxEnvFiles). `exists` decides (a regular file, in production).
void AdaptEnvForSandbox(std::map<std::string, std::string>* env, const std::string& home,
                        const std::function<bool(const std::string&)>& exists);

// Finds bwrap (this process's PATH, then /usr/bin/bwrap) and checks that it can build the sandbox on this
// host by running `true` in it. The path of bwrap, or FailedPrecondition saying what is missing (bubblewrap
// not installed; namespaces not allowed, with bwrap's message).
Result<std::string> DetectBuildSandbox();

// One line for the start-up log.
std::string DescribeBuildSandbox(const std::string& bwrap);

}  // namespace ignite::build
