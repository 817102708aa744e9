"""The seed flow of go-compile-path.md, exactly as written, plus what issue 2 asks around it."""

import io
import json
import os
import signal
import subprocess
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from conftest import HELLO, Platform, write_app


def invoke(platform, app, payload):
    return platform.ok("invoke", app, "-p", payload).stdout


def test_seed_commands_as_written(platform, tmp_path):
    app_dir = write_app(tmp_path / "hello")
    p = platform.ok("app", "create", "hello", "--runtime", "go")
    assert b"org/hello" in p.stdout
    platform.ok("draft", "save", "org:hello", "--code", str(app_dir))
    p = platform.ok("draft", "publish", "org:hello")
    assert b"version 1" in p.stdout
    out = invoke(platform, "org:hello", '{"name": "world"}')
    body = json.loads(out)
    assert body["greeting"] == "Hello, world!"
    assert body["function_id"] == "org/hello"
    assert len(body["execution_id"]) == 26
    # Exactly the response body: keys in encoding/json's sorted order, no added newline or quoting.
    assert out == json.dumps(body, separators=(",", ":")).encode()
    assert list(body) == ["execution_id", "function_id", "greeting"]


def test_warm_instance_gives_new_execution_ids(platform):
    first = platform.json("invoke", "org:hello", "-p", '{"name":"a"}')
    second = platform.json("invoke", "org:hello", "-p", '{"name":"b"}')
    assert first["executionId"] != second["executionId"]
    assert second["coldStart"] is False
    body1 = json.loads(first["body"])
    body2 = json.loads(second["body"])
    assert body1["execution_id"] == first["executionId"]
    assert body2["execution_id"] == second["executionId"]
    assert body2["greeting"] == "Hello, b!"
    # One warm instance served both: exactly one process runs the artifact.
    artifact = platform.json("version", "get", "org:hello", "1")["versionInfo"]["artifactSha256"]
    assert len(platform.artifact_pids(artifact)) == 1


def test_execution_id_header_on_the_http_route(platform):
    status, headers, body = platform.http("POST", "/v1/ignite/app/org/hello/invoke", b'{"name":"h"}')
    assert status == 200
    lines = [json.loads(l) for l in body.decode().splitlines()]
    head = lines[0]["result"]["head"]
    assert head["status"] == 200
    assert headers["x-ignite-execution-id"] == head["executionId"]
    assert "trailer" in lines[-1]["result"]


def _tar_gz(files, links=()):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        for name, target in links:
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tf.addfile(info)
    return buf.getvalue()


def _zip(files):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _hello_files():
    return {"main.go": (HELLO / "main.go").read_bytes(), "go.mod": (HELLO / "go.mod").read_bytes()}


@pytest.mark.parametrize("kind", ["zip", "tar.gz", "single-file"])
def test_seed_flow_from_archives(platform, tmp_path, kind):
    name = "hello-" + kind.replace(".", "").replace("-", "")
    platform.ok("app", "create", f"org:{name}")
    if kind == "zip":
        path = tmp_path / "code.zip"
        path.write_bytes(_zip(_hello_files()))
    elif kind == "tar.gz":
        path = tmp_path / "code.tar.gz"
        path.write_bytes(_tar_gz(_hello_files()))
    else:
        path = tmp_path / "main.go"
        path.write_bytes(_hello_files()["main.go"])
    platform.ok("draft", "save", f"org:{name}", "-c", str(path))
    platform.ok("draft", "publish", f"org:{name}")
    body = json.loads(invoke(platform, f"org:{name}", '{"name":"zip"}'))
    assert body["greeting"] == "Hello, zip!"
    assert body["function_id"] == f"org/{name}"


def test_handler_error_gives_500_and_json_body(platform, tmp_path):
    platform.ok("app", "create", "org:failing")
    app = write_app(tmp_path / "failing")
    platform.ok("draft", "save", "org:failing", "-c", str(app))
    platform.ok("draft", "publish", "org:failing")
    p = platform.cli("invoke", "org:failing", "-p", "not json")
    assert p.returncode == 1
    body = json.loads(p.stdout)
    assert "invalid character" in body["error"]
    assert b"500" in p.stderr
    status, _, raw = platform.http("POST", "/v1/ignite/app/org/failing/invoke", b"not json")
    head = json.loads(raw.decode().splitlines()[0])["result"]["head"]
    assert head["status"] == 500
    assert head["headers"]["Content-Type"] == "application/json"


def test_panic_gives_500_and_instance_keeps_serving(platform, tmp_path):
    platform.ok("app", "create", "org:panicky")
    app = write_app(tmp_path / "panicky", extra="")
    src = (app / "main.go").read_text().replace(
        "if req.Name == \"\" {", "if req.Name == \"boom\" {\n\t\tpanic(\"kaboom\")\n\t}\n\tif req.Name == \"\" {")
    (app / "main.go").write_text(src)
    platform.ok("draft", "save", "org:panicky", "-c", str(app))
    platform.ok("draft", "publish", "org:panicky")
    p = platform.cli("invoke", "org:panicky", "-p", '{"name":"boom"}')
    assert p.returncode == 1
    assert "kaboom" in json.loads(p.stdout)["error"]
    after = platform.json("invoke", "org:panicky", "-p", '{"name":"ok"}')
    assert json.loads(after["body"])["greeting"] == "Hello, ok!"
    assert after["coldStart"] is False


