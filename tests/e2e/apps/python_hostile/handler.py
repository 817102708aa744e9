"""The hostile test app in Python (tests/e2e/test_sandbox.py runs every attack against it and against the Go
app, apps/hostile): each action tries to break out of the instance's sandbox and reports what happened as
JSON, {"ok": <the attack SUCCEEDED>, "error": "<why it failed>", "errno": N, ...}.

The same rules as the Go app hold: every action is bounded and cleans up after itself, so that running it
WITHOUT a sandbox cannot damage the host. Files it creates are removed at once; the mount is tried in a
forked child that first moves to a private mount namespace; the fork bomb stops at a cap and every process
it made exits (or dies with its parent) within seconds; kill(-1) is refused unless the instance is visibly
isolated; a successful ptrace attach is detached at once.

System calls Python's os module lacks (ptrace, mount, unshare on 3.11, prctl) go through ctypes."""

import ctypes
import errno as E
import json
import mmap
import os
import resource
import signal
import socket
import struct
import threading
import time

libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
libc.ptrace.restype = ctypes.c_long
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]
libc.unshare.argtypes = [ctypes.c_int]
libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]

PTRACE_ATTACH, PTRACE_DETACH, PTRACE_CONT = 16, 17, 7
PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = 1, 36
CLONE_NEWNS, CLONE_NEWUSER = 0x00020000, 0x10000000
MS_REC, MS_PRIVATE = 0x4000, 1 << 18
WALL = 0x40000000


def failed(err, **extra):
    r = {"ok": False, "error": str(err), **extra}
    if isinstance(err, OSError) and err.errno:
        r["errno"] = err.errno
        r["error"] = f"{err} ({os.strerror(err.errno).lower()})"
    return r


def succeeded(**r):
    return {"ok": True, **r}


def errno_error(what):
    n = ctypes.get_errno()
    return OSError(n, f"{what}: {os.strerror(n).lower()}")


def handler(payload, ctx):
    req = json.loads(payload)
    action = req.get("action")
    fn = ACTIONS.get(action)
    if fn is None:
        raise ValueError(f"unknown action {action!r}")
    return fn(req)


# --- identity ------------------------------------------------------------------------------------------------


def names(d):
    try:
        return sorted(os.listdir(d))
    except OSError as e:
        return [f"error: {e}"]


def proc_status():
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def visible(guard):
    out = {}
    for pid in guard or []:
        try:
            os.kill(pid, 0)
            out[str(pid)] = ""
        except OSError as e:
            out[str(pid)] = os.strerror(e.errno).lower()
    return out


def whoami(req):
    status = proc_status()
    ns = {}
    for n in ("pid", "mnt", "ipc", "uts", "net", "user", "cgroup"):
        try:
            ns[n] = os.readlink(f"/proc/self/ns/{n}")
        except OSError as e:
            ns[n] = f"error: {e}"
    st = os.statvfs("/tmp")
    with open("/proc/self/mounts") as f:
        mounts = f.read()
    return succeeded(
        uid=os.getuid(), euid=os.geteuid(), gid=os.getgid(), egid=os.getegid(), groups=os.getgroups(),
        pid=os.getpid(), ppid=os.getppid(), hostname=socket.gethostname(),
        capEff=status["CapEff"], capPrm=status["CapPrm"], capBnd=status["CapBnd"],
        noNewPrivs=status["NoNewPrivs"], seccomp=status["Seccomp"], nspid=status.get("NSpid"),
        ns=ns, root=names("/"), etc=names("/etc"), dev=names("/dev"),
        procPids=sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
        visible=visible(req.get("guard")), tmpBytes=st.f_blocks * st.f_frsize, mounts=mounts,
        numCPU=os.cpu_count())


