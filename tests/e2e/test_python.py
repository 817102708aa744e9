"""Issue 14: the Python code path end to end, through the real CLI, ignited, pip and /usr/bin/python3.11.

One contract app (apps/python_contract: handler.py, sibling packages lib/ and actions/, requirements.txt with
six) serves most cases; the X-Mode request header picks the behaviour. Bad-input cases save their own code."""

import json
import os
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

APP = "pyc"
APP_ID = f"org:{APP}"
APP_DIR = (Path(__file__).parent / "apps" / "python_contract").resolve()
ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")

HELLO = '''
def handler(payload, ctx):
    return "hello " + payload.decode()
'''


def direct(platform, app, body=b"", mode=None, method="POST", path="/", headers=None):
    """A call on the per-app URL; returns (status, lower-cased headers, body)."""
    h = {"X-Mode": mode} if mode else {}
    h.update(headers or {})
    return platform.on_host(f"{app}-org.ignite.localhost:{platform.port}", method, path, body, headers=h)


def logs_with(platform, app_id, marker, want=1, timeout=10):
    deadline = time.time() + timeout
    while True:
        p = platform.cli("-o", "json", "app", "logs", app_id)
        lines = []
        if p.returncode == 0:
            lines = [l for l in json.loads(p.stdout).get("lines", []) if marker in l.get("message", "")]
        if len(lines) >= want or time.time() > deadline:
            return lines
        time.sleep(0.2)


@pytest.fixture(scope="module")
def contract(platform):
    platform.ok("app", "create", APP, "--runtime", "python", "--env", "GREETING=hi")
    platform.ok("draft", "save", APP_ID, "-c", str(APP_DIR))
    platform.ok("draft", "publish", APP_ID)
    status, _, body = direct(platform, APP, b"warm")
    assert status == 200 and body == b"warm", body
    return platform


def test_reference_flow_single_file(platform, tmp_path):
    """Appendix B's Python flow as written: create, save a single handler.py, test, publish, invoke, curl the
    per-app URL, roll back."""
    f = tmp_path / "handler.py"
    f.write_text(HELLO)
    platform.ok("app", "create", "org:greet", "--description", "greets")
    saved = platform.ok("draft", "save", "org:greet", "-c", str(f))
    tested = platform.ok("draft", "test", "org:greet", "--payload", '{"name":"world"}')
    assert tested.stdout == b'hello {"name":"world"}', tested.stdout
    platform.ok("draft", "publish", "org:greet")
    assert platform.ok("invoke", "org:greet", "--payload", "x").stdout == b"hello x"
    status, headers, body = direct(platform, "greet", b"curl")
    assert status == 200 and body == b"hello curl"
    assert headers["content-type"] == "text/plain; charset=utf-8"
    app = platform.json("app", "get", "org:greet")
    assert json.dumps(app).count("python") >= 1, app
    versions = platform.json("version", "list", "org:greet")
    assert "python" in json.dumps(versions), versions
    # Version 2, then back to 1.
    f.write_text(HELLO.replace("hello ", "v2 "))
    platform.ok("draft", "save", "org:greet", "-c", str(f))
    platform.ok("draft", "publish", "org:greet")
    assert platform.ok("invoke", "org:greet", "--payload", "x").stdout == b"v2 x"
    platform.ok("version", "rollback", "org:greet", "1")
    assert platform.ok("invoke", "org:greet", "--payload", "x").stdout == b"hello x"


def test_runtime_is_detected_without_the_flag(platform, tmp_path):
    f = tmp_path / "handler.py"
    f.write_text(HELLO)
    platform.ok("app", "create", "org:detected")
    platform.ok("draft", "save", "org:detected", "-c", str(f))
    draft = platform.json("draft", "info", "org:detected")
    assert "python" in json.dumps(draft), draft


def test_app_deploy_with_env(platform, tmp_path):
    d = tmp_path / "dep"
    d.mkdir()
    (d / "handler.py").write_text("import os\n\ndef handler(payload, ctx):\n    return os.environ['WHO']\n")
    platform.ok("app", "deploy", "org:deployed", "--code", str(d), "--runtime", "python", "--env", "WHO=deployer")
    assert platform.ok("invoke", "org:deployed").stdout == b"deployer"


