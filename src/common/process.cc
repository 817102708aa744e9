#include "common/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

extern char** environ;

namespace ignite {
namespace {

class SpawnAttrs {
 public:
  SpawnAttrs() {
    posix_spawn_file_actions_init(&actions_);
    posix_spawnattr_init(&attr_);
  }
  ~SpawnAttrs() {
    posix_spawn_file_actions_destroy(&actions_);
    posix_spawnattr_destroy(&attr_);
  }
  posix_spawn_file_actions_t actions_;
  posix_spawnattr_t attr_;
};

std::string Errno(int err) { return std::strerror(err); }

}  // namespace

std::vector<std::string> EnvironmentStrings(const std::map<std::string, std::string>& env) {
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

std::map<std::string, std::string> CurrentEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

namespace {

constexpr const char* kSetpriv = "/usr/bin/setpriv";

}  // namespace

std::string FindInPath(const std::string& name) {
  const char* path = getenv("PATH");
  std::string_view dirs = path ? path : "/usr/bin:/bin";
  while (!dirs.empty()) {
    size_t colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

Result<pid_t> Spawn(const SpawnSpec& spec) {
  if (spec.argv.empty()) return Internal("spawn: empty argv");
  SpawnAttrs a;
  auto dup_to = [&](int fd, int target) {
    if (fd < 0) {
      posix_spawn_file_actions_addopen(&a.actions_, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0);
    } else {
      posix_spawn_file_actions_adddup2(&a.actions_, fd, target);
    }
  };
  dup_to(spec.stdin_fd, 0);
  dup_to(spec.stdout_fd, 1);
  dup_to(spec.stderr_fd, 2);
  // Passed descriptors go to 3.. . dup2 onto the same number would keep FD_CLOEXEC, so such a descriptor is
  // first moved out of the way through a high temporary slot.
  for (size_t i = 0; i < spec.pass_fds.size(); ++i) {
    int target = 3 + static_cast<int>(i);
    int fd = spec.pass_fds[i];
    if (fd == target) {
      posix_spawn_file_actions_adddup2(&a.actions_, fd, 1000 + target);
      posix_spawn_file_actions_adddup2(&a.actions_, 1000 + target, target);
      posix_spawn_file_actions_addclose(&a.actions_, 1000 + target);
    } else {
      posix_spawn_file_actions_adddup2(&a.actions_, fd, target);
    }
  }
  if (!spec.cwd.empty()) posix_spawn_file_actions_addchdir_np(&a.actions_, spec.cwd.c_str());

  sigset_t empty, all;
  sigemptyset(&empty);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&a.attr_, &empty);
  posix_spawnattr_setsigdefault(&a.attr_, &all);
  posix_spawnattr_setpgroup(&a.attr_, 0);
  posix_spawnattr_setflags(&a.attr_, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP |
                                         POSIX_SPAWN_USEVFORK);

  std::vector<std::string> env_strings = EnvironmentStrings(spec.env);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = spec.argv;
  bool pdeathsig = spec.die_with_parent && access(kSetpriv, X_OK) == 0;
  bool shell = pdeathsig || !spec.join_cgroups.empty();
  if (shell || !spec.sandbox_prefix.empty()) {
    // The wrapper and the sandbox get the command by path: resolve it here, with this process's PATH, as
    // posix_spawnp would have.
    auto resolve = [](const std::string& name) -> Result<std::string> {
      if (name.find('/') != std::string::npos) return name;
      std::string found = FindInPath(name);
      if (found.empty()) return Internal(fmt::format("cannot start {}: not found in PATH", name));
      return found;
    };
    std::vector<std::string> command;
    if (!spec.sandbox_prefix.empty()) {
      IGNITE_ASSIGN_OR_RETURN(std::string sandbox, resolve(spec.sandbox_prefix[0]));
      command.push_back(std::move(sandbox));
      command.insert(command.end(), spec.sandbox_prefix.begin() + 1, spec.sandbox_prefix.end());
    }
    IGNITE_ASSIGN_OR_RETURN(std::string tool, resolve(spec.argv[0]));
    command.push_back(std::move(tool));
    command.insert(command.end(), spec.argv.begin() + 1, spec.argv.end());
    if (!shell) {
      argv_copy = std::move(command);
    } else {
      // $1 is the number of cgroup.procs paths that follow; the shell joins them (echo is a builtin, so the
      // shell itself moves and its children inherit the groups), shifts them away and runs the rest.
      std::string script;
      if (pdeathsig) script += "trap 'kill -KILL 0' TERM; ";
      script += fmt::format(
          "n=$1; shift; while [ \"$n\" -gt 0 ]; do echo 0 > \"$1\" || {{ echo \"{}$1\" >&2; exit 125; }}; shift; "
          "n=$((n - 1)); done; ",
          kJoinCgroupFailed);
      script += pdeathsig ? "\"$@\" & wait $!" : "exec \"$@\"";
      argv_copy.clear();
      if (pdeathsig) argv_copy = {kSetpriv, "--pdeathsig", "TERM"};
      for (const char* a : {"/bin/sh", "-c"}) argv_copy.emplace_back(a);
      argv_copy.push_back(std::move(script));
      argv_copy.emplace_back("ignite-run");
      argv_copy.push_back(std::to_string(spec.join_cgroups.size()));
      argv_copy.insert(argv_copy.end(), spec.join_cgroups.begin(), spec.join_cgroups.end());
      argv_copy.insert(argv_copy.end(), command.begin(), command.end());
    }
  }
  std::vector<char*> argv;
  for (auto& s : argv_copy) argv.push_back(s.data());
  argv.push_back(nullptr);

  pid_t pid = 0;
  int rc;
  if (argv_copy[0].find('/') != std::string::npos) {
    rc = posix_spawn(&pid, argv[0], &a.actions_, &a.attr_, argv.data(), envp.data());
  } else {
    // posix_spawnp searches the PATH of the parent, which is what users expect of tool names like "go".
    rc = posix_spawnp(&pid, argv[0], &a.actions_, &a.attr_, argv.data(), envp.data());
  }
  if (rc != 0) return Internal(fmt::format("cannot start {}: {}", spec.argv[0], Errno(rc)));
  return pid;
}

Result<CommandResult> RunCommand(SpawnSpec spec, std::chrono::milliseconds timeout,
                                 const std::function<void(std::string_view)>& on_line, size_t max_output,
                                 const std::atomic<bool>* cancel) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return Internal("pipe: " + Errno(errno));
  spec.stdout_fd = pipefd[1];
  spec.stderr_fd = pipefd[1];
  auto pid_or = Spawn(spec);
  close(pipefd[1]);
  if (!pid_or.ok()) {
    close(pipefd[0]);
    return pid_or.status();
  }
  pid_t pid = *pid_or;
  CommandResult result;
  std::string pending;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[65536];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      kill(-pid, SIGKILL);
      break;
    }
    if (cancel && cancel->load()) {
      result.cancelled = true;
      kill(-pid, SIGKILL);
      break;
    }
    pollfd p{pipefd[0], POLLIN, 0};
    int pr = poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), cancel ? 50 : 1000)));
    if (pr < 0 && errno == EINTR) continue;
    if (pr == 0) continue;
    ssize_t n = read(pipefd[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.output.append(buf, static_cast<size_t>(n));
    if (result.output.size() > max_output) result.output.erase(0, result.output.size() - max_output);
    if (on_line) {
      pending.append(buf, static_cast<size_t>(n));
      size_t pos;
      while ((pos = pending.find('\n')) != std::string::npos) {
        on_line(std::string_view(pending).substr(0, pos));
        pending.erase(0, pos + 1);
      }
    }
  }
  if (on_line && !pending.empty()) on_line(pending);
  close(pipefd[0]);
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  // Children of the command that kept the pipe open are part of its group; make sure none outlive it.
  kill(-pid, SIGKILL);
  if (WIFEXITED(wstatus)) {
    result.exit_code = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    result.term_signal = WTERMSIG(wstatus);
  }
  if (result.timed_out || result.cancelled) result.exit_code = -1;
  return result;
}

}  // namespace ignite
