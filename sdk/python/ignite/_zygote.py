"""Zygote mode: a pre-initialised interpreter that forks the instances of one app version.

The platform (src/instances/zygote_launcher.h) starts it with IGNITE_ZYGOTE_FD, an AF_UNIX SOCK_SEQPACKET
control socket (one recvmsg is one message), and waits for its readiness byte: by then the handler module
and everything a call needs are imported, and the heap is frozen out of the garbage collector's reach
(gc.freeze) so children do not copy its pages by merely collecting. The zygote stays single-threaded: a
fork copies only the calling thread.

Messages, ASCII:
  platform -> zygote  "fork <replica id>" with SCM_RIGHTS: listener, readiness pipe, stdout, stderr.
  child    -> platform "child <replica id> <pid>" (the platform reads the host pid from SO_PASSCRED).
  zygote   -> platform "error <replica id> <message>" when it cannot fork;
                       "exit <pid> <how>" for each child it forked that ended ("exit status 2",
                       "killed by signal 9 (Killed)"); orphans re-parented to it (it may be pid 1 of a pid
                       namespace) are reaped silently.
Anything else is logged and ignored. When the control socket ends or fails (the platform is gone), or on
SIGTERM, the zygote SIGKILLs its children's process groups and exits 0.

Signals are never handled inside a signal handler: SIGCHLD and SIGTERM only wake the main loop through
signal.set_wakeup_fd, and the loop reaps and answers in order, between messages.
"""

import fcntl
import os
import select
import sys
import _signal
import _socket

from ignite import _logs, _process
from ignite._logs import sdk_log

_MAX_MESSAGE = 4096
_MAX_FDS = 16  # more than a fork carries, so that extra descriptors are received (and closed), not lost
_MAX_REPLY = 512  # the platform reads answers into a buffer of this size
_HIGH_FD = 10  # descriptors the zygote keeps are moved at or above this, clear of the children's 1-4
_CHILD_FDS = (3, 4, 1, 2)  # where a child puts the received listener, readiness pipe, stdout, stderr
_SIGNALS = (_signal.SIGCHLD, _signal.SIGTERM)


class _Stop(Exception):
    """The zygote must stop: the message says why."""


