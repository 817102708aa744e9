// Starting child processes. Everything goes through posix_spawn with explicit file actions, its own process
// group and a clean signal mask; the daemon never fork()s (a fork of a multi-threaded process with a large
// address space is slow and unsafe).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"

namespace ignite {

struct SpawnSpec {
  std::vector<std::string> argv;            // argv[0] is resolved through PATH when it has no '/'.
  std::map<std::string, std::string> env;   // The child's whole environment (nothing is inherited).
  std::string cwd;                          // Empty: the parent's.
  int stdin_fd = -1;                        // -1: /dev/null.
  int stdout_fd = -1;                       // -1: /dev/null.
  int stderr_fd = -1;                       // -1: /dev/null.
  // Descriptors handed to the child as 3, 4, ... in this order (systemd socket-activation style).
  std::vector<int> pass_fds;
  // The whole process group dies with the spawning thread's process, even on `kill -9` of ignited: the
  // command runs under a small /bin/sh that `setpriv --pdeathsig TERM` arms, and that SIGKILLs its group
  // when the signal comes (so the tools a build starts, like compile and link, go too). For long-running
  // tool runs (builds); argv[0] is resolved through the parent's PATH first. Spawn from a long-lived thread:
  // the signal follows the spawning thread. Without util-linux's setpriv the command runs unwrapped.
  bool die_with_parent = false;
  // cgroup.procs files the wrapper writes "0" to before it runs the command, so the command and everything
  // it starts are in those groups from their first instruction (instances/cgroups.h: Cgroup::procs_paths).
  // Non-empty means the command runs under the /bin/sh wrapper even without die_with_parent; the paths are
  // the wrapper's arguments, never the command's (nor in its environment). When a write fails the command
  // does not run: exit code 125, output "ignite-run: cannot join cgroup <path>" (see kJoinCgroupFailed).
  std::vector<std::string> join_cgroups;
  // An argv the command is wrapped in, e.g. {"bwrap", <options>..., "--"}: the process run is
  // sandbox_prefix + argv (inside the wrapper above, when there is one, so the sandbox is in the groups
  // and dies with the parent too). sandbox_prefix[0] and argv[0] are resolved through this process's PATH
  // when they have no '/'; argv[0] must then exist at the same path inside the sandbox.
  std::vector<std::string> sandbox_prefix;
};

// The output of a command whose wrapper could not join a cgroup of SpawnSpec::join_cgroups (exit code 125)
// starts with this.
inline constexpr const char* kJoinCgroupFailed = "ignite-run: cannot join cgroup ";

// Spawns the child in a new process group (pgid == pid) with all signals unblocked and default dispositions.
// The parent's descriptors are not inherited except those named in the spec (the project opens every
// descriptor O_CLOEXEC). Returns the pid, or Internal with errno text when spawning fails (for example a
// missing executable). Thread-safe.
Result<pid_t> Spawn(const SpawnSpec& spec);

struct CommandResult {
  int exit_code = -1;      // Exit status; -1 when killed by a signal or the deadline.
  int term_signal = 0;     // The signal that ended it, if any.
  bool timed_out = false;  // The deadline passed and the process group was killed.
  bool cancelled = false;  // *cancel became true and the process group was killed.
  std::string output;      // stdout and stderr interleaved, capped at max_output bytes (the tail is kept).
};

// Runs a command to completion, capturing combined output. `on_line`, if set, is called with each output line
// (without '\n') as it arrives. After `timeout`, or once `*cancel` is true (checked every 50 ms), the whole
// process group gets SIGKILL. Blocks the calling thread: never call it on an event-loop thread. Returns an
// error only when the process could not be started.
Result<CommandResult> RunCommand(SpawnSpec spec, std::chrono::milliseconds timeout,
                                 const std::function<void(std::string_view)>& on_line = {},
                                 size_t max_output = 4 << 20, const std::atomic<bool>* cancel = nullptr);

// The executable `name` resolves to through this process's PATH (/usr/bin:/bin when unset), or "".
std::string FindInPath(const std::string& name);

// `env` as "KEY=VALUE" strings in key order, the storage behind an exec's envp.
std::vector<std::string> EnvironmentStrings(const std::map<std::string, std::string>& env);

// The current process's environment as a map (for building a child's env from it).
std::map<std::string, std::string> CurrentEnvironment();

}  // namespace ignite
