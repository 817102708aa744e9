"""Instance lifecycle through the platform: scale to zero after the idle timeout, and back."""

import json
import os
import time

from conftest import write_app


def _invoke(platform, app):
    status, _, raw = platform.http("POST", f"/v1/ignite/app/org/{app}/invoke", b"{}")
    assert status == 200, raw
    frames = [json.loads(l)["result"] for l in raw.decode().splitlines()]
    return frames[0]["head"], frames[-1]["trailer"]


def test_idle_instances_scale_to_zero_and_back(platform, tmp_path):
    status, _, body = platform.http("POST", "/v1/ignite/app/org",
                                    json.dumps({"name": "sleepy", "scaling": {"idleTimeoutSecs": 1}}).encode())
    assert status == 200, body
    platform.ok("draft", "save", "org:sleepy", "-c", str(write_app(tmp_path / "sleepy")))
    platform.ok("draft", "publish", "org:sleepy")
    artifact = platform.json("version", "get", "org:sleepy", "1")["versionInfo"]["artifactSha256"]
    head, trailer = _invoke(platform, "sleepy")
    assert head["status"] == 200 and trailer["coldStart"] is True
    _, trailer = _invoke(platform, "sleepy")
    assert trailer.get("coldStart", False) is False
    assert len(platform.artifact_pids(artifact)) == 1
    deadline = time.time() + 10
    while platform.artifact_pids(artifact):
        assert time.time() < deadline, "the idle instance was not stopped"
        time.sleep(0.1)
    head, trailer = _invoke(platform, "sleepy")
    assert head["status"] == 200 and trailer["coldStart"] is True


SLOW_APP = '''package main

import (
	"ignite"
	"time"
)

func handler(payload []byte, ctx *ignite.Context) ([]byte, error) {
	time.Sleep(1500 * time.Millisecond)
	return []byte("finished"), nil
}

func main() {
	ignite.Start(handler)
}
'''


def test_sigterm_drains_in_flight_invocations(tmp_path, go_cache):
    import threading
    from conftest import Platform
    p = Platform(tmp_path, go_cache).start()
    app = tmp_path / "slow"
    app.mkdir()
    (app / "main.go").write_text(SLOW_APP)
    (app / "go.mod").write_text("module slow\n\ngo 1.26\n")
    p.ok("app", "create", "org:slow")
    p.ok("draft", "save", "org:slow", "-c", str(app))
    p.ok("draft", "publish", "org:slow")
    artifact = p.json("version", "get", "org:slow", "1")["versionInfo"]["artifactSha256"]
    results = []
    t = threading.Thread(target=lambda: results.append(p.cli("invoke", "org:slow", "-p", "x")))
    t.start()
    deadline = time.time() + 10
    while not p.artifact_pids(artifact):
        assert time.time() < deadline
        time.sleep(0.02)
    time.sleep(0.3)  # the request is now inside the handler
    assert p.stop() == 0
    t.join(timeout=30)
    assert results and results[0].returncode == 0, results and results[0].stderr
    assert results[0].stdout == b"finished"
    assert p.artifact_pids(artifact) == [], "instances must not outlive ignited"


PID_APP = '''package main

import (
	"ignite"
	"os"
	"time"
)

func handler(payload []byte, ctx *ignite.Context) ([]byte, error) {
	if string(payload) == "slow" {
		time.Sleep(400 * time.Millisecond)
	}
	return []byte(os.Getenv("IGNITE_REPLICA_ID")), nil  // which instance (pids are 1 in each sandbox)
}

func main() {
	ignite.Start(handler)
}
'''


def _publish_pid_app(platform, tmp_path, name, config):
    app = tmp_path / name
    app.mkdir()
    (app / "main.go").write_text(PID_APP)
    (app / "go.mod").write_text(f"module {name}\n\ngo 1.26\n")
    status, _, body = platform.http("POST", "/v1/ignite/app/org", json.dumps({"name": name, **config}).encode())
    assert status == 200, body
    platform.ok("draft", "save", f"org:{name}", "-c", str(app))
    platform.ok("draft", "publish", f"org:{name}")


def _body(raw):
    frames = [json.loads(l) for l in raw.decode().splitlines()]
    import base64
    return frames[0]["result"]["head"]["status"], b"".join(
        base64.b64decode(f["result"]["chunk"]["data"]) for f in frames if "chunk" in f.get("result", {}))


