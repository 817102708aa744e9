// Launcher: the seam between instance scheduling and real processes. The supervisor's logic is tested with
// a fake launcher; the real one spawns the artifact with a pre-bound listening socket.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "common/artifact_layout.h"
#include "common/result.h"

namespace ignite::instances {

// What the platform tells users when an app's instances fail, written by the API (which knows the CLI and
// the app's name there) when it makes the route; the supervisor, launchers and gateway only append them to
// their messages, so no user-facing command is spelled below the API. Each is a clause starting in lower
// case; empty ones are left out.
struct FailureHints {
  std::string logs;          // "see `dodil ignite app logs org/app` for what it printed"
  std::string raise_memory;  // "raise the limit with `dodil ignite app update org/app --memory <MB>` ..."
  std::string not_ready;     // what to check when an instance never starts serving
  std::string republish;     // what to do when a version's artifact is gone
};

// "<message>; <hint>", or the message alone when the hint is empty.
inline std::string WithHint(std::string message, const std::string& hint) {
  if (!hint.empty()) message += "; " + hint;
  return message;
}

// What to run for one version of one app.
struct InstanceSpec {
  std::string key;          // Pool key, unique per (app, version): "org/app@3".
  std::string app_id;       // "org/app".
  ArtifactLayout layout;    // What to mount and run (its launcher key picks the Launcher).
  std::map<std::string, std::string> env;  // App env vars (the platform adds its own).
  std::chrono::milliseconds idle_timeout{300'000};  // Idle instances are stopped after this (scale to zero).
  int max_concurrency = 100;  // Executions one instance serves at once.
  int max_replicas = 10;      // Instances of this version at most.
  int queue_limit = 1000;     // Requests that may wait for capacity; more get ResourceExhausted.
  int reserved = 0;           // Instances kept running even when idle (started ahead of requests).
  // An instance that has not answered anything this long after its spawn is declared failed to start.
  std::chrono::milliseconds start_timeout{10'000};
  // Resource limits (the app's tier or explicit limits); 0 = none. Enforced by the launcher's cgroups.
  uint32_t memory_mb = 0;
  uint32_t cpu_millicores = 0;
  FailureHints hints;
};

// A running instance process. Methods are thread-safe.
class Process {
 public:
  virtual ~Process() = default;
  virtual pid_t pid() const = 0;
  // Unix socket the instance serves HTTP on; connections made before it is ready wait in the backlog.
  virtual const std::string& socket_path() const = 0;
  // True once the process has exited (reaps it); `description` then says how ("exit status 2", "signal 9").
  virtual bool Exited(std::string* description) = 0;
  // SIGTERM, then SIGKILL after `grace_ms`; reaps. Blocks up to grace_ms.
  virtual void Stop(int grace_ms) = 0;
  // True when the process was killed for exceeding its memory limit (known once it has exited).
  virtual bool OutOfMemory() const { return false; }
  // True once the instance said it serves (the instance protocol's readiness signal: one byte on the
  // descriptor named by IGNITE_READY_FD, written when its server starts accepting). Stays false for an
  // instance that never says so (it died first, or an SDK older than the signal). Non-blocking.
  virtual bool Ready() { return false; }
};

class Launcher {
 public:
  virtual ~Launcher() = default;
  // Starts an instance of spec.layout. Errors: Internal when the socket or process cannot be created,
  // FailedPrecondition when the artifact is missing or the layout is not one this launcher runs.
  virtual Result<std::unique_ptr<Process>> Launch(const InstanceSpec& spec, const std::string& replica_id) = 0;
  // Makes ready what Launch of `spec` needs beyond one process start (a zygote), so that Launch, which the
  // supervisor calls under its lock, stays short. May block (seconds); called without locks, before a cold
  // start. Errors: those Launch would return for the same reason. The default has nothing to prepare.
  virtual Status Prepare(const InstanceSpec& spec) {
    (void)spec;
    return OkStatus();
  }
  // `key` (an InstanceSpec::key) no longer gets new instances: a launcher that keeps something per key (a
  // zygote) lets it go once the instances it started are gone. Instances already running are not touched.
  // Thread-safe; the default keeps nothing.
  virtual void Retire(const std::string& key) { (void)key; }
};

// Hands each spec to the launcher registered under its layout's launcher key, so launchers for different
// artifact kinds (processes, zygote forks, image roots) sit side by side behind InstanceManager. Launchers
// are registered at start-up, before the first Launch, and must outlive this one; then thread-safe.
class DispatchingLauncher : public Launcher {
 public:
  void Register(std::string key, Launcher* launcher) { launchers_[std::move(key)] = launcher; }
  Result<std::unique_ptr<Process>> Launch(const InstanceSpec& spec, const std::string& replica_id) override;
  // The launcher of spec's layout prepares (nothing when there is none: Launch reports that).
  Status Prepare(const InstanceSpec& spec) override {
    auto it = launchers_.find(spec.layout.launcher);
    return it == launchers_.end() ? OkStatus() : it->second->Prepare(spec);
  }
  // Tells every registered launcher.
  void Retire(const std::string& key) override {
    for (auto& [name, launcher] : launchers_) launcher->Retire(key);
  }

 private:
  std::map<std::string, Launcher*, std::less<>> launchers_;
};

}  // namespace ignite::instances
