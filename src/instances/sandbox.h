// Sandbox: starts instance processes isolated from the host, cheaply enough for cold starts.
//
// What an instance gets (docs/security.md has the threat model):
// - its own PID, mount, IPC and UTS namespaces, created by the clone() that starts it;
// - a read-only root holding only its artifact's layout binds (common/artifact_layout.h; an executable at
//   /app/handler for a single-executable code path), a small /etc (hosts, resolv.conf, passwd,
//   group, CA certificates), /dev/{null,zero,full,random,urandom}, its own /proc, and a private size-limited
//   tmpfs on /tmp; nothing of the host (no data dir, database, other artifacts or sockets);
// - the sandbox network namespace, shared by all instances of this daemon: loopback plus a user-mode route
//   out (slirp4netns, which refuses connections to the host's loopback), so instances reach the internet
//   but not ignited's API, the gateway's Unix sockets or anything else bound on the host's 127.0.0.1;
// - uid/gid 65534 with no capabilities (bounding set emptied), no_new_privs, and the seccomp filter of
//   instances/seccomp_filter.h; joining its cgroups and setting its rlimits happen before exec.
//
// Why this shape: fresh network and mount namespaces cost about 1 ms each per start here, against a 7 ms
// floor for a whole cold start. So the costly parts are made once: the spawning thread moves itself into a
// private mount namespace (where the skeleton root is a tmpfs mounted once) and into the sandbox network
// namespace; each instance is then cloned from that thread with only the cheap namespaces, and its root is
// the skeleton plus its layout's binds (one for a single executable), /tmp and /proc, and a pivot_root.
//
// Threading: Prepare and Spawn must run on the same long-lived thread (the launcher's SpawnThread), because
// namespaces belong to threads and the prepared ones are that thread's. Describe is thread-safe.
#pragma once

#include <linux/filter.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/artifact_layout.h"
#include "common/result.h"

namespace ignite::instances {

struct SandboxOptions {
  // An empty directory the skeleton root is mounted on (visible only inside the spawning thread's mount
  // namespace; the host sees the empty directory).
  std::string root_dir;
  uid_t uid = 65534;
  gid_t gid = 65534;
  // slirp4netns binary for the route out; empty or not found: loopback only (logged, shown by Describe).
  std::string slirp4netns = "slirp4netns";
};

// One process to start in the sandbox. Everything is copied before the clone; the spec may be freed after.
struct SandboxSpawn {
  std::vector<Bind> binds;        // Mounted read-only, in order (common/artifact_layout.h).
  std::vector<std::string> argv;  // argv[0]: the program, a path inside the instance.
  std::string cwd = "/";          // inside the instance
  std::map<std::string, std::string> env;  // The whole environment.
  int stdout_fd = -1;  // -1: /dev/null.
  int stderr_fd = -1;
  std::vector<int> pass_fds;  // Become 3, 4, ... in order.
  uint64_t tmp_bytes = 64 << 20;  // Size of /tmp.
  std::vector<int> cgroup_procs_fds;  // The child writes "0" to each before exec (instances/cgroups.h).
  std::vector<std::pair<int, rlim_t>> rlimits;  // Set on the child before exec.
  // A root filesystem (an image's, unpacked on the host) to run in instead of the skeleton: it becomes the
  // instance's "/", read-only, nosuid and nodev (device nodes an image carries are inert). The sandbox's own
  // /dev, /etc/hosts and /etc/resolv.conf are bound over the image's, and /tmp and /proc mounted as usual,
  // so the tree must have them as mount points (directories dev, proc, tmp; regular files etc/hosts and
  // etc/resolv.conf, not symbolic links). `binds` must be empty with a root. Empty: the skeleton.
  std::string root;
  // A network namespace of the instance's own, with only its loopback, on which unprivileged processes may
  // bind any port (ip_unprivileged_port_start = 0): for servers that bind fixed ports (images), which
  // could not share one namespace. The caller reaches the instance through /proc/<pid>/ns/net. false: the
  // sandbox's shared namespace with its route out.
  bool own_network = false;
  // The user the instance runs as; 0 (root is never allowed): SandboxOptions::uid / gid.
  uid_t uid = 0;
  gid_t gid = 0;
};

class Sandbox {
 public:
  // Sets the sandbox up on the calling thread (see the class comment) and starts the network helper.
  // Errors: FailedPrecondition when this process may not create namespaces (not root, no CAP_SYS_ADMIN),
  // Internal when a step fails; the message names the step. On error the thread may be left in a private
  // mount namespace, which is harmless.
  static Result<std::unique_ptr<Sandbox>> Prepare(const SandboxOptions& options);
  ~Sandbox();  // Stops the network helper.

  // Starts `spec` in the sandbox in its own process group, all signals unblocked with default dispositions.
  // Returns the host pid once the child has exec'd. Errors: Internal naming the failed step and errno (the
  // child is reaped). Only on the thread that called Prepare.
  Result<pid_t> Spawn(const SandboxSpawn& spec);

  // One line for the start-up log and HealthCheck.
  std::string Describe() const;

 private:
  Sandbox() = default;
  Status StartNetwork(int sandbox_netns_fd, int host_netns_fd);
  // Gives the skeleton a mount point at `target` of `source`'s kind (file or directory) when it has none.
  Status EnsureMountPoint(const std::string& target, const std::string& source);

  SandboxOptions options_;
  std::vector<char> stack_;     // the clone child's stack (spawns are serialized on one thread)
  std::string network_;         // how instances reach the outside, for Describe
  pid_t slirp_pid_ = -1;
  int slirp_exit_fd_ = -1;      // closing it tells slirp4netns to exit
  std::vector<sock_filter> seccomp_;  // instances/seccomp_filter.h
  std::set<std::string> mount_points_;  // targets known to exist in the skeleton
};

}  // namespace ignite::instances
