"""The instance sandbox, end to end: a hostile handler tries to escape its instance while a bystander app
(hello) must keep serving. Every test runs three times: against the Go app (apps/hostile, the process
launcher), the Python app (apps/python_hostile, instances forked from a zygote), which do the same attacks,
and the Go app built into a container image (apps/image_shim serves it on $PORT; its own root and network).

The contract under test: each instance runs in its own PID, mount, IPC and UTS namespaces, in a network
namespace without a route to the host's loopback, as uid/gid 65534 without capabilities, with no_new_privs
and a seccomp filter (mount, ptrace, unshare, ... fail with EPERM); its root file system is read-only and
holds only its code (/app, and for Python the interpreter's read-only trees), /etc (no shadow), /dev (null, zero, full, random, urandom), its own /proc and a
private /tmp tmpfs of half the memory limit; memory, CPU and pids (256) are limited per instance, and an
instance killed by its memory limit answers 429 RESOURCE_EXHAUSTED naming the limit.

Every hostile action answers {"ok": <the attack SUCCEEDED>, "error": ...}. The handler bounds and undoes
every action so that running these tests against a platform WITHOUT a sandbox fails them without damaging the
host: the destructive signals (kill(-1), kill of ignited or of another instance) are only sent once the
instance has shown it cannot see those processes (kill(pid, 0) fails), which is itself the assertion."""

import base64
import hashlib
import json
import os
import signal
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest

import images
from images import registry  # noqa: F401  (the image variant pulls from it)

HOSTILE_DIR = (Path(__file__).parent / "apps" / "hostile").resolve()
HELLO_DIR = (Path(__file__).parent / "apps" / "hello").resolve()
PY_HOSTILE_DIR = (Path(__file__).parent / "apps" / "python_hostile").resolve()
MEMORY_MB = 64   # the hostile-mem app's --memory
CPU_MILLIS = 250  # the hostile-cpu app's --cpu
PIDS_MAX = 256
EPERM, ESRCH, EAGAIN = 1, 3, 11
RESOURCE_EXHAUSTED = 8

# Namespaces, cgroups and the seccomp set-up need root (CAP_SYS_ADMIN); without it ignited runs instances
# unsandboxed ("sandbox": "off (...)") and every test here would fail. CI runs the suite as root.
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the instance sandbox needs ignited to run as root")


# --- helpers ---------------------------------------------------------------------------------------------------


