"""UpdateAppConfig (`app update`), GetAppState (`app state`) and ListAppReplicas (`app replicas`)."""

import json
import os

import pytest

from conftest import write_app


@pytest.fixture(scope="module")
def app(platform, tmp_path_factory):
    platform.ok("app", "create", "org:cfg", "--description", "first", "--tier", "medium", "--memory", "300",
                "--timeout-secs", "30", "--max-replicas", "4", "--reserved", "0", "--env", "A=1", "--env", "B=2")
    platform.ok("draft", "save", "org:cfg", "-c", str(write_app(tmp_path_factory.mktemp("cfg") / "cfg")))
    platform.ok("draft", "publish", "org:cfg")
    return "org:cfg"


def _get(platform, app):
    return platform.json("app", "get", app)["app"]


def test_update_replaces_given_fields_and_keeps_the_rest(platform, app):
    before = _get(platform, app)
    out = platform.json("app", "update", app, "--description", "second", "--max-concurrency", "7")["app"]
    assert out["description"] == "second" and out["maxConcurrency"] == 7
    after = _get(platform, app)
    assert after["description"] == "second" and after["maxConcurrency"] == 7
    for key in ("resourceTier", "limits", "appliedLimits", "env", "scaling", "activeVersion", "version",
                "storageMode", "createdAtMs"):
        assert after.get(key) == before.get(key), key
    assert int(after["updatedAtMs"]) >= int(before["updatedAtMs"])
    # One sub-field of limits changes; its siblings stay.
    platform.ok("app", "update", app, "--timeout-secs", "60")
    after = _get(platform, app)
    assert after["limits"] == {"memoryMb": 300, "timeoutSecs": 60}
    # Published versions keep the config they were published with.
    v1 = platform.json("version", "get", app, "1")["app"]
    assert v1["description"] == "first" and "maxConcurrency" not in v1


def test_env_given_replaces_the_whole_map(platform, app):
    platform.ok("app", "update", app, "--env", "C=3")
    assert _get(platform, app)["env"] == {"C": "3"}
    # The new env reaches instances started from now on.
    status, _, body = platform.http("PATCH", "/v1/ignite/app/org/cfg/config", json.dumps({"env": {"A": "1"}}).encode())
    assert status == 200, body
    assert json.loads(body)["app"]["env"] == {"A": "1"}


def test_invalid_config_is_rejected_and_changes_nothing(platform, app):
    before = _get(platform, app)
    p = platform.cli("app", "update", app, "--timeout-secs", "901", "--description", "never")
    assert p.returncode == 2, p.stderr
    assert b"900" in p.stderr
    after = _get(platform, app)
    assert after == before
    p = platform.cli("app", "update", app, "--env", "IGNITE_X=1")
    assert p.returncode == 2 and b"reserved" in p.stderr, p.stderr
    status, _, body = platform.http("PATCH", "/v1/ignite/app/org/cfg/config", b'{"nope": 1}')
    assert status == 400, body
    assert _get(platform, app) == before


def test_state_and_replicas_show_the_running_instance(platform, app):
    status, _, raw = platform.http("POST", "/v1/ignite/app/org/cfg/invoke", b"{}")
    assert status == 200, raw
    state = platform.json("app", "state", app)
    assert state["deploymentState"] == "DEPLOYMENT_STATE_ACTIVE"
    assert state["activeVersion"] == 1
    assert state["liveReplicas"] == 1
    assert len(state["replicas"]) == 1 and state["replicas"][0]["version"] == 1
    reps = platform.json("app", "replicas", app)["replicas"]
    assert len(reps) == 1
    r = reps[0]
    assert r["version"] == 1 and r["state"] == "ready" and r["replicaId"].startswith("cfg-")
    assert int(r["startedAtMs"]) > 0 and int(r["lastUsedAtMs"]) >= int(r["startedAtMs"])
    assert os.path.exists(f"/proc/{r['pid']}"), r
    with open(f"/proc/{r['pid']}/stat") as f:
        assert f.read().split(")")[-1].split()[0] != "Z"
    text = platform.ok("app", "replicas", app).stdout.decode()
    assert r["replicaId"] in text and str(r["pid"]) in text
    text = platform.ok("app", "state", app).stdout.decode()
    assert "Live replicas" in text and r["replicaId"] in text
    # A config change keeps the running instance (same version, same process).
    platform.ok("app", "update", app, "--max-concurrency", "3")
    assert [x["pid"] for x in platform.json("app", "replicas", app)["replicas"]] == [r["pid"]]
    status, _, raw = platform.http("POST", "/v1/ignite/app/org/cfg/invoke", b"{}")
    assert status == 200, raw
    assert [x["pid"] for x in platform.json("app", "replicas", app)["replicas"]] == [r["pid"]]


def test_unpublished_app_has_no_replicas(platform):
    platform.ok("app", "create", "org:cfg-empty")
    state = platform.json("app", "state", "org:cfg-empty")
    assert state["deploymentState"] == "DEPLOYMENT_STATE_CREATED"
    assert "replicas" not in state and "liveReplicas" not in state
    assert platform.json("app", "replicas", "org:cfg-empty") == {}


@pytest.mark.parametrize("args", [["update", "{id}", "--description", "x"], ["state", "{id}"], ["replicas", "{id}"]])
def test_other_org_and_unknown_app_error_like_get(platform, app, args):
    for app_id, code in (("other:cfg", 4), ("org:no-such-app", 5)):
        get = platform.cli("app", "get", app_id)
        p = platform.cli("app", *[a.format(id=app_id) for a in args])
        assert get.returncode == code, get.stderr
        assert p.returncode == code, p.stderr
        assert p.stderr == get.stderr
