"""Issue 6 item 4: every Go build step runs in the build sandbox (src/build/go/build_sandbox.h: bubblewrap) and
in the build's own cgroup, and builds still work.

The go command runs no user code (CGO_ENABLED=0, GOTOOLCHAIN=local, no go generate, no tests), and every path a
user controls that the go command follows is already confined before the sandbox (CheckLocalReplaces refuses a
`replace` outside the source, the archive checks refuse links out of it, //go:embed stays in the module). So no
build input can ask the go command to read the data dir, and "a build cannot read it" is not observable through
a build's result. What is observable, and checked here from the host while the build runs, is what its go
processes can reach: their mount namespace shows the data dir with nothing but this build's directory in it
(read through /proc/<pid>/root, which is exactly the process's view), their PID and mount namespaces are not
ignited's, they have no capabilities, `go build` has no network while `go mod tidy` has the host's, and all of
them are in the build's cgroup. src/build/go/go_builder_test.cc checks the same view from inside with a shell."""

import json
import os
import random
import shutil
import time
from pathlib import Path

import pytest

from conftest import Platform
from test_go_build import StallingProxy, deps_app, stalled_app

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("bwrap") is None,
                                reason="the build sandbox needs root and bubblewrap")

GO_TOOLS = {"go", "compile", "link", "asm", "ignite-gocheck"}


def _ns(pid, kind):
    return os.readlink(f"/proc/{pid}/ns/{kind}")


def _status(pid):
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


def _observe(builds_dir):
    """Snapshots of the Go toolchain processes working under `builds_dir`: what each can see and where it is.
    Processes that end while being read are skipped."""
    seen = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if not os.readlink(f"/proc/{pid}/cwd").startswith(builds_dir):
                continue
            exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
            if exe not in GO_TOOLS:
                continue  # the wrapper shell and bwrap itself run on the host side
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            snap = {
                "pid": pid,
                "exe": exe,
                "cmd": b" ".join(cmdline[:4]).decode(errors="replace"),
                "cgroup": Path(f"/proc/{pid}/cgroup").read_text().splitlines(),
                "mnt": _ns(pid, "mnt"),
                "pidns": _ns(pid, "pid"),
                "net": _ns(pid, "net"),
                "status": _status(pid),
                "root": f"/proc/{pid}/root",
            }
            # What this process sees of the data dir (its mount namespace, read from the host).
            data_dir = os.path.dirname(builds_dir)
            snap["data_view"] = sorted(os.listdir(snap["root"] + data_dir))
            snap["builds_view"] = sorted(os.listdir(snap["root"] + builds_dir))
            snap["sees_db"] = any(os.path.exists(snap["root"] + data_dir + "/" + n)
                                  for n in ("ignite.db", "blobs", "admin-token"))
            os.kill(int(pid), 0)  # still the same, live process after the reads
            seen.append(snap)
        except (OSError, ProcessLookupError):
            pass
    return seen


def _assert_confined(snap, platform, build_id):
    ignited = platform.proc.pid
    assert snap["mnt"] != _ns(ignited, "mnt"), snap
    assert snap["pidns"] != _ns(ignited, "pid"), snap
    assert snap["status"]["CapEff"] == "0000000000000000", snap
    assert snap["status"]["NoNewPrivs"] == "1", snap
    # The data dir holds only the builds dir (the Go caches are elsewhere in these tests), which holds only
    # this build: no database, blobs, tokens or other builds.
    assert snap["data_view"] == ["builds"], snap
    assert snap["builds_view"] == [build_id], snap
    assert not snap["sees_db"], snap
    # In the build's own group: in the v1 memory and pids hierarchies, or the v2 unified one.
    lines = _group_lines(snap["cgroup"])
    assert lines, snap["cgroup"]
    for line in lines:
        assert line.endswith(f"/ignite/d{ignited}/{build_id}"), snap["cgroup"]


def _group_lines(cgroup_lines):
    """The lines of /proc/<pid>/cgroup that carry the build's limits: memory and pids on a v1 host, else the
    unified v2 line."""
    v1 = [l for l in cgroup_lines if l.split(":", 2)[1] in ("memory", "pids")]
    return v1 or [l for l in cgroup_lines if l.startswith("0::")]


def _group_dirs(cgroup_lines):
    dirs = []
    for line in _group_lines(cgroup_lines):
        _, controller, path = line.split(":", 2)
        dirs.append(Path("/sys/fs/cgroup") / controller / path.lstrip("/"))  # v2: controller is ""
    return dirs