def _http(platform, method, path, body=None, timeout=60, token=True):
    req = urllib.request.Request(platform.endpoint + path, data=body, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + platform.token())
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def invoke(platform, app, payload, timeout=60):
    """POST .../invoke. Returns the outcome whatever its shape: `status` is the HTTP status when the platform
    refused the call before it ran (then `code` and `message` come from the {code, message} error body), else
    the function's status from the head frame (then `message` is the platform's error, if any)."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    http_status, raw = _http(platform, "POST", f"/v1/ignite/app/org/{app}/invoke", body, timeout=timeout)
    out = SimpleNamespace(http_status=http_status, status=http_status, code=None, message="", body=b"", raw=raw)
    if http_status != 200:
        try:
            err = json.loads(raw)
            out.code, out.message = err.get("code"), err.get("message", "")
        except ValueError:
            out.message = raw.decode(errors="replace")
        return out
    chunks, errors = [], []
    for line in raw.decode().splitlines():
        if not line.strip():
            continue
        frame = json.loads(line)
        if "error" in frame:
            errors.append(frame["error"].get("message", "") if isinstance(frame["error"], dict) else str(frame["error"]))
            continue
        result = frame["result"]
        if "head" in result:
            out.status = result["head"].get("status", 0)
        elif "chunk" in result:
            chunks.append(base64.b64decode(result["chunk"].get("data", "")))
        elif "trailer" in result and result["trailer"].get("error"):
            errors.append(result["trailer"]["error"])
    out.body = b"".join(chunks)
    out.message = " | ".join(errors)
    return out


def attack(platform, app, action, timeout=60, **args):
    """Runs one hostile action; the call itself must succeed (the handler reports the attack's outcome)."""
    out = invoke(platform, app, {"action": action, **args}, timeout=timeout)
    assert out.status == 200, (f"{action} on {app}: HTTP {out.http_status}, status {out.status}: {out.message} "
                               f"{out.body[:500]!r}\nignited log tail:\n{platform.log_path.read_text()[-2000:]}")
    return json.loads(out.body)


def assert_hello_serves(platform, timeout=30):
    """The bystander app answers correctly: the platform and other apps keep serving."""
    name = uuid.uuid4().hex[:8]
    out = invoke(platform, "hello", {"name": name}, timeout=timeout)
    assert out.status == 200, f"hello stopped serving: HTTP {out.http_status}, status {out.status}: {out.message}"
    assert json.loads(out.body)["greeting"] == f"Hello, {name}!"


class HelloDuring:
    """Invokes hello over and over in a thread while an attack runs; every call must succeed."""

    def __init__(self, platform):
        self.platform, self.results, self.stop = platform, [], threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self.stop.is_set():
            try:
                out = invoke(self.platform, "hello", {"name": "during"}, timeout=30)
                ok = out.status == 200 and json.loads(out.body)["greeting"] == "Hello, during!"
                self.results.append((ok, out.status, out.message))
            except Exception as e:  # noqa: BLE001 - a failure to answer at all is a failed call too
                self.results.append((False, None, repr(e)))
            self.stop.wait(0.1)

    def __enter__(self):
        self.thread.start()
        time.sleep(0.2)  # at least one call before the attack starts
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=40)
        assert not self.thread.is_alive(), "a hello call made during the attack never returned"

    def assert_all_served(self):
        assert self.results, "hello was not called during the attack"
        failures = [r for r in self.results if not r[0]]
        assert not failures, f"{len(failures)} of {len(self.results)} hello calls failed during the attack: {failures[:3]}"


def replica_pids(platform, app):
    out = platform.json("app", "replicas", f"org:{app}")
    return [int(r["pid"]) for r in out.get("replicas", []) if r.get("pid")]


def replica_ids(platform, app):
    return [r["replicaId"] for r in platform.json("app", "replicas", f"org:{app}").get("replicas", [])]


def proc_state(pid):
    """The process's state letter (R, S, T, Z, ...) or None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def alive(pid):
    return proc_state(pid) not in (None, "Z", "X")


def descendants(pids):
    """Every process below `pids` on the host (by parent pid)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = set(), list(pids)
    while todo:
        for c in children.get(todo.pop(), []):
            if c not in out:
                out.add(c)
                todo.append(c)
    return out


def socket_dir(data_dir):
    """Where ignited puts the instances' Unix sockets (src/server/main.cc SocketDir)."""
    run = str(data_dir) + "/run"
    if len(run) + 48 < 108:
        return Path(run)
    return Path(f"/tmp/ignited-{os.getuid()}-{hashlib.sha256(str(data_dir).encode()).hexdigest()[:12]}")


def wait_until(predicate, timeout, what):
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, f"timed out after {timeout}s waiting for {what}"
        time.sleep(0.05)


# --- the platform, the bystander and the hostile apps ----------------------------------------------------------


