"""Asynchronous invocation (issue 4 item 3): `invoke --async`, `execution get|watch|logs`, the HTTP routes
InvokeAsync / GetExecution / WatchExecution, org isolation, and records that survive a restart."""

import base64
import hashlib
import json
import secrets
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

ASYNC_APP = (Path(__file__).parent / "apps" / "async").resolve()
TERMINAL = {"EXECUTION_STATUS_SUCCEEDED", "EXECUTION_STATUS_FAILED", "EXECUTION_STATUS_TIMED_OUT"}


@pytest.fixture(scope="module")
def app(platform, tmp_path_factory):
    """org:async published from tests/e2e/apps/async, plus org:async-slow with a 1 s execution timeout."""
    src = tmp_path_factory.mktemp("async-src")
    for f in ("main.go", "go.mod"):
        shutil.copy(ASYNC_APP / f, src / f)
    platform.ok("app", "create", "org:async")
    platform.ok("draft", "save", "org:async", "-c", str(src))
    platform.ok("draft", "publish", "org:async")
    platform.ok("app", "create", "org:async-slow", "--timeout-secs", "1")
    platform.ok("draft", "save", "org:async-slow", "-c", str(src))
    platform.ok("draft", "publish", "org:async-slow")
    return "org:async"


def start(platform, payload, app="org:async"):
    p = platform.ok("invoke", app, "--async", "-p", json.dumps(payload))
    exec_id = p.stdout.decode().strip()
    assert len(exec_id) == 26, p.stdout
    return exec_id


def get(platform, exec_id):
    return platform.json("execution", "get", exec_id)["execution"]


