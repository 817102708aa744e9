"""The `public` organization: its apps can be invoked with a token of any organization, and nothing else about
them is shared (decisions.md "The public organization")."""

import base64
import json
import subprocess

import pytest

from conftest import BIN, write_app


def ignited(platform, *args):
    r = subprocess.run([str(BIN / "ignited"), "--data-dir", str(platform.data_dir), *args], capture_output=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout.decode().strip()


@pytest.fixture(scope="module")
def tokens(platform, tmp_path_factory):
    ignited(platform, "org", "create", "public")
    ignited(platform, "org", "create", "third")
    t = {
        "public": ignited(platform, "token", "create", "--org", "public", "--role", "app-developer"),
        "third-developer": ignited(platform, "token", "create", "--org", "third", "--role", "app-developer"),
        "third-viewer": ignited(platform, "token", "create", "--org", "third", "--role", "app-viewer"),
    }
    app = write_app(tmp_path_factory.mktemp("pub") / "pub", greeting="Hi")
    as_public = {"DODIL_TOKEN": t["public"]}
    platform.ok("app", "create", "public:pub", "--runtime", "go", env_extra=as_public)
    platform.ok("draft", "save", "public:pub", "-c", str(app), env_extra=as_public)
    platform.ok("draft", "publish", "public:pub", env_extra=as_public)
    platform.ok("app", "create", "public:unpublished", env_extra=as_public)
    return t


def invoke(platform, token, app="pub"):
    status, _, body = platform.http("POST", f"/v1/ignite/app/public/{app}/invoke", b'{"name":"x"}', token=token)
    return status, body


def test_any_org_may_invoke_a_public_app(platform, tokens):
    for token in (tokens["third-developer"], platform.token(), tokens["public"]):
        status, body = invoke(platform, token)
        assert status == 200, body
        frames = [json.loads(line)["result"] for line in body.decode().splitlines() if line.strip()]
        data = b"".join(base64.b64decode(f["chunk"]["data"]) for f in frames if "chunk" in f)
        assert json.loads(data)["greeting"] == "Hi, x!"
    # The CLI of another org, too.
    out = platform.ok("invoke", "public:pub", "-p", '{"name":"cli"}',
                      env_extra={"DODIL_TOKEN": tokens["third-developer"]}).stdout
    assert json.loads(out)["greeting"] == "Hi, cli!"


def test_only_invocation_is_shared(platform, tokens):
    other = tokens["third-developer"]
    for method, path in (("GET", "/v1/ignite/app/public/pub"), ("GET", "/v1/ignite/app/public"),
                         ("GET", "/v1/ignite/app/public/pub/logs"), ("DELETE", "/v1/ignite/app/public/pub"),
                         ("POST", "/v1/ignite/app/public/pub/draft/publish")):
        status, _, body = platform.http(method, path, b"{}" if method == "POST" else None, token=other)
        assert status == 403, (method, path, body)
    status, _, _ = platform.http("GET", "/v1/ignite/app/public/pub", token=tokens["public"])
    assert status == 200


def test_public_invocation_still_needs_a_token_and_the_invoke_role(platform, tokens):
    assert invoke(platform, None)[0] == 401
    assert invoke(platform, "ign_bogus_token")[0] == 401
    assert invoke(platform, tokens["third-viewer"])[0] == 403


def test_missing_and_unpublished_public_apps_are_told_apart(platform, tokens):
    status, body = invoke(platform, tokens["third-developer"], app="nope")
    assert status == 404 and json.loads(body)["code"] == 5
    status, body = invoke(platform, tokens["third-developer"], app="unpublished")
    assert status == 400 and json.loads(body)["code"] == 9, body
