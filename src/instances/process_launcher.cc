#include "instances/process_launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/process.h"
#include "common/unique_fd.h"
#include "instances/instance_socket.h"

namespace ignite::instances {
namespace {

std::string DescribeWait(int status) {
  if (WIFEXITED(status)) return fmt::format("exit status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  return "ended";
}

class SpawnedProcess : public Process {
 public:
  SpawnedProcess(pid_t pid, std::string socket_path, std::unique_ptr<Cgroup> cgroup, int ready_fd,
                 std::unique_ptr<PortBridge::Bridge> bridge = nullptr)
      : pid_(pid), socket_path_(std::move(socket_path)), cgroup_(std::move(cgroup)), ready_fd_(ready_fd),
        bridge_(std::move(bridge)) {}
  ~SpawnedProcess() override {
    Stop(0);
    if (!socket_path_.empty()) unlink(socket_path_.c_str());
    if (ready_fd_ >= 0) close(ready_fd_);
  }
  bool Ready() override {
    if (bridge_) return bridge_->Ready();
    std::lock_guard<std::mutex> l(mu_);
    if (ready_ || ready_fd_ < 0) return ready_;
    char c;
    ssize_t n = read(ready_fd_, &c, 1);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return false;  // not (yet) said
    // One byte: ready. End of file: every copy of the write end closed without a word (it died first).
    ready_ = n == 1;
    close(ready_fd_);
    ready_fd_ = -1;
    return ready_;
  }
  bool OutOfMemory() const override { return cgroup_ && cgroup_->OomKilled(); }
  pid_t pid() const override { return pid_; }
  const std::string& socket_path() const override { return socket_path_; }

  bool Exited(std::string* description) override {
    std::lock_guard<std::mutex> l(mu_);
    if (!reaped_) {
      int status = 0;
      pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_ || (r < 0 && errno == ECHILD)) {
        reaped_ = true;
        how_ = r == pid_ ? DescribeWait(status) : "ended";
      }
    }
    if (reaped_ && description) *description = how_;
    return reaped_;
  }

  void Stop(int grace_ms) override {
    if (Exited(nullptr)) return;
    kill(-pid_, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      if (Exited(nullptr)) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    kill(-pid_, SIGKILL);
    std::lock_guard<std::mutex> l(mu_);
    if (!reaped_) {
      int status = 0;
      while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      reaped_ = true;
      how_ = DescribeWait(status);
    }
  }

 private:
  const pid_t pid_;
  const std::string socket_path_;
  const std::unique_ptr<Cgroup> cgroup_;  // its limits; destroyed (what is left in it killed) last
  std::mutex mu_;
  bool reaped_ = false;  // guarded by mu_
  std::string how_;      // guarded by mu_
  int ready_fd_;         // guarded by mu_: the readiness pipe's read end (non-blocking), -1 once read
  bool ready_ = false;   // guarded by mu_
  const std::unique_ptr<PortBridge::Bridge> bridge_;  // a layout with its own server: what reaches it
};

}  // namespace

ProcessLauncher::ProcessLauncher(std::string socket_dir, LogCollector* logs, CgroupManager* cgroups)
    : socket_dir_(std::move(socket_dir)), logs_(logs), cgroups_(cgroups) {
  if (cgroups_ && cgroups_->mode() == LimitMode::kCgroupV1) {
    place_thread_ = spawner_.Run([this] {
      spawn_tid_ = gettid();
      PrepareNextGroup();
      return next_group_ != nullptr;
    });
  }
}

ProcessLauncher::~ProcessLauncher() {
  // The sandbox belongs to the spawn thread's namespaces; let it go there. The thread leaves the group it
  // waits in before that group is removed.
  spawner_.Run([this] {
    if (next_group_) {
      if (Status st = cgroups_->MoveThread(spawn_tid_, nullptr); !st.ok()) {
        spdlog::warn("the spawn thread cannot leave the next instance's cgroup: {}", st.message());
      }
    }
    next_group_.reset();
    sandbox_.reset();
  });
}

Status ProcessLauncher::EnableSandbox(const SandboxOptions& options) {
  auto box = spawner_.Run([&options] { return Sandbox::Prepare(options); });
  if (!box.ok()) return box.status();
  sandbox_ = std::move(*box);
  return OkStatus();
}

void ProcessLauncher::PrepareNextGroup() {
  if (next_group_) return;
  // With the last instance's limits already written: most instances share a tier, and then their start
  // writes nothing.
  auto group = cgroups_->Create(fmt::format("i{}", ++groups_made_), last_limits_);
  Status moved = group.ok() ? cgroups_->MoveThread(spawn_tid_, group->get()) : group.status();
  if (moved.ok()) {
    next_group_ = std::move(*group);
    return;
  }
  // The next instance then joins its group itself (paying the migration at its start).
  spdlog::warn("cannot prepare the next instance's cgroup: {}", moved.message());
  if (Status back = cgroups_->MoveThread(spawn_tid_, nullptr); !back.ok()) {
    spdlog::warn("the spawn thread stays in its cgroup: {}", back.message());
  }
}

std::string ProcessLauncher::SandboxDescription() const { return sandbox_ ? sandbox_->Describe() : "off"; }

Result<std::unique_ptr<Process>> DispatchingLauncher::Launch(const InstanceSpec& spec, const std::string& replica_id) {
  auto it = launchers_.find(spec.layout.launcher);
  if (it == launchers_.end()) {
    return FailedPrecondition(WithHint(
        fmt::format("{} needs the '{}' launcher, which this ignited does not have", spec.app_id, spec.layout.launcher),
        spec.hints.republish));
  }
  return it->second->Launch(spec, replica_id);
}

Result<std::unique_ptr<Process>> ProcessLauncher::Launch(const InstanceSpec& spec, const std::string& replica_id) {
  return Start(spec, replica_id, -1);
}

Result<std::unique_ptr<Process>> ProcessLauncher::LaunchZygote(const InstanceSpec& spec, const std::string& replica_id,
                                                               int control_fd) {
  if (control_fd < 0) return Internal("LaunchZygote needs a control socket");
  return Start(spec, replica_id, control_fd);
}

Result<std::unique_ptr<Process>> ProcessLauncher::Start(const InstanceSpec& spec, const std::string& replica_id,
                                                        int control_fd) {
  const ArtifactLayout& layout = spec.layout;
  if (layout.argv.empty()) return FailedPrecondition(fmt::format("{}: the layout has no program", spec.app_id));
  const bool own_server = layout.listen == Listen::kPort;
  if (own_server) {
    if (control_fd >= 0) return FailedPrecondition("a zygote cannot have a server of its own");
    if (!sandbox_) {
      return FailedPrecondition(fmt::format(
          "{} is a container image, which runs only in the instance sandbox; run ignited as root (without "
          "--sandbox off)", spec.app_id));
    }
    if (layout.root.empty() || layout.port == 0 || access(layout.root.c_str(), F_OK) != 0) {
      return FailedPrecondition(WithHint(fmt::format("the image root {} of {} is missing", layout.root, spec.app_id),
                                         spec.hints.republish));
    }
  }
  // Unsandboxed, the layout runs on the host: its program and working dir are the host paths behind them.
  std::string program = own_server ? layout.root + layout.argv[0] : layout.HostPath(layout.argv[0]);
  if (program.empty() || access(program.c_str(), X_OK) != 0) {
    return FailedPrecondition(WithHint(fmt::format("artifact {} of {} is missing or not executable",
                                                   program.empty() ? layout.argv[0] : program, spec.app_id),
                                       spec.hints.republish));
  }
  for (const Bind& b : layout.binds) {
    if (b.source != program && access(b.source.c_str(), F_OK) != 0) {  // (an image layout has no binds)  // the program's was checked above
      return FailedPrecondition(WithHint(fmt::format("{} of {} (mounted at {}) is missing", b.source, spec.app_id,
                                                     b.target),
                                         spec.hints.republish));
    }
  }
  // A zygote gets its control socket as descriptor 3; every other instance its listening socket.
  std::string path;
  UniqueFd lfd;
  if (control_fd < 0) {
    path = socket_dir_ + "/" + replica_id + ".sock";
    IGNITE_ASSIGN_OR_RETURN(lfd, BindInstanceSocket(path));
  }
  const int fd3 = control_fd < 0 ? lfd.get() : control_fd;
  // stdout, stderr, and the readiness signal (docs/instance-protocol.md), whose read end is non-blocking.
  Pipe out, err, ready;
  if (!out.Open(O_CLOEXEC) || !err.Open(O_CLOEXEC) || !ready.Open(O_CLOEXEC) ||
      fcntl(ready.read.get(), F_SETFL, O_NONBLOCK) != 0) {
    return Internal(fmt::format("pipe failed: {}", std::strerror(errno)));
  }
  ResourceLimits limits;
  limits.memory_bytes = uint64_t{spec.memory_mb} << 20;
  limits.cpu_millicores = spec.cpu_millicores;
  limits.pids = kPidsPerInstance;
  std::unique_ptr<Cgroup> cgroup;
  if (cgroups_ && !place_thread_) {
    IGNITE_ASSIGN_OR_RETURN(cgroup, cgroups_->Create(replica_id, limits));
  }
  std::map<std::string, std::string> env = layout.env;
  for (const auto& [k, v] : spec.env) env[k] = v;
  if (own_server) {
    env["PORT"] = std::to_string(layout.port);  // the image contract: the server binds $PORT itself
    if (!env.count("HOME")) env["HOME"] = "/tmp";  // the one writable place of a read-only root
  } else {
    env[control_fd < 0 ? "IGNITE_LISTEN_FD" : "IGNITE_ZYGOTE_FD"] = "3";
    env["IGNITE_READY_FD"] = "4";
  }
  env["IGNITE_REPLICA_ID"] = replica_id;
  env["IGNITE_FUNCTION_ID"] = spec.app_id;
  if (!env.count("PATH")) env["PATH"] = "/usr/local/bin:/usr/bin:/bin";
  SandboxSpawn boxed;  // with the sandbox
  SpawnSpec plain;     // without
  if (sandbox_) {
    boxed.binds = layout.binds;
    boxed.argv = layout.argv;
    boxed.cwd = layout.working_dir;
    boxed.env = std::move(env);
    boxed.stdout_fd = out.write.get();
    boxed.stderr_fd = err.write.get();
    if (own_server) {
      boxed.root = layout.root;
      boxed.own_network = true;
      boxed.uid = layout.uid;
      boxed.gid = layout.gid;
    } else {
      boxed.pass_fds = {fd3, ready.write.get()};
    }
    // /tmp is memory too (tmpfs pages count against the instance's memory limit): half of it at most.
    boxed.tmp_bytes = spec.memory_mb ? (uint64_t{spec.memory_mb} << 20) / 2 : uint64_t{64} << 20;
    if (cgroup) {
      boxed.cgroup_procs_fds = cgroup->procs_fds();
      boxed.rlimits = cgroup->rlimits();
    }
  } else {
    // Without a mount namespace the paths the layout names inside the instance are the host's behind them.
    plain.argv = layout.argv;
    for (auto& a : plain.argv) a = layout.HostPaths(a);
    plain.argv[0] = program;
    std::string cwd = layout.HostPath(layout.working_dir);
    plain.cwd = cwd.empty() ? layout.working_dir : cwd;
    for (auto& [k, v] : env) v = layout.HostPaths(v);
    plain.env = std::move(env);
    plain.stdout_fd = out.write.get();
    plain.stderr_fd = err.write.get();
    plain.pass_fds = {fd3, ready.write.get()};
  }
  bool born_inside = false;  // the child started in its group (no migration needed)
  Result<pid_t> pid = spawner_.Run([&]() -> Result<pid_t> {
    if (next_group_) {
      // The spawn thread waits in next_group_: the child starts inside it (see PrepareNextGroup).
      if (!(next_group_->limits() == limits)) IGNITE_RETURN_IF_ERROR(cgroups_->SetLimits(*next_group_, limits));
      last_limits_ = limits;
      boxed.rlimits = next_group_->rlimits();
      auto spawned = sandbox_ ? sandbox_->Spawn(boxed) : Spawn(plain);
      if (spawned.ok()) {
        cgroup = std::move(next_group_);
        born_inside = true;
      }
      return spawned;
    }
    if (place_thread_) {
      // No waiting group (making one failed): this instance gets its own group the slow way.
      IGNITE_ASSIGN_OR_RETURN(cgroup, cgroups_->Create(replica_id, limits));
      boxed.cgroup_procs_fds = cgroup->procs_fds();
      boxed.rlimits = cgroup->rlimits();
    }
    return sandbox_ ? sandbox_->Spawn(boxed) : Spawn(plain);
  });
  // Off this start's path: the thread moves on into a fresh group for the next one. Until it has, the
  // instance's group counts the thread (harmless) and cannot be removed (its removal retries).
  if (place_thread_) spawner_.Post([this] { PrepareNextGroup(); });
  if (pid.ok() && cgroup && !sandbox_ && !born_inside) {
    // Unsandboxed, a child not born in its group joins it just after it started.
    std::string text = std::to_string(*pid);
    for (int fd : cgroup->procs_fds()) {
      if (write(fd, text.data(), text.size()) < 0) {
        spdlog::warn("cannot move pid {} into its cgroup: {}", *pid, std::strerror(errno));
      }
    }
  }
  if (pid.ok() && cgroup && !sandbox_) {
    for (const auto& [resource, value] : cgroup->rlimits()) {
      rlimit rl{value, value};
      prlimit(*pid, static_cast<__rlimit_resource>(resource), &rl, nullptr);
    }
  }
  // The child holds its own copies now. Closing ours means connections fail fast once the instance dies
  // instead of queueing on a socket nobody will ever accept from.
  std::unique_ptr<PortBridge::Bridge> bridge;
  if (pid.ok() && own_server) {
    // The instance's own network namespace, where its server binds its port: the bridge connects there.
    UniqueFd netns(open(fmt::format("/proc/{}/ns/net", *pid).c_str(), O_RDONLY | O_CLOEXEC));
    if (!netns) {
      int err_no = errno;
      kill(-*pid, SIGKILL);
      waitpid(*pid, nullptr, 0);
      pid = Internal(fmt::format("cannot open the network namespace of {}'s instance: {}", spec.app_id,
                                 std::strerror(err_no)));
    } else {
      bridge = bridge_.Open(std::move(lfd), std::move(netns), layout.port, layout.health_path);
    }
  }
  lfd.reset();
  out.write.reset();
  err.write.reset();
  ready.write.reset();
  if (!pid.ok()) {
    if (!path.empty()) unlink(path.c_str());
    return pid.status();
  }
  logs_->Add(out.read.release(), spec.app_id, replica_id, "stdout");
  logs_->Add(err.read.release(), spec.app_id, replica_id, "stderr");
  return std::unique_ptr<Process>(
      new SpawnedProcess(*pid, path, std::move(cgroup), own_server ? -1 : ready.read.release(), std::move(bridge)));
}

}  // namespace ignite::instances
