// Per-instance (and per-build) resource limits through Linux control groups. A CgroupManager finds out once
// at start-up what the host offers (cgroup v2, cgroup v1, or neither) and owns this daemon's parent group
// `ignite/<owner>`; each instance gets a child group with its limits written before the instance starts.
// Where no cgroup hierarchy is writable (not root, a read-only container) the limits degrade to rlimits the
// child sets on itself, so the daemon still runs, with weaker isolation that Describe() reports.
#pragma once

#include <sys/resource.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace ignite::instances {

enum class LimitMode { kCgroupV2, kCgroupV1, kRlimit };
// "cgroup-v2", "cgroup-v1", "rlimit".
std::string_view LimitModeName(LimitMode mode);

struct ResourceLimits {
  uint64_t memory_bytes = 0;    // 0 = unlimited. Swap is not allowed on top where the host lets us say so.
  uint32_t cpu_millicores = 0;  // 0 = unlimited; 250 = a quarter of one CPU. Below 10 acts as 10 (the
                                // kernel's smallest quota is 1 ms per 100 ms period).
  uint32_t pids = 0;            // 0 = unlimited; max tasks (processes + threads) in the group.
  bool operator==(const ResourceLimits&) const = default;
};

// One instance's (or one build's) group. Destroying it SIGKILLs whatever is still in it and removes the
// group (a group that will not go away within about a second is logged and left behind). The accessors are
// immutable after creation and safe to call from any thread; destroy it from one thread, after the last use.
// It does not refer back to its CgroupManager, but should be destroyed before it.
class Cgroup {
 public:
  virtual ~Cgroup();
  Cgroup(const Cgroup&) = delete;
  Cgroup& operator=(const Cgroup&) = delete;

  // Descriptors (O_WRONLY|O_CLOEXEC) of the group's cgroup.procs file(s): one per v1 hierarchy, or one for
  // v2; empty in rlimit mode. A freshly spawned child joins the group by writing "0" to each before it
  // execs (raw write() in a vfork-style child: nothing here allocates). Owned by this object.
  const std::vector<int>& procs_fds() const { return procs_fds_; }
  // Paths of the same files, for children started by a shell wrapper (`echo 0 > path`).
  const std::vector<std::string>& procs_paths() const { return procs_paths_; }
  // (resource, value) pairs the child sets with setrlimit() on itself before exec. In rlimit mode the
  // fallback for memory (RLIMIT_DATA); in cgroup modes only for a limit whose controller the host lacks
  // (memory again); usually empty there. cpu and pids have no per-process rlimit equivalent and are not
  // limited without cgroups (RLIMIT_NPROC counts every process of the user, not the instance's).
  const std::vector<std::pair<int, rlim_t>>& rlimits() const { return rlimits_; }
  // True once the kernel OOM-killed a task in this group (v2: memory.events oom_kill > 0; v1:
  // memory.oom_control oom_kill > 0, or memory.failcnt > 0 as a hint on kernels without that line).
  // False in rlimit mode, without a memory controller, or when the counters cannot be read.
  bool OomKilled() const;
  const ResourceLimits& limits() const { return limits_; }

 protected:
  Cgroup(LimitMode mode, ResourceLimits limits);

 private:
  friend class CgroupManager;

  // SIGKILLs every task listed in the group (v2: cgroup.kill when the kernel has it).
  void KillAll() const;

  LimitMode mode_;
  ResourceLimits limits_;
  std::vector<std::string> dirs_;  // The group's directories, one per hierarchy; empty in rlimit mode.
  std::string memory_dir_;         // The directory with the memory controller's files, or "".
  std::vector<int> procs_fds_;
  std::vector<std::string> procs_paths_;
  std::vector<std::pair<int, rlim_t>> rlimits_;
};

