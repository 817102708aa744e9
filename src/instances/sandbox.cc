#include "instances/sandbox.h"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/process.h"
#include "instances/seccomp_filter.h"

namespace ignite::instances {
namespace {

constexpr size_t kStackBytes = 256 << 10;
constexpr int kFirstHighFd = 100;  // where descriptors wait before they are moved to 0, 1, 2, 3...

// What the clone child needs, all prepared by the parent: between clone and exec the child shares the
// parent's memory (CLONE_VM) and must not allocate or take locks.
struct ChildArgs {
  const char* root;
  // With an image root (SandboxSpawn::root): `root` is that tree, first bound onto itself read-only, then
  // the skeleton's /dev and /etc files bound over the image's.
  bool image_root;
  const char* const* system_sources;  // skeleton paths
  const char* const* system_targets;  // the same under `root`
  int system_count;
  bool own_network;
  const char* const* bind_sources;  // host paths
  const char* const* bind_targets;  // the same paths under `root`
  int bind_count;
  const char* program;  // argv[0], a path inside the instance
  const char* cwd;      // inside the instance
  const char* tmp_target;
  const char* proc_target;
  const char* tmp_options;
  char* const* argv;
  char* const* envp;
  int stdout_fd;
  int stderr_fd;
  const int* pass_fds;
  int pass_count;
  const int* cgroup_fds;
  int cgroup_count;
  const std::pair<int, rlim_t>* rlimits;
  int rlimit_count;
  uid_t uid;
  gid_t gid;
  const sock_fprog* filter;
  // Written by the child when a step fails, read by the parent once the child has exited.
  const char* failed_step;
  int failed_errno;
};

[[noreturn]] void ChildFail(ChildArgs* a, const char* step) {
  a->failed_step = step;
  a->failed_errno = errno;
  _exit(127);
}

// Moves `fd` to `target` without FD_CLOEXEC. Sources were first parked at high numbers, so no source is
// overwritten by an earlier move.
bool MoveFd(int fd, int target) { return dup2(fd, target) == target; }

int ChildMain(void* arg) {
  auto* a = static_cast<ChildArgs*>(arg);
  // Dispositions: nothing of the daemon's handlers may run here (the stack and memory are the daemon's).
  // Signals stay blocked (the parent blocked them) until just before exec.
  for (int s = 1; s < NSIG; ++s) {
    if (s == SIGKILL || s == SIGSTOP) continue;
    struct sigaction sa {};
    sa.sa_handler = SIG_DFL;
    sigaction(s, &sa, nullptr);  // fails for the signals libc reserves; harmless
  }
  for (int i = 0; i < a->cgroup_count; ++i) {
    if (write(a->cgroup_fds[i], "0", 1) != 1) ChildFail(a, "joining the instance's cgroup");
  }
  for (int i = 0; i < a->rlimit_count; ++i) {
    rlimit rl{a->rlimits[i].second, a->rlimits[i].second};
    if (setrlimit(a->rlimits[i].first, &rl) != 0) ChildFail(a, "setting an rlimit");
  }
  if (a->own_network) {
    // Its own namespace starts with loopback down; any port may be bound by the unprivileged user (a
    // per-namespace setting, written while this child is still root in it).
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ifreq req{};
    std::memcpy(req.ifr_name, "lo", 3);
    if (s < 0 || ioctl(s, SIOCGIFFLAGS, &req) != 0) ChildFail(a, "reading the loopback's flags");
    req.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(s, SIOCSIFFLAGS, &req) != 0) ChildFail(a, "bringing the loopback up");
    close(s);
    int f = open("/proc/sys/net/ipv4/ip_unprivileged_port_start", O_WRONLY | O_CLOEXEC);
    if (f < 0 || write(f, "0", 1) != 1) ChildFail(a, "allowing unprivileged ports");
    close(f);
  }
  if (a->image_root) {
    if (mount(a->root, a->root, nullptr, MS_BIND | MS_REC, nullptr) != 0) ChildFail(a, "mounting the image root");
    if (mount(nullptr, a->root, nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) != 0) {
      ChildFail(a, "making the image root read-only");
    }
    for (int i = 0; i < a->system_count; ++i) {
      // /dev keeps its device nodes usable (no MS_NODEV): they are the skeleton's five, not the image's.
      bool dev = i == 0;
      if (mount(a->system_sources[i], a->system_targets[i], nullptr, MS_BIND | MS_REC, nullptr) != 0 ||
          mount(nullptr, a->system_targets[i], nullptr,
                MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | (dev ? 0 : MS_NODEV), nullptr) != 0) {
        ChildFail(a, "mounting /dev or /etc files over the image's");
      }
    }
  }
  // The root: the read-only skeleton plus this instance's layout binds, /tmp and /proc.
  for (int i = 0; i < a->bind_count; ++i) {
    if (mount(a->bind_sources[i], a->bind_targets[i], nullptr, MS_BIND | MS_REC, nullptr) != 0) {
      ChildFail(a, "mounting the artifact");
    }
    if (mount(nullptr, a->bind_targets[i], nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV,
              nullptr) != 0) {
      ChildFail(a, "making the artifact read-only");
    }
  }
  if (mount("tmpfs", a->tmp_target, "tmpfs", MS_NOSUID | MS_NODEV, a->tmp_options) != 0) ChildFail(a, "mounting /tmp");
  if (mount("proc", a->proc_target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
    ChildFail(a, "mounting /proc");
  }
  if (chdir(a->root) != 0) ChildFail(a, "entering the root");
  // pivot_root(".", ".") stacks the old root on the new one; detaching "." then drops the whole host tree.
  if (syscall(SYS_pivot_root, ".", ".") != 0) ChildFail(a, "pivot_root");
  if (umount2(".", MNT_DETACH) != 0) ChildFail(a, "detaching the host's filesystem");
  if (chdir(a->cwd) != 0) ChildFail(a, "entering the working directory");
  sethostname("ignite", 6);
  // Descriptors: park every source high (close-on-exec), then place them at 0, 1, 2, 3...
  int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd < 0) ChildFail(a, "opening /dev/null");
  auto park = [&](int fd) {
    int high = fcntl(fd < 0 ? null_fd : fd, F_DUPFD_CLOEXEC, kFirstHighFd);
    if (high < 0) ChildFail(a, "duplicating a descriptor");
    return high;
  };
  int out = park(a->stdout_fd);
  int err = park(a->stderr_fd);
  int passed[16];
  if (a->pass_count > 16) ChildFail(a, "too many passed descriptors");
  for (int i = 0; i < a->pass_count; ++i) passed[i] = park(a->pass_fds[i]);
  if (!MoveFd(null_fd, 0) || !MoveFd(out, 1) || !MoveFd(err, 2)) ChildFail(a, "setting up stdio");
  for (int i = 0; i < a->pass_count; ++i) {
    if (!MoveFd(passed[i], 3 + i)) ChildFail(a, "passing a descriptor");
  }
  if (setsid() < 0) ChildFail(a, "setsid");
  // Privileges: empty the bounding set while still root, then become the sandbox user, which clears the
  // permitted, effective and ambient sets. Raw syscalls: libc's setuid family would try to signal the
  // daemon's other threads, whose memory this child shares.
  for (int cap = 0; cap <= 63; ++cap) {
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) ChildFail(a, "dropping capabilities");
  }
  if (syscall(SYS_setgroups, 0, nullptr) != 0) ChildFail(a, "setgroups");
  if (syscall(SYS_setresgid, a->gid, a->gid, a->gid) != 0) ChildFail(a, "setresgid");
  if (syscall(SYS_setresuid, a->uid, a->uid, a->uid) != 0) ChildFail(a, "setresuid");
  // After the uid change, which clears it. The spawning thread is blocked until exec, so it is alive here.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) ChildFail(a, "PR_SET_PDEATHSIG");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ChildFail(a, "no_new_privs");
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, a->filter) != 0) ChildFail(a, "loading the seccomp filter");
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  execve(a->program, a->argv, a->envp);
  ChildFail(a, "exec");
}