def wait_terminal(platform, exec_id, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        e = get(platform, exec_id)
        if e["status"] in TERMINAL:
            return e
        time.sleep(0.1)
    raise AssertionError(f"execution {exec_id} did not finish: {e}")


def output(execution):
    return base64.b64decode(execution.get("output", ""))


def test_invoke_async_returns_at_once_then_succeeds(platform, app):
    t0 = time.time()
    exec_id = start(platform, {"sleep_ms": 1500, "echo": "hi"})
    assert time.time() - t0 < 1.2  # the handler alone takes 1.5 s
    first = get(platform, exec_id)
    assert first["status"] in ("EXECUTION_STATUS_PENDING", "EXECUTION_STATUS_RUNNING"), first
    assert first["appId"] == "org/async"
    assert first["version"] == 1
    assert "output" not in first

    done = wait_terminal(platform, exec_id)
    assert done["status"] == "EXECUTION_STATUS_SUCCEEDED", done
    assert done["responseStatus"] == 200
    assert int(done["durationMs"]) >= 1500
    body = json.loads(output(done))
    assert body["echo"] == "hi"
    assert body["execution_id"] == done["invocationId"]
    assert int(done["createdAtMs"]) <= int(done["startedAtMs"]) <= int(done["finishedAtMs"])

    table = platform.ok("exec", "get", exec_id).stdout.decode()
    assert "succeeded" in table and "org/async" in table and '"echo":"hi"' in table, table


def test_http_routes(platform, app):
    status, headers, body = platform.http("POST", "/v1/ignite/app/org/async/invoke-async", b'{"echo":"http"}')
    assert status == 200, body
    exec_id = json.loads(body)["executionId"]
    assert headers["x-ignite-execution-id"] == exec_id
    status, _, body = platform.http("GET", f"/v1/ignite/executions/{exec_id}/watch")
    assert status == 200, body
    states = [json.loads(line)["result"] for line in body.decode().splitlines()]
    assert states[-1]["status"] == "EXECUTION_STATUS_SUCCEEDED"
    assert json.loads(base64.b64decode(states[-1]["output"]))["echo"] == "http"
    assert len({s["status"] for s in states}) == len(states)  # one line per state change
    status, _, body = platform.http("GET", f"/v1/ignite/executions/{exec_id}")
    assert status == 200 and json.loads(body)["execution"]["status"] == "EXECUTION_STATUS_SUCCEEDED"


def test_watch_follows_to_succeeded(platform, app):
    exec_id = start(platform, {"sleep_ms": 1000, "echo": "w"})
    p = platform.cli("execution", "watch", exec_id)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.decode().splitlines()
    states = [line.split(" ", 1)[1] for line in lines]
    assert states[-1].startswith("succeeded (HTTP 200"), lines
    assert any(s.startswith("running") for s in states), lines
    assert all(not s.startswith("succeeded") for s in states[:-1])

    exec_id = start(platform, {"sleep_ms": 500})
    p = platform.cli("exec", "watch", exec_id, "-o", "json")
    assert p.returncode == 0, p.stderr
    states = [json.loads(line) for line in p.stdout.decode().splitlines()]
    assert states[-1]["status"] == "EXECUTION_STATUS_SUCCEEDED"
    # A watch of a finished execution prints its final state once.
    p = platform.cli("exec", "watch", exec_id)
    assert p.returncode == 0 and len(p.stdout.decode().splitlines()) == 1, p.stdout


def test_failing_handler_gives_failed_with_its_error(platform, app):
    exec_id = start(platform, {"fail": "no such customer 42"})
    p = platform.cli("execution", "watch", exec_id)
    assert p.returncode == 1
    assert b"failed (HTTP 500" in p.stdout and b"no such customer 42" in p.stdout, p.stdout
    assert b"no such customer 42" in p.stderr
    e = get(platform, exec_id)
    assert e["status"] == "EXECUTION_STATUS_FAILED"
    assert e["error"] == "no such customer 42"
    assert e["responseStatus"] == 500
    assert json.loads(output(e)) == {"error": "no such customer 42"}


def test_timeout_and_oversized_output(platform, app):
    exec_id = start(platform, {"sleep_ms": 4000}, app="org:async-slow")
    p = platform.cli("execution", "watch", exec_id)
    assert p.returncode == 1
    e = get(platform, exec_id)
    assert e["status"] == "EXECUTION_STATUS_TIMED_OUT", e
    assert e["responseStatus"] == 504 and "timeout" in e["error"], e

    exec_id = start(platform, {"big": 7 << 20})
    e = wait_terminal(platform, exec_id)
    assert e["status"] == "EXECUTION_STATUS_FAILED"
    assert e["error"] == "output larger than 6 MiB; use Invoke for large answers"
    assert "output" not in e
    # Just under the limit is kept whole.
    exec_id = start(platform, {"big": 6 << 20})
    e = wait_terminal(platform, exec_id)
    assert e["status"] == "EXECUTION_STATUS_SUCCEEDED" and len(output(e)) == 6 << 20


def test_refusals_come_back_at_once(platform, app):
    p = platform.cli("invoke", "org:nope", "--async", "-p", "{}")
    assert p.returncode == 5 and b"does not exist" in p.stderr, p.stderr
    platform.ok("app", "create", "org:async-unpublished")
    p = platform.cli("invoke", "org:async-unpublished", "--async", "-p", "{}")
    assert p.returncode != 0 and b"publish" in p.stderr, p.stderr
    p = platform.cli("execution", "get", "01HZZZZZZZZZZZZZZZZZZZZZZZ")
    assert p.returncode == 5 and b"does not exist" in p.stderr, p.stderr
    p = platform.cli("execution", "watch", "01HZZZZZZZZZZZZZZZZZZZZZZZ")
    assert p.returncode == 5


def _mint_other_org_token(platform, org_name="other"):
    """There is no API to create organizations or tokens yet, so the test writes them the way ignited does
    (orgs row; tokens row with sha256(salt + secret)) into the live database; WAL lets it write alongside."""
    org_id = "01TESTORG" + secrets.token_hex(8).upper()[:17]
    token_id, secret, salt = secrets.token_hex(8), secrets.token_hex(24), secrets.token_hex(16)
    now = int(time.time() * 1000)
    db = sqlite3.connect(platform.data_dir / "ignite.db", timeout=10)
    with db:
        db.execute("INSERT INTO orgs(id, name, created_at_ms) VALUES (?, ?, ?)", (org_id, org_name, now))
        db.execute("INSERT INTO tokens(id, org_id, role, secret_hash, salt, description, created_at_ms, "
                   "expires_at_ms) VALUES (?, ?, 'admin', ?, ?, 'test', ?, 0)",
                   (token_id, org_id, hashlib.sha256((salt + secret).encode()).hexdigest(), salt, now))
    db.close()
    return f"ign_{token_id}_{secret}"


def test_another_org_cannot_read_an_execution(platform, app):
    exec_id = start(platform, {"echo": "private"})
    wait_terminal(platform, exec_id)
    other = _mint_other_org_token(platform)
    for path in (f"/v1/ignite/executions/{exec_id}", f"/v1/ignite/executions/{exec_id}/watch"):
        status, _, body = platform.http("GET", path, token=other)
        assert status == 404, (path, status, body)
        assert b"private" not in body
        assert json.loads(body)["code"] == 5
        status, _, _ = platform.http("GET", path)
        assert status == 200
    status, _, body = platform.http("POST", "/v1/ignite/app/org/async/invoke-async", b"{}", token=other)
    assert status == 403, body
    status, _, body = platform.http("GET", f"/v1/ignite/executions/{exec_id}", token=None)
    assert status == 401


def test_execution_logs_show_the_handlers_lines(platform, app):
    marker = "marker-" + secrets.token_hex(4)
    exec_id = start(platform, {"echo": marker})
    wait_terminal(platform, exec_id)
    deadline = time.time() + 10
    while True:
        out = platform.ok("execution", "logs", exec_id).stdout.decode()
        if marker in out or time.time() > deadline:
            break
        time.sleep(0.1)
    lines = out.splitlines()
    assert any(f"async handler: echo={marker}" in line for line in lines), out
    assert all("async handler: echo=" + marker in line for line in lines if "async handler" in line), out
    logs = platform.json("exec", "logs", exec_id)["lines"]
    assert logs and all(l["executionId"] == get(platform, exec_id)["invocationId"] for l in logs)


def test_records_survive_a_restart(platform, app):
    done_id = start(platform, {"echo": "before restart"})
    done = wait_terminal(platform, done_id)
    # One still running when SIGTERM arrives: ignited drains it and saves the final state.
    running_id = start(platform, {"sleep_ms": 1500, "echo": "in flight"})
    time.sleep(0.3)
    assert platform.stop() == 0
    platform.start()
    again = get(platform, done_id)
    assert again == done
    after = get(platform, running_id)
    assert after["status"] == "EXECUTION_STATUS_SUCCEEDED", after
    assert json.loads(output(after))["echo"] == "in flight"
    # And new executions work after the restart.
    assert wait_terminal(platform, start(platform, {"echo": "after"}))["status"] == "EXECUTION_STATUS_SUCCEEDED"
