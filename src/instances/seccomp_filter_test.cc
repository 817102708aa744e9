#include "instances/seccomp_filter.h"

#include <linux/seccomp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include <gtest/gtest.h>

namespace ignite::instances {
namespace {

// Loads the filter in a forked child (the test process itself must stay unfiltered) and reports, through
// the exit code, the first check that did not behave: 0 when all did.
int RunFiltered(const std::vector<sock_filter>& program) {
  pid_t pid = fork();
  if (pid == 0) {
    sock_fprog prog{static_cast<unsigned short>(program.size()), const_cast<sock_filter*>(program.data())};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(100);
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) _exit(101);
    if (mount("none", "/mnt", "tmpfs", 0, nullptr) == 0 || errno != EPERM) _exit(1);
    if (unshare(CLONE_NEWUSER) == 0 || errno != EPERM) _exit(2);
    if (unshare(CLONE_NEWNET) == 0 || errno != EPERM) _exit(3);
    if (ptrace(PTRACE_ATTACH, getppid(), nullptr, nullptr) == 0 || errno != EPERM) _exit(4);
    if (syscall(SYS_clone3, nullptr, 0) == 0 || errno != ENOSYS) _exit(5);
    // clone with a namespace flag is refused; a plain one (what fork and thread creation use) is not.
    if (syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, nullptr, nullptr, nullptr, nullptr) >= 0 || errno != EPERM) _exit(6);
    pid_t child = fork();
    if (child < 0) _exit(7);
    if (child == 0) _exit(0);
    int status = 0;
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status)) _exit(8);
    if (getpid() <= 0) _exit(9);
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 200 + WTERMSIG(status);
}

TEST(SeccompFilterTest, DeniesWhatAFunctionNeverNeedsAndAllowsTheRest) {
  auto program = BuildInstanceSeccompFilter();
  ASSERT_TRUE(program.ok()) << program.status().message();
  ASSERT_FALSE(program->empty());
  EXPECT_EQ(RunFiltered(*program), 0);
}

TEST(SeccompFilterTest, ListsTheDeniedCalls) {
  const auto& names = DeniedSyscalls();
  for (const char* must : {"mount", "ptrace", "init_module", "keyctl", "unshare", "setns", "bpf", "kexec_load"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), must), names.end()) << must;
  }
}

}  // namespace
}  // namespace ignite::instances