std::string Errno(int err) { return std::strerror(err); }

// "/app/handler (from /data/blobs/ab/cd...)": what a failed start was starting.
std::string DescribeBinds(const SandboxSpawn& spec) {
  std::string what = spec.argv.empty() ? "?" : spec.argv[0];
  for (const Bind& b : spec.binds) what += fmt::format(" ({} from {})", b.target, b.source);
  return what;
}

Status WriteFile(const std::string& path, std::string_view content, mode_t mode) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Internal(fmt::format("sandbox: creating {}: {}", path, Errno(errno)));
  bool ok = write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
  int err = errno;
  close(fd);
  if (!ok) return Internal(fmt::format("sandbox: writing {}: {}", path, Errno(err)));
  return OkStatus();
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

Status Sys(int rc, std::string_view what) {
  if (rc != 0) return Internal(fmt::format("sandbox: {}: {}", what, Errno(errno)));
  return OkStatus();
}

// The read-only skeleton every instance's root starts from.
Status BuildSkeleton(const std::string& root, bool has_network) {
  IGNITE_RETURN_IF_ERROR(Sys(mount("tmpfs", root.c_str(), "tmpfs", MS_NOSUID, "mode=0755,size=8m"), "mounting the root"));
  for (const char* dir : {"app", "tmp", "proc", "dev", "etc", "etc/ssl", "etc/ssl/certs"}) {
    IGNITE_RETURN_IF_ERROR(Sys(mkdir((root + "/" + dir).c_str(), 0755), fmt::format("mkdir {}", dir)));
  }
  IGNITE_RETURN_IF_ERROR(WriteFile(root + "/app/handler", "", 0555));
  struct Node {
    const char* name;
    unsigned minor;
  };
  for (Node n : {Node{"null", 3}, Node{"zero", 5}, Node{"full", 7}, Node{"random", 8}, Node{"urandom", 9}}) {
    std::string path = root + "/dev/" + n.name;
    IGNITE_RETURN_IF_ERROR(Sys(mknod(path.c_str(), S_IFCHR | 0666, makedev(1, n.minor)), "mknod " + path));
    IGNITE_RETURN_IF_ERROR(Sys(chmod(path.c_str(), 0666), "chmod " + path));  // past the umask
  }
  for (auto [link, target] : {std::pair{"fd", "/proc/self/fd"}, std::pair{"stdin", "/proc/self/fd/0"},
                              std::pair{"stdout", "/proc/self/fd/1"}, std::pair{"stderr", "/proc/self/fd/2"}}) {
    IGNITE_RETURN_IF_ERROR(Sys(symlink(target, (root + "/dev/" + link).c_str()), "symlink /dev/" + std::string(link)));
  }
  IGNITE_RETURN_IF_ERROR(WriteFile(root + "/etc/hosts", "127.0.0.1 localhost ignite\n::1 localhost\n", 0644));
  // slirp4netns answers DNS on 10.0.2.3 and forwards to the host's resolver.
  IGNITE_RETURN_IF_ERROR(WriteFile(root + "/etc/resolv.conf", has_network ? "nameserver 10.0.2.3\n" : "", 0644));
  IGNITE_RETURN_IF_ERROR(WriteFile(root + "/etc/nsswitch.conf", "hosts: files dns\n", 0644));
  IGNITE_RETURN_IF_ERROR(WriteFile(root + "/etc/passwd",
                                   "root:x:0:0:root:/:/sbin/nologin\nnobody:x:65534:65534:nobody:/tmp:/sbin/nologin\n",
                                   0644));
  IGNITE_RETURN_IF_ERROR(WriteFile(root + "/etc/group", "root:x:0:\nnogroup:x:65534:\n", 0644));
  // Handlers that call HTTPS services need the CA bundle (most language runtimes look here first).
  std::string certs = ReadFileOrEmpty("/etc/ssl/certs/ca-certificates.crt");
  IGNITE_RETURN_IF_ERROR(WriteFile(root + "/etc/ssl/certs/ca-certificates.crt", certs, 0644));
  return Sys(mount(nullptr, root.c_str(), nullptr, MS_REMOUNT | MS_RDONLY | MS_NOSUID, nullptr),
             "making the root read-only");
}

