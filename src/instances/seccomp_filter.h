// The seccomp filter every sandboxed instance runs under, compiled once with libseccomp and kept as a raw BPF
// program, so that the spawn path only hands it to the kernel (no allocation between clone and exec).
//
// Policy: allow by default, and fail with EPERM the calls a function never needs and that widen what it can
// reach: mounting and pivoting, ptrace and cross-process memory access, kernel modules and kexec, keyrings,
// new namespaces (unshare, setns, clone with CLONE_NEW* flags), bpf, perf events, io_uring, clock and
// hostname changes, reboot and swap. clone3 fails with ENOSYS (its flags live in memory a filter cannot read),
// which makes libc and language runtimes fall back to clone, whose flags are checked. Syscalls of a foreign
// architecture (32-bit x86 from a 64-bit process) kill the process, so they cannot bypass the list.
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

#include "common/result.h"

namespace ignite::instances {

// The filter as a BPF program (pass it to seccomp(SECCOMP_SET_MODE_FILTER) as a sock_fprog). Errors: Internal
// when libseccomp fails. Thread-safe.
Result<std::vector<sock_filter>> BuildInstanceSeccompFilter();

// The syscall names the filter denies, for docs and tests.
const std::vector<std::string>& DeniedSyscalls();

}  // namespace ignite::instances
