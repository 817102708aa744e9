"""Process plumbing shared by the direct and zygote modes: descriptors named by the environment, the
readiness signal, the parent-death signal, and how a child ended."""

import os
import _signal

from ignite._logs import sdk_log

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_PR_SET_DUMPABLE = 4
_libc = None  # ctypes' handle of the C library, kept: a zygote's children reuse the zygote's


def take_fd(name):
    """Removes the variable name from the environment (so child processes never see it) and returns the
    descriptor it names, or None when unset. Raises ValueError when it is not a descriptor number."""
    value = os.environ.pop(name, None)
    if value is None:
        return None
    if not value.isascii() or not value.isdigit():
        raise ValueError(f"invalid {name}={value!r}: not a file descriptor")
    return int(value)


def signal_ready():
    """Writes the readiness byte to the descriptor named by IGNITE_READY_FD and closes it; removes the
    variable. Does nothing without it (local runs). Requests queue in the listener's backlog meanwhile, so
    the platform reads the byte as "this instance serves" (docs/instance-protocol.md, Readiness)."""
    try:
        fd = take_fd("IGNITE_READY_FD")
    except ValueError as e:
        sdk_log(str(e))
        return
    if fd is None:
        return
    try:
        os.write(fd, b"1")
    except OSError as e:
        sdk_log(f"readiness signal: {e}")
    finally:
        try:
            os.close(fd)
        except OSError:
            pass


def die_with_parent(expected_parent):
    """Asks the kernel to SIGKILL this process when its parent dies, so an instance never outlives the
    platform (or a zygote child its zygote). Returns False when the parent is already gone: it is no longer
    expected_parent (the pid getppid() gave before), so the request came too late to fire.

    ctypes is imported here only: it costs ~3 ms, and only platform-managed processes need it."""
    global _libc
    import ctypes

    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    if _libc.prctl(_PR_SET_PDEATHSIG, _signal.SIGKILL, 0, 0, 0) != 0:
        sdk_log(f"prctl(PR_SET_PDEATHSIG): {os.strerror(ctypes.get_errno())}")
        return True
    if os.getppid() != expected_parent:
        sdk_log("the parent process is gone; exiting")
        return False
    return True


def make_undumpable():
    """Clears this process's dumpable flag, which its forks inherit: then a process of the same uid cannot
    open its /proc/<pid>/mem, environ, maps or fds (that takes CAP_SYS_PTRACE). A zygote's instances share
    its PID namespace and uid, so this is what keeps one instance out of another's memory. Returns False
    (and logs) when prctl fails."""
    global _libc
    import ctypes

    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    if _libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        sdk_log(f"prctl(PR_SET_DUMPABLE): {os.strerror(ctypes.get_errno())}")
        return False
    return True


def describe_wait_status(status):
    """How a child ended, from its waitpid status: "exit status 2", "killed by signal 9 (Killed)"."""
    if os.WIFEXITED(status):
        return f"exit status {os.WEXITSTATUS(status)}"
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        try:
            name = _signal.strsignal(signum) or f"signal {signum}"
        except ValueError:
            name = "unknown signal"
        text = f"killed by signal {signum} ({name})"
        return text + " (core dumped)" if os.WCOREDUMP(status) else text
    return f"ended with wait status {status}"