# Every test runs against each runtime's hostile app: a Go binary run by the process launcher, and a Python
# handler whose instances are forked from a zygote (instances/zygote_launcher.h). Only what each instance is
# allowed to hold differs: its own code file, and the read-only trees its runtime needs at /.
RUNTIMES = {
    "go": SimpleNamespace(dir=HOSTILE_DIR, prefix="hostile", own_file="/app/handler",
                          root=["app", "dev", "etc", "proc", "tmp"], etc=["passwd", "group", "hosts", "resolv.conf", "ssl"]),
    "python": SimpleNamespace(dir=PY_HOSTILE_DIR, prefix="pyhostile", own_file="/app/handler.py",
                              root=["app", "dev", "etc", "ignite", "lib", "lib64", "proc", "tmp", "usr"],
                              etc=["passwd", "group", "hosts", "resolv.conf", "ssl"]),
    # The Go app built against the image shim (apps/image_shim) into a container image: its own root (the
    # image's, read-only), user and network namespace (docs/runtimes/image.md). Images bring their own CA
    # certificates, so /etc has what the image put there plus the platform's hosts and resolv.conf.
    "image": SimpleNamespace(dir=None, prefix="imghostile", own_file="/app/handler",
                             root=["app", "dev", "etc", "proc", "tmp"], etc=["passwd", "group", "hosts", "resolv.conf"]),
}


def deploy_source(request, rt):
    """The deploy flags that give an app the runtime's hostile code."""
    if rt.dir is not None:
        return ["-c", str(rt.dir)]
    missing = images.missing_tools()
    if missing:
        pytest.skip("the image variant needs " + ", ".join(missing))
    registry = request.getfixturevalue("registry")
    binary = images.build_with_shim(HOSTILE_DIR, "hostile")
    ref = images.build_image(registry, "ignite-e2e/hostile", "1", {"/app/handler": binary}, user="65534",
                             entrypoint=["/app/handler"], workdir="/app")
    return ["--image-ref", ref]


@pytest.fixture(scope="module")
def bystander(platform):
    platform.ok("app", "deploy", "org:hello", "-c", str(HELLO_DIR), "--reserved", "1", timeout=240)
    assert_hello_serves(platform)
    data_dir = Path(platform.data_dir).resolve()
    hello_artifact = platform.json("version", "get", "org:hello", "1")["versionInfo"]["artifactSha256"]
    return SimpleNamespace(data_dir=data_dir, ignited=platform.proc.pid,
                           hello_blob=data_dir / "blobs" / "sha256" / hello_artifact[:2] / hello_artifact[2:])


@pytest.fixture(scope="module", params=sorted(RUNTIMES))
def env(request, platform, bystander):
    rt = RUNTIMES[request.param]
    hostile, mem, cpu = rt.prefix, f"{rt.prefix}-mem", f"{rt.prefix}-cpu"
    source = deploy_source(request, rt)
    platform.ok("app", "deploy", f"org:{hostile}", *source, timeout=240)
    platform.ok("app", "deploy", f"org:{mem}", *source, "--memory", str(MEMORY_MB), timeout=240)
    platform.ok("app", "deploy", f"org:{cpu}", *source, "--cpu", str(CPU_MILLIS), timeout=240)
    env = SimpleNamespace(p=platform, runtime=request.param, hostile=hostile, mem=mem, cpu=cpu,
                          own_file=rt.own_file, root=rt.root, etc=rt.etc, **vars(bystander))
    for app in (hostile, mem, cpu):
        assert attack(platform, app, "noop")["ok"] is True
    return env


def require_cgroups(env, what):
    """Memory kills, CPU quotas and the pids limit are per-instance cgroup limits; the rlimit fallback (no
    writable cgroup hierarchy) only bounds memory, through RLIMIT_DATA (docs/security.md)."""
    status, raw = _http(env.p, "GET", "/v1/ignite/health", token=False)
    limits = json.loads(raw).get("limits", "") if status == 200 else ""
    if limits.startswith("rlimit"):
        pytest.skip(f"{what} needs cgroups; this host enforces limits with {limits!r}")


def hello_instance(env):
    """The host pid of hello's (reserved, so always running) instance."""
    wait_until(lambda: replica_pids(env.p, "hello"), 20, "a running hello instance")
    pid = replica_pids(env.p, "hello")[0]
    assert alive(pid), f"hello's replica pid {pid} is not a live process on the host"
    return pid


# --- the tests -------------------------------------------------------------------------------------------------


