"""Issue 3 items 1-4: real dependencies, the artifact, the draft workflow, and bounded builds. Builds that must
stay busy use a module proxy on loopback that accepts connections and never answers, so timing does not
depend on how fast this machine compiles."""

import hashlib
import io
import json
import os
import signal
import socket
import struct
import subprocess
import threading
import time
import zipfile
from pathlib import Path

import pytest

from conftest import BIN, HELLO, Platform, free_port, write_app

UUID_APP = '''package main

import (
	"encoding/json"
	"ignite"

	"github.com/google/uuid"

	"deps/greet"
)

func handler(payload []byte, ctx *ignite.Context) ([]byte, error) {
	return json.Marshal(map[string]string{"id": uuid.NewString(), "greeting": greet.Hello(string(payload))})
}

func main() {
	ignite.Start(handler)
}
'''

GREET = '''package greet

// Hello lives in a local sub-package of the user's module.
func Hello(name string) string { return "hi " + name + helper() }
'''

GREET_HELPER = '''package greet

func helper() string { return "!" }
'''


def deps_app(root: Path, gosum: str = None):
    root.mkdir(parents=True, exist_ok=True)
    (root / "main.go").write_text(UUID_APP)
    (root / "go.mod").write_text("module deps\n\ngo 1.26\n\nrequire github.com/google/uuid v1.6.0\n")
    (root / "greet").mkdir(exist_ok=True)
    (root / "greet" / "greet.go").write_text(GREET)
    (root / "greet" / "helper.go").write_text(GREET_HELPER)
    if gosum is not None:
        (root / "go.sum").write_text(gosum)
    return root


def test_real_dependencies_and_local_packages(platform, tmp_path):
    platform.ok("app", "create", "org:deps")
    platform.ok("draft", "save", "org:deps", "-c", str(deps_app(tmp_path / "deps")))
    platform.ok("draft", "publish", "org:deps")
    body = json.loads(platform.ok("invoke", "org:deps", "-p", "bob").stdout)
    assert body["greeting"] == "hi bob!"
    assert len(body["id"]) == 36 and body["id"].count("-") == 4


