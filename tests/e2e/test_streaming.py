"""Issue 3 item 5 and issue 4 item 2: bodies stream through ignited in both directions, on the NDJSON invoke
route and on the per-app URL, so ignited never holds a whole payload or answer.

Each check resets ignited's peak resident memory (/proc/PID/clear_refs), moves 128 MiB through it, and asserts
the peak grew by far less than that. Its own ignited (module-scoped platform) keeps other tests' traffic out
of the measurement."""

import base64
import hashlib
import http.client
import json
import socket
from pathlib import Path

import pytest

from test_go_contract import http_invoke

APP_DIR = (Path(__file__).parent / "apps" / "contract").resolve()
MIB = 1 << 20
SIZE = 128 * MIB
# Generous for buffers, allocator slack and other work, yet far below one copy of the 128 MiB body.
MAX_GROWTH = 48 * MIB


def _kib(pid, field):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"{field} missing from /proc/{pid}/status")


def reset_peak(pid):
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets VmHWM to the current RSS
    return _kib(pid, "VmRSS")


def peak_growth(pid, baseline):
    return _kib(pid, "VmHWM") - baseline


def pieces(total, piece=1 * MIB):
    """The body as a generator (sent chunked), every byte value at every offset modulo 256."""
    block = bytes(range(256)) * (piece // 256)
    sent = 0
    while sent < total:
        n = min(piece, total - sent)
        yield block[:n]
        sent += n


def expected_sha(total):
    h = hashlib.sha256()
    for p in pieces(total):
        h.update(p)
    return h.hexdigest()


@pytest.fixture(scope="module")
def contract(platform):
    # The handler holds the whole 128 MiB payload (and a growing copy while it reads it): more than the
    # default tier's 256 MB, and a body over the default 100 MB body limit.
    platform.ok("app", "create", "contract", "--runtime", "go", "--memory", "1024", "--body-limit-mb", "256")
    platform.ok("draft", "save", "org:contract", "-c", str(APP_DIR))
    platform.ok("draft", "publish", "org:contract")
    assert platform.ok("invoke", "org:contract", "-p", "warm").stdout == b"warm"
    return platform


def post_chunked(platform, path, headers):
    conn = http.client.HTTPConnection("127.0.0.1", int(platform.endpoint.rsplit(":", 1)[1]), timeout=300)
    conn.request("POST", path, body=pieces(SIZE), encode_chunked=True,
                 headers={"Authorization": "Bearer " + platform.token(), **headers})
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, body


def test_a_128mib_request_body_streams_through_the_invoke_route(contract):
    pid = contract.proc.pid
    baseline = reset_peak(pid)
    status, raw = post_chunked(contract, "/v1/ignite/app/org/contract/invoke", {"X-Mode": "context"})
    assert status == 200, raw[:500]
    frames = [json.loads(line) for line in raw.decode().splitlines() if line.strip()]
    assert frames[0]["result"]["head"]["status"] == 200, frames
    body = b"".join(base64.b64decode(f["result"]["chunk"]["data"]) for f in frames if "chunk" in f["result"])
    ctx = json.loads(body)
    assert ctx["payloadLen"] == SIZE
    assert ctx["payloadSha256"] == expected_sha(SIZE)
    growth = peak_growth(pid, baseline)
    assert growth < MAX_GROWTH, f"ignited's peak memory grew by {growth / MIB:.1f} MiB for a 128 MiB request"


def test_a_128mib_request_body_streams_through_the_per_app_url(contract):
    pid = contract.proc.pid
    baseline = reset_peak(pid)
    status, raw = post_chunked(contract, "/", {"X-Mode": "context", "Host": "contract-org.ignite.localhost"})
    assert status == 200, raw[:500]
    ctx = json.loads(raw)
    assert ctx["payloadLen"] == SIZE
    assert ctx["payloadSha256"] == expected_sha(SIZE)
    growth = peak_growth(pid, baseline)
    assert growth < MAX_GROWTH, f"ignited's peak memory grew by {growth / MIB:.1f} MiB for a 128 MiB request"


def test_a_128mib_answer_streams_through_the_invoke_route(contract):
    pid = contract.proc.pid
    baseline = reset_peak(pid)
    r = http_invoke(contract, b"big:128", headers={"X-Mode": "big"}, app="contract")
    assert r["http_status"] == 200 and r["head"]["status"] == 200, r["raw"][:500]
    pattern = bytes(i % 251 for i in range(251))
    assert r["body"] == (pattern * (SIZE // 251 + 1))[:SIZE]
    assert r["chunks"] > 1
    growth = peak_growth(pid, baseline)
    assert growth < MAX_GROWTH, f"ignited's peak memory grew by {growth / MIB:.1f} MiB for a 128 MiB answer"


def test_expect_100_continue_is_answered_before_the_body(contract):
    """curl and other clients send `Expect: 100-continue` with large bodies and wait for the go-ahead."""
    port = int(contract.endpoint.rsplit(":", 1)[1])
    body = b"x" * 4096
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall((f"POST /v1/ignite/app/org/contract/invoke HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   f"Authorization: Bearer {contract.token()}\r\nContent-Length: {len(body)}\r\n"
                   f"Expect: 100-continue\r\n\r\n").encode())
        first = s.recv(64)  # blocks (up to the timeout) unless the server says go ahead
        assert first.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), first
        s.sendall(body)
        rest = b""
        while b'"trailer"' not in rest:
            chunk = s.recv(65536)
            assert chunk, rest
            rest += chunk
    assert rest.startswith(b"HTTP/1.1 200 OK\r\n"), rest[:200]
    chunks = [json.loads(line)["result"]["chunk"]["data"] for line in rest.split(b"\n")
              if line.startswith(b'{"result":{"chunk"')]
    assert base64.b64decode("".join(chunks)) == body  # the contract app echoes its payload
