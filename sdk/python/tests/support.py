"""Test harness: the real runtime as a subprocess, started as the platform starts it, and a strict client.

Runtime starts `/usr/bin/python3.11 -I -S -B ignite_main.py` in a temporary code directory holding the
test's handler.py, with IGNITE_PYTHONPATH=<code dir>:<sdk dir>, a pre-bound listening Unix socket as fd 3
and a readiness pipe as fd 4 (direct mode), and pipes as stdout and stderr whose lines are collected.
"""

import fcntl
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import textwrap
import threading
import time
import unittest

PYTHON = "/usr/bin/python3.11"
SDK_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOOT = os.path.join(SDK_DIR, "ignite_main.py")
TIMEOUT = 10.0  # generous bound for anything that should take milliseconds (2 slow cores)
TAG = re.compile(rb"^\x1eexec=([^\x1e]*)\x1e")


def tag(execution_id):
    """The prefix the runtime puts on a line of execution_id."""
    return b"\x1eexec=" + execution_id.encode() + b"\x1e"


class Lines:
    """Collects the lines a pipe carries, in a thread; tests wait for the ones they expect."""

    def __init__(self, fd):
        self._lines = []
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._read, args=(fd,), daemon=True)
        self._thread.start()

    def _read(self, fd):
        with open(fd, "rb") as f:
            for line in f:
                with self._cond:
                    self._lines.append(line.rstrip(b"\n"))
                    self._cond.notify_all()
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def snapshot(self):
        with self._cond:
            return list(self._lines)

    def wait_for(self, needle, timeout=TIMEOUT):
        """The first line containing needle (bytes); AssertionError after timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self._lines:
                    if needle in line:
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    raise AssertionError(f"no line with {needle!r} in {self._lines!r}")
                self._cond.wait(left)

    def wait_closed(self, timeout=TIMEOUT):
        self._thread.join(timeout)
        return list(self._lines)

    def text(self):
        return b"\n".join(self.snapshot()).decode("utf-8", "replace")


def write_code(source, files=None):
    """A temporary code directory with handler.py = source (dedented) and other files {name: text}."""
    code_dir = tempfile.mkdtemp(prefix="ignite-sdk-test-")
    files = dict(files or {})
    if source is not None:
        files["handler.py"] = source
    for name, text in files.items():
        with open(os.path.join(code_dir, name), "w") as f:
            f.write(textwrap.dedent(text))
    return code_dir


class Runtime:
    """A runtime process. fds: {child fd: parent fd} placed in the child before exec (e.g. 3 and 4).
    argv: the command, by default the runtime's."""

    def __init__(self, code_dir, env, fds, argv=None):
        self.code_dir = code_dir
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        full_env = {"PATH": "/usr/bin:/bin", "IGNITE_PYTHONPATH": f"{code_dir}:{SDK_DIR}", **env}

        def place_fds():
            # In the child before exec (pass_fds would keep the parent's numbers, not 3 and 4). Through
            # high descriptors first: a source may itself be 3 or 4. dup2's targets are inheritable; every
            # other descriptor of this test process is close-on-exec (Python's default), so close_fds=False
            # passes exactly these.
            moved = {target: fcntl.fcntl(source, fcntl.F_DUPFD_CLOEXEC, 100) for target, source in fds.items()}
            for target, source in moved.items():
                os.dup2(source, target)

        self.proc = subprocess.Popen(
            argv or [PYTHON, "-I", "-S", "-B", BOOT], cwd=code_dir, env=full_env, stdin=subprocess.DEVNULL,
            stdout=out_w, stderr=err_w, close_fds=False, preexec_fn=place_fds)
        os.close(out_w)
        os.close(err_w)
        self.stdout = Lines(out_r)
        self.stderr = Lines(err_r)

    def wait(self, timeout=TIMEOUT):
        """The exit status (negative: killed by that signal)."""
        return self.proc.wait(timeout)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(TIMEOUT)


class DirectRuntime(Runtime):
    """A runtime in direct mode on a Unix socket, ready once started (its ready byte read)."""

    def __init__(self, source, env=None, files=None, wait_ready=True, argv=None):
        self.code_dir = write_code(source, files)
        self.socket_path = os.path.join(self.code_dir, "instance.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(self.socket_path)
        listener.listen(64)
        ready_r, ready_w = os.pipe()
        try:
            super().__init__(self.code_dir, {"IGNITE_LISTEN_FD": "3", "IGNITE_READY_FD": "4", **(env or {})},
                             {3: listener.fileno(), 4: ready_w}, argv)
        finally:
            listener.close()  # the instance has its own copy; connections reach it through the path
            os.close(ready_w)
        self.ready_r = ready_r
        self.ready = None
        if wait_ready:
            self.wait_ready()

    def wait_ready(self):
        """The readiness byte (b"" if the process exited without one)."""
        if self.ready is None:
            self.ready = os.read(self.ready_r, 1)
            os.close(self.ready_r)
        return self.ready

    def connect(self):
        return Client(self.socket_path)

    def call(self, body=b"", case=None, headers=None, method="POST", path="/"):
        """One request on a new connection; returns a Response."""
        with self.connect() as client:
            return client.call(body, case, headers, method, path)

    def close(self):
        self.stop()
        shutil.rmtree(self.code_dir, ignore_errors=True)


class DirectRuntimeTest(unittest.TestCase):
    """A test case sharing one DirectRuntime of the class attribute HANDLER (source text) across its tests."""

    HANDLER = None

    @classmethod
    def setUpClass(cls):
        cls.rt = DirectRuntime(cls.HANDLER)
        assert cls.rt.ready == b"1", cls.rt.stderr.text()

    @classmethod
    def tearDownClass(cls):
        cls.rt.close()


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # {lower-case name: value}
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"Response({self.status}, {self.headers}, {self.body[:300]!r})"


class Client:
    """A strict HTTP/1.1 client on one Unix-socket connection: it never reconnects behind the test's back
    and requires Content-Length on every answer."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect(path)
        self.rfile = self.sock.makefile("rb")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.rfile.close()
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data)

    def call(self, body=b"", case=None, headers=None, method="POST", path="/"):
        fields = {"Host": "instance", "Content-Length": str(len(body))}
        if case is not None:
            fields["X-Case"] = case
        fields.update(headers or {})
        head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n"
        self.send(head.encode() + body)
        return self.read_response(head_only=method == "HEAD")

    def read_response(self, head_only=False):
        status_line = self.rfile.readline()
        if not status_line:
            raise ConnectionError("the connection closed before an answer")
        version, status, _ = status_line.decode().split(" ", 2)
        assert version == "HTTP/1.1", status_line
        headers = {}
        while True:
            line = self.rfile.readline().decode()
            if line in ("\r\n", ""):
                break
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
        assert "content-length" in headers, headers
        body = b"" if head_only else self.rfile.read(int(headers["content-length"]))
        return Response(int(status), headers, body)

    def at_eof(self, timeout=TIMEOUT):
        """Whether the server closed the connection (waits up to timeout for it)."""
        self.sock.settimeout(timeout)
        try:
            return self.rfile.read(1) == b""
        except (socket.timeout, ConnectionResetError):
            return False


def wait_until(predicate, timeout=TIMEOUT, interval=0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def process_gone(pid):
    """Whether pid no longer runs (gone, or a zombie waiting for whoever reaps it)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def kill_quietly(pid, sig=signal.SIGKILL):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
