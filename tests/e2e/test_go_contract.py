"""Issue 3 item 5: the Go handler contract end to end, through the CLI and the HTTP invoke route.

One app (apps/contract) serves every case; the X-Mode request header picks the behaviour."""

import base64
import hashlib
import json
import os
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

APP = "contract"
APP_ID = f"org:{APP}"
APP_DIR = (Path(__file__).parent / "apps" / "contract").resolve()
ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
MIB = 1 << 20


def _hget(headers, name):
    """Case-insensitive lookup in a dict of headers."""
    for k, v in headers.items():
        if k.lower() == name.lower():
            return v
    return None


def http_invoke(platform, body=b"", headers=None, app=APP):
    """POST /v1/ignite/app/org/<app>/invoke; returns a dict with the HTTP status and headers of the call, and the
    decoded NDJSON frames: head, body (chunks joined), trailer, error."""
    status, resp_headers, raw = platform.http("POST", f"/v1/ignite/app/org/{app}/invoke", body, headers=headers)
    out = {"http_status": status, "headers": resp_headers, "raw": raw, "head": None, "body": b"",
           "trailer": None, "error": None, "chunks": 0}
    if status != 200:
        return out
    body = []
    for line in raw.decode().splitlines():
        if not line.strip():
            continue
        frame = json.loads(line)
        if "error" in frame:
            out["error"] = frame["error"]
            continue
        result = frame["result"]
        if "head" in result:
            out["head"] = result["head"]
        elif "chunk" in result:
            body.append(base64.b64decode(result["chunk"].get("data", "")))
            out["chunks"] += 1
        elif "trailer" in result:
            out["trailer"] = result["trailer"]
    out["body"] = b"".join(body)
    return out


def cli_invoke(platform, *args, mode=None):
    """`dodil ignite invoke org:contract <args>` with an optional X-Mode header; returns CompletedProcess."""
    extra = ["-H", f"X-Mode: {mode}"] if mode else []
    return platform.cli("invoke", APP_ID, *args, *extra)


def json_invoke(platform, *args, mode=None):
    """`-o json invoke`; returns (returncode, parsed output, stderr)."""
    extra = ["-H", f"X-Mode: {mode}"] if mode else []
    p = platform.cli("-o", "json", "invoke", APP_ID, *args, *extra)
    assert p.stdout.strip(), f"no JSON output (exit {p.returncode}): {p.stderr.decode(errors='replace')}"
    return p.returncode, json.loads(p.stdout), p.stderr


def context_of(platform, *args):
    rc, out, err = json_invoke(platform, *args, mode="context")
    assert rc == 0, (out, err)
    assert out["status"] == 200
    return out, json.loads(out["body"])


@pytest.fixture(scope="module")
def contract(platform):
    platform.ok("app", "create", APP, "--runtime", "go")
    platform.ok("draft", "save", APP_ID, "-c", str(APP_DIR))
    platform.ok("draft", "publish", APP_ID)
    # Warm the instance so every test starts from a serving one.
    assert cli_invoke(platform, "-p", "warm").stdout == b"warm"
    return platform


def test_context_fields_through_the_cli(contract):
    org_id = contract.json("app", "get", APP_ID)["app"]["organizationId"]
    assert org_id and org_id != "org"
    rc, out, err = json_invoke(
        contract, "-p", "ctx", "-H", "X-Custom: abc", "-H", "X-Ignite-Execution-Id: forged",
        "-H", "X-Ignite-Function-Id: org/forged", "-H", "X-Ignite-Organization-Id: forged-org", mode="context")
    assert rc == 0, (out, err)
    assert out["status"] == 200
    ctx = json.loads(out["body"])
    assert ULID.match(ctx["executionId"]), ctx["executionId"]
    assert ctx["executionId"] == out["executionId"]
    assert ctx["functionId"] == "org/contract" == out["functionId"]
    assert ctx["organizationId"] == org_id
    headers = ctx["headers"]
    assert headers.get("X-Custom") == ["abc"]
    # The platform overwrites client-sent x-ignite-* headers, so the handler sees exactly one, true, value.
    assert headers.get("X-Ignite-Execution-Id") == [ctx["executionId"]]
    assert headers.get("X-Ignite-Function-Id") == ["org/contract"]
    assert headers.get("X-Ignite-Organization-Id") == [org_id]
    assert "forged" not in json.dumps(ctx)
    assert "Authorization" not in headers, "the caller's bearer token must not reach the handler"
    assert ctx["payloadLen"] == 3