Status BringLoopbackUp() {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Internal(fmt::format("sandbox: socket: {}", Errno(errno)));
  ifreq req{};
  std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
  int rc = ioctl(fd, SIOCGIFFLAGS, &req);
  if (rc == 0) {
    req.ifr_flags |= IFF_UP | IFF_RUNNING;
    rc = ioctl(fd, SIOCSIFFLAGS, &req);
  }
  int err = errno;
  close(fd);
  if (rc != 0) return Internal(fmt::format("sandbox: bringing loopback up: {}", Errno(err)));
  return OkStatus();
}

}  // namespace

Result<std::unique_ptr<Sandbox>> Sandbox::Prepare(const SandboxOptions& options) {
  if (geteuid() != 0) {
    return FailedPrecondition(
        "the instance sandbox needs root to create namespaces and cgroups; run ignited as root, or pass "
        "--sandbox off to run instances unisolated (development only)");
  }
  std::unique_ptr<Sandbox> box(new Sandbox());
  box->options_ = options;
  box->stack_.resize(kStackBytes);
  IGNITE_ASSIGN_OR_RETURN(box->seccomp_, BuildInstanceSeccompFilter());

  int host_net = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (host_net < 0) return Internal(fmt::format("sandbox: opening this thread's network namespace: {}", Errno(errno)));
  // The mount namespace is made private to this thread (a slave of the host's, so the daemon's later mounts
  // still show up here, and nothing mounted here leaks out); the network namespace is the sandbox's.
  if (unshare(CLONE_NEWNS | CLONE_NEWNET) != 0) {
    int err = errno;
    close(host_net);
    return Internal(fmt::format("sandbox: unshare: {}", Errno(err)));
  }
  int box_net = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  Status st = box_net < 0 ? Internal(fmt::format("sandbox: opening the sandbox network namespace: {}", Errno(errno)))
                          : BringLoopbackUp();
  if (st.ok()) st = box->StartNetwork(box_net, host_net);
  if (box_net >= 0) close(box_net);
  close(host_net);
  IGNITE_RETURN_IF_ERROR(st);
  IGNITE_RETURN_IF_ERROR(Sys(mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr), "making mounts private"));
  IGNITE_RETURN_IF_ERROR(BuildSkeleton(options.root_dir, box->slirp_pid_ > 0));
  return box;
}