class Zygote:
    """The control loop. Construct it once the handler module is imported, then run()."""

    def __init__(self, control_fd):
        # Moved off 3 so that a child can put its listener there and still answer on the control socket.
        fd = fcntl.fcntl(control_fd, fcntl.F_DUPFD_CLOEXEC, _HIGH_FD)
        os.close(control_fd)
        self._control = _socket.socket(fileno=fd)
        self._control.setblocking(True)
        self._pid = os.getpid()
        _process.make_undumpable()  # before any fork: every instance inherits it
        self._children = {}  # pid -> replica id (bytes), until reaped
        self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        for signum in _SIGNALS:
            _signal.signal(signum, _wake_only)
        _signal.set_wakeup_fd(self._wake_w, warn_on_full_buffer=False)

    def run(self):
        """Serves the control socket. Returns None when the zygote should exit (status 0), or, in a forked
        child, its replica id: the child then continues in direct mode."""
        threads = _thread_count()
        if threads > 1:
            sdk_log(f"zygote: {threads} threads run (started while handler.py was imported?); a fork copies only "
                    "the calling thread, so instances will not have the others: start threads in the handler")
        poller = select.poll()
        poller.register(self._control.fileno(), select.POLLIN)
        poller.register(self._wake_r, select.POLLIN)
        try:
            while True:
                for fd, _ in poller.poll():
                    if fd == self._wake_r:
                        self._on_signals()
                    else:
                        replica = self._receive()
                        if replica is not None:
                            return replica
        except _Stop as e:
            sdk_log(f"zygote: {e}; stopping")
        self._kill_children()
        return None

    def _on_signals(self):
        try:
            received = os.read(self._wake_r, 256)
        except BlockingIOError:
            received = b""
        if _signal.SIGTERM in received:
            raise _Stop("received SIGTERM")
        self._reap()

    def _reap(self):
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            replica = self._children.pop(pid, None)
            if replica is not None:
                self._send(b"exit %d %s" % (pid, _process.describe_wait_status(status).encode()))

    def _receive(self):
        """Handles one message; returns the replica id in a forked child, else None."""
        try:
            message, ancillary, _, _ = self._control.recvmsg(
                _MAX_MESSAGE, _socket.CMSG_SPACE(_MAX_FDS * 4), _socket.MSG_CMSG_CLOEXEC)
        except ConnectionResetError:  # closed with our answers unread: gone all the same
            raise _Stop("the platform closed the control socket") from None
        except OSError as e:
            raise _Stop(f"the control socket failed: {e}") from None
        fds = _received_fds(ancillary)
        if not message and not fds:
            raise _Stop("the platform closed the control socket")
        verb, _, replica = message.partition(b" ")
        if verb == b"fork" and _valid_replica_id(replica):
            return self._fork(replica, fds)
        _close_all(fds)
        sdk_log(f"zygote: unknown message {message[:200]!r} ignored")
        return None

    def _fork(self, replica, fds):
        if len(fds) != len(_CHILD_FDS):
            _close_all(fds)
            self._send(b"error %s expected 4 descriptors (listener, readiness, stdout, stderr), got %d"
                       % (replica, len(fds)))
            return None
        # Blocked across the fork: until the child has reset them, its signals would go through the
        # zygote's wake-up pipe (the child's SIGTERM would stop the zygote).
        _signal.pthread_sigmask(_signal.SIG_BLOCK, _SIGNALS)
        try:
            pid = os.fork()
        except OSError as e:
            _signal.pthread_sigmask(_signal.SIG_UNBLOCK, _SIGNALS)
            _close_all(fds)
            self._send(b"error %s fork: %s" % (replica, str(e).encode()))
            return None
        if pid == 0:
            return self._become_child(replica, fds)
        _signal.pthread_sigmask(_signal.SIG_UNBLOCK, _SIGNALS)
        self._children[pid] = replica
        _close_all(fds)
        return None

    def _become_child(self, replica, fds):
        """In the child: sets up its descriptors, environment and signals, reports to the platform and
        returns its replica id. It never returns into the zygote's loop on failure: it exits 1."""
        try:
            _signal.set_wakeup_fd(-1)
            for signum in _SIGNALS:
                _signal.signal(signum, _signal.SIG_DFL)
            _signal.pthread_sigmask(_signal.SIG_UNBLOCK, _SIGNALS)
            os.close(self._wake_r)
            os.close(self._wake_w)
            os.setsid()  # its own process group: the platform signals instances by group

            # Through descriptors >= _HIGH_FD, so that no dup2 overwrites a received one not yet moved.
            moved = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, _HIGH_FD) for fd in fds]
            _close_all(fds)
            for source, target in zip(moved, _CHILD_FDS):
                os.dup2(source, target, inheritable=target <= 2)  # stdout/stderr are inherited by design
                os.close(source)
            _logs.reset_after_fork()  # the streams write to fds 1/2, now the child's own pipes

            name = replica.decode("ascii")
            os.environ["IGNITE_REPLICA_ID"] = name
            os.environ["IGNITE_LISTEN_FD"] = "3"
            os.environ["IGNITE_READY_FD"] = "4"
            random = sys.modules.get("random")
            if random is not None:
                random.seed()  # also done by random's own at-fork hook; explicit, as the contract says
            if not _process.die_with_parent(self._pid):
                os._exit(1)
            self._control.send(b"child %s %d" % (replica, os.getpid()), _socket.MSG_NOSIGNAL)
            self._control.close()
            return name
        except BaseException:  # noqa: B036 - whatever happens, this process must not act as the zygote
            try:
                import traceback

                sdk_log(f"zygote child {replica.decode('ascii', 'replace')}: setup failed:\n"
                        f"{traceback.format_exc().rstrip()}")
            finally:
                os._exit(1)

    def _send(self, message):
        try:
            self._control.send(message[:_MAX_REPLY], _socket.MSG_NOSIGNAL)
        except OSError as e:
            raise _Stop(f"the control socket failed: {e}") from None

    def _kill_children(self):
        for pid in self._children:
            try:
                os.killpg(pid, _signal.SIGKILL)
            except OSError:  # not yet its own group leader (killed before its setsid)
                try:
                    os.kill(pid, _signal.SIGKILL)
                except OSError:
                    pass


def _wake_only(signum, frame):
    """The Python-level handler of the zygote's signals: set_wakeup_fd does the work (Zygote.run)."""


def _thread_count():
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 1


def _received_fds(ancillary):
    fds = []
    for level, kind, data in ancillary:
        if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
            fds.extend(memoryview(data[: len(data) - len(data) % 4]).cast("i"))
    return fds


def _close_all(fds):
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


def _valid_replica_id(replica):
    """A replica id is printable ASCII without spaces ("<app>-<suffix>")."""
    return 0 < len(replica) <= 200 and all(32 < b < 127 for b in replica)