def test_context_fields_through_the_http_route(contract):
    org_id = contract.json("app", "get", APP_ID)["app"]["organizationId"]
    r = http_invoke(contract, b"via-http", headers={
        "X-Mode": "context", "X-Custom": "from-http", "X-Ignite-Execution-Id": "forged"})
    assert r["http_status"] == 200, r["raw"]
    head = r["head"]
    assert head["status"] == 200
    ctx = json.loads(r["body"])
    assert ULID.match(head["executionId"]), head
    assert _hget(r["headers"], "x-ignite-execution-id") == head["executionId"] == ctx["executionId"]
    assert ctx["functionId"] == "org/contract"
    assert ctx["organizationId"] == org_id
    assert ctx["headers"].get("X-Custom") == ["from-http"]
    assert ctx["headers"].get("X-Ignite-Execution-Id") == [head["executionId"]]
    assert ctx["payloadLen"] == len(b"via-http")
    assert _hget(head["headers"], "Content-Type") == "application/octet-stream"
    assert r["trailer"] is not None and r["error"] is None


def test_every_invocation_gets_a_new_execution_id(contract):
    ids = [context_of(contract, "-p", "x")[1]["executionId"] for _ in range(3)]
    assert len(set(ids)) == 3
    assert all(ULID.match(i) for i in ids)


def test_empty_payload(contract):
    p = cli_invoke(contract, "-p", "")
    assert p.returncode == 0, p.stderr
    assert p.stdout == b""
    p = cli_invoke(contract)  # no payload flag at all
    assert p.returncode == 0, p.stderr
    assert p.stdout == b""
    _, ctx = context_of(contract, "-p", "")
    assert ctx["payloadLen"] == 0
    assert ctx["payloadSha256"] == hashlib.sha256(b"").hexdigest()
    r = http_invoke(contract, b"")
    assert r["http_status"] == 200, r["raw"]
    assert r["head"]["status"] == 200
    assert r["body"] == b""
    assert r["trailer"] is not None


def test_binary_payload_round_trips_every_byte(contract, tmp_path):
    data = bytes(range(256))
    path = tmp_path / "bytes.bin"
    path.write_bytes(data)
    p = cli_invoke(contract, "--payload-file", str(path))
    assert p.returncode == 0, p.stderr
    assert p.stdout == data
    rc, out, err = json_invoke(contract, "--payload-file", str(path))
    assert rc == 0, err
    assert "body" not in out
    assert base64.b64decode(out["bodyBase64"]) == data
    r = http_invoke(contract, data)
    assert r["head"]["status"] == 200
    assert r["body"] == data
    _, ctx = context_of(contract, "--payload-file", str(path))
    assert ctx["payloadSha256"] == hashlib.sha256(data).hexdigest()


def test_50mib_payload_echoed(contract, tmp_path):
    data = (bytes(range(256)) * 4096) * 50  # 50 MiB, every byte value at every offset modulo 256
    data = hashlib.sha256(b"seed").digest() + data[32:]
    assert len(data) == 50 * MIB
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    p = cli_invoke(contract, "--payload-file", str(path))
    assert p.returncode == 0, p.stderr[-2000:]
    assert len(p.stdout) == len(data)
    assert hashlib.sha256(p.stdout).hexdigest() == hashlib.sha256(data).hexdigest()


