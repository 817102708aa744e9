"""The seed flow through each surface alone: gRPC (grpcurl with server reflection, no .proto files) and plain
curl on the HTTP routes. The CLI path is test_quickstart.py."""

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import HELLO


def grpcurl_path():
    candidates = [os.environ.get("IGNITE_GRPCURL", ""),
                  str(Path.home() / ".cache/ignite/tools/grpcurl-v1.9.3"),
                  shutil.which("grpcurl") or ""]
    for c in candidates:
        if c and os.access(c, os.X_OK):
            return c
    raise AssertionError("grpcurl not found: run ./scripts/test.sh (it installs it) or set IGNITE_GRPCURL")


def grpc(platform, method, body=None, token="default", check=True):
    """Calls dodil.ignite.v1.ComputeService/<method> (or a full method/list verb) with grpcurl."""
    args = [grpcurl_path(), "-plaintext", "-format-error", "-max-msg-sz", str(64 << 20)]
    if token == "default":
        token = platform.token()
    if token:
        args += ["-H", f"authorization: Bearer {token}"]
    if body is not None:
        args += ["-d", json.dumps(body)]
    target = f"127.0.0.1:{platform.grpc_port}"
    if method.split()[0] in ("list", "describe"):
        args += [target, *method.split()]
    else:
        args += [target, method if "/" in method else f"dodil.ignite.v1.ComputeService/{method}"]
    p = subprocess.run(args, capture_output=True, timeout=300)
    if check and p.returncode != 0:
        raise AssertionError(f"grpcurl {method} exited {p.returncode}: {p.stdout.decode()} {p.stderr.decode()}")
    return p


def messages(stdout: bytes):
    """grpcurl prints one JSON document per streamed message."""
    dec = json.JSONDecoder()
    text, pos, out = stdout.decode(), 0, []
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return out
        obj, pos = dec.raw_decode(text, pos)
        out.append(obj)


def hello_source():
    return base64.b64encode((HELLO / "main.go").read_bytes()).decode()


def test_reflection_lists_the_services(platform):
    services = grpc(platform, "list", token=None).stdout.decode().split()
    assert "dodil.ignite.v1.ComputeService" in services
    assert "grpc.reflection.v1alpha.ServerReflection" in services
    methods = grpc(platform, "list dodil.ignite.v1.ComputeService", token=None).stdout.decode()
    for m in ("CreateApp", "ListApps", "SaveDraft", "PublishDraft", "Invoke", "WatchExecution", "StreamAppLogs"):
        assert f"dodil.ignite.v1.ComputeService.{m}" in methods


def test_seed_flow_through_grpc_alone(platform):
    created = json.loads(grpc(platform, "CreateApp", {"organization_name": "org", "name": "grpc-hello",
                                                      "runtime": {"go": {}}}).stdout)
    assert created["app"]["id"] == "org/grpc-hello"
    saved = json.loads(grpc(platform, "SaveDraft", {
        "organization_name": "org", "app_name": "grpc-hello",
        "code": {"compile": {"runtime": {"go": {}}, "source_code": hello_source(), "file_name": "main.go"}}}).stdout)
    assert saved["draft"]["code_hash"]  # grpcurl prints proto field names
    published = json.loads(grpc(platform, "PublishDraft", {"organization_name": "org",
                                                           "app_name": "grpc-hello"}).stdout)
    assert published["version"] == 1
    listed = json.loads(grpc(platform, "ListApps", {"organization_name": "org"}).stdout)
    assert "org/grpc-hello" in [a["id"] for a in listed["apps"]]

    payload = base64.b64encode(b'{"name": "grpc"}').decode()
    frames = messages(grpc(platform, "Invoke", {"organization_name": "org", "app_name": "grpc-hello",
                                                "payload": payload}).stdout)
    assert frames[0]["head"]["status"] == 200 and frames[0]["head"]["version"] == 1
    body = b"".join(base64.b64decode(f["chunk"]["data"]) for f in frames if "chunk" in f)
    answer = json.loads(body)
    assert answer["greeting"] == "Hello, grpc!"
    assert answer["function_id"] == "org/grpc-hello"
    assert answer["execution_id"] == frames[0]["head"]["execution_id"]
    assert "trailer" in frames[-1]

    # Async execution and its watch stream.
    started = json.loads(grpc(platform, "InvokeAsync", {"organization_name": "org", "app_name": "grpc-hello",
                                                        "payload": payload}).stdout)
    states = messages(grpc(platform, "WatchExecution", {"execution_id": started["execution_id"]}).stdout)
    assert states[-1]["status"] == "EXECUTION_STATUS_SUCCEEDED", json.dumps(states)

    stats = json.loads(grpc(platform, "GetExecutionStats", {"organization_name": "org",
                                                            "app_name": "grpc-hello"}).stdout)
    assert int(stats["total"]) >= 2, stats
    events = json.loads(grpc(platform, "GetAppEvents", {"organization_name": "org", "app_name": "grpc-hello"}).stdout)
    assert "VERSION_PUBLISHED" in [e["type"] for e in events["events"]], events

    # The same app is visible over HTTP: one implementation behind both surfaces.
    status, _, raw = platform.http("GET", "/v1/ignite/app/org/grpc-hello")
    assert status == 200 and json.loads(raw)["app"]["activeVersion"] == 1


