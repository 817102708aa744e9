"""Fixtures for end-to-end tests: a real ignited on a free loopback port with a temporary data dir, driven
through the real dodil CLI. Nothing here is faked; only the Go build cache is shared between servers so each
test module does not recompile the standard library."""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("IGNITE_BUILD_DIR", REPO / "build"))
BIN = BUILD / "bin"
HELLO = (Path(__file__).parent / "apps" / "hello").resolve()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Platform:
    """One running ignited plus a CLI environment pointing at it."""

    def __init__(self, root: Path, go_cache: Path):
        self.root = root
        self.data_dir = root / "data"
        self.config_dir = root / "cli"
        self.go_cache = go_cache
        self.port = None
        self.proc = None
        self.log_path = root / "ignited.log"

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, env_extra=None):
        self.port = free_port()
        self.grpc_port = free_port()
        env = dict(os.environ)
        env.update(env_extra or {})
        env["DODIL_CONFIG_DIR"] = str(self.config_dir)
        env["IGNITE_GO_CACHE_DIR"] = str(self.go_cache)
        # Python wheels too: each requirements.txt is fetched from the index once per test session.
        env["IGNITE_PYTHON_CACHE_DIR"] = str(self.go_cache / "python")
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [str(BIN / "ignited"), "--listen", f"127.0.0.1:{self.port}",
             "--grpc-listen", f"127.0.0.1:{self.grpc_port}", "--data-dir", str(self.data_dir)],
            stdout=self.log, stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ignited exited with {self.proc.returncode}:\n{self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(self.endpoint + "/v1/ignite/health", timeout=1) as r:
                    if r.status == 200:
                        return self._wait_for_cli_config(deadline)
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("ignited did not become healthy in 30s:\n" + self.log_path.read_text())

    def _wait_for_cli_config(self, deadline):
        # ignited writes the CLI config just after it starts serving; CLI calls made before would find none.
        config = self.config_dir / "config.yaml"
        while time.time() < deadline:
            try:
                if self.endpoint in config.read_text():
                    break
            except OSError:
                pass
            time.sleep(0.01)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise
        if self.proc:
            self.log.close()
        return self.proc.returncode if self.proc else None

    def token(self):
        return (self.data_dir / "admin-token").read_text().strip()

    def artifact_pids(self, sha256):
        """Pids of the processes running the artifact with this hash. Sandboxed instances see their artifact
        as /app/handler, so processes are matched by the executable's inode, not its path."""
        blob = self.data_dir / "blobs" / "sha256" / sha256[:2] / sha256[2:]
        want = os.stat(blob)
        out = []
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    st = os.stat(f"/proc/{pid}/exe")
                except OSError:
                    continue
                if (st.st_dev, st.st_ino) == (want.st_dev, want.st_ino):
                    out.append(pid)
        return out

    def cli(self, *args, input_bytes=None, check=None, timeout=300, env_extra=None):
        """Runs `dodil ignite <args>`; returns CompletedProcess with bytes stdout/stderr."""
        env = dict(os.environ)
        for k in ("DODIL_TOKEN", "IGNITE_TOKEN", "IGNITE_API_ENDPOINT", "IGNITE_ORG_ID", "IGNITE_ORG_NAME"):
            env.pop(k, None)
        env["DODIL_CONFIG_DIR"] = str(self.config_dir)
        if env_extra:
            env.update(env_extra)
        p = subprocess.run([str(BIN / "dodil"), "ignite", *args], input=input_bytes, capture_output=True,
                           env=env, timeout=timeout)
        if check is True and p.returncode != 0:
            raise AssertionError(f"dodil ignite {' '.join(args)} exited {p.returncode}:\n"
                                 f"stdout: {p.stdout.decode(errors='replace')}\n"
                                 f"stderr: {p.stderr.decode(errors='replace')}\n"
                                 f"ignited log tail:\n{self.log_path.read_text()[-3000:]}")
        return p

    def ok(self, *args, **kw):
        return self.cli(*args, check=True, **kw)

    def json(self, *args):
        return json.loads(self.ok("-o", "json", *args).stdout)

    def http(self, method, path, body=None, token="default", headers=None):
        """Plain HTTP call to the API; returns (status, headers, body bytes)."""
        req = urllib.request.Request(self.endpoint + path, data=body, method=method)
        if token == "default":
            token = self.token()
        if token:
            req.add_header("Authorization", "Bearer " + token)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=300) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def on_host(self, host, method="POST", path="/", body=b"", token="default", headers=None, timeout=120):
        """A call with the given Host header (a per-app URL: "<app>-<org>.<base domain>"), sent as is over
        http.client (urllib would rewrite it); returns (status, lower-cased headers, body bytes)."""
        h = {"Host": host}
        if token == "default":
            token = self.token()
        if token:
            h["Authorization"] = "Bearer " + token
        h.update(headers or {})
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()


@pytest.fixture(scope="session")
def go_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("gocache")


@pytest.fixture(scope="module")
def platform(tmp_path_factory, go_cache):
    p = Platform(tmp_path_factory.mktemp("platform"), go_cache).start()
    yield p
    rc = p.stop()
    assert rc == 0, f"ignited exited with {rc} on SIGTERM"


def write_app(dst: Path, greeting="Hello", extra=""):
    """A copy of the seed hello app with a configurable greeting word."""
    dst.mkdir(parents=True, exist_ok=True)
    src = (HELLO / "main.go").read_text().replace('"Hello, "', f'"{greeting}, "')
    if extra:
        src = src.replace("func main() {", extra + "\nfunc main() {")
    (dst / "main.go").write_text(src)
    shutil.copy(HELLO / "go.mod", dst / "go.mod")
    return dst