class CgroupManager {
 public:
  // Detects what this host offers under `fs_root` (normally "/sys/fs/cgroup"; unit tests pass a temp dir):
  // v2 when `fs_root`/cgroup.controllers exists, else v1 with the hierarchies that `mountinfo_path`
  // (normally "/proc/self/mountinfo") lists as cgroup mounts under `fs_root` carrying memory, cpu or pids.
  // Prepares this daemon's parent group `ignite/<owner>` in each hierarchy (on v2 enabling the controllers
  // for children in cgroup.subtree_control from the root down), and removes empty `ignite/*` groups left by
  // daemons that are gone (a group whose name ends in the pid of a live process is kept). `owner` must be
  // unique per daemon on the host, e.g. "d<pid>". Never fails: when nothing is writable the mode is kRlimit
  // and Describe() says why.
  static std::unique_ptr<CgroupManager> Detect(const std::string& fs_root, const std::string& mountinfo_path,
                                               const std::string& owner);
  // Removes this daemon's parent group(s); groups created by Create() must be destroyed first (a busy
  // parent is logged and left behind).
  ~CgroupManager();
  CgroupManager(const CgroupManager&) = delete;
  CgroupManager& operator=(const CgroupManager&) = delete;

  LimitMode mode() const { return mode_; }
  // One line for the start-up log and HealthCheck, e.g.
  // "cgroup-v1 (memory, cpu, pids) under /sys/fs/cgroup/*/ignite/d123".
  std::string Describe() const;

  // Creates group `name` (a replica or build id) under the parent and writes the non-zero limits (v1:
  // memory.limit_in_bytes, memory.memsw.limit_in_bytes when the host accounts swap, cpu.cfs_period_us=100000
  // and cpu.cfs_quota_us, pids.max; v2: memory.max, memory.swap.max=0 when present, cpu.max, pids.max), then
  // opens its cgroup.procs file(s). In rlimit mode only computes the rlimits. Errors: InvalidArgument when
  // `name` is not a single path component; AlreadyExists when the group exists; Internal with the path and
  // errno text when a directory or file cannot be made or written (nothing is left behind then).
  // Thread-safe.
  Result<std::unique_ptr<Cgroup>> Create(const std::string& name, const ResourceLimits& limits);

  // Writes `limits` into `group` (made by Create, for example ahead of time with no limits) and keeps them
  // as its limits(). Errors: Internal with the path and errno text. Thread-safe for distinct groups.
  Status SetLimits(Cgroup& group, const ResourceLimits& limits);

  // cgroup v1 only: moves the one thread `tid` of this process (not the whole process) into `group`, or with
  // nullptr into this daemon's parent group. Why: moving a task into a cgroup waits for an RCU grace period
  // (cgroup_threadgroup_rwsem; about 7 ms here), while a child starts in the cgroup of the thread that
  // clones it at no cost. So the spawning thread is moved into the next instance's group ahead of time, off
  // the cold-start path. Errors: Unimplemented on v2 (a thread cannot join a domain cgroup alone) and in
  // rlimit mode; Internal with the path and errno text.
  Status MoveThread(pid_t tid, Cgroup* group);

 private:
  // A directory to create groups in, and which of our controllers it carries.
  struct Hierarchy {
    std::string root;       // The hierarchy's mount point (v1) or fs_root (v2).
    std::string parent;     // root + "/ignite/" + owner.
    bool memory = false, cpu = false, pids = false;
    bool swap_file = false;  // memory.memsw.limit_in_bytes (v1) / memory.swap.max (v2) exists in `parent`.
  };

  CgroupManager() = default;
  // Creates h.parent (on v2 enabling the controllers on the way down). Idempotent; Create() calls it again
  // when a daemon starting concurrently removed our then-empty parent as a leftover.
  Status PrepareParent(const Hierarchy& h) const;
  // Writes the non-zero `limits` into the new group directory `dir` of hierarchy `h`.
  Status WriteLimits(const Hierarchy& h, const std::string& dir, const ResourceLimits& limits) const;
  void RemoveLeftovers() const;

  LimitMode mode_ = LimitMode::kRlimit;
  std::string fs_root_;
  std::string owner_;
  std::vector<Hierarchy> hierarchies_;  // Empty in rlimit mode.
  std::string note_;                    // Why rlimit mode, or which hierarchies were skipped.
};

}  // namespace ignite::instances