def test_grpc_errors_carry_the_api_codes(platform):
    p = grpc(platform, "ListApps", {"organization_name": "org"}, token=None, check=False)
    assert p.returncode != 0 and b'"code": 16' in p.stderr  # Unauthenticated
    p = grpc(platform, "GetApp", {"organization_name": "org", "app_name": "nope"}, check=False)
    assert b'"code": 5' in p.stderr  # NotFound
    p = grpc(platform, "GetApp", {"organization_name": "org", "app_name": "Bad Name!"}, check=False)
    assert b'"code": 3' in p.stderr  # InvalidArgument
    health = json.loads(grpc(platform, "HealthCheck", {}, token=None).stdout)
    assert health["status"] == "SERVING"


def test_update_config_over_grpc_with_and_without_a_mask(platform):
    grpc(platform, "CreateApp", {"organization_name": "org", "name": "grpc-cfg", "description": "first",
                                 "env": {"A": "1"}})
    # No mask: the fields set are replaced, the rest kept.
    out = json.loads(grpc(platform, "UpdateAppConfig", {"organization_name": "org", "app_name": "grpc-cfg",
                                                        "description": "second"}).stdout)
    assert out["app"]["description"] == "second" and out["app"]["env"] == {"A": "1"}
    # A mask can clear a field (an empty env), which "set fields" cannot express.
    out = json.loads(grpc(platform, "UpdateAppConfig", {"organization_name": "org", "app_name": "grpc-cfg",
                                                        "update_mask": {"paths": ["env"]}}).stdout)
    assert "env" not in out["app"] and out["app"]["description"] == "second"
    p = grpc(platform, "UpdateAppConfig", {"organization_name": "org", "app_name": "grpc-cfg",
                                           "update_mask": {"paths": ["name"]}}, check=False)
    assert b'"code": 3' in p.stderr and b"update_mask" in p.stderr  # InvalidArgument


def curl(platform, method, path, data=None, data_file=None, token="default"):
    args = ["curl", "-sS", "-X", method, "-w", "\n%{http_code}", platform.endpoint + path]
    if token == "default":
        token = platform.token()
    if token:
        args += ["-H", f"Authorization: Bearer {token}"]
    if data is not None:
        args += ["-H", "Content-Type: application/json", "--data-binary", data]
    if data_file is not None:
        args += ["--data-binary", f"@{data_file}"]
    p = subprocess.run(args, capture_output=True, timeout=300, check=True)
    body, _, code = p.stdout.decode().rpartition("\n")
    return int(code), body


def test_seed_flow_through_plain_curl(platform, tmp_path):
    code, body = curl(platform, "POST", "/v1/ignite/app/org", json.dumps({"name": "curl-hello",
                                                                            "runtime": {"go": {}}}))
    assert code == 200, body
    code, body = curl(platform, "POST", "/v1/ignite/app/org/curl-hello/draft", json.dumps(
        {"code": {"compile": {"runtime": {"go": {}}, "sourceCode": hello_source(), "fileName": "main.go"}}}))
    assert code == 200, body
    code, body = curl(platform, "POST", "/v1/ignite/app/org/curl-hello/draft/publish", "{}")
    assert code == 200 and json.loads(body)["version"] == 1, body
    payload = tmp_path / "payload.json"
    payload.write_text('{"name": "curl"}')
    code, body = curl(platform, "POST", "/v1/ignite/app/org/curl-hello/invoke", data_file=payload)
    assert code == 200, body
    frames = [json.loads(line)["result"] for line in body.splitlines() if line.strip()]
    data = b"".join(base64.b64decode(f["chunk"]["data"]) for f in frames if "chunk" in f)
    assert json.loads(data)["greeting"] == "Hello, curl!"
    code, body = curl(platform, "GET", "/v1/ignite/app/org/curl-hello", token=None)
    assert code == 401 and json.loads(body)["code"] == 16


def test_service_accounts_and_token_exchange_over_grpc(platform):
    methods = grpc(platform, "list dodil.ignite.v1.AuthService", token=None).stdout.decode()
    assert "dodil.ignite.v1.AuthService.IssueToken" in methods
    created = json.loads(grpc(platform, "dodil.ignite.v1.AuthService/CreateServiceAccount",
                              {"name": "grpc-ci", "role": "app-viewer"}).stdout)
    sa_id, secret = created["service_account"]["id"], created["secret"]
    issued = json.loads(grpc(platform, "dodil.ignite.v1.AuthService/IssueToken",
                             {"service_account_id": sa_id, "secret": secret}, token=None).stdout)
    token = issued["access_token"]
    assert issued["organization_name"] == "org" and issued["role"] == "app-viewer"
    grpc(platform, "ListApps", {"organization_name": "org"}, token=token)
    p = grpc(platform, "CreateApp", {"organization_name": "org", "name": "viewer-made"}, token=token, check=False)
    assert b'"code": 7' in p.stderr  # PermissionDenied: a viewer cannot create
    p = grpc(platform, "dodil.ignite.v1.AuthService/IssueToken", {"service_account_id": sa_id, "secret": "igs_wrong"},
             token=None, check=False)
    assert b'"code": 16' in p.stderr  # Unauthenticated
