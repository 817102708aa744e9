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


def _instances(artifact):
    out = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if os.readlink(f"/proc/{pid}/exe").endswith(artifact[2:]):
                    out.append(pid)
            except OSError:
                pass
    return out


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
    assert len(_instances(artifact)) == 1
    deadline = time.time() + 10
    while _instances(artifact):
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
    while not _instances(artifact):
        assert time.time() < deadline
        time.sleep(0.02)
    time.sleep(0.3)  # the request is now inside the handler
    assert p.stop() == 0
    t.join(timeout=30)
    assert results and results[0].returncode == 0, results and results[0].stderr
    assert results[0].stdout == b"finished"
    assert _instances(artifact) == [], "instances must not outlive ignited"
