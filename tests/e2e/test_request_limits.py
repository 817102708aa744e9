"""Request bodies over an app's limit, and instances killed by their memory limit mid-request (issue 12).

The contract under test:
- A body over the app's limit (`--body-limit-mb`, default the platform's 100 MB) gets 413 with the error body
  naming the limit and how to raise it, on every surface (invoke, invoke-async, per-app URL, draft test,
  version test): a declared Content-Length before `100 Continue` is sent, a chunked body once it passes the
  limit. The handler never runs for it.
- An instance killed by its memory limit while serving a request answers that request completely (429
  naming the limit), never with an empty reply, and the other requests in flight on it get a 502 saying
  another invocation took it down.
- A death while serving a request is not a crash on start: after any number of them the app still serves
  the next normal call (no crash-loop back-off).

The `bodies` app (apps/bodies) counts what its handler got (x-mode: count), so tests can see that nothing of
a refused request reached it. The SDK reads a body whole before the handler runs, so an 80 MB body kills a
64 MB instance while it is being uploaded."""

import base64
import http.client
import json
import os
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

BODIES_DIR = (Path(__file__).parent / "apps" / "bodies").resolve()
SMALL_LIMIT_MB = 1  # the `limited` app's --body-limit-mb
OOM_MEMORY_MB = 64  # the `oom` app's --memory
OOM_BODY = 80 << 20  # larger than the oom app's memory, within the default 100 MB body limit
RESOURCE_EXHAUSTED = 8


@pytest.fixture(scope="module")
def apps(platform):
    platform.ok("app", "deploy", "org:limited", "-c", str(BODIES_DIR), "--body-limit-mb", str(SMALL_LIMIT_MB),
                timeout=240)
    # One instance, so that concurrent calls share it.
    platform.ok("app", "deploy", "org:oom", "-c", str(BODIES_DIR), "--memory", str(OOM_MEMORY_MB),
                "--max-replicas", "1", timeout=240)
    return platform


@pytest.fixture(scope="module")
def oom_body(tmp_path_factory):
    path = tmp_path_factory.mktemp("bodies") / "80MB.bin"
    with open(path, "wb") as f:
        f.truncate(OOM_BODY)  # zeros: the SDK still holds every byte in memory
    return path


def host(app):
    return f"{app}-org.ignite.localhost"


# Every surface that takes a request body: (name, path, extra headers).
SURFACES = [
    ("invoke", "/v1/ignite/app/org/{app}/invoke", {}),
    ("invoke-async", "/v1/ignite/app/org/{app}/invoke-async", {}),
    ("per-app URL", "/", {"Host": "{host}"}),
    ("draft test", "/v1/ignite/app/org/{app}/draft/test", {}),
    ("version test", "/v1/ignite/app/org/{app}/versions/1/test", {}),
]


def surface_request(platform, surface, app):
    _, path, extra = surface
    headers = {"Authorization": "Bearer " + platform.token(), "Host": f"127.0.0.1:{platform.port}"}
    for k, v in extra.items():
        headers[k] = v.format(host=host(app))
    return path.format(app=app), headers


def raw_exchange(platform, head_lines, body=b"", read_first_only=False, timeout=30):
    """Sends a request head (and body) on a plain socket; returns what the server sent until it closed."""
    s = socket.create_connection(("127.0.0.1", platform.port), timeout=timeout)
    try:
        s.sendall(("\r\n".join(head_lines) + "\r\n\r\n").encode() + body)
        got = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
            if read_first_only and b"\r\n\r\n" in got:
                head, _, rest = got.partition(b"\r\n\r\n")
                length = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
                if length and len(rest) >= length[0]:
                    break
        return got
    finally:
        s.close()