def test_50mib_response_generated(contract):
    pattern = bytes(range(251))
    expected = (pattern * (50 * MIB // 251 + 1))[:50 * MIB]
    p = cli_invoke(contract, "-p", "big:50", mode="big")
    assert p.returncode == 0, p.stderr[-2000:]
    assert len(p.stdout) == 50 * MIB
    assert hashlib.sha256(p.stdout).hexdigest() == hashlib.sha256(expected).hexdigest()
    r = http_invoke(contract, b"big:50", headers={"X-Mode": "big"})
    assert r["head"]["status"] == 200
    assert hashlib.sha256(r["body"]).hexdigest() == hashlib.sha256(expected).hexdigest()
    assert r["chunks"] > 1, "a 50 MiB response should arrive in several chunks"


def test_error_return(contract):
    message = 'custom failure: "quoted" \\ back\tslash <>&'
    p = cli_invoke(contract, "-p", message, mode="error")
    assert p.returncode == 1, p.stderr
    assert json.loads(p.stdout) == {"error": message}
    assert b"500" in p.stderr
    r = http_invoke(contract, message.encode(), headers={"X-Mode": "error"})
    assert r["http_status"] == 200, r["raw"]
    head = r["head"]
    assert head["status"] == 500
    assert _hget(head["headers"], "Content-Type") == "application/json"
    assert json.loads(r["body"]) == {"error": message}
    assert b"discarded" not in r["body"]


def test_panic_keeps_the_instance_serving(contract):
    _, before = context_of(contract, "-p", "x")
    value = f"kaboom-{uuid.uuid4().hex[:8]}"
    p = cli_invoke(contract, "-p", value, mode="panic")
    assert p.returncode == 1, p.stderr
    err = json.loads(p.stdout)["error"]
    assert value in err and "panic" in err
    r = http_invoke(contract, value.encode(), headers={"X-Mode": "panic"})
    assert r["head"]["status"] == 500
    assert value in json.loads(r["body"])["error"]
    out, after = context_of(contract, "-p", "x")
    assert out["coldStart"] is False
    assert after["instance"] == before["instance"], "the same process must keep serving after a panic"


def _exited_message(body):
    err = json.loads(body)["error"]
    assert "exit" in err.lower(), err
    assert re.search(r"\b3\b", err), err
    return err


def test_os_exit_gives_502_and_a_new_instance(contract):
    _, before = context_of(contract, "-p", "x")
    r = http_invoke(contract, b"", headers={"X-Mode": "exit"})
    assert r["http_status"] == 200, (r["http_status"], r["raw"])
    assert r["head"] is not None, r["raw"]
    assert r["head"]["status"] == 502, r["raw"]
    assert _hget(r["head"]["headers"], "Content-Type") == "application/json"
    _exited_message(r["body"])
    out, after = context_of(contract, "-p", "x")
    assert out["coldStart"] is True
    assert after["instance"] != before["instance"]
    # Again through the CLI: the body is printed, the exit code is not 0.
    p = cli_invoke(contract, "-p", "", mode="exit")
    assert p.returncode != 0
    _exited_message(p.stdout)
    assert b"502" in p.stderr, p.stderr
    out, again = context_of(contract, "-p", "x")
    assert out["coldStart"] is True
    assert again["instance"] not in (before["instance"], after["instance"])


def test_log_lines_carry_the_execution_id(contract):
    marker = f"marker-{uuid.uuid4().hex}"
    rc, out, err = json_invoke(contract, "-p", marker, mode="log")
    assert rc == 0, err
    assert out["body"] == "logged"
    exec_id = out["executionId"]
    deadline = time.time() + 5
    last = None
    while True:
        p = contract.cli("-o", "json", "app", "logs", APP_ID)
        last = p
        if p.returncode == 0:
            lines = [l for l in json.loads(p.stdout).get("lines", []) if marker in l.get("message", "")]
            if lines:
                break
        if time.time() > deadline:
            raise AssertionError(f"marker not in the logs after 5s; last `app logs`: exit {last.returncode}\n"
                                 f"stdout: {last.stdout[-2000:]!r}\nstderr: {last.stderr[-2000:]!r}")
        time.sleep(0.2)
    assert len(lines) == 1, lines
    line = lines[0]
    assert line["executionId"] == exec_id
    assert line["stream"] == "stderr"
    assert line["replicaId"]
    assert int(line["timestampMs"]) > (time.time() - 600) * 1000
    assert f"execution={exec_id}" in line["message"]


def test_app_logs_follow_streams_new_lines(contract):
    """Issue 4 item 7: `app logs --follow` (StreamAppLogs) prints the newest lines, then each new one as it is
    written, with timestamp, replica and execution id."""
    import queue
    import subprocess
    from conftest import BIN
    old = f"before-{uuid.uuid4().hex}"
    rc, _, err = json_invoke(contract, "-p", old, mode="log")
    assert rc == 0, err
    env = dict(os.environ, DODIL_CONFIG_DIR=str(contract.config_dir))
    proc = subprocess.Popen([str(BIN / "dodil"), "ignite", "-o", "json", "app", "logs", APP_ID, "--follow",
                             "--limit", "50"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(l) for l in proc.stdout], daemon=True).start()

    def wait_for(marker, seconds=10):
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                line = json.loads(lines.get(timeout=max(0.01, deadline - time.time())))
            except queue.Empty:
                break
            if marker in line.get("message", ""):
                return line
        raise AssertionError(f"{marker} did not arrive within {seconds}s")

    try:
        wait_for(old)  # the tail
        new = f"after-{uuid.uuid4().hex}"
        rc, out, err = json_invoke(contract, "-p", new, mode="log")
        assert rc == 0, err
        line = wait_for(new)  # followed live
        assert line["executionId"] == out["executionId"]
        assert line["replicaId"] and line["stream"] == "stderr"
        assert int(line["timestampMs"]) > (time.time() - 600) * 1000
        assert proc.poll() is None, "the follower must keep running"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_handler_runs_concurrently_on_one_instance(contract):
    n = 8
    _, warm = context_of(contract, "-p", "x")
    group = uuid.uuid4().hex
    start = threading.Barrier(n)

    def one(_):
        start.wait()
        return json_invoke(contract, "-p", f"{group}:{n}", mode="gather")

    t0 = time.time()
    with ThreadPoolExecutor(n) as pool:
        results = list(pool.map(one, range(n)))
    elapsed = time.time() - t0
    for rc, out, err in results:
        assert rc == 0, (out, err)
        assert out["status"] == 200, out
    bodies = [json.loads(out["body"]) for _, out, _ in results]
    assert all(b["arrived"] == n for b in bodies), bodies
    assert {b["instance"] for b in bodies} == {warm["instance"]}
    assert len({out["executionId"] for _, out, _ in results}) == n
    assert elapsed < 10, elapsed