def test_health_reports_the_sandbox_and_the_limits(env):
    status, raw = _http(env.p, "GET", "/v1/ignite/health", token=False)
    assert status == 200, raw
    health = json.loads(raw)
    assert health.get("sandbox") and not health["sandbox"].startswith("off"), \
        f"HealthCheck must report the sandbox in force (the suite runs as root), got {health}"
    assert str(health.get("limits", "")).startswith(("cgroup-v1", "cgroup-v2", "rlimit")), \
        f"HealthCheck must report how limits are enforced, got {health}"


def test_instance_is_unprivileged_and_in_its_own_namespaces(env):
    hello = hello_instance(env)
    me = attack(env.p, env.hostile, "whoami", guard=[env.ignited, hello, os.getpid()])
    assert_hello_serves(env.p)
    ids = (me["uid"], me["euid"], me["gid"], me["egid"])
    assert ids == (65534,) * 4, f"the instance runs as uid/euid/gid/egid {ids}, not 65534"
    assert me["groups"] in (None, [], [65534]), f"supplementary groups: {me['groups']}"
    assert int(me["capEff"], 16) == 0 and int(me["capPrm"], 16) == 0, \
        f"the instance has capabilities: CapEff {me['capEff']}, CapPrm {me['capPrm']}"
    assert me["noNewPrivs"] == "1", me["noNewPrivs"]
    assert me["seccomp"] == "2", f"no seccomp filter: Seccomp: {me['seccomp']}"
    for ns in ("pid", "mnt", "ipc", "uts", "net"):
        host = os.readlink(f"/proc/{env.ignited}/ns/{ns}")
        assert me["ns"][ns] != host, f"the instance shares ignited's {ns} namespace ({host})"
    # Its own /proc: a handful of its own processes, none of the host's.
    assert len(me["procPids"]) <= 5, f"/proc shows {len(me['procPids'])} processes: {me['procPids'][:20]}"
    for pid, err in me["visible"].items():
        assert "no such process" in err, f"host pid {pid} is visible from the instance (kill(pid, 0): {err!r})"
    # A read-only root holding only what the handler needs.
    assert sorted(me["root"]) == env.root, me["root"]
    root_mount = [line.split() for line in me["mounts"].splitlines() if line.split()[1:2] == ["/"]]
    assert root_mount and "ro" in root_mount[-1][3].split(","), f"/ is not mounted read-only: {root_mount}"
    assert "shadow" not in me["etc"] and "gshadow" not in me["etc"], me["etc"]
    for name in env.etc:
        assert name in me["etc"], f"/etc/{name} missing: {me['etc']}"
    devices = set(me["dev"]) - {"fd", "stdin", "stdout", "stderr"}  # tolerated /proc/self/fd symlinks
    assert {"null", "zero", "full", "random", "urandom"} <= devices <= {"null", "zero", "full", "random", "urandom"}, \
        sorted(me["dev"])


def test_cannot_read_host_secrets_or_platform_data(env):
    marker = Path(f"/tmp/ignite-e2e-host-only-{uuid.uuid4().hex[:8]}")
    marker.write_text("host /tmp is not the instance's /tmp\n")
    try:
        targets = {
            "/etc/shadow": "the host's password hashes",
            str(env.data_dir): "the platform's data dir",
            str(env.data_dir / "ignite.db"): "the platform's SQLite database",
            str(env.data_dir / "admin-token"): "the platform's admin token",
            str(env.hello_blob): "another app's artifact",
            str(marker): "a file in the host's /tmp",
        }
        for path in targets:
            assert Path(path).exists(), f"precondition: {path} exists on the host"
        results = {path: attack(env.p, env.hostile, "read", path=path) for path in targets}
        control = attack(env.p, env.hostile, "read", path="/etc/passwd")
        own = attack(env.p, env.hostile, "read", path=env.own_file)
    finally:
        marker.unlink()
    assert_hello_serves(env.p)
    leaked = {f"{path} ({targets[path]})": r for path, r in results.items() if r["ok"]}
    assert not leaked, f"the instance could read: {leaked}"
    assert control["ok"] is True, f"positive control: /etc/passwd must be readable: {control}"
    assert own["ok"] is True, f"positive control: its own {env.own_file} must be readable: {own}"