def test_scales_out_when_instances_are_saturated(platform, tmp_path):
    from concurrent.futures import ThreadPoolExecutor
    _publish_pid_app(platform, tmp_path, "narrow", {"maxConcurrency": 1, "scaling": {"maxReplicas": 2}})
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda _: _body(platform.http("POST", "/v1/ignite/app/org/narrow/invoke", b"slow")[2]),
                                range(6)))
    assert all(status == 200 for status, _ in results)
    pids = {body for _, body in results}
    assert len(pids) == 2, pids  # one execution per instance, at most two instances


def test_burst_of_1000_to_a_cold_app_is_served_without_errors(platform, tmp_path):
    """Issue 4 item 4: 1,000 concurrent requests to an app with no instance running, all answered 200 (the
    first ones queue while instances start; the rest fill them up to max_concurrency and scale out)."""
    import asyncio
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < 4096:  # 1,000 sockets at once in this process
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(4096, hard) if hard != resource.RLIM_INFINITY else 4096, hard))
    _publish_pid_app(platform, tmp_path, "bursty", {})
    port = int(platform.endpoint.rsplit(":", 1)[1])
    token = platform.token()
    n = 1000

    async def one():
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        writer.write((f"POST /v1/ignite/app/org/bursty/invoke HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      f"Authorization: Bearer {token}\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx").encode())
        await writer.drain()
        raw = await reader.read()  # the server closes after the answer
        writer.close()
        return raw

    async def burst():
        start = asyncio.Event()

        async def gated():
            await start.wait()
            return await one()
        tasks = [asyncio.create_task(gated()) for _ in range(n)]
        await asyncio.sleep(0)
        start.set()
        return await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=120)

    results = asyncio.run(burst())
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, f"{len(errors)} of {n} failed, e.g. {errors[0]!r}"
    assert all(r.startswith(b"HTTP/1.1 200 ") for r in results), [r[:100] for r in results if not r.startswith(b"HTTP/1.1 200 ")][:3]
    assert all(b'{"result":{"head":{"status":200' in r for r in results), \
        [r[:300] for r in results if b'"status":200' not in r][:3]


HANGING_APP = '''package main

import (
	"ignite"
	"time"
)

func handler(payload []byte, ctx *ignite.Context) ([]byte, error) { return payload, nil }

func main() {
	time.Sleep(time.Hour) // never gets to serve
	ignite.Start(handler)
}
'''


def test_an_instance_that_never_becomes_ready_fails_the_call_and_is_stopped(tmp_path, go_cache):
    """Issue 4 item 1: readiness within a start timeout, with a clear error and a log line."""
    from conftest import Platform
    p = Platform(tmp_path, go_cache).start(env_extra={"IGNITE_INSTANCE_START_TIMEOUT_SECS": "2"})
    try:
        app = tmp_path / "hang"
        app.mkdir()
        (app / "main.go").write_text(HANGING_APP)
        (app / "go.mod").write_text("module hang\n\ngo 1.26\n")
        p.ok("app", "create", "org:hang")
        p.ok("draft", "save", "org:hang", "-c", str(app))
        p.ok("draft", "publish", "org:hang")
        artifact = p.json("version", "get", "org:hang", "1")["versionInfo"]["artifactSha256"]
        started = time.time()
        status, _, raw = p.http("POST", "/v1/ignite/app/org/hang/invoke", b"{}")
        assert status == 200, raw
        frames = [json.loads(l)["result"] for l in raw.decode().splitlines()]
        head, body, trailer = frames[0]["head"], frames[1]["chunk"], frames[-1]["trailer"]
        assert head["status"] == 503, frames
        error = json.loads(__import__("base64").b64decode(body["data"]))["error"]
        assert "did not become ready within 2s of its start" in error, error
        assert "did not become ready" in trailer["error"]
        assert time.time() - started < 60  # the 2 s start timeout, not the 120 s execution timeout, ended it
        # The CLI reports it as an error too.
        r = p.cli("invoke", "org:hang", "-p", "x")
        assert r.returncode != 0 and b"did not become ready" in r.stderr, r.stderr
        # The platform wrote why into the app's logs.
        logs = p.ok("app", "logs", "org:hang").stdout.decode()
        assert "did not become ready within 2s" in logs, logs
        # The hung processes are stopped.
        deadline = time.time() + 15
        while p.artifact_pids(artifact):
            assert time.time() < deadline, "the instance that never became ready was not stopped"
            time.sleep(0.1)
        # Other apps are unaffected.
        p.ok("app", "create", "org:fine")
        p.ok("draft", "save", "org:fine", "-c", str(write_app(tmp_path / "fine")))
        p.ok("draft", "publish", "org:fine")
        status, _, raw = p.http("POST", "/v1/ignite/app/org/fine/invoke", b'{"name":"x"}')
        assert status == 200 and b'"status":200' in raw, raw
    finally:
        assert p.stop() == 0


def _replicas(platform, app):
    out = platform.json("app", "replicas", f"org:{app}")
    return out.get("replicas", [])


def test_reserved_instances_are_kept_warm_and_replaced(platform, tmp_path):
    """Issue 4 item 4: `reserved` instances start ahead of requests, outlive the idle timeout, and come back
    when they die; setting reserved to 0 lets them scale to zero again."""
    status, _, body = platform.http("POST", "/v1/ignite/app/org", json.dumps(
        {"name": "warmed", "scaling": {"reserved": 2, "maxReplicas": 3, "idleTimeoutSecs": 1}}).encode())
    assert status == 200, body
    platform.ok("draft", "save", "org:warmed", "-c", str(write_app(tmp_path / "warmed")))
    platform.ok("draft", "publish", "org:warmed")
    artifact = platform.json("version", "get", "org:warmed", "1")["versionInfo"]["artifactSha256"]
    deadline = time.time() + 20
    while len(platform.artifact_pids(artifact)) < 2 or any(r["state"] != "ready" for r in _replicas(platform, "warmed")):
        assert time.time() < deadline, ("reserved instances did not start", _replicas(platform, "warmed"))
        time.sleep(0.1)
    assert len(_replicas(platform, "warmed")) == 2
    time.sleep(2.5)  # well past the 1 s idle timeout: reserved instances stay
    pids = sorted(platform.artifact_pids(artifact))
    assert len(pids) == 2
    head, trailer = _invoke(platform, "warmed")
    assert head["status"] == 200 and trailer.get("coldStart", False) is False
    # A reserved instance that dies is replaced without any request.
    os.kill(int(pids[0]), 9)
    deadline = time.time() + 20
    while True:
        now = platform.artifact_pids(artifact)
        if len(now) == 2 and pids[0] not in now:
            break
        assert time.time() < deadline, ("the killed reserved instance was not replaced", now)
        time.sleep(0.1)
    # More than max_replicas reserved is refused.
    status, _, body = platform.http("PATCH", "/v1/ignite/app/org/warmed/config",
                                    json.dumps({"scaling": {"reserved": 4}}).encode())
    assert status == 400 and b"max_replicas" in body, body
    # reserved 0: back to scale-to-zero.
    status, _, body = platform.http("PATCH", "/v1/ignite/app/org/warmed/config",
                                    json.dumps({"scaling": {"reserved": 0}}).encode())
    assert status == 200, body
    deadline = time.time() + 15
    while platform.artifact_pids(artifact):
        assert time.time() < deadline, "instances beyond the reserve were not reaped"
        time.sleep(0.1)


def test_no_instance_survives_kill_9_of_ignited(tmp_path, go_cache):
    """Issue 4 item 6: instances die with ignited even when it gets no chance to stop them (kill -9): idle,
    reserved and busy ones; a restarted ignited then serves the app again."""
    import signal
    import threading
    from conftest import Platform
    p = Platform(tmp_path, go_cache).start()
    try:
        app = tmp_path / "slow"
        app.mkdir()
        (app / "main.go").write_text(SLOW_APP)
        (app / "go.mod").write_text("module slow\n\ngo 1.26\n")
        status, _, body = p.http("POST", "/v1/ignite/app/org", json.dumps(
            {"name": "slow", "scaling": {"reserved": 1}}).encode())
        assert status == 200, body
        p.ok("draft", "save", "org:slow", "-c", str(app))
        p.ok("draft", "publish", "org:slow")
        artifact = p.json("version", "get", "org:slow", "1")["versionInfo"]["artifactSha256"]
        deadline = time.time() + 20
        while not p.artifact_pids(artifact):  # the reserved one
            assert time.time() < deadline
            time.sleep(0.05)
        # Two calls in flight: the reserved instance serves them (max concurrency 100).
        threads = [threading.Thread(target=lambda: p.cli("invoke", "org:slow", "-p", "x")) for _ in range(2)]
        for t in threads:
            t.start()
        time.sleep(0.5)  # inside the handler's 1.5 s sleep
        assert p.artifact_pids(artifact)
        p.proc.send_signal(signal.SIGKILL)
        p.proc.wait()
        p.log.close()
        deadline = time.time() + 10
        while p.artifact_pids(artifact):
            assert time.time() < deadline, f"instances survived kill -9 of ignited: {p.artifact_pids(artifact)}"
            time.sleep(0.05)
        for t in threads:
            t.join(timeout=30)
        p.start()
        out = p.ok("invoke", "org:slow", "-p", "x").stdout
        assert out == b"finished"
    finally:
        assert p.stop() == 0