def test_return_encodings(contract):
    cases = {
        "echo": (b"\x00\xffbytes", "application/octet-stream", b"\x00\xffbytes"),
        "str": (b"x", "text/plain; charset=utf-8", "héllo x".encode()),
        "dict": (b"p", "application/json", None),
        "list": (b"", "application/json", b'[1, "two", null]'),
        "none": (b"", "application/json", b"null"),
        "number": (b"", "application/json", b"42"),
    }
    for mode, (payload, ctype, want) in cases.items():
        status, headers, body = direct(contract, APP, payload, mode=mode)
        assert status == 200, (mode, body)
        assert headers["content-type"] == ctype, (mode, headers)
        if want is not None:
            assert body == want, (mode, body)
    _, _, body = direct(contract, APP, b"p", mode="dict")
    assert json.loads(body) == {"payload": "p", "n": 1}


def test_context_headers_env_and_paths(contract):
    status, headers, body = direct(contract, APP, b"{}", mode="context", headers={"X-Custom": "v1"})
    assert status == 200, body
    out = json.loads(body)
    assert out["type"] == "dict" and out["payload_type"] == "bytes"
    assert set(out["ctx"]) == {"execution_id", "function_id", "organization_id"}
    assert ULID.match(out["ctx"]["execution_id"])
    assert out["ctx"]["execution_id"] == headers["x-ignite-execution-id"]
    assert out["ctx"]["function_id"] == f"org/{APP}"
    assert out["ctx"]["organization_id"]
    assert out["headers"]["x-custom"] == "v1"
    assert "authorization" not in out["headers"]
    assert out["cwd"] == "/app" and out["sys_path0"] == "/app"
    assert out["env"] == {"GREETING": "hi"}
    assert out["uid"] == 65534


def test_sibling_packages_and_requirements_import(contract):
    status, _, body = direct(contract, APP, b"loud", mode="imports")
    assert status == 200, body
    assert json.loads(body) == {"util": "LOUD!", "greeting": "hello py (six 1.16.0)"}


def test_module_state_persists_on_one_instance(contract):
    first = json.loads(direct(contract, APP, mode="state")[2])
    second = json.loads(direct(contract, APP, mode="state")[2])
    assert second["pid"] == first["pid"]
    assert second["calls"] == first["calls"] + 1
    assert second["loaded_at"] == first["loaded_at"]


def test_exception_is_500_json_and_the_instance_keeps_serving(contract):
    before = json.loads(direct(contract, APP, mode="state")[2])
    status, headers, body = direct(contract, APP, b"nope", mode="raise")
    assert status == 500
    assert headers["content-type"] == "application/json"
    err = json.loads(body)
    assert err["error"] == "bad payload: nope"
    assert err["type"] == "ValueError"
    assert "Traceback" in err["traceback"] and "handler.py" in err["traceback"]
    after = json.loads(direct(contract, APP, mode="state")[2])
    assert after["pid"] == before["pid"]


def test_unserialisable_result_and_sys_exit_are_500(contract):
    status, _, body = direct(contract, APP, mode="unserialisable")
    assert status == 500
    err = json.loads(body)
    assert err["type"] == "TypeError" and "JSON serializable" in err["error"]
    status, _, body = direct(contract, APP, mode="sys-exit")
    assert status == 500
    err = json.loads(body)
    assert err["type"] == "SystemExit" and "sys.exit(4)" in err["error"]
    assert direct(contract, APP, b"still", mode="echo")[2] == b"still"


def test_process_exit_gives_502_then_a_new_instance(contract):
    before = json.loads(direct(contract, APP, mode="state")[2])
    status, _, body = direct(contract, APP, mode="exit")
    assert status == 502, body
    assert b"exit status 3" in body, body
    after = json.loads(direct(contract, APP, mode="state")[2])
    assert after["pid"] != before["pid"]
    # The zygote's copy of the module state: a fresh instance starts from the loaded module, not from 0 calls
    # of another instance.
    assert after["calls"] == 1
    assert after["loaded_at"] == before["loaded_at"]