def test_cannot_write_outside_tmp(env):
    nonce = uuid.uuid4().hex[:8]
    paths = [f"/app/x-{nonce}", f"/etc/x-{nonce}", f"/x-{nonce}", str(env.data_dir / f"x-{nonce}"),
             str(env.data_dir / "blobs" / f"x-{nonce}")]
    results = {path: attack(env.p, env.hostile, "write", path=path) for path in paths}
    control = attack(env.p, env.hostile, "write", path=f"/tmp/x-{nonce}")
    assert_hello_serves(env.p)
    written = {path: r for path, r in results.items() if r["ok"]}
    assert not written, f"the instance could write (the handler removed what it created): {written}"
    assert control["ok"] is True, f"positive control: writing /tmp must work: {control}"
    for path in paths:
        assert not Path(path).exists(), f"{path} was left on the host"


def test_cannot_connect_to_the_api_or_another_instance(env):
    hello_instance(env)
    sockets = [socket_dir(env.data_dir) / f"{rid}.sock" for rid in replica_ids(env.p, "hello")]
    assert sockets and all(s.exists() for s in sockets), f"precondition: hello's socket is on the host: {sockets}"
    with socket.socket(socket.AF_UNIX) as s:  # precondition: it accepts connections from the host
        s.settimeout(5)
        s.connect(str(sockets[0]))
    targets = [("tcp", f"127.0.0.1:{env.p.port}"), ("tcp", f"127.0.0.1:{env.p.grpc_port}"),
               ("tcp", f"localhost:{env.p.port}"),
               ("tcp", f"10.0.2.2:{env.p.port}"),  # slirp4netns' address for the host: its loopback must not be
               ("unix", str(sockets[0]))]
    results = {f"{net} {addr}": attack(env.p, env.hostile, "connect", network=net, address=addr) for net, addr in targets}
    assert_hello_serves(env.p)
    reached = {t: r for t, r in results.items() if r["ok"]}
    assert not reached, f"the instance could connect to: {reached}"


def test_cannot_read_a_sibling_instance_of_the_same_app(env):
    """Two instances of one version: neither can read the other's memory or environment. Go instances do not
    even see each other (a PID namespace each); Python instances, forked from one zygote, share its PID
    namespace and uid (docs/security.md), and are kept apart by the dumpable flag."""
    env.p.ok("app", "update", f"org:{env.hostile}", "--max-concurrency", "1")
    try:
        holding = threading.Thread(target=lambda: attack(env.p, env.hostile, "hold", seconds=3), daemon=True)
        holding.start()
        time.sleep(0.5)  # the hold is running: the next call needs a second instance
        r = attack(env.p, env.hostile, "siblings")
        instances = len(replica_ids(env.p, env.hostile))
        holding.join(timeout=30)
    finally:
        env.p.ok("app", "update", f"org:{env.hostile}", "--max-concurrency", "0")
    assert instances >= 2, "precondition: two instances of the app ran at once"
    if env.runtime == "python":
        assert len(r["found"]) >= 2, f"precondition: the zygote and the holding instance are visible: {r}"
    else:
        assert r["found"] == [], f"a Go instance sees processes besides itself: {r}"
    assert r["ok"] is False and not r["readable"], f"an instance could read another process: {r}"