def siblings(req):
    """Looks for every other process in /proc and tries to read its environment and its memory (the first
    mapping in its maps). Only what could be read is reported, never the contents."""
    found, readable, errors = [], {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        found.append(int(entry))
        got = []
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                f.read()
            got.append("environ")
        except OSError as e:
            errors[f"{entry} environ"] = str(e)
        try:
            with open(f"/proc/{entry}/maps") as f:
                start = int(f.readline().split("-", 1)[0], 16)
            got.append("maps")
            with open(f"/proc/{entry}/mem", "rb") as f:
                f.seek(start)
                f.read(16)
            got.append("mem")
        except (OSError, ValueError) as e:
            errors[f"{entry} maps/mem"] = str(e)
        if got:
            readable[entry] = got
    return {"ok": bool(readable), "found": sorted(found), "readable": readable, "errors": errors}


# --- file system ---------------------------------------------------------------------------------------------


def read(req):
    path = req["path"]
    try:
        if os.path.isdir(path):
            return succeeded(entries=len(os.listdir(path)))
        with open(path, "rb") as f:
            data = f.read(64 << 10)
            return succeeded(bytes=len(data), size=os.fstat(f.fileno()).st_size)
    except OSError as e:
        return failed(e)


def write(req):
    path = req["path"]
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except OSError as e:
        return failed(e)
    try:
        os.write(fd, b"hostile\n")
    finally:
        os.close(fd)
        os.unlink(path)
    return succeeded(wrote=path)


def fill_tmp(req):
    limit = (req.get("mb") or 64) << 20
    path = f"/tmp/hostile-fill-{os.getpid()}-{time.time_ns()}"
    block = bytes(range(256)) * 4096
    written = 0
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as e:
        return failed(e)
    try:
        while written < limit:
            written += os.write(fd, block)
        os.fsync(fd)
    except OSError as e:
        return failed(e, written=written, enospc=e.errno == E.ENOSPC)
    finally:
        os.close(fd)
        os.unlink(path)
    return succeeded(written=written)


# --- network -------------------------------------------------------------------------------------------------


def connect(req, timeout=3.0):
    network, address = req.get("network") or "tcp", req["address"]
    try:
        if network == "unix":
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(timeout)
            s.connect(address)
        else:
            host, _, port = address.rpartition(":")
            s = socket.create_connection((host, int(port)), timeout=timeout)
    except OSError as e:
        return failed(e)
    with s:
        return succeeded(local=str(s.getsockname()), remote=str(s.getpeername()))


# --- memory, cpu ---------------------------------------------------------------------------------------------


def alloc(req):
    start = time.monotonic()
    hoard = []
    for _ in range(req.get("mb", 0)):
        hoard.append(bytearray(b"\x01" * (1 << 20)))  # written, so every page is resident
    n = len(hoard)
    del hoard
    return succeeded(allocatedMB=n, ms=int((time.monotonic() - start) * 1000))


def spin(req):
    """Busy-loops for `seconds` in one forked process per CPU the instance sees (threads would share the GIL)
    and reports the CPU time they got against the wall time: without a CPU limit the ratio approaches the
    number of cores."""
    seconds = req.get("seconds") or 3
    seconds = seconds if 0 < seconds <= 10 else 3
    n = os.cpu_count() or 1
    t0 = time.monotonic()
    pids = []
    for _ in range(n):
        pid = os.fork()
        if pid == 0:
            try:
                libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
                x = 0
                while time.monotonic() - t0 < seconds:
                    for _ in range(10000):
                        x = (x * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
            finally:
                os._exit(0)
        pids.append(pid)
    for pid in pids:
        os.waitpid(pid, 0)
    wall = time.monotonic() - t0
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)  # the spinners, and nothing else this instance ran
    cpu = ru.ru_utime + ru.ru_stime
    return succeeded(threads=n, cpuSeconds=cpu, wallSeconds=wall, ratio=cpu / wall)


# --- processes -----------------------------------------------------------------------------------------------


def wait_exit(pid, limit):
    """Waits up to `limit` seconds for the child, SIGKILLing it after that. Returns its wait status."""
    deadline = time.monotonic() + limit
    while True:
        wpid, status = os.waitpid(pid, os.WNOHANG)
        if wpid == pid:
            return status
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            return os.waitpid(pid, 0)[1]
        time.sleep(0.002)


def run_child(body):
    """Forks a child that runs body() -> errno and exits with it; returns that errno."""
    pid = os.fork()
    if pid == 0:
        code = 127
        try:
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            code = body()
        finally:
            os._exit(code)
    status = wait_exit(pid, 5)
    if not os.WIFEXITED(status):
        raise RuntimeError(f"child ended with wait status {status}")
    return os.WEXITSTATUS(status)


def unshare_user(req):
    # In a forked child: it has one thread, as the kernel requires for a new user namespace.
    def body():
        return 0 if libc.unshare(CLONE_NEWUSER) == 0 else ctypes.get_errno()
    n = run_child(body)
    if n:
        return failed(OSError(n, f"unshare(CLONE_NEWUSER): {os.strerror(n).lower()}"))
    return succeeded(detail="unshare(CLONE_NEWUSER) worked in a forked child")


def mount(req):
    target = f"/tmp/hostile-mnt-{os.getpid()}-{time.time_ns()}"
    os.mkdir(target, 0o700)

    def body():
        # A private mount namespace first, so that a mount that works cannot reach the host; where unshare
        # itself fails the mount is tried in the instance's own namespace, which is the attack.
        if libc.unshare(CLONE_NEWNS) == 0 and libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
            return 200
        return 0 if libc.mount(b"hostile", target.encode(), b"tmpfs", 0, None) == 0 else ctypes.get_errno()
    try:
        n = run_child(body)
    finally:
        os.rmdir(target)
    if n == 200:
        return failed("could not make a private mount namespace to try the mount in; not tried")
    if n:
        return failed(OSError(n, f"mount tmpfs on {target}: {os.strerror(n).lower()}"))
    return succeeded(detail=f"mounted a tmpfs on {target} (in a forked child)")


# The fork bomb's shared page: spawned (forks started), stop, errno, capped, cap; int32 each.
SPAWNED, STOP, ERRNO, CAPPED, CAP = range(5)


def forkbomb(req):
    """Every process forks as fast as it can, children included, until a fork fails (the pids limit: EAGAIN),
    `cap` processes were made (the bound that keeps this harmless without a sandbox: ok=true) or `seconds`
    passed. Then all of them exit and the handler reaps them (it is their subreaper).

    Bookkeeping lives in a shared page. Python has no atomic compare-and-swap on it, so the count is kept
    under a lock on a file; it is only a bound, the pids limit is what the test checks."""
    cap = req.get("cap") or 512
    seconds = req.get("seconds") or 10
    seconds = seconds if 0 < seconds <= 20 else 10
    page = mmap.mmap(-1, 4096, flags=mmap.MAP_SHARED)
    get = lambda i: struct.unpack_from("i", page, 4 * i)[0]  # noqa: E731
    put = lambda i, v: struct.pack_into("i", page, 4 * i, v)  # noqa: E731
    put(CAP, cap)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        return failed(errno_error("prctl(PR_SET_CHILD_SUBREAPER)"))
    import fcntl
    lock_path = f"/tmp/hostile-bomb-{os.getpid()}-{time.time_ns()}"
    lock = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    os.unlink(lock_path)

    def bomb(parent):
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(0)
        for _ in range(5000):
            if get(STOP):
                break
            fcntl.flock(lock, fcntl.LOCK_EX)
            n = get(SPAWNED)
            if n >= cap:
                put(CAPPED, 1)
                fcntl.flock(lock, fcntl.LOCK_UN)
                time.sleep(0.001)
                continue
            put(SPAWNED, n + 1)
            fcntl.flock(lock, fcntl.LOCK_UN)
            me = os.getpid()
            try:
                pid = os.fork()
            except OSError as e:
                fcntl.flock(lock, fcntl.LOCK_EX)
                put(SPAWNED, get(SPAWNED) - 1)
                if not get(ERRNO):
                    put(ERRNO, e.errno)
                put(STOP, 1)
                fcntl.flock(lock, fcntl.LOCK_UN)
                break
            if pid == 0:
                bomb(me)  # the new process: the same loop, from the start
        os._exit(0)

    start = time.monotonic()
    put(SPAWNED, 1)
    me = os.getpid()
    first = os.fork()
    if first == 0:
        try:
            bomb(me)
        finally:
            os._exit(0)
    deadline = start + seconds
    while time.monotonic() < deadline and not get(STOP) and not get(CAPPED):
        time.sleep(0.001)
    elapsed = time.monotonic() - start
    put(STOP, 1)
    # Reap every process the bomb made: our child and every orphan re-parented to us.
    reaped, leftover = 0, 0
    reap_by = time.monotonic() + 10
    while True:
        try:
            wpid, _ = os.waitpid(-1, os.WNOHANG | WALL)
        except ChildProcessError:
            break
        if wpid > 0:
            reaped += 1
            continue
        if time.monotonic() > reap_by:
            os.kill(first, signal.SIGKILL)
            leftover = -1
            break
        time.sleep(0.002)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
    os.close(lock)
    r = {"processes": reaped, "leftover": leftover, "ms": int(elapsed * 1000)}
    if get(ERRNO):
        n = get(ERRNO)
        return {"ok": False, "error": f"fork: {os.strerror(n).lower()}", "errno": n, **r}
    return succeeded(detail=f"no fork failed ({'cap reached' if get(CAPPED) else 'time ran out'})", **r)


def ptrace_attach(pid):
    """Attaches to pid; when that works, waits for the attach stop and detaches at once."""
    if libc.ptrace(PTRACE_ATTACH, pid, None, None) != 0:
        return failed(errno_error(f"ptrace(PTRACE_ATTACH, {pid})"))
    detail = "attached and detached"
    deadline = time.monotonic() + 3
    while True:
        try:
            wpid, status = os.waitpid(pid, os.WNOHANG | WALL)
        except ChildProcessError as e:
            detail = f"attached; no attach stop seen ({e})"
            break
        if wpid == pid and os.WIFSTOPPED(status):
            if os.WSTOPSIG(status) == signal.SIGSTOP:
                break
            libc.ptrace(PTRACE_CONT, pid, None, ctypes.c_void_p(os.WSTOPSIG(status)))
            continue
        if time.monotonic() > deadline:
            detail = "attached; no attach stop seen"
            break
        time.sleep(0.001)
    libc.ptrace(PTRACE_DETACH, pid, None, None)
    return succeeded(detail=detail)


def ptrace(req):
    pid = req.get("pid", 0)
    if pid <= 0 or pid == os.getpid():
        return failed(f"pid {pid} is not another process")
    # Attach from a thread of its own: ptrace ties the tracee to the tracing thread, and the handler's
    # thread is reused for other calls.
    out = {}
    t = threading.Thread(target=lambda: out.update(ptrace_attach(pid)))
    t.start()
    t.join()
    return out


def ptrace_child(req):
    """Attaches to a child of this process: no pid namespace stands in the way, only the seccomp filter."""
    pid = os.fork()
    if pid == 0:
        try:
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            time.sleep(10)
        finally:
            os._exit(0)
    try:
        return ptrace_attach(pid)
    finally:
        os.kill(pid, signal.SIGKILL)
        wait_exit(pid, 5)


def kill(req):
    pid, sig, guard = req.get("pid", 0), req.get("signal", 0), req.get("guard") or []
    if pid == os.getpid():
        return failed(f"pid {pid} is this process in its own pid namespace")
    if pid == -1:
        # Without a pid namespace (and as root) kill(-1) would take down the whole machine: only sent from an
        # instance that is not root and cannot see any of the host's guard pids.
        if os.getuid() == 0 or os.geteuid() == 0:
            return {"ok": False, "refused": True, "error": "refused to send kill(-1): running as root"}
        if not guard:
            return {"ok": False, "refused": True, "error": "refused to send kill(-1): no guard pids given"}
        for g, err in visible(guard).items():
            if err != os.strerror(E.ESRCH).lower():
                return {"ok": False, "refused": True,
                        "error": f"refused to send kill(-1): host pid {g} is visible ({err or 'delivered'})"}
    try:
        os.kill(pid, sig)
    except OSError as e:
        return failed(e)
    return succeeded(detail=f"kill({pid}, {sig}) was delivered")


ACTIONS = {
    "noop": lambda req: succeeded(pid=os.getpid()),
    "whoami": whoami,
    "read": read,
    "write": write,
    "connect": connect,
    "dial_out": lambda req: connect(req, timeout=10.0),
    "ptrace": ptrace,
    "ptrace_child": ptrace_child,
    "kill": kill,
    "alloc": alloc,
    "forkbomb": forkbomb,
    "spin": spin,
    "fill_tmp": fill_tmp,
    "mount": mount,
    "unshare_user": unshare_user,
    "hold": lambda req: (time.sleep(req.get("seconds", 1)), succeeded(pid=os.getpid()))[1],
    "siblings": siblings,
}
