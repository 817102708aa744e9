// ZygoteLauncher: starts instances by forking a pre-initialised process (a zygote) instead of exec'ing a
// fresh one. An interpreter's start (Python: ~25 ms here, plus the imports of the SDK and the handler) is most
// of a cold start; a fork of a process that has already done it costs about a millisecond.
//
// One zygote per InstanceSpec::key (an app version or draft) and spec: the first Launch of a key starts it
// through the ProcessLauncher (same sandbox, binds and environment as any instance, its own cgroup with the
// spec's limits) with a control socket (AF_UNIX SOCK_SEQPACKET) as descriptor 3, and waits for its readiness
// signal (it has imported everything). Each Launch then binds the instance's listening socket, makes its log
// and readiness pipes and sends the zygote one message, "fork <replica id>" with those four descriptors;
// the zygote forks, and the child answers "child <replica id> <pid>" on the same socket before it serves.
// The kernel attaches the child's credentials to that message (SO_PASSCRED), which gives its pid in
// ignited's pid namespace (the text holds the zygote's); the child is then watched through a pidfd and
// signalled by process group (it calls setsid). The zygote reaps its children and reports each exit as
// "exit <pid> <how>", read by whoever asks the zygote's next question (no thread of its own).
// docs/runtimes/python.md describes the Python side; sdk/python implements it.
//
// Isolation: a child lives in its zygote's sandbox (its pid, mount, IPC and UTS namespaces, /tmp), shared with
// the other instances of the same key, never with other versions or apps. Each child has its own cgroup:
// the zygote waits inside the group the next child will get (it is moved there off the start path, after
// the previous fork), so a child is born in its group, as ProcessLauncher's spawn thread does on cgroup v1.
//
// Lifetime: a zygote lives while its key is current (Retire drops it) or while any instance it forked is
// alive; when it dies (killed, out of memory) its instances die with it and the next Launch starts a new one.
// A spec that changes under the same key (new env or limits) gets a new zygote; the old one stays for the
// instances it started. Thread-safe: Launches of one key are serialised, of different keys run in parallel.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "instances/cgroups.h"
#include "instances/launcher.h"
#include "instances/log_collector.h"
#include "instances/process_launcher.h"
#include "instances/spawn_thread.h"

namespace ignite::instances {

class Zygote;

// The DispatchingLauncher key of layouts that run through a zygote (common/artifact_layout.h).
inline constexpr char kZygoteLauncher[] = "zygote";

class ZygoteLauncher : public Launcher {
 public:
  // Zygotes start through `processes`; instance sockets are made in `socket_dir`. All must outlive this.
  // `cgroups` nullptr: no per-instance groups.
  ZygoteLauncher(ProcessLauncher* processes, std::string socket_dir, LogCollector* logs, CgroupManager* cgroups);
  ~ZygoteLauncher() override;
  // Errors: FailedPrecondition when the layout is not one with an inherited socket; Unavailable when the
  // zygote exits or does not become ready within spec.start_timeout (the message says how it ended and carries the spec's
  // logs hint: its output, e.g. an import error's traceback, is in the app's logs); Internal when a socket,
  // pipe or cgroup cannot be made or the zygote does not answer a fork.
  Result<std::unique_ptr<Process>> Launch(const InstanceSpec& spec, const std::string& replica_id) override;
  // Starts the spec's zygote unless it runs; blocks until it is ready (or failed: Launch's errors).
  Status Prepare(const InstanceSpec& spec) override;
  void Retire(const std::string& key) override;
  // Zygotes currently kept for keys (for tests and HealthCheck).
  int ZygoteCount();

 private:
  // The running zygote of spec (started when missing, exited or of another spec).
  Result<std::shared_ptr<Zygote>> ZygoteFor(const InstanceSpec& spec, const std::string& replica_id);
  Result<std::shared_ptr<Zygote>> StartZygote(const InstanceSpec& spec, const std::string& replica_id);

  struct FailedStart {
    InstanceSpec spec;
    Status status;
    std::chrono::steady_clock::time_point at;
  };

  ProcessLauncher* processes_;
  const std::string socket_dir_;
  LogCollector* logs_;
  CgroupManager* cgroups_;
  SpawnThread mover_;  // moves zygotes into their next child's cgroup, off the start path
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Zygote>> zygotes_;  // guarded by mu_: by key
  std::map<std::string, std::shared_ptr<std::mutex>> starting_;  // guarded by mu_: held while a key's zygote starts
  std::map<std::string, FailedStart> failed_;               // guarded by mu_: the last failed start, by key
  std::atomic<uint64_t> prepared_{0};                       // names of zygotes started by Prepare
};

}  // namespace ignite::instances