def test_cannot_ptrace_other_processes(env):
    hello = hello_instance(env)
    try:
        results = {
            f"ignited (host pid {env.ignited})": attack(env.p, env.hostile, "ptrace", pid=env.ignited),
            f"hello's instance (host pid {hello})": attack(env.p, env.hostile, "ptrace", pid=hello),
        }
        own_child = attack(env.p, env.hostile, "ptrace_child")
    finally:
        # Safety net for a build without a sandbox: nothing may stay stopped by a botched attach.
        for pid in (env.ignited, hello):
            if proc_state(pid) in ("T", "t"):
                os.kill(pid, signal.SIGCONT)
    assert_hello_serves(env.p)
    assert alive(env.ignited) and alive(hello) and replica_pids(env.p, "hello") == [hello]
    attached = {t: r for t, r in results.items() if r["ok"]}
    assert not attached, f"the instance could ptrace: {attached}"
    # Its own child is in its own pid namespace, with its uid: only the seccomp filter stands in the way.
    assert own_child["ok"] is False and own_child.get("errno") == EPERM, \
        f"ptrace of its own child must fail with EPERM (seccomp): {own_child}"


def test_seccomp_blocks_mount_and_new_user_namespaces(env):
    mount = attack(env.p, env.hostile, "mount")
    userns = attack(env.p, env.hostile, "unshare_user")
    assert_hello_serves(env.p)
    assert mount["ok"] is False and "operation not permitted" in mount["error"], f"mount tmpfs: {mount}"
    assert userns["ok"] is False and "operation not permitted" in userns["error"], f"unshare(CLONE_NEWUSER): {userns}"


def test_outbound_tcp_works(env):
    if env.runtime == "image":
        pytest.skip("image instances have a network namespace of their own with loopback only: no route out yet "
                    "(docs/runtimes/image.md)")
    try:
        socket.create_connection(("proxy.golang.org", 443), timeout=5).close()
    except OSError as e:
        pytest.skip(f"the host itself cannot reach proxy.golang.org:443 ({e})")
    r = attack(env.p, env.hostile, "dial_out", address="proxy.golang.org:443")
    assert_hello_serves(env.p)
    assert r["ok"] is True, f"instances must reach the outside through the user-mode network: {r}"


def test_memory_limit_kills_the_instance_with_429_and_the_next_call_works(env):
    require_cgroups(env, "the memory limit's OOM kill")
    out = invoke(env.p, env.mem, {"action": "alloc", "mb": 200}, timeout=60)
    assert_hello_serves(env.p)
    assert out.status == 429, (f"touching 200 MB under --memory {MEMORY_MB} must answer 429, got HTTP "
                               f"{out.http_status}, status {out.status}: {out.message} {out.body[:300]!r}")
    if out.http_status == 429:  # the platform's error body
        assert out.code in (RESOURCE_EXHAUSTED, "RESOURCE_EXHAUSTED"), (out.code, out.message)
    assert "memory limit" in out.message and f"{MEMORY_MB} MB" in out.message, out.message
    # The CLI shows the same reason.
    cli = env.p.cli("invoke", f"org:{env.mem}", "-p", json.dumps({"action": "alloc", "mb": 200}), timeout=60)
    err = cli.stderr.decode(errors="replace")
    assert cli.returncode != 0 and "memory limit" in err and f"{MEMORY_MB} MB" in err, (cli.returncode, err)
    # A new instance serves the next call.
    assert attack(env.p, env.mem, "noop")["ok"] is True
    assert attack(env.p, env.mem, "alloc", mb=8)["ok"] is True
    assert_hello_serves(env.p)


def test_tmp_is_a_private_tmpfs_of_half_the_memory_limit(env):
    limit = MEMORY_MB << 20
    r = attack(env.p, env.mem, "fill_tmp", mb=MEMORY_MB + 16)  # the handler stops there if nothing does
    assert_hello_serves(env.p)
    assert r["ok"] is False, f"wrote {r.get('written', 0) >> 20} MB to /tmp without an error: {r}"
    assert r.get("enospc") is True and "no space left on device" in r["error"], r
    assert r["written"] < limit, f"/tmp took {r['written'] >> 20} MB before ENOSPC, more than the memory limit"
    me = attack(env.p, env.mem, "whoami")
    assert 0 < me["tmpBytes"] <= limit * 0.55, f"/tmp is {me['tmpBytes']} bytes; expected about half of {limit}"
    # The instance lived through it and serves on.
    assert attack(env.p, env.mem, "noop")["ok"] is True


