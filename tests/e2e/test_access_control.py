"""Issue 5 item 5 (first part): every route checks identity and role, and derives the org from the token.

The routes come from the server itself (`ignited routes`), so a route added without an entry here fails the
test. Each is called as: no token, a malformed token, an unknown token, an expired token, a viewer of the org,
a developer of another org, a developer of the org, and an admin of the org; only the status is checked (the
body is not read, so streams that never end are fine)."""

import http.client
import json
import subprocess
import time

import pytest

from conftest import BIN, write_app

VIEWER = {"GetApp", "ListApps", "GetAppState", "ListAppReplicas", "GetAppLogs", "StreamAppLogs", "GetDraftInfo",
          "ListAppVersions", "GetAppVersion", "GetBuildLog", "StreamCompileLogs", "GetExecution", "WatchExecution",
          "WhoAmI", "GetExecutionStats", "GetAppEvents", "StreamAppEvents", "ListSecrets"}
DEVELOPER = {"CreateApp", "UpdateAppConfig", "DeleteApp", "SaveDraft", "CompileDraft", "CancelCompile", "PublishDraft",
             "RollbackApp", "TestDraft", "TestAppVersion", "GetAppCode", "Invoke", "InvokeAsync",
             "CreateSecret", "GetSecret", "DeleteSecret"}
ADMIN = {"CreateServiceAccount", "ListServiceAccounts", "DeleteServiceAccount"}
PUBLIC = {"HealthCheck"}
# Takes no bearer: the body's service account credentials are the authentication. Called with a real
# account's id and a wrong secret, it is 401 whoever calls.
EXCHANGE = {"IssueToken"}
# Routes that name no org in their path: the resource's own org decides, and another org sees NotFound.
BY_ID = {"GetExecution", "WatchExecution", "StreamCompileLogs", "CancelCompile"}
# Routes about the caller's own token or org (the org comes from the token, none is in the path): any valid
# token with the role may call them, and acts on its own org.
SELF = {"WhoAmI", "ListSecrets", "GetSecret", "CreateSecret", "DeleteSecret"}
ALL = VIEWER | DEVELOPER | ADMIN | PUBLIC | EXCHANGE


def ignited(platform, *args):
    r = subprocess.run([str(BIN / "ignited"), "--data-dir", str(platform.data_dir), *args], capture_output=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout.decode().strip()


def routes(platform):
    out = []
    for line in ignited(platform, "routes").splitlines():
        method, pattern, name = line.split()
        out.append((method, pattern, name))
    return out


@pytest.fixture(scope="module")
def world(platform, tmp_path_factory):
    src = write_app(tmp_path_factory.mktemp("acl") / "acl")
    platform.ok("app", "create", "org:acl")
    platform.ok("draft", "save", "org:acl", "-c", str(src))
    platform.ok("draft", "publish", "org:acl")
    deploy = platform.json("draft", "info", "org:acl")["draft"]["deployId"]
    build = platform.json("version", "get", "org:acl", "1")["versionInfo"]["buildId"]
    status, _, body = platform.http("POST", "/v1/ignite/app/org/acl/invoke-async", b'{"name":"x"}')
    assert status == 200, body
    execution = json.loads(body)["executionId"]
    ignited(platform, "org", "create", "other")
    tokens = {
        "none": None,
        "malformed": "not-a-bearer-token",
        "unknown": "ign_0000000000000000_" + "0" * 48,
        "expired": ignited(platform, "token", "create", "--org", "org", "--role", "app-developer", "--ttl-secs", "1"),
        "viewer": ignited(platform, "token", "create", "--org", "org", "--role", "app-viewer"),
        "other-developer": ignited(platform, "token", "create", "--org", "other", "--role", "app-developer"),
        "developer": ignited(platform, "token", "create", "--org", "org", "--role", "app-developer"),
        "admin": platform.token(),
    }
    status, _, body = platform.http("POST", "/v1/ignite/auth/service-accounts", b'{"name":"acl"}')
    assert status == 200, body
    account = json.loads(body)["serviceAccountId"]
    time.sleep(1.5)  # the expired token's second passes
    params = {"organization_name": "org", "app_name": "acl", "version": "1", "build_id": build, "deploy_id": deploy,
              "execution_id": execution, "id": account, "name": "acl-secret"}
    bodies = {"IssueToken": json.dumps({"serviceAccountId": account, "secret": "igs_wrong"}).encode(),
              "CreateSecret": json.dumps({"name": "acl-secret", "value": {"gitSecret": {"token": "t"}}}).encode()}
    return platform, tokens, params, bodies


def call(platform, method, path, token, body=b"{}"):
    port = int(platform.endpoint.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json"}
    if token == "not-a-bearer-token":
        headers["Authorization"] = token
    elif token:
        headers["Authorization"] = "Bearer " + token
    conn.request(method, path, body=body if method in ("POST", "PATCH") else None, headers=headers)
    status = conn.getresponse().status
    conn.close()
    return status


def expected(name, who):
    if name in PUBLIC:
        return {200}
    if name in EXCHANGE:
        return {401}
    if who in ("none", "malformed", "unknown", "expired"):
        return {401}
    if who == "viewer" and name in DEVELOPER | ADMIN:
        return {403}
    if who == "other-developer" and name not in SELF:
        return {404} if name in BY_ID else {403}
    if who == "developer" and name in ADMIN:
        return {403}
    return None  # allowed: anything but 401 and 403


def test_every_route_has_an_access_rule(world):
    platform, _, _, _ = world
    names = {name for _, _, name in routes(platform)}
    assert names == ALL, (
        f"routes without a rule here: {sorted(names - ALL)}; rules without a route: {sorted(ALL - names)}")


@pytest.mark.parametrize("who", ["none", "malformed", "unknown", "expired", "viewer", "other-developer",
                                 "developer", "admin"])
def test_route_access_by_identity(world, who):
    platform, tokens, params, bodies = world
    failures = []
    # DeleteApp last: the right developer really deletes the app.
    for method, pattern, name in sorted(routes(platform), key=lambda r: r[2] == "DeleteApp"):
        path = pattern
        for k, v in params.items():
            path = path.replace("{" + k + "}", v)
        status = call(platform, method, path, tokens[who], bodies.get(name, b"{}"))
        want = expected(name, who)
        ok = status in want if want is not None else status not in (401, 403)
        if not ok:
            failures.append(f"{who}: {method} {path} ({name}) -> {status}, want "
                            f"{sorted(want) if want else 'not 401/403'}")
    assert not failures, "\n".join(failures)