def test_print_and_logging_carry_the_execution_id(contract):
    marker = f"m-{uuid.uuid4().hex}"
    status, headers, body = direct(contract, APP, marker.encode(), mode="log")
    assert status == 200 and body == b"logged"
    exec_id = headers["x-ignite-execution-id"]
    lines = logs_with(contract, APP_ID, marker, want=2)
    assert len(lines) == 2, lines
    by_text = {("print" if l["message"].startswith("print") else "logging"): l for l in lines}
    assert by_text["print"]["message"] == f"print {marker}"
    assert by_text["print"]["stream"] == "stdout"
    assert by_text["logging"]["message"] == f"INFO logging {marker}"
    assert by_text["logging"]["stream"] == "stderr"
    for l in lines:
        assert l["executionId"] == exec_id, l


def test_daemon_thread_keeps_running_after_the_handler_returns(contract):
    marker = f"bg-{uuid.uuid4().hex}"
    status, headers, body = direct(contract, APP, marker.encode(), mode="background")
    assert status == 200 and body == b"started"
    lines = logs_with(contract, APP_ID, f"background {marker} done", timeout=15)
    assert len(lines) == 1, lines
    assert lines[0]["executionId"] == headers["x-ignite-execution-id"]


def on_one_instance(contract, max_concurrency, calls, body, mode):
    """`calls` parallel calls to the contract app held to one instance with `max_concurrency`; returns the
    results and the seconds they took together. The app's scaling is restored afterwards."""
    contract.ok("app", "update", APP_ID, "--max-concurrency", str(max_concurrency), "--max-replicas", "1")
    try:
        direct(contract, APP, b"warm")
        t0 = time.time()
        with ThreadPoolExecutor(calls) as ex:
            results = list(ex.map(lambda _: direct(contract, APP, body, mode=mode), range(calls)))
        return results, time.time() - t0
    finally:
        contract.ok("app", "update", APP_ID, "--max-concurrency", "100", "--max-replicas", "10")


def test_threads_serve_concurrently_up_to_max_concurrency(contract):
    results, elapsed = on_one_instance(contract, 4, 4, b"1", "sleep")
    assert all(r[0] == 200 and r[2] == b"slept" for r in results), results
    assert elapsed < 3, f"4 one-second calls took {elapsed:.1f}s on one instance"


def test_max_concurrency_caps_the_calls_one_instance_runs_at_once(contract):
    results, elapsed = on_one_instance(contract, 2, 6, b"0.5", "inflight")
    assert all(r[0] == 200 for r in results), results
    seen = [json.loads(r[2]) for r in results]
    assert len({s["pid"] for s in seen}) == 1, f"max_replicas 1 must keep one instance: {seen}"
    assert max(s["max"] for s in seen) == 2, f"the instance ran {max(s['max'] for s in seen)} calls at once, max_concurrency is 2: {seen}"
    # Six half-second calls, two at a time: three rounds.
    assert elapsed >= 1.4, f"six calls took {elapsed:.2f}s; two at a time they need three rounds of 0.5 s"


def test_async_handler(platform, tmp_path):
    f = tmp_path / "handler.py"
    f.write_text("import asyncio\n\nasync def handler(payload, ctx):\n    await asyncio.sleep(0.01)\n"
                 "    return {'async': payload.decode()}\n")
    platform.ok("app", "create", "org:pyasync")
    platform.ok("draft", "save", "org:pyasync", "-c", str(f))
    platform.ok("draft", "publish", "org:pyasync")
    assert json.loads(platform.ok("invoke", "org:pyasync", "-p", "yes").stdout) == {"async": "yes"}


def test_sandbox_read_only_code_private_tmp_no_secrets(contract):
    status, _, body = direct(contract, APP, mode="files")
    assert status == 200, body
    out = json.loads(body)
    assert out["app_writable"] is False
    assert out["shadow"] is False
    assert out["tmp"] == "ok"
    assert "home" not in out["root"] and "root" not in out["root"], out["root"]


