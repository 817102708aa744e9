"""Issue 5 item 2: the rest of ComputeService's app routes and config (reference 4.3, 7, 8): GetExecutionStats,
GetAppEvents / StreamAppEvents, input/output JSON schemas, CreateApp with inline code, ListApps pagination,
storage mode, and DeleteApp's cascade. Real ignited, real CLI, real Go apps."""

import base64
import http.client
import io
import json
import os
import subprocess
import tarfile
import time

import pytest

from conftest import BIN, HELLO, write_app

SCHEMA = json.dumps({"type": "object", "required": ["name"],
                     "properties": {"name": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}}})


def _tar_gz(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _hello_code():
    files = {"main.go": (HELLO / "main.go").read_bytes(), "go.mod": (HELLO / "go.mod").read_bytes()}
    return {"compile": {"sourceCode": base64.b64encode(_tar_gz(files)).decode(), "fileName": "code.tar.gz"}}


def _post_json(platform, path, obj, method="POST"):
    status, _, body = platform.http(method, path, json.dumps(obj).encode())
    return status, json.loads(body) if body else {}


def _get(platform, path):
    status, _, body = platform.http("GET", path)
    return status, json.loads(body) if body else {}


def _invoke(platform, app, payload: bytes):
    """Invoke over HTTP; returns (HTTP status, handler status or None, body bytes)."""
    status, _, raw = platform.http("POST", f"/v1/ignite/app/org/{app}/invoke", payload)
    if status != 200:
        return status, None, raw
    frames = [json.loads(line) for line in raw.decode().splitlines() if line.strip()]
    head = frames[0]["result"]["head"]
    data = b"".join(base64.b64decode(f["result"]["chunk"]["data"]) for f in frames if "chunk" in f.get("result", {}))
    return status, head["status"], data


def _publish(platform, tmp_path, name, **create):
    status, body = _post_json(platform, "/v1/ignite/app/org", {"name": name, **create})
    assert status == 200, body
    platform.ok("draft", "save", f"org:{name}", "-c", str(write_app(tmp_path / name)))
    platform.ok("draft", "publish", f"org:{name}")


def _events(platform, app):
    status, body = _get(platform, f"/v1/ignite/app/org/{app}/events")
    assert status == 200, body
    return body.get("events", [])


def _wait_for_event(platform, app, pred, what, timeout=15):
    deadline = time.time() + timeout
    while True:
        events = _events(platform, app)
        found = [e for e in events if pred(e)]
        if found:
            return found
        assert time.time() < deadline, f"no {what} event; events: {events}"
        time.sleep(0.1)


# ---- CreateApp: inline code, applied tier and limits ----

def test_create_with_inline_code_saves_the_draft(platform):
    status, body = _post_json(platform, "/v1/ignite/app/org", {"name": "inline", "code": _hello_code()})
    assert status == 200, body
    assert body["appId"] == "org/inline"
    assert body["deploymentState"] == "DEPLOYMENT_STATE_CREATED"
    assert body["appliedTier"] == "RESOURCE_TIER_SMALL"
    assert body["appliedLimits"] == {"memoryMb": 256, "cpuMillicores": 250, "timeoutSecs": 120, "bodyLimitMb": 100}
    assert body["draft"]["status"] == "VERSION_STATUS_DRAFT" and body["draft"]["codeHash"]
    assert platform.json("draft", "info", "org:inline")["draft"]["codeHash"] == body["draft"]["codeHash"]
    platform.ok("draft", "publish", "org:inline")
    status, handler, data = _invoke(platform, "inline", b'{"name":"inline"}')
    assert (status, handler) == (200, 200) and json.loads(data)["greeting"] == "Hello, inline!"


def test_create_with_bad_inline_code_creates_nothing(platform):
    code = {"compile": {"sourceCode": base64.b64encode(b"package main\nfunc main() {").decode(), "fileName": "main.go"}}
    status, body = _post_json(platform, "/v1/ignite/app/org", {"name": "badinline", "code": code})
    assert status == 400, body
    status, _ = _get(platform, "/v1/ignite/app/org/badinline")
    assert status == 404
    # The name is free: the same create with good code works.
    status, body = _post_json(platform, "/v1/ignite/app/org", {"name": "badinline", "code": _hello_code()})
    assert status == 200, body


def test_create_applies_the_tier_and_explicit_limits(platform):
    status, body = _post_json(platform, "/v1/ignite/app/org",
                              {"name": "tiered", "resourceTier": "RESOURCE_TIER_MEDIUM", "limits": {"memoryMb": 300}})
    assert status == 200, body
    assert body["appliedTier"] == "RESOURCE_TIER_MEDIUM"
    assert body["appliedLimits"] == {"memoryMb": 300, "cpuMillicores": 500, "timeoutSecs": 120, "bodyLimitMb": 100}


# ---- ListApps pagination ----

def test_list_apps_pages_through_every_app_once(platform):
    for i in range(7):
        status, body = _post_json(platform, "/v1/ignite/app/org", {"name": f"page-{i}"})
        assert status == 200, body
    seen, cursor, pages = [], "", 0
    while True:
        path = "/v1/ignite/app/org?limit=3" + (f"&cursor={cursor}" if cursor else "")
        status, body = _get(platform, path)
        assert status == 200, body
        apps = [a["name"] for a in body.get("apps", [])]
        assert len(apps) <= 3
        seen += apps
        pages += 1
        cursor = body.get("nextCursor", "")
        if not cursor:
            break
        assert pages < 100
    assert len(seen) == len(set(seen)), seen
    assert [n for n in seen if n.startswith("page-")] == [f"page-{i}" for i in range(7)]
    status, everything = _get(platform, "/v1/ignite/app/org?limit=1000")
    assert sorted(seen) == sorted(a["name"] for a in everything["apps"])
    # The CLI pages the same way.
    out = platform.json("app", "list", "--limit", "3")
    assert len(out["apps"]) == 3 and out["nextCursor"]


# ---- UpdateAppConfig (PATCH) and storage mode ----

def test_storage_mode_is_validated_and_patch_changes_only_given_fields(platform):
    status, body = _post_json(platform, "/v1/ignite/app/org", {"name": "stored", "storageMode": "STORAGE_MODE_TTL"})
    assert status == 400 and "ttl" in body["message"].lower(), body
    status, body = _post_json(platform, "/v1/ignite/app/org",
                              {"name": "stored", "storageMode": "STORAGE_MODE_TTL", "ttlSecs": 3600,
                               "description": "keep"})
    assert status == 200, body
    assert body["app"]["storageMode"] == "STORAGE_MODE_TTL" and body["app"]["ttlSecs"] == 3600
    status, body = _post_json(platform, "/v1/ignite/app/org/stored/config",
                              {"storageMode": "STORAGE_MODE_EPHEMERAL", "ttlSecs": 0}, method="PATCH")
    assert status == 200, body
    app = body["app"]
    assert app["storageMode"] == "STORAGE_MODE_EPHEMERAL" and "ttlSecs" not in app
    assert app["description"] == "keep"
    status, body = _post_json(platform, "/v1/ignite/app/org/stored/config", {"ttlSecs": 5}, method="PATCH")
    assert status == 400 and "STORAGE_MODE_TTL" in body["message"], body
    # Default when not given.
    status, body = _post_json(platform, "/v1/ignite/app/org", {"name": "stored2"})
    assert body["app"]["storageMode"] == "STORAGE_MODE_PERSISTENT"


def test_allow_unauthenticated_is_config(platform):
    status, body = _post_json(platform, "/v1/ignite/app/org", {"name": "open", "allowUnauthenticated": True})
    assert status == 200 and body["app"]["allowUnauthenticated"] is True, body
    status, body = _post_json(platform, "/v1/ignite/app/org/open/config", {"allowUnauthenticated": False},
                              method="PATCH")
    assert status == 200 and "allowUnauthenticated" not in body["app"], body


# ---- Input / output schemas ----

@pytest.fixture(scope="module")
def typed(platform, tmp_path_factory):
    platform.ok("app", "create", "org:typed", "--input-schema", SCHEMA, "--output-schema", '{"type":"object"}')
    platform.ok("draft", "save", "org:typed", "-c", str(write_app(tmp_path_factory.mktemp("typed") / "typed")))
    platform.ok("draft", "publish", "org:typed")
    return "typed"


def test_payloads_that_match_the_input_schema_run(platform, typed):
    status, handler, data = _invoke(platform, typed, b'{"name":"ok","tags":["a"]}')
    assert (status, handler) == (200, 200) and json.loads(data)["greeting"] == "Hello, ok!"
    app = platform.json("app", "get", "org:typed")["app"]
    assert json.loads(app["inputSchema"]) == json.loads(SCHEMA)
    assert app["outputSchema"] == '{"type":"object"}'


def test_payloads_that_do_not_match_are_400_naming_the_property(platform, typed):
    for payload, needle in [(b'{"tags":[]}', "name"), (b'{"name":5}', "/name"), (b'{"name":"x","tags":[1]}', "/tags/0"),
                            (b"not json", "not valid JSON")]:
        status, _, raw = platform.http("POST", f"/v1/ignite/app/org/{typed}/invoke", payload)
        assert status == 400, (payload, raw)
        err = json.loads(raw)
        assert err["code"] == 3 and "input schema" in err["message"] and needle in err["message"], (payload, err)
    status, _, raw = platform.http("POST", f"/v1/ignite/app/org/{typed}/invoke-async", b'{"name":5}')
    assert status == 400 and "/name" in json.loads(raw)["message"], raw
    status, _, raw = platform.http("POST", f"/v1/ignite/app/org/{typed}/draft/test", b"{}")
    assert status == 400 and "name" in json.loads(raw)["message"], raw
    status, _, raw = platform.http("POST", f"/v1/ignite/app/org/{typed}/versions/1/test", b"{}")
    assert status == 400 and "name" in json.loads(raw)["message"], raw
    p = platform.cli("invoke", "org:typed", "-p", "{}")
    assert p.returncode == 2 and b"name" in p.stderr, p.stderr
    # InvokeAsync and the tests accept a matching payload.
    status, _, raw = platform.http("POST", f"/v1/ignite/app/org/{typed}/invoke-async", b'{"name":"a"}')
    assert status == 200, raw


def test_invalid_schemas_are_refused_where_config_is_written(platform, typed):
    p = platform.cli("app", "create", "org:badschema", "--input-schema", '{"type": "object"')
    assert p.returncode == 2 and b"input_schema" in p.stderr, p.stderr
    status, body = _post_json(platform, "/v1/ignite/app/org", {"name": "badschema", "outputSchema": '{"required": 5}'})
    assert status == 400 and "output_schema" in body["message"], body
    status, body = _post_json(platform, f"/v1/ignite/app/org/{typed}/config", {"inputSchema": "[1]"}, method="PATCH")
    assert status == 400 and "input_schema" in body["message"], body
    status, body = _post_json(platform, f"/v1/ignite/app/org/{typed}/draft",
                              {"code": _hello_code(), "inputSchema": '{"type": 7}'})
    assert status == 400 and "input_schema" in body["message"], body
    # Nothing changed: the old schema still applies.
    status, _, _ = _invoke(platform, typed, b"{}")
    assert status == 400


def test_removing_the_schema_takes_effect_at_once(platform, tmp_path):
    _publish(platform, tmp_path, "untyped", inputSchema=SCHEMA)
    assert _invoke(platform, "untyped", b"{}")[0] == 400
    platform.ok("app", "update", "org:untyped", "--input-schema", "")
    status, handler, data = _invoke(platform, "untyped", b"{}")
    assert (status, handler) == (200, 200), data
    platform.ok("app", "update", "org:untyped", "--input-schema", SCHEMA)
    assert _invoke(platform, "untyped", b"{}")[0] == 400


# ---- GetExecutionStats ----

def test_execution_stats_count_outcomes_durations_and_cold_starts(platform, tmp_path):
    _publish(platform, tmp_path, "counted")
    status, body = _get(platform, "/v1/ignite/app/org/counted/stats/executions")
    assert status == 200 and body.get("total", "0") == "0", body
    for i in range(5):
        status, handler, _ = _invoke(platform, "counted", json.dumps({"name": str(i)}).encode())
        assert (status, handler) == (200, 200)
    status, handler, _ = _invoke(platform, "counted", b"not json")  # the handler's error: 500
    assert (status, handler) == (200, 500)
    status, _, raw = platform.http("POST", "/v1/ignite/app/org/counted/invoke-async", b'{"name":"async"}')
    execution = json.loads(raw)["executionId"]
    assert platform.cli("execution", "watch", execution).returncode == 0
    # Draft tests do not count.
    status, _, _ = platform.http("POST", "/v1/ignite/app/org/counted/draft/test", b'{"name":"t"}')
    assert status == 200

    status, stats = _get(platform, "/v1/ignite/app/org/counted/stats/executions")
    assert status == 200, stats
    assert stats["appId"] == "org/counted"
    assert int(stats["total"]) == 7 and int(stats["succeeded"]) == 6 and int(stats["failed"]) == 1, stats
    assert abs(stats["errorRate"] - 1 / 7) < 1e-9
    assert int(stats["coldStarts"]) >= 1
    p50, p95, p99 = (int(stats.get(k, "0")) for k in ("p50DurationMs", "p95DurationMs", "p99DurationMs"))
    assert 0 <= p50 <= p95 <= p99 <= int(stats.get("maxDurationMs", "0"))
    assert int(stats["sinceMs"]) <= int(stats["untilMs"])
    # A window that starts now has nothing yet.
    now_ms = int(time.time() * 1000) + 1000
    status, later = _get(platform, f"/v1/ignite/app/org/counted/stats/executions?since_ms={now_ms}")
    assert status == 200 and later.get("total", "0") == "0", later
    # The CLI.
    out = platform.json("app", "stats", "org:counted")
    assert int(out["total"]) == 7
    text = platform.ok("app", "stats", "org:counted").stdout.decode()
    assert "Invocations" in text and "Cold starts" in text


# ---- GetAppEvents / StreamAppEvents ----

def _pids(platform, app):
    return [r["pid"] for r in platform.json("app", "replicas", f"org:{app}").get("replicas", [])]


def test_events_of_publish_start_crash_and_retire(platform, tmp_path):
    _publish(platform, tmp_path, "eventful")
    types = [e["type"] for e in _events(platform, "eventful")]
    assert "BUILD_STARTED" in types and "BUILD_SUCCEEDED" in types and "VERSION_PUBLISHED" in types, types
    assert _invoke(platform, "eventful", b'{"name":"e"}')[:2] == (200, 200)
    started = _wait_for_event(platform, "eventful", lambda e: e["type"] == "INSTANCE_STARTED", "instance started")
    replica = started[0]["replicaId"]
    assert started[0]["version"] == 1 and replica.startswith("eventful-")
    _wait_for_event(platform, "eventful", lambda e: e["type"] == "INSTANCE_READY", "instance ready")
    # Kill the instance: the platform notices and says how it ended.
    pids = _pids(platform, "eventful")
    assert len(pids) == 1
    os.kill(pids[0], 9)
    crashed = _wait_for_event(platform, "eventful", lambda e: e["type"] == "INSTANCE_CRASHED", "instance crashed")
    assert crashed[0]["replicaId"] == replica and "signal 9" in crashed[0]["message"], crashed
    # A new instance serves; publishing again retires it.
    assert _invoke(platform, "eventful", b'{"name":"e"}')[:2] == (200, 200)
    platform.ok("draft", "publish", "org:eventful")
    retired = _wait_for_event(platform, "eventful", lambda e: e["type"] == "INSTANCE_RETIRED", "instance retired")
    assert retired[0]["version"] == 1
    published = [e for e in _events(platform, "eventful") if e["type"] == "VERSION_PUBLISHED"]
    assert [e["version"] for e in published] == [1, 2]
    # Filter by replica.
    status, body = _get(platform, f"/v1/ignite/app/org/eventful/events?replica_id={replica}")
    assert {e["replicaId"] for e in body["events"]} == {replica}
    # The CLI.
    text = platform.ok("app", "events", "org:eventful").stdout.decode()
    assert "INSTANCE_CRASHED" in text and replica in text


def test_event_stream_sends_the_tail_then_new_events(platform, tmp_path):
    _publish(platform, tmp_path, "streamed")
    conn = http.client.HTTPConnection("127.0.0.1", platform.port, timeout=30)
    conn.request("GET", "/v1/ignite/app/org/streamed/events/stream?tail=2",
                 headers={"Authorization": "Bearer " + platform.token()})
    r = conn.getresponse()
    assert r.status == 200 and r.getheader("content-type") == "application/x-ndjson"

    def next_event():
        while True:
            line = r.readline()
            assert line, "the stream ended"
            if line.strip():
                return json.loads(line)["result"]

    tail = [next_event(), next_event()]
    assert tail[-1]["type"] == "VERSION_PUBLISHED", tail
    assert _invoke(platform, "streamed", b'{"name":"s"}')[:2] == (200, 200)
    live = next_event()
    assert live["type"] == "INSTANCE_STARTED" and live["replicaId"].startswith("streamed-"), live
    conn.close()


def test_cli_events_follow_uses_the_stream(platform, tmp_path):
    _publish(platform, tmp_path, "followed")
    env = dict(os.environ, DODIL_CONFIG_DIR=str(platform.config_dir))
    proc = subprocess.Popen([str(BIN / "dodil"), "ignite", "-o", "json", "app", "events", "org:followed", "--follow",
                             "--limit", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        first = json.loads(proc.stdout.readline())
        assert first["type"] == "VERSION_PUBLISHED", first
        assert _invoke(platform, "followed", b'{"name":"f"}')[:2] == (200, 200)
        live = json.loads(proc.stdout.readline())
        assert live["type"] == "INSTANCE_STARTED", live
    finally:
        proc.kill()
        proc.wait(timeout=10)


# ---- DeleteApp cascade ----

def test_delete_removes_versions_draft_builds_instances_events_and_stats(platform, tmp_path):
    _publish(platform, tmp_path, "doomed")
    assert _invoke(platform, "doomed", b'{"name":"d"}')[:2] == (200, 200)
    build = platform.json("version", "get", "org:doomed", "1")["versionInfo"]["buildId"]
    pids = _pids(platform, "doomed")
    assert len(pids) == 1
    platform.ok("app", "delete", "org:doomed")
    for path in ["", "/versions", "/versions/1", "/draft", f"/builds/{build}/log", "/events", "/stats/executions",
                 "/logs"]:
        status, _ = _get(platform, f"/v1/ignite/app/org/doomed{path}")
        assert status == 404, path
    status, _, _ = platform.http("POST", "/v1/ignite/app/org/doomed/invoke", b"{}")
    assert status == 404
    deadline = time.time() + 10
    while os.path.exists(f"/proc/{pids[0]}") and open(f"/proc/{pids[0]}/stat").read().split()[2] != "Z":
        assert time.time() < deadline, "the deleted app's instance is still running"
        time.sleep(0.05)
    # A new app with the same name starts from nothing.
    status, body = _post_json(platform, "/v1/ignite/app/org", {"name": "doomed"})
    assert status == 200 and body["app"].get("activeVersion", 0) == 0, body
    assert _get(platform, "/v1/ignite/app/org/doomed/versions")[1].get("versions", []) == []
    assert "draft" not in _get(platform, "/v1/ignite/app/org/doomed/draft")[1]
    assert _get(platform, "/v1/ignite/app/org/doomed/stats/executions")[1].get("total", "0") == "0"
    assert _events(platform, "doomed") == []
    assert _get(platform, "/v1/ignite/app/org/doomed/logs")[1].get("lines", []) == []