def test_compile_error_keeps_previous_version_serving(platform, tmp_path):
    platform.ok("app", "create", "org:evolving")
    good = write_app(tmp_path / "good")
    platform.ok("draft", "save", "org:evolving", "-c", str(good))
    platform.ok("draft", "publish", "org:evolving")
    bad = write_app(tmp_path / "bad")
    (bad / "main.go").write_text((bad / "main.go").read_text().replace("return json.Marshal", "return jsn.Marshal"))
    platform.ok("draft", "save", "org:evolving", "-c", str(bad))
    p = platform.cli("draft", "publish", "org:evolving")
    assert p.returncode == 2, p.stderr
    assert b"main.go:" in p.stderr and b"jsn" in p.stderr, p.stderr
    versions = platform.json("version", "list", "org:evolving")["versions"]
    assert [v["version"] for v in versions] == [1]
    info = platform.json("draft", "info", "org:evolving")
    assert info["draft"]["buildStatus"] == "BUILD_STATUS_FAILED"
    assert "jsn" in info["draft"]["error"]
    assert json.loads(invoke(platform, "org:evolving", "{}"))["greeting"] == "Hello, world!"


def test_rollback_switches_traffic(platform, tmp_path):
    platform.ok("app", "create", "org:rolling")
    platform.ok("draft", "save", "org:rolling", "-c", str(write_app(tmp_path / "v1", greeting="One")))
    platform.ok("draft", "publish", "org:rolling")
    assert json.loads(invoke(platform, "org:rolling", "{}"))["greeting"] == "One, world!"
    platform.ok("draft", "save", "org:rolling", "-c", str(write_app(tmp_path / "v2", greeting="Two")))
    platform.ok("draft", "publish", "org:rolling")
    assert json.loads(invoke(platform, "org:rolling", "{}"))["greeting"] == "Two, world!"
    platform.ok("version", "rollback", "org:rolling", "1")
    assert json.loads(invoke(platform, "org:rolling", "{}"))["greeting"] == "One, world!"
    versions = {v["version"]: v["status"] for v in platform.json("version", "list", "org:rolling")["versions"]}
    assert versions == {1: "VERSION_STATUS_ACTIVE", 2: "VERSION_STATUS_SUPERSEDED"}
    assert platform.json("app", "get", "org:rolling")["app"]["activeVersion"] == 1
    p = platform.cli("version", "rollback", "org:rolling", "7")
    assert p.returncode == 5


def _blob_files(platform):
    return sorted(str(p) for p in (platform.data_dir / "blobs").rglob("*") if p.is_file())


@pytest.mark.parametrize("case", ["zip-slip", "absolute", "link-escape", "not-an-archive"])
def test_malformed_archives_are_rejected_and_nothing_stored(platform, tmp_path, case):
    name = "bad-" + case
    platform.ok("app", "create", f"org:{name}")
    files = _hello_files()
    if case == "zip-slip":
        path = tmp_path / "x.zip"
        path.write_bytes(_zip({**files, "../evil.go": b"package main\n"}))
    elif case == "absolute":
        path = tmp_path / "x.tar.gz"
        path.write_bytes(_tar_gz({**files, "/etc/evil": b"x"}))
    elif case == "link-escape":
        path = tmp_path / "x.tar.gz"
        path.write_bytes(_tar_gz(files, links=[("escape", "../../../etc/passwd")]))
    else:
        path = tmp_path / "x.zip"
        path.write_bytes(os.urandom(4096))
    before = _blob_files(platform)
    p = platform.cli("draft", "save", f"org:{name}", "-c", str(path))
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert p.stderr.strip(), "the error must say what is wrong"
    assert _blob_files(platform) == before
    info = platform.ok("-o", "json", "draft", "info", f"org:{name}").stdout
    assert json.loads(info) == {"status": "no draft"}


def test_unauthenticated_calls_are_rejected(platform):
    status, _, body = platform.http("GET", "/v1/ignite/app/org", token=None)
    assert status == 401
    err = json.loads(body)
    assert err["code"] == 16 and err["details"] == [] and "Bearer" in err["message"]
    status, _, _ = platform.http("GET", "/v1/ignite/app/org", token="ign_nope_nope")
    assert status == 401
    status, _, _ = platform.http("GET", "/v1/ignite/app/other-org")
    assert status == 403
    status, _, body = platform.http("GET", "/v1/ignite/app/org/Bad_Name")
    assert status == 400 and json.loads(body)["code"] == 3


def test_survives_restart_with_data_and_routes(tmp_path, go_cache):
    p = Platform(tmp_path, go_cache).start()
    try:
        p.ok("app", "create", "hello", "--runtime", "go")
        p.ok("draft", "save", "org:hello", "--code", str(write_app(tmp_path / "src")))
        p.ok("draft", "publish", "org:hello")
        token = p.token()
        assert p.stop() == 0
        p.start()
        assert p.token() == token
        assert json.loads(p.ok("invoke", "org:hello", "-p", "{}").stdout)["greeting"] == "Hello, world!"
        assert [v["version"] for v in p.json("version", "list", "org:hello")["versions"]] == [1]
    finally:
        assert p.stop() == 0