Status Sandbox::StartNetwork(int sandbox_netns_fd, int host_netns_fd) {
  network_ = "loopback only";
  if (options_.slirp4netns.empty()) {
    network_ += " (no slirp4netns configured)";
    return OkStatus();
  }
  int ready[2], exit_pipe[2];
  if (pipe2(ready, O_CLOEXEC) != 0) return Internal("sandbox: pipe failed");
  if (pipe2(exit_pipe, O_CLOEXEC) != 0) {
    close(ready[0]);
    close(ready[1]);
    return Internal("sandbox: pipe failed");
  }
  // slirp4netns must live in the host's network namespace (it makes the outside connections) and is
  // handed the sandbox's as descriptor 3.
  SpawnSpec s;
  s.argv = {options_.slirp4netns, "--configure", "--mtu=65520", "--disable-host-loopback", "--enable-sandbox",
            "--enable-seccomp", "--ready-fd=4", "--exit-fd=5", "--netns-type=path", "/proc/self/fd/3", "tap0"};
  s.env = {{"PATH", "/usr/local/bin:/usr/bin:/bin"}};
  s.stderr_fd = 2;
  s.pass_fds = {sandbox_netns_fd, ready[1], exit_pipe[0]};
  if (setns(host_netns_fd, CLONE_NEWNET) != 0) return Internal(fmt::format("sandbox: setns: {}", Errno(errno)));
  auto pid = ignite::Spawn(s);
  if (setns(sandbox_netns_fd, CLONE_NEWNET) != 0) {
    // Spawning instances from the host's namespace would silently give them the host's network.
    spdlog::critical("sandbox: cannot re-enter the sandbox network namespace: {}", Errno(errno));
    std::abort();
  }
  close(ready[1]);
  close(exit_pipe[0]);
  if (!pid.ok()) {
    close(ready[0]);
    close(exit_pipe[1]);
    network_ += fmt::format(" ({})", pid.status().message());
    spdlog::warn("sandbox: no route out for instances: {}", pid.status().message());
    return OkStatus();
  }
  slirp_pid_ = *pid;
  slirp_exit_fd_ = exit_pipe[1];
  pollfd p{ready[0], POLLIN, 0};
  int n = poll(&p, 1, 5000);
  char c = 0;
  bool ok = n == 1 && read(ready[0], &c, 1) == 1;
  close(ready[0]);
  if (!ok) {
    // Isolation does not depend on the route out: keep the sandbox, without outbound network.
    spdlog::warn("sandbox: slirp4netns did not configure the sandbox network within 5 s (see its messages "
                 "above); instances get loopback only");
    close(slirp_exit_fd_);
    slirp_exit_fd_ = -1;
    kill(slirp_pid_, SIGKILL);
    waitpid(slirp_pid_, nullptr, 0);
    slirp_pid_ = -1;
    network_ += " (slirp4netns failed to start)";
    return OkStatus();
  }
  network_ = "slirp4netns 10.0.2.0/24, DNS 10.0.2.3, host loopback unreachable";
  return OkStatus();
}