def _require_build_sandbox(platform):
    log = platform.log_path.read_text()
    assert "build sandbox: bubblewrap" in log, (
        "ignited did not enable the build sandbox (svc_opts.sandbox_builds / svc_opts.cgroups in "
        "src/server/main.cc):\n" + log[-3000:])


def _heavy_app(root: Path):
    """The google/uuid app plus a large generated file with a fresh constant, so `go build` compiles for a while
    whatever is cached."""
    deps_app(root)
    nonce = random.getrandbits(62)
    funcs = "\n".join(f"func f{i}(x int) int {{ if x > {i} {{ return x*{i} + {nonce} }}; return f{i + 1}(x + 1) }}"
                      for i in range(6000))
    (root / "greet" / "gen.go").write_text(f"package greet\n\n{funcs}\n\nfunc f6000(x int) int {{ return x }}\n\n"
                                           "var Sum = f0\n")
    return root


@pytest.fixture(scope="module")
def boxed(tmp_path_factory, go_cache):
    p = Platform(tmp_path_factory.mktemp("buildbox"), go_cache).start()
    yield p
    assert p.stop() == 0


def test_build_runs_confined_in_its_cgroup_and_still_works(boxed, tmp_path):
    _require_build_sandbox(boxed)
    boxed.ok("app", "create", "org:boxed")
    boxed.ok("draft", "save", "org:boxed", "-c", str(_heavy_app(tmp_path / "boxed")))
    build_id = boxed.json("draft", "compile", "org:boxed")["deployId"]
    builds = str(boxed.data_dir / "builds")

    compiles = []
    deadline = time.time() + 300
    while not compiles and time.time() < deadline:
        for snap in _observe(builds):
            _assert_confined(snap, boxed, build_id)
            if snap["exe"] in ("compile", "link"):
                compiles.append(snap)
        if not compiles:
            status = boxed.json("draft", "info", "org:boxed")["draft"].get("buildStatus")
            assert status in ("BUILD_STATUS_PENDING", "BUILD_STATUS_RUNNING"), \
                f"the build ended ({status}) before a compiler was seen"
            time.sleep(0.02)
    assert compiles, "no compiler process of the build was seen in 300s"
    # go build (and the compilers it runs) has no network: not ignited's network namespace.
    assert compiles[0]["net"] != _ns(boxed.proc.pid, "net"), compiles[0]

    boxed.ok("draft", "compile-logs", build_id)  # follows the log to the end of the build
    info = boxed.json("draft", "info", "org:boxed")["draft"]
    assert info["buildStatus"] == "BUILD_STATUS_SUCCEEDED", info
    boxed.ok("draft", "publish", "org:boxed")
    body = json.loads(boxed.ok("invoke", "org:boxed", "-p", "box").stdout)
    assert body["greeting"] == "hi box!"
    assert len(body["id"]) == 36
    # The build's group went away with the build.
    groups = _group_dirs(compiles[0]["cgroup"])
    assert groups and not any(g.exists() for g in groups), groups


def test_go_mod_tidy_keeps_the_network_and_cancel_empties_the_group(tmp_path, go_cache):
    proxy = StallingProxy()
    p = Platform(tmp_path, go_cache).start(env_extra={
        "GOPROXY": f"http://127.0.0.1:{proxy.port}", "GONOSUMDB": "example.com"})
    try:
        _require_build_sandbox(p)
        p.ok("app", "create", "org:stall")
        p.ok("draft", "save", "org:stall", "-c", str(stalled_app(tmp_path / "stall")))
        build_id = p.json("draft", "compile", "org:stall")["deployId"]
        builds = str(p.data_dir / "builds")
        tidy = None
        deadline = time.time() + 60
        while tidy is None:
            assert time.time() < deadline, "no go mod tidy seen in 60s"
            tidy = next((s for s in _observe(builds) if s["exe"] == "go" and "mod tidy" in s["cmd"]), None)
            time.sleep(0.05)
        _assert_confined(tidy, p, build_id)
        # It reaches the module proxy on the host's loopback: the host's network namespace.
        assert tidy["net"] == _ns(p.proc.pid, "net"), tidy
        groups = _group_dirs(tidy["cgroup"])
        assert groups and all(g.name == build_id and g.is_dir() for g in groups), groups

        p.ok("draft", "cancel", build_id)
        deadline = time.time() + 20
        while any(g.exists() for g in groups) or _observe(builds):
            assert time.time() < deadline, f"the cancelled build left {groups} / {_observe(builds)}"
            time.sleep(0.1)
        assert p.json("draft", "info", "org:stall")["draft"]["buildStatus"] == "BUILD_STATUS_CANCELLED"
    finally:
        p.stop()
        proxy.close()
