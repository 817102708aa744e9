#include "instances/seccomp_filter.h"

#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include <fmt/format.h>

namespace ignite::instances {

const std::vector<std::string>& DeniedSyscalls() {
  static const std::vector<std::string> names = {
      // Filesystem views: a function cannot rearrange its mounts or root.
      "mount", "umount2", "pivot_root", "chroot", "fsopen", "fsmount", "fsconfig", "fspick", "move_mount",
      "open_tree", "mount_setattr", "open_by_handle_at", "name_to_handle_at",
      // Other processes' memory and state.
      "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
      // The kernel itself.
      "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "bpf", "perf_event_open",
      "userfaultfd", "syslog", "acct", "quotactl", "lookup_dcookie", "uselib", "iopl", "ioperm", "vhangup",
      "reboot", "swapon", "swapoff", "fanotify_init", "io_uring_setup", "io_uring_enter", "io_uring_register",
      "add_key", "request_key", "keyctl",
      // Namespaces (clone's namespace flags are checked separately).
      "unshare", "setns",
      // Host-wide settings.
      "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "sethostname", "setdomainname",
  };
  return names;
}

namespace {

struct CtxDeleter {
  void operator()(scmp_filter_ctx ctx) const { seccomp_release(ctx); }
};

Status Check(int rc, std::string_view what) {
  if (rc < 0) return Internal(fmt::format("seccomp: {}: {}", what, std::strerror(-rc)));
  return OkStatus();
}

}  // namespace

Result<std::vector<sock_filter>> BuildInstanceSeccompFilter() {
  std::unique_ptr<void, CtxDeleter> ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx) return Internal("seccomp: init failed");
  // A foreign-architecture syscall (int 0x80 from x86-64, x32) is the classic way around a deny list.
  IGNITE_RETURN_IF_ERROR(Check(seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS), "badarch"));
  // A binary tree of syscall numbers instead of a linear list: fewer instructions per syscall, and the
  // kernel emulates the filter for every syscall number when it loads it (to cache the allowed ones), which
  // is on every cold start's path.
  IGNITE_RETURN_IF_ERROR(Check(seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2), "optimize"));
  // The sandbox sets no_new_privs itself before loading the program.
  IGNITE_RETURN_IF_ERROR(Check(seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0), "nnp"));
  for (const auto& name : DeniedSyscalls()) {
    int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr == __NR_SCMP_ERROR) continue;  // not on this architecture
    IGNITE_RETURN_IF_ERROR(Check(seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EPERM), nr, 0), name));
  }
  constexpr scmp_datum_t kNamespaceFlags[] = {CLONE_NEWNS,  CLONE_NEWUTS, CLONE_NEWIPC,    CLONE_NEWUSER,
                                              CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP, CLONE_NEWTIME};
  for (scmp_datum_t flag : kNamespaceFlags) {
    IGNITE_RETURN_IF_ERROR(Check(seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                                                  SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag)),
                                 "clone flags"));
  }
  int clone3 = seccomp_syscall_resolve_name("clone3");
  if (clone3 != __NR_SCMP_ERROR) {
    IGNITE_RETURN_IF_ERROR(Check(seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(ENOSYS), clone3, 0), "clone3"));
  }
  // libseccomp 2.5 exports only to a descriptor.
  int fd = memfd_create("ignite-seccomp", MFD_CLOEXEC);
  if (fd < 0) return Internal(fmt::format("seccomp: memfd_create: {}", std::strerror(errno)));
  std::unique_ptr<int, void (*)(int*)> closer(&fd, [](int* f) { close(*f); });
  IGNITE_RETURN_IF_ERROR(Check(seccomp_export_bpf(ctx.get(), fd), "export"));
  off_t size = lseek(fd, 0, SEEK_END);
  if (size <= 0 || size % sizeof(sock_filter) != 0) return Internal("seccomp: exported program has a bad size");
  std::vector<sock_filter> program(static_cast<size_t>(size) / sizeof(sock_filter));
  if (pread(fd, program.data(), static_cast<size_t>(size), 0) != size) {
    return Internal(fmt::format("seccomp: reading the exported program: {}", std::strerror(errno)));
  }
  return program;
}

}  // namespace ignite::instances