Sandbox::~Sandbox() {
  if (slirp_exit_fd_ >= 0) close(slirp_exit_fd_);
  if (slirp_pid_ > 0) {
    for (int i = 0; i < 100; ++i) {
      if (waitpid(slirp_pid_, nullptr, WNOHANG) != 0) return;
      usleep(10'000);
    }
    kill(slirp_pid_, SIGKILL);
    waitpid(slirp_pid_, nullptr, 0);
  }
}

std::string Sandbox::Describe() const {
  return fmt::format(
      "namespaces+seccomp (pid, mount, ipc, uts namespaces per instance; read-only root; uid {}, no capabilities; "
      "{} syscalls denied; network: {})",
      options_.uid, DeniedSyscalls().size(), network_);
}

Status Sandbox::EnsureMountPoint(const std::string& target, const std::string& source) {
  if (mount_points_.count(target)) return OkStatus();
  std::string path = options_.root_dir + target;
  struct stat want {}, have {};
  if (stat(source.c_str(), &want) != 0) {
    return FailedPrecondition(fmt::format("sandbox: {} (for {}) is missing: {}", source, target, Errno(errno)));
  }
  if (lstat(path.c_str(), &have) != 0) {
    // A new mount point in the read-only skeleton: made once, on this thread (the skeleton is this thread's).
    const char* root = options_.root_dir.c_str();
    IGNITE_RETURN_IF_ERROR(Sys(mount(nullptr, root, nullptr, MS_REMOUNT | MS_NOSUID, nullptr), "opening the root"));
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    Status made = ec ? Internal(fmt::format("sandbox: mkdir for {}: {}", target, ec.message()))
                 : S_ISDIR(want.st_mode) ? Sys(mkdir(path.c_str(), 0755), "mkdir " + target)
                                         : WriteFile(path, "", 0444);
    Status closed = Sys(mount(nullptr, root, nullptr, MS_REMOUNT | MS_RDONLY | MS_NOSUID, nullptr),
                        "making the root read-only");
    IGNITE_RETURN_IF_ERROR(made);
    IGNITE_RETURN_IF_ERROR(closed);
  } else if (S_ISDIR(have.st_mode) != S_ISDIR(want.st_mode)) {
    return FailedPrecondition(fmt::format("sandbox: cannot bind {} at {}: one is a directory, the other is not",
                                          source, target));
  }
  mount_points_.insert(target);
  return OkStatus();
}

Result<pid_t> Sandbox::Spawn(const SandboxSpawn& spec) {
  if (spec.argv.empty() || spec.argv[0].empty() || spec.argv[0][0] != '/') {
    return InvalidArgument("sandbox: argv[0] must be an absolute path inside the instance");
  }
  const bool image_root = !spec.root.empty();
  if (image_root && !spec.binds.empty()) return InvalidArgument("sandbox: an image root takes no binds");
  if (image_root && (spec.root[0] != '/' || spec.root.find("..") != std::string::npos)) {
    return InvalidArgument(fmt::format("sandbox: the root {} must be an absolute path", spec.root));
  }
  const std::string& root = image_root ? spec.root : options_.root_dir;
  std::vector<std::string> system_sources, system_targets;
  if (image_root) {
    for (const char* p : {"/dev", "/etc/hosts", "/etc/resolv.conf"}) {  // /dev first (see ChildMain)
      struct stat st {};
      std::string target = root + p;
      if (lstat(target.c_str(), &st) != 0 || S_ISLNK(st.st_mode) || S_ISDIR(st.st_mode) != (p[1] == 'd')) {
        return FailedPrecondition(fmt::format("sandbox: the image root {} has no {} to mount over", root, p));
      }
      system_sources.push_back(options_.root_dir + p);
      system_targets.push_back(std::move(target));
    }
  }
  std::vector<const char*> system_sources_c, system_targets_c;
  for (size_t i = 0; i < system_sources.size(); ++i) {
    system_sources_c.push_back(system_sources[i].c_str());
    system_targets_c.push_back(system_targets[i].c_str());
  }
  std::vector<std::string> targets;
  std::vector<const char*> sources_c, targets_c;
  for (const Bind& b : spec.binds) {
    if (b.target.empty() || b.target[0] != '/' || b.target.find("..") != std::string::npos) {
      return InvalidArgument(fmt::format("sandbox: bind target {} must be an absolute path", b.target));
    }
    IGNITE_RETURN_IF_ERROR(EnsureMountPoint(b.target, b.source));
    targets.push_back(options_.root_dir + b.target);
  }
  for (size_t i = 0; i < spec.binds.size(); ++i) {
    sources_c.push_back(spec.binds[i].source.c_str());
    targets_c.push_back(targets[i].c_str());
  }
  std::string tmp_target = root + "/tmp";
  std::string proc_target = root + "/proc";
  std::string tmp_options = fmt::format("size={},mode=1777", spec.tmp_bytes);
  std::vector<std::string> argv_strings = spec.argv;
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings = EnvironmentStrings(spec.env);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  sock_fprog filter{static_cast<unsigned short>(seccomp_.size()), seccomp_.data()};

  ChildArgs a{};
  a.root = root.c_str();
  a.image_root = image_root;
  a.system_sources = system_sources_c.data();
  a.system_targets = system_targets_c.data();
  a.system_count = static_cast<int>(system_sources_c.size());
  a.own_network = spec.own_network;
  a.bind_sources = sources_c.data();
  a.bind_targets = targets_c.data();
  a.bind_count = static_cast<int>(spec.binds.size());
  a.program = argv_strings[0].c_str();
  a.cwd = spec.cwd.empty() ? "/" : spec.cwd.c_str();
  a.tmp_target = tmp_target.c_str();
  a.proc_target = proc_target.c_str();
  a.tmp_options = tmp_options.c_str();
  a.argv = argv.data();
  a.envp = envp.data();
  a.stdout_fd = spec.stdout_fd;
  a.stderr_fd = spec.stderr_fd;
  a.pass_fds = spec.pass_fds.data();
  a.pass_count = static_cast<int>(spec.pass_fds.size());
  a.cgroup_fds = spec.cgroup_procs_fds.data();
  a.cgroup_count = static_cast<int>(spec.cgroup_procs_fds.size());
  a.rlimits = spec.rlimits.data();
  a.rlimit_count = static_cast<int>(spec.rlimits.size());
  a.uid = spec.uid ? spec.uid : options_.uid;
  a.gid = spec.gid ? spec.gid : options_.gid;
  a.filter = &filter;

  // Block every signal so no handler of the daemon runs in the child; the child unblocks before exec.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  // CLONE_VM | CLONE_VFORK, as posix_spawn does: no page tables are copied, and this thread resumes once the
  // child has exec'd or failed.
  pid_t pid = clone(ChildMain, stack_.data() + stack_.size(),
                    CLONE_VM | CLONE_VFORK | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS |
                        (spec.own_network ? CLONE_NEWNET : 0) | SIGCHLD,
                    &a);
  int clone_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) return Internal(fmt::format("sandbox: clone: {}", Errno(clone_errno)));
  if (a.failed_step) {
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    return Internal(fmt::format("sandbox: starting {} failed at {}: {}", DescribeBinds(spec), a.failed_step,
                                Errno(a.failed_errno)));
  }
  return pid;
}

}  // namespace ignite::instances
