"""Measures the runtime's start: exec -> readiness byte (direct mode), and fork request -> child's readiness
byte (zygote mode), each the median of N runs, plus the first answer and the imports at start.

    /usr/bin/python3.11 -I -S tools/bench_startup.py [runs]        (in sdk/python)

Like the platform's builder (src/build/python/python_builder.cc), it copies the SDK and a hello handler
into a tree and byte-compiles it (unchecked-hash pycs), then runs `python3.11 -I -S -B` on that tree, so
nothing is compiled at start.
"""

import array
import fcntl
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

PYTHON = "/usr/bin/python3.11"
SDK = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HELLO = "def handler(payload, ctx):\n    return b'hello'\n"
REQUEST = b"POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n"


def make_tree():
    tree = tempfile.mkdtemp(prefix="ignite-bench-")
    os.makedirs(os.path.join(tree, "app"))
    with open(os.path.join(tree, "app", "handler.py"), "w") as f:
        f.write(HELLO)
    os.makedirs(os.path.join(tree, "sdk"))
    shutil.copytree(os.path.join(SDK, "ignite"), os.path.join(tree, "sdk", "ignite"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("ignite_main.py", "VERSION"):
        shutil.copy(os.path.join(SDK, name), os.path.join(tree, "sdk", name))
    subprocess.run([PYTHON, "-I", "-S", "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash",
                    os.path.join(tree, "app"), os.path.join(tree, "sdk")], check=True)
    return tree


def high(fd):
    """fd moved to >= 20 (close-on-exec), clear of the 3 and 4 children get."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 20)
    os.close(fd)
    return moved


def spawn(tree, env, fds, extra=()):
    """Starts the runtime with fds {target: source} placed in the child."""
    def place():  # through high descriptors: a source may itself be 3 or 4
        moved = {target: fcntl.fcntl(source, fcntl.F_DUPFD_CLOEXEC, 100) for target, source in fds.items()}
        for target, source in moved.items():
            os.dup2(source, target)
    return subprocess.Popen([PYTHON, "-I", "-S", "-B", *extra, os.path.join(tree, "sdk", "ignite_main.py")],
                            cwd=os.path.join(tree, "app"), close_fds=False, preexec_fn=place,
                            env={"PATH": "/usr/bin:/bin", "IGNITE_PYTHONPATH": f"{tree}/app:{tree}/sdk", **env},
                            stderr=subprocess.PIPE if extra else subprocess.DEVNULL)


def listener(path):
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(16)
    return s


def first_answer(path):
    with socket.socket(socket.AF_UNIX) as c:
        c.connect(path)
        c.sendall(REQUEST)
        assert b"hello" in c.recv(4096)


def direct_once(tree, extra=()):
    path = os.path.join(tree, "direct.sock")
    ls = listener(path)
    r, w = os.pipe()
    r, w = high(r), high(w)
    start = time.perf_counter()
    proc = spawn(tree, {"IGNITE_LISTEN_FD": "3", "IGNITE_READY_FD": "4"}, {3: ls.fileno(), 4: w}, extra)
    ls.close()
    os.close(w)
    assert os.read(r, 1) == b"1"
    ready = time.perf_counter()
    first_answer(path)
    answered = time.perf_counter()
    os.close(r)
    proc.terminate()
    _, err = proc.communicate()
    return (ready - start) * 1000, (answered - start) * 1000, err


def zygote_runs(tree, runs):
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    r, w = os.pipe()
    r, w = high(r), high(w)
    start = time.perf_counter()
    proc = spawn(tree, {"IGNITE_ZYGOTE_FD": "3", "IGNITE_READY_FD": "4"}, {3: theirs.fileno(), 4: w})
    theirs.close()
    os.close(w)
    assert os.read(r, 1) == b"1"
    zygote_ready = (time.perf_counter() - start) * 1000
    os.close(r)
    forks = []
    devnull = os.open(os.devnull, os.O_WRONLY)
    for i in range(runs):
        path = os.path.join(tree, f"child{i}.sock")
        ls = listener(path)
        cr, cw = os.pipe()
        start = time.perf_counter()
        ours.sendmsg([b"fork bench-%d" % i], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                                array.array("i", [ls.fileno(), cw, devnull, devnull]))])
        ls.close()
        os.close(cw)
        assert os.read(cr, 1) == b"1"
        ready = time.perf_counter()
        first_answer(path)
        forks.append(((ready - start) * 1000, (time.perf_counter() - start) * 1000))
        os.close(cr)
    ours.close()  # the zygote kills its children and exits
    proc.wait(10)
    os.close(devnull)
    return zygote_ready, forks


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    tree = make_tree()
    try:
        direct = [direct_once(tree) for _ in range(runs)]
        print(f"direct mode, exec -> ready byte: median {statistics.median(d[0] for d in direct):.1f} ms, "
              f"-> first answer: {statistics.median(d[1] for d in direct):.1f} ms "
              f"(runs: {' '.join(f'{d[0]:.1f}' for d in direct)})")
        zygote_ready, forks = zygote_runs(tree, runs)
        print(f"zygote start, exec -> ready byte: {zygote_ready:.1f} ms")
        print(f"zygote fork, request -> child's ready byte: median {statistics.median(f[0] for f in forks):.1f} ms,"
              f" -> first answer: {statistics.median(f[1] for f in forks):.1f} ms "
              f"(runs: {' '.join(f'{f[0]:.1f}' for f in forks)})")
        err = direct_once(tree, ("-X", "importtime"))[2].decode()
        rows = [line for line in err.splitlines() if line.startswith("import time:") and "cumulative" not in line]
        rows.sort(key=lambda line: -int(line.split("|")[0].split(":")[1]))
        print(f"imports at start (direct mode): {len(rows)} modules; by self time (us):")
        print("\n".join(rows[:15]))
    finally:
        shutil.rmtree(tree, ignore_errors=True)


if __name__ == "__main__":
    main()
