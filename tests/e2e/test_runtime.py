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