def test_second_build_of_the_same_requirements_uses_the_cache(contract):
    contract.ok("app", "create", "org:pyc2")
    contract.ok("draft", "save", "org:pyc2", "-c", str(APP_DIR))
    out = contract.ok("draft", "compile", "org:pyc2", "--follow")
    log = out.stdout.decode() + out.stderr.decode()
    assert "wheels from the cache" in log, log
    assert "pip download" not in log, log


# --- bad input ----------------------------------------------------------------------------------------------------


def save_fails(platform, app, path, *needles):
    platform.ok("app", "create", f"org:{app}")
    p = platform.cli("draft", "save", f"org:{app}", "-c", str(path), "--runtime", "python")
    err = p.stderr.decode()
    assert p.returncode != 0, p.stdout
    for n in needles:
        assert n in err, err
    return err


def test_no_handler_py(platform, tmp_path):
    d = tmp_path / "nohandler"
    d.mkdir()
    (d / "main.py").write_text("def handler(payload, ctx):\n    return b''\n")
    (d / "other.py").write_text("x = 1\n")
    save_fails(platform, "pynohandler", d, "no handler.py at the root")


def test_syntax_error_is_reported_with_file_and_line(platform, tmp_path):
    d = tmp_path / "syntax"
    d.mkdir()
    (d / "handler.py").write_text("def handler(payload, ctx):\n    return b''\n")
    (d / "helpers.py").write_text("x = 1\ndef broken(:\n")
    save_fails(platform, "pysyntax", d, "./helpers.py:2:", "syntax error")


def test_missing_handler_function(platform, tmp_path):
    f = tmp_path / "handler.py"
    f.write_text("def main(payload, ctx):\n    return b''\n")
    save_fails(platform, "pynofunc", f, "./handler.py:1:1", "no top-level `handler`")


def test_handler_not_callable_fails_the_call_with_the_reason(platform, tmp_path):
    f = tmp_path / "handler.py"
    f.write_text("handler = 5\n")
    platform.ok("app", "create", "org:pynotcallable")
    platform.ok("draft", "save", "org:pynotcallable", "-c", str(f))
    platform.ok("draft", "publish", "org:pynotcallable")
    status, _, body = direct(platform, "pynotcallable", b"x")
    assert status == 503, body
    assert b"failed to load" in body, body
    lines = logs_with(platform, "org:pynotcallable", "callable")
    assert lines, "the reason is in the app's logs"


@pytest.mark.parametrize("requirement,app", [("ignite-no-such-package-zz==1.0", "pynosuchreq"),
                                             ("docopt==0.6.2", "pysdistonly")])
def test_bad_requirement_fails_the_build_and_keeps_the_published_version(platform, tmp_path, requirement, app):
    d = tmp_path / app
    d.mkdir()
    (d / "handler.py").write_text(HELLO)
    platform.ok("app", "create", f"org:{app}")
    platform.ok("draft", "save", f"org:{app}", "-c", str(d))
    platform.ok("draft", "publish", f"org:{app}")
    (d / "requirements.txt").write_text(requirement + "\n")
    platform.ok("draft", "save", f"org:{app}", "-c", str(d))
    p = platform.cli("draft", "publish", f"org:{app}")
    err = p.stderr.decode()
    assert p.returncode != 0
    assert "installing requirements failed" in err, err
    assert "No matching distribution found" in err, err
    assert "binary wheels only" in err, err
    assert platform.ok("invoke", f"org:{app}", "-p", "still").stdout == b"hello still"


def test_hang_past_the_timeout_is_504_and_nothing_changes(contract):
    contract.ok("app", "update", APP_ID, "--timeout-secs", "2")
    try:
        t0 = time.time()
        status, _, body = direct(contract, APP, b"30", mode="sleep")
        assert status == 504, body
        assert time.time() - t0 < 15
        assert direct(contract, APP, b"after", mode="echo")[2] == b"after"
    finally:
        contract.ok("app", "update", APP_ID, "--timeout-secs", "120")