def parse_answer(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    return status, head.decode(errors="replace"), body


def calls_seen(platform, app):
    """What the app's (running) instance handler got so far, through the per-app URL."""
    status, raw = http_call(platform, "POST", "/", b"", {"Host": host(app), "x-mode": "count"})
    assert status == 200, raw
    return json.loads(raw)


def http_call(platform, method, path, body, headers, timeout=120):
    conn = http.client.HTTPConnection("127.0.0.1", platform.port, timeout=timeout)
    try:
        hdrs = {"Authorization": "Bearer " + platform.token()}
        hdrs.update(headers)
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def invoke_frames(raw):
    head, chunks, trailer = None, b"", None
    for line in raw.splitlines():
        if not line.strip():
            continue
        result = json.loads(line)["result"]
        if "head" in result:
            head = result["head"]
        elif "chunk" in result:
            chunks += base64.b64decode(result["chunk"]["data"])
        elif "trailer" in result:
            trailer = result["trailer"]
    return head, chunks, trailer


def assert_413(status, body, surface_name, limit_mb=SMALL_LIMIT_MB, app="limited"):
    assert status == 413, f"{surface_name}: want 413, got {status}: {body[:300]!r}"
    err = json.loads(body)
    assert err["code"] == RESOURCE_EXHAUSTED, err
    assert f"{limit_mb} MB limit of org/{app}" in err["message"], err["message"]
    assert f"dodil ignite app update org:{app} --body-limit-mb" in err["message"], err["message"]


@pytest.mark.parametrize("surface", SURFACES, ids=[s[0] for s in SURFACES])
def test_a_declared_length_over_the_limit_gets_413_before_100_continue(apps, surface):
    before = calls_seen(apps, "limited")
    path, headers = surface_request(apps, surface, "limited")
    length = (SMALL_LIMIT_MB << 20) + 1
    head = [f"POST {path} HTTP/1.1"] + [f"{k}: {v}" for k, v in headers.items()] + [
        f"Content-Length: {length}", "Expect: 100-continue"]
    # The client waits for 100 Continue before sending anything: the first thing it hears must be the 413.
    raw = raw_exchange(apps, head, read_first_only=True)
    assert not raw.startswith(b"HTTP/1.1 100"), f"{surface[0]}: 100 Continue was sent for an oversized body"
    status, _, body = parse_answer(raw)
    assert_413(status, body, surface[0])
    assert calls_seen(apps, "limited") == before, "the refused request reached the handler"


@pytest.mark.parametrize("surface", SURFACES, ids=[s[0] for s in SURFACES])
def test_a_chunked_body_over_the_limit_gets_413_and_never_reaches_the_handler(apps, surface):
    before = calls_seen(apps, "limited")
    path, headers = surface_request(apps, surface, "limited")
    piece = b"x" * (256 << 10)

    def chunks():  # 2 MB in 256 KiB pieces: http.client sends them chunked
        for _ in range(8):
            yield piece

    conn = http.client.HTTPConnection("127.0.0.1", apps.port, timeout=60)
    try:
        conn.request("POST", path, body=chunks(), headers=headers, encode_chunked=True)
        r = conn.getresponse()
        status, body = r.status, r.read()
    finally:
        conn.close()
    assert_413(status, body, surface[0])
    assert calls_seen(apps, "limited") == before, "the refused request reached the handler"


@pytest.mark.parametrize("surface", [s for s in SURFACES if s[0] in ("invoke", "per-app URL")],
                         ids=["invoke", "per-app URL"])
def test_a_body_within_the_limit_is_served(apps, surface):
    path, headers = surface_request(apps, surface, "limited")
    body = b"y" * (SMALL_LIMIT_MB << 20)  # exactly at the limit
    status, raw = http_call(apps, "POST", path, body, headers)
    assert status == 200, raw[:300]
    answer = raw if surface[0] == "per-app URL" else invoke_frames(raw)[1]
    assert b'"bytes":%d' % len(body) in answer, raw[:300]


def test_the_limit_is_a_config_field_with_a_platform_maximum(apps):
    app = apps.json("app", "get", "org:limited")["app"]
    assert app["appliedLimits"]["bodyLimitMb"] == SMALL_LIMIT_MB, app
    default = apps.json("app", "get", "org:oom")["app"]
    assert default["appliedLimits"]["bodyLimitMb"] == 100, default  # the platform default
    p = apps.cli("app", "update", "org:limited", "--body-limit-mb", "5000")
    assert p.returncode == 2, p
    assert b"maximum of 1024 MB" in p.stderr and b"--max-body-limit-mb" in p.stderr, p.stderr
    try:
        apps.ok("app", "update", "org:limited", "--body-limit-mb", "3")
        status, raw = http_call(apps, "POST", "/", b"z" * (2 << 20), {"Host": host("limited")})
        assert status == 200 and b'"bytes":2097152' in raw, (status, raw[:300])
    finally:
        apps.ok("app", "update", "org:limited", "--body-limit-mb", str(SMALL_LIMIT_MB))


def curl(platform, *args, timeout=120):
    return subprocess.run(["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", *args], capture_output=True,
                          timeout=timeout)


def require_memory_kills(platform):
    status, raw = http_call(platform, "GET", "/v1/ignite/health", None, {})
    limits = json.loads(raw).get("limits", "") if status == 200 else ""
    if os.geteuid() != 0 or limits.startswith("rlimit") or limits in ("", "none"):
        pytest.skip(f"out-of-memory kills need cgroup memory limits; this host enforces {limits!r}")


def normal_call_works(platform, app="oom"):
    status, raw = http_call(platform, "POST", "/", b'{"n": 1}', {"Host": host(app)})
    assert status == 200 and b'"bytes":8' in raw, (status, raw[:500], platform.log_path.read_text()[-3000:])


def assert_oom_answer(status, body, what):
    assert status == 429, f"{what}: want 429, got {status}: {body[:500]!r}"
    message = json.loads(body)["error"]
    assert f"{OOM_MEMORY_MB} MB memory limit" in message and "--memory" in message, message


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_out_of_memory_kill_on_the_per_app_url_answers_429_and_the_app_keeps_serving(apps, oom_body, chunked):
    require_memory_kills(apps)
    normal_call_works(apps)
    for attempt in range(3):  # more than the crash-loop back-off's threshold of 2
        extra = ["-H", "Transfer-Encoding: chunked"] if chunked else []
        p = curl(apps, "-H", f"Host: {host('oom')}", "-H", "Authorization: Bearer " + apps.token(), *extra,
                 "--data-binary", f"@{oom_body}", f"http://127.0.0.1:{apps.port}/")
        assert p.returncode == 0, f"attempt {attempt}: curl exit {p.returncode}: {p.stderr!r} (an empty reply is 52)"
        body, _, code = p.stdout.rpartition(b"\n")
        assert_oom_answer(int(code), body, f"attempt {attempt}")
        normal_call_works(apps)  # right after: a new instance, no "keeps crashing on start"


@pytest.mark.parametrize("path", ["/v1/ignite/app/org/oom/invoke", "/v1/ignite/app/org/oom/draft/test"],
                         ids=["invoke", "draft test"])
def test_an_out_of_memory_kill_on_the_invoke_routes_answers_429_and_the_app_keeps_serving(apps, oom_body, path):
    require_memory_kills(apps)
    for attempt in range(3):
        with open(oom_body, "rb") as f:
            status, raw = http_call(apps, "POST", path, f, {"Content-Length": str(OOM_BODY)})
        assert status == 200, (attempt, status, raw[:500])
        head, body, trailer = invoke_frames(raw)
        assert head is not None and trailer is not None, f"incomplete frames: {raw[:500]!r}"
        assert_oom_answer(head["status"], body, f"attempt {attempt}")
        normal_call_works(apps)


def test_an_out_of_memory_kill_of_an_async_execution_fails_it_naming_the_limit(apps, oom_body):
    require_memory_kills(apps)
    with open(oom_body, "rb") as f:
        status, raw = http_call(apps, "POST", "/v1/ignite/app/org/oom/invoke-async", f.read(), {})
    assert status == 200, raw[:300]
    execution_id = json.loads(raw)["executionId"]
    deadline = time.time() + 60
    while time.time() < deadline:
        ex = apps.json("execution", "get", execution_id)["execution"]
        if ex.get("status") not in ("EXECUTION_STATUS_PENDING", "EXECUTION_STATUS_RUNNING"):
            break
        time.sleep(0.2)
    assert ex["status"] == "EXECUTION_STATUS_FAILED", ex
    assert ex.get("responseStatus") == 429 and f"{OOM_MEMORY_MB} MB memory limit" in ex["error"], ex
    normal_call_works(apps)


def test_other_calls_in_flight_on_the_killed_instance_get_a_clear_502(apps, oom_body):
    require_memory_kills(apps)
    normal_call_works(apps)  # one warm instance (max_replicas 1): every call below shares it
    slow = {}

    def sleeper():
        slow["answer"] = http_call(apps, "POST", "/", b"{}", {"Host": host("oom"), "x-mode": "sleep",
                                                             "x-sleep-ms": "15000"})

    t = threading.Thread(target=sleeper)
    t.start()
    deadline = time.time() + 20
    while time.time() < deadline:  # until the sleeping call is in flight
        replicas = apps.json("app", "replicas", "org:oom").get("replicas", [])
        if any(r.get("inflight", 0) > 0 or r.get("state") == "busy" for r in replicas):
            break
        time.sleep(0.05)
    with open(oom_body, "rb") as f:
        status, raw = http_call(apps, "POST", "/", f, {"Host": host("oom"), "Content-Length": str(OOM_BODY)})
    assert_oom_answer(status, raw, "the call with the large body")
    t.join(60)
    assert not t.is_alive()
    status, raw = slow["answer"]
    assert status == 502, (status, raw[:500])
    message = json.loads(raw)["error"]
    assert "while serving another invocation" in message and f"{OOM_MEMORY_MB} MB memory limit" in message, message
    normal_call_works(apps)


def test_a_ready_instance_slow_on_its_first_call_is_not_failed_as_a_start(tmp_path, go_cache):
    """The readiness signal: an instance whose server is up is ready, even before it has answered anything, so
    a first call that takes longer than the start timeout is the handler's time (bounded by the execution
    timeout), not a failed start."""
    from conftest import Platform
    p = Platform(tmp_path, go_cache).start(env_extra={"IGNITE_INSTANCE_START_TIMEOUT_SECS": "1"})
    try:
        p.ok("app", "deploy", "org:slow", "-c", str(BODIES_DIR), timeout=240)
        status, raw = http_call(p, "POST", "/", b"{}", {"Host": host("slow"), "x-mode": "sleep", "x-sleep-ms": "2500"})
        assert status == 200 and b'"bytes":2' in raw, (status, raw[:500])
    finally:
        assert p.stop() == 0
