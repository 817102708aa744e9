// ProcessLauncher: the real Launcher. For each instance it creates and binds a Unix listening socket, then
// posix_spawns the artifact with that socket as descriptor 3 (IGNITE_LISTEN_FD=3, systemd socket-activation
// style), so the gateway can connect at once and the first request waits in the kernel backlog instead of
// behind a readiness poll. stdout/stderr go to the LogCollector. The spawn itself runs on the launcher's own
// long-lived thread (runtime/spawn_thread.h), so an instance never dies because the thread that asked for it
// ended. Thread-safe.
#pragma once

#include <string>

#include "runtime/launcher.h"
#include "runtime/log_collector.h"
#include "runtime/spawn_thread.h"

namespace ignite::runtime {

class ProcessLauncher : public Launcher {
 public:
  // Sockets are created in `socket_dir` (kept short: Unix socket paths are limited to 107 bytes).
  // `logs` must outlive the launcher.
  ProcessLauncher(std::string socket_dir, LogCollector* logs);
  Result<std::unique_ptr<Process>> Launch(const InstanceSpec& spec, const std::string& replica_id) override;

 private:
  std::string socket_dir_;
  LogCollector* logs_;
  SpawnThread spawner_;
};

}  // namespace ignite::runtime