def test_fork_bomb_hits_the_pids_limit(env):
    require_cgroups(env, "the pids limit")
    assert attack(env.p, env.hostile, "noop")["ok"] is True
    instance = replica_pids(env.p, env.hostile)
    baseline = len(descendants(instance))
    with HelloDuring(env.p) as during:
        # The handler forks for at most 10 s: EAGAIN within them is the pids limit at work.
        r = attack(env.p, env.hostile, "forkbomb", cap=2 * PIDS_MAX, seconds=10, timeout=60)
    during.assert_all_served()
    assert_hello_serves(env.p)
    assert r["ok"] is False, f"no fork failed: {r}"
    assert r.get("errno") == EAGAIN, f"fork must fail with EAGAIN (the pids limit): {r}"
    assert r["leftover"] == 0, f"the handler could not reap all its children within 10 s: {r}"
    assert r["processes"] <= PIDS_MAX, f"the bomb made {r['processes']} processes, more than pids max {PIDS_MAX}"
    # Every forked process is gone, and the hostile app serves on.
    wait_until(lambda: len(descendants(instance)) <= baseline, 10, "the fork bomb's processes to exit")
    assert attack(env.p, env.hostile, "noop")["ok"] is True


def test_cpu_limit_holds_a_spinning_instance(env):
    require_cgroups(env, "the CPU quota")
    with HelloDuring(env.p) as during:
        r = attack(env.p, env.cpu, "spin", seconds=3, timeout=60)
    during.assert_all_served()
    assert_hello_serves(env.p)
    assert r["ok"] is True and r["wallSeconds"] >= 2.5, r
    assert r["ratio"] < 0.6, (f"with --cpu {CPU_MILLIS} the instance got {r['cpuSeconds']:.2f} CPU seconds in "
                              f"{r['wallSeconds']:.2f} s on {r['threads']} threads (ratio {r['ratio']:.2f}, "
                              f"the quota is {CPU_MILLIS / 1000})")


def test_signals_cannot_reach_ignited_or_other_instances(env):
    hello = hello_instance(env)
    guard = [env.ignited, hello, os.getpid()]
    # The instance must not even see these processes. This is also what makes the real SIGKILLs below safe
    # to send: kill(pid, 0) checks exactly what kill(pid, SIGKILL) would.
    me = attack(env.p, env.hostile, "whoami", guard=guard)
    visible = {pid: err for pid, err in me["visible"].items() if "no such process" not in err}
    assert not visible, (f"the instance can signal host processes (kill(pid, 0) -> '' means delivered): "
                         f"{visible} (ignited {env.ignited}, hello {hello}, test runner {os.getpid()}); "
                         f"not sending SIGKILL/kill(-1)")
    assert me["uid"] != 0
    results = {
        f"hello's instance (host pid {hello})": attack(env.p, env.hostile, "kill", pid=hello, signal=9),
        f"ignited (host pid {env.ignited})": attack(env.p, env.hostile, "kill", pid=env.ignited, signal=9),
    }
    delivered = {t: r for t, r in results.items() if r["ok"]}
    assert not delivered, f"the instance could signal: {delivered}"
    # kill(-1): every process the instance may signal. The instance itself may die of it; nobody else may.
    everyone = invoke(env.p, env.hostile, {"action": "kill", "pid": -1, "signal": 9, "guard": guard}, timeout=30)
    if everyone.status == 200:
        assert not json.loads(everyone.body).get("refused"), everyone.body
    time.sleep(0.5)
    assert env.p.proc.poll() is None and alive(env.ignited), "ignited died"
    assert alive(hello) and replica_pids(env.p, "hello") == [hello], "hello's instance was killed"
    assert_hello_serves(env.p)
    assert attack(env.p, env.hostile, "noop")["ok"] is True
