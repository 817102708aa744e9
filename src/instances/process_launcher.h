// ProcessLauncher: the real Launcher. For each instance it creates and binds a Unix listening socket, then
// posix_spawns the artifact with that socket as descriptor 3 (IGNITE_LISTEN_FD=3, systemd socket-activation
// style), so the gateway can connect at once and the first request waits in the kernel backlog instead of
// behind a readiness poll. stdout/stderr go to the LogCollector. The spawn itself runs on the launcher's own
// long-lived thread (instances/spawn_thread.h), so an instance never dies because the thread that asked for it
// ended. With a sandbox enabled, instances start isolated (instances/sandbox.h); with cgroups, each instance
// gets its own group carrying its spec's limits (instances/cgroups.h).
//
// A layout with its own server (Listen::kPort, an image) runs in its root filesystem and a network namespace
// of its own, and binds its port itself; the Unix socket is then the host end of a PortBridge, which
// forwards to that port once the layout's health check passes (Process::Ready). Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "instances/cgroups.h"
#include "instances/launcher.h"
#include "instances/log_collector.h"
#include "instances/port_bridge.h"
#include "instances/sandbox.h"
#include "instances/spawn_thread.h"

namespace ignite::instances {

class ProcessLauncher : public Launcher {
 public:
  // Sockets are created in `socket_dir` (kept short: Unix socket paths are limited to 107 bytes).
  // `logs` and `cgroups` (nullptr: no per-instance groups) must outlive the launcher.
  ProcessLauncher(std::string socket_dir, LogCollector* logs, CgroupManager* cgroups = nullptr);
  ~ProcessLauncher() override;
  // Starts every later instance in the sandbox. Call before the first Launch. Errors: Sandbox::Prepare's.
  Status EnableSandbox(const SandboxOptions& options);
  // Whether EnableSandbox succeeded.
  bool sandboxed() const { return sandbox_ != nullptr; }
  // The sandbox in use, or "off", for the start-up log and HealthCheck.
  std::string SandboxDescription() const;
  Result<std::unique_ptr<Process>> Launch(const InstanceSpec& spec, const std::string& replica_id) override;
  // Starts spec.layout's program like Launch, in the same sandbox and with a cgroup of its own carrying the
  // spec's limits, but with `control_fd` as descriptor 3 (IGNITE_ZYGOTE_FD=3) instead of a listening socket:
  // a zygote, which forks instances itself (instances/zygote_launcher.h). The Process has an empty
  // socket_path; its readiness signal says the zygote is ready to fork. The caller keeps `control_fd`.
  Result<std::unique_ptr<Process>> LaunchZygote(const InstanceSpec& spec, const std::string& replica_id,
                                                int control_fd);

  static constexpr uint32_t kPidsPerInstance = 256;  // processes and threads; a fork bomb stops here

 private:
  // Launch (control_fd < 0) and LaunchZygote.
  Result<std::unique_ptr<Process>> Start(const InstanceSpec& spec, const std::string& replica_id, int control_fd);

  std::string socket_dir_;
  LogCollector* logs_;
  CgroupManager* cgroups_;
  SpawnThread spawner_;
  std::unique_ptr<Sandbox> sandbox_;  // set once by EnableSandbox; used on spawner_'s thread only
  PortBridge bridge_;                 // for layouts with their own server

  // cgroup v1: the spawn thread waits inside the group of the next instance, so the child starts in it
  // without a migration (CgroupManager::MoveThread says why). Used on spawner_'s thread only.
  void PrepareNextGroup();
  bool place_thread_ = false;           // set once by the constructor
  pid_t spawn_tid_ = 0;                 // set once by the constructor
  std::unique_ptr<Cgroup> next_group_;  // spawner_'s thread only: the group it waits in
  uint64_t groups_made_ = 0;            // spawner_'s thread only
  ResourceLimits last_limits_;          // spawner_'s thread only: what the next group is made with
};

}  // namespace ignite::instances