def test_go_sum_is_verified(platform, tmp_path):
    bad = ("github.com/google/uuid v1.6.0 h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
           "github.com/google/uuid v1.6.0/go.mod h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
    platform.ok("app", "create", "org:tampered")
    platform.ok("draft", "save", "org:tampered", "-c", str(deps_app(tmp_path / "t", gosum=bad)))
    p = platform.cli("draft", "publish", "org:tampered")
    assert p.returncode == 2, p.stderr
    assert b"checksum mismatch" in p.stderr or b"SECURITY ERROR" in p.stderr, p.stderr
    assert platform.json("version", "list", "org:tampered").get("versions", []) == []


def test_user_go_mod_cannot_replace_the_bundled_sdk(platform, tmp_path):
    app = write_app(tmp_path / "pinned")
    (app / "go.mod").write_text("module pinned\n\ngo 1.26\n\nrequire ignite v1.2.3\n\nreplace ignite => ./nowhere\n")
    platform.ok("app", "create", "org:pinned")
    platform.ok("draft", "save", "org:pinned", "-c", str(app))
    platform.ok("draft", "publish", "org:pinned")
    assert json.loads(platform.ok("invoke", "org:pinned", "-p", "{}").stdout)["greeting"] == "Hello, world!"
    build_id = platform.json("draft", "info", "org:pinned")["draft"]["deployId"]
    status, _, raw = platform.http("GET", f"/v1/ignite/app/org/pinned/builds/{build_id}/log")
    assert status == 200
    rec = json.loads(raw)
    assert rec["sdkVersion"] == (Path(__file__).resolve().parents[2] / "sdk/go/VERSION").read_text().strip()


def _elf_facts(path: Path):
    data = path.read_bytes()
    assert data[:4] == b"\x7fELF"
    ei_class, ei_data = data[4], data[5]
    e_type, e_machine = struct.unpack_from("<HH", data, 16)
    e_phoff, e_shoff = struct.unpack_from("<QQ", data, 32)
    e_phentsize, e_phnum, e_shentsize, e_shnum = struct.unpack_from("<HHHH", data, 54)
    p_types = [struct.unpack_from("<I", data, e_phoff + i * e_phentsize)[0] for i in range(e_phnum)]
    s_types = [struct.unpack_from("<I", data, e_shoff + i * e_shentsize + 4)[0] for i in range(e_shnum)]
    return {"class64": ei_class == 2, "little": ei_data == 1, "exec": e_type == 2, "x86_64": e_machine == 62,
            "interp": 3 in p_types, "dynamic": 2 in p_types, "symtab": 2 in s_types}


def test_artifact_is_static_stripped_and_reproducible(platform, tmp_path):
    src = write_app(tmp_path / "repro")
    for name in ("repro-a", "repro-b"):
        platform.ok("app", "create", f"org:{name}")
        platform.ok("draft", "save", f"org:{name}", "-c", str(src))
        platform.ok("draft", "publish", f"org:{name}")
    a = platform.json("version", "get", "org:repro-a", "1")["versionInfo"]
    b = platform.json("version", "get", "org:repro-b", "1")["versionInfo"]
    assert a["artifactSha256"] == b["artifactSha256"]
    artifact = next(p for p in (platform.data_dir / "blobs").rglob("*") if p.is_file()
                    and a["artifactSha256"].endswith(p.name))
    assert hashlib.sha256(artifact.read_bytes()).hexdigest() == a["artifactSha256"]
    assert int(a["artifactSizeBytes"]) == artifact.stat().st_size
    facts = _elf_facts(artifact)
    assert facts == {"class64": True, "little": True, "exec": True, "x86_64": True,
                     "interp": False, "dynamic": False, "symtab": False}


def test_draft_workflow(platform, tmp_path):
    platform.ok("app", "create", "org:flow")
    v1 = write_app(tmp_path / "v1", greeting="One")
    zip_path = tmp_path / "v1.zip"
    with zipfile.ZipFile(zip_path, "w") as zf:
        for f in ("main.go", "go.mod"):
            zf.write(v1 / f, f)
    platform.ok("draft", "save", "org:flow", "-c", str(zip_path))
    # compile --follow streams the build's log and ends when the build does.
    p = platform.ok("draft", "compile", "org:flow", "--follow")
    assert b"go build" in p.stdout, p.stdout
    info = platform.json("draft", "info", "org:flow")["draft"]
    assert info["buildStatus"] == "BUILD_STATUS_SUCCEEDED"
    assert info["codeHash"] == hashlib.sha256(zip_path.read_bytes()).hexdigest()
    # The persisted log replays after the fact.
    replay = platform.ok("draft", "compile-logs", info["deployId"]).stdout
    assert b"go build" in replay
    # draft test runs the draft without publishing it.
    out = platform.ok("draft", "test", "org:flow", "-p", '{"name":"t"}').stdout
    assert json.loads(out)["greeting"] == "One, t!"
    assert platform.json("version", "list", "org:flow").get("versions", []) == []
    platform.ok("draft", "publish", "org:flow")
    platform.ok("draft", "save", "org:flow", "-c", str(write_app(tmp_path / "v2", greeting="Two")))
    platform.ok("draft", "publish", "org:flow")
    # version test runs an older version without making it active.
    assert json.loads(platform.ok("version", "test", "org:flow", "1", "-p", "{}").stdout)["greeting"] == "One, world!"
    assert json.loads(platform.ok("invoke", "org:flow", "-p", "{}").stdout)["greeting"] == "Two, world!"
    # version code gives back exactly what was saved.
    out_file = tmp_path / "code.zip"
    platform.ok("version", "code", "org:flow", "--version", "1", "-O", str(out_file))
    assert out_file.read_bytes() == zip_path.read_bytes()


class StallingProxy:
    """A Go module proxy that accepts connections and never answers: `go mod tidy` waits on it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]

    def close(self):
        self.sock.close()


def stalled_app(root: Path):
    root.mkdir(parents=True, exist_ok=True)
    (root / "main.go").write_text((HELLO / "main.go").read_text().replace(
        '"ignite"', '"ignite"\n\n\t_ "example.com/stall/never"'))
    (root / "go.mod").write_text("module stalled\n\ngo 1.26\n\nrequire example.com/stall/never v1.0.0\n")
    return root


@pytest.fixture(scope="module")
def stalling(tmp_path_factory, go_cache):
    proxy = StallingProxy()
    p = Platform(tmp_path_factory.mktemp("bounded"), go_cache)
    os.environ["IGNITE_TEST_SAVED_GOPROXY"] = os.environ.get("GOPROXY", "")
    env_before = dict(os.environ)
    os.environ["GOPROXY"] = f"http://127.0.0.1:{proxy.port}"
    os.environ["GONOSUMDB"] = "example.com"
    os.environ["IGNITE_MAX_BUILDS"] = "1"
    try:
        p.start()
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    yield p, proxy
    p.stop()
    proxy.close()


def test_builds_queue_and_cancel(stalling, tmp_path):
    p, _ = stalling
    p.ok("app", "create", "org:stuck")
    p.ok("draft", "save", "org:stuck", "-c", str(stalled_app(tmp_path / "stuck")))
    first = p.json("draft", "compile", "org:stuck")
    p.ok("app", "create", "org:waiting")
    p.ok("draft", "save", "org:waiting", "-c", str(write_app(tmp_path / "waiting")))
    second = p.json("draft", "compile", "org:waiting")
    assert second["status"] == "BUILD_STATUS_PENDING"
    assert second["queuePosition"] == 1
    info = p.json("draft", "info", "org:waiting")["draft"]
    assert info["queuePosition"] == 1
    # Cancelling the stuck build frees the slot; the waiting one then builds.
    p.ok("draft", "cancel", first["deployId"])
    stuck = p.json("draft", "info", "org:stuck")["draft"]
    assert stuck["buildStatus"] == "BUILD_STATUS_CANCELLED"
    p.ok("draft", "compile-logs", second["deployId"])
    assert p.json("draft", "info", "org:waiting")["draft"]["buildStatus"] == "BUILD_STATUS_SUCCEEDED"
    # A queued build can be cancelled too.
    p.ok("draft", "save", "org:stuck", "-c", str(stalled_app(tmp_path / "stuck2") ))
    again = p.json("draft", "compile", "org:stuck")
    p.ok("draft", "save", "org:waiting", "-c", str(write_app(tmp_path / "waiting2", greeting="Later")))
    queued = p.json("draft", "compile", "org:waiting")
    assert queued["status"] == "BUILD_STATUS_PENDING"
    p.ok("draft", "cancel", queued["deployId"])
    assert p.json("draft", "info", "org:waiting")["draft"]["buildStatus"] == "BUILD_STATUS_CANCELLED"
    p.ok("draft", "cancel", again["deployId"])


def _processes_in(directory):
    """Processes whose working directory is under `directory` (a build's go, compile, link...)."""
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if os.readlink(f"/proc/{pid}/cwd").startswith(directory):
                    found.append((pid, open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ")[:80]))
            except OSError:
                pass
    return found


def test_build_timeout_and_restart_mid_build(tmp_path, go_cache):
    proxy = StallingProxy()
    p = Platform(tmp_path, go_cache).start(env_extra={
        "GOPROXY": f"http://127.0.0.1:{proxy.port}", "GONOSUMDB": "example.com", "IGNITE_BUILD_TIMEOUT_SECS": "2"})
    try:
        p.ok("app", "create", "org:slow")
        p.ok("draft", "save", "org:slow", "-c", str(stalled_app(tmp_path / "slow")))
        r = p.cli("draft", "publish", "org:slow")
        assert r.returncode == 8, r.stderr  # DeadlineExceeded
        assert b"2s limit" in r.stderr, r.stderr
        assert p.json("draft", "info", "org:slow")["draft"]["buildStatus"] == "BUILD_STATUS_FAILED"
        assert p.stop() == 0
        # Restart without the timeout, then kill -9 in the middle of a build.
        p.start(env_extra={"GOPROXY": f"http://127.0.0.1:{proxy.port}", "GONOSUMDB": "example.com"})
        deploy = p.json("draft", "compile", "org:slow")["deployId"]
        deadline = time.time() + 10
        while p.json("draft", "info", "org:slow")["draft"]["buildStatus"] != "BUILD_STATUS_RUNNING":
            assert time.time() < deadline
            time.sleep(0.05)
        builds = str(p.data_dir / "builds")
        # Wait for the step that hangs on the stalled module download, so go is busy when ignited dies.
        deadline = time.time() + 20
        while not any(b"tidy" in cmd or b"download" in cmd for _, cmd in _processes_in(builds)):
            assert time.time() < deadline, f"no go mod tidy/download running: {_processes_in(builds)}"
            time.sleep(0.05)
        time.sleep(1)  # past its progress lines: go now waits silently (a write would end it with EPIPE)
        p.proc.send_signal(signal.SIGKILL)
        p.proc.wait()
        p.log.close()
        # No build process outlives ignited, even killed with -9 (issue 4 item 6).
        deadline = time.time() + 10
        while _processes_in(builds):
            assert time.time() < deadline, f"build processes survived kill -9 of ignited: {_processes_in(builds)}"
            time.sleep(0.1)
        p.start()
        info = p.json("draft", "info", "org:slow")["draft"]
        assert info["deployId"] == deploy
        assert info["buildStatus"] == "BUILD_STATUS_FAILED"
        assert "ignited stopped" in info["error"]
        assert p.json("version", "list", "org:slow").get("versions", []) == []
    finally:
        p.stop()
        proxy.close()


def test_concurrent_builds_share_the_cache_safely(platform, tmp_path):
    from concurrent.futures import ThreadPoolExecutor
    names = [f"par{i}" for i in range(3)]
    for i, name in enumerate(names):
        root = deps_app(tmp_path / name)
        (root / "greet" / "helper.go").write_text(GREET_HELPER.replace('"!"', f'"!{i}"'))
        platform.ok("app", "create", f"org:{name}")
        platform.ok("draft", "save", f"org:{name}", "-c", str(root))
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda n: platform.cli("draft", "publish", f"org:{n}"), names))
    assert [r.returncode for r in results] == [0, 0, 0], [r.stderr for r in results]
    for i, name in enumerate(names):
        body = json.loads(platform.ok("invoke", f"org:{name}", "-p", "x").stdout)
        assert body["greeting"] == f"hi x!{i}"
