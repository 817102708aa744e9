"""Container-image apps (DeploymentMode IMAGE, BYOI): `app deploy --image-ref` pulls an OCI image from a
registry on this machine, pins its digest in the version, and runs the image's own HTTP server
(apps/image_server) as the image's numeric USER, with PORT, the health probe and the x-ignite-* headers of
the container contract (platform reference 5.5). Images are made with umoci and pushed with skopeo to a
docker-registry on a free loopback port (images.py); nothing leaves 127.0.0.1."""

import hashlib
import json
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from images import registry, image_server_binary  # noqa: F401
from images import inspect, manifest_digest, server_image, skip_without_tools, tar_gz_layer

pytestmark = skip_without_tools()

PAYLOAD = '{"x":1}'


def unique(prefix):
    return f"img-{prefix}-{uuid.uuid4().hex[:8]}"


def repo(name):
    return f"ignite-e2e/{name}"


def deploy(platform, name, ref, *extra, timeout=300):
    return platform.cli("app", "deploy", f"org:{name}", "--image-ref", ref, *extra, timeout=timeout)


def deployed(platform, name, ref, *extra):
    r = deploy(platform, name, ref, *extra)
    assert r.returncode == 0, (f"deploy of {ref} exited {r.returncode}:\nstdout: {r.stdout.decode()}\n"
                               f"stderr: {r.stderr.decode()}\nignited log tail:\n"
                               f"{platform.log_path.read_text()[-3000:]}")
    return r


def invoke(platform, name, payload=PAYLOAD, *extra):
    """`dodil ignite invoke` of the app; the container's response body parsed as JSON (image_server's echo)."""
    out = platform.ok("invoke", f"org:{name}", "-p", payload, *extra, timeout=120).stdout
    try:
        return json.loads(out)
    except ValueError:
        raise AssertionError(f"invoke printed no JSON echo: {out[:2000]!r}")


def direct(platform, name, method="GET", path="/", body=b"", headers=None, timeout=120):
    return platform.on_host(f"{name}-org.ignite.localhost:{platform.port}", method, path, body,
                            headers=headers, timeout=timeout)


def app_get(platform, name):
    return platform.json("app", "get", f"org:{name}")["app"]


def versions(platform, name):
    return platform.json("version", "list", f"org:{name}").get("versions", [])


def log_messages(platform, name, marker, timeout=15):
    """The app's log lines (messages) once one contains `marker`, polling `app logs` for at most `timeout`
    seconds; whatever the last poll had when the marker never showed up."""
    deadline = time.time() + timeout
    messages = []
    while True:
        p = platform.cli("-o", "json", "app", "logs", f"org:{name}", timeout=60)
        if p.returncode == 0:
            messages = [line.get("message", "") for line in json.loads(p.stdout).get("lines", [])]
            if any(marker in m for m in messages):
                return messages
        if time.time() > deadline:
            return messages
        time.sleep(0.3)


def assert_nothing_published(platform, name):
    assert app_get(platform, name).get("activeVersion", 0) == 0
    assert versions(platform, name) == []


def test_health_says_images_run_here(platform):
    status, _, body = platform.http("GET", "/v1/ignite/health", token=None)
    assert status == 200, body
    assert json.loads(body).get("images", "").startswith("on ("), body


def test_deploy_and_invoke_through_the_cli(platform, registry, image_server_binary):
    name = unique("cli")
    ref = server_image(registry, image_server_binary, repo(name), "v1", env={"GREETING": "hello-image"})
    deployed(platform, name, ref)

    app = app_get(platform, name)
    assert app["deploymentMode"] == "DEPLOYMENT_MODE_IMAGE", app
    assert app["activeVersion"] == 1, app
    vs = versions(platform, name)
    assert len(vs) == 1, vs
    v = vs[0]
    assert v["codeKind"] == "CODE_KIND_PREBUILT", v
    # The version pins the digest the registry holds for the tag, not the tag itself.
    assert "@sha256:" in v["imageRef"], v
    assert v["imageRef"].endswith("@" + manifest_digest(ref)), (v["imageRef"], manifest_digest(ref))
    assert repo(name) in v["imageRef"], v

    out = invoke(platform, name)
    assert out["body"] == PAYLOAD, out
    assert out["method"] == "POST" and out["path"] == "/", out
    # The container contract: PORT defaults to 80, the image's numeric USER, its Env and WorkingDir.
    assert out["port"] == "80" and out["env"].get("PORT") == "80", out
    assert (out["uid"], out["gid"]) == (65534, 65534), out
    assert out["env"].get("GREETING") == "hello-image", out
    assert out["cwd"] == "/app", out
    headers = out["headers"]
    assert headers.get("x-ignite-function-id") == f"org/{name}", headers
    assert headers.get("x-ignite-execution-id"), headers
    assert headers.get("x-ignite-organization-id"), headers

    # The container's stdout is the app's log; the default health path was probed.
    messages = log_messages(platform, name, "request GET /healthz")
    assert any("image_server listening on 80" in m for m in messages), messages[-20:]
    assert any("request GET /healthz" in m for m in messages), messages[-20:]


def test_the_container_runs_as_the_images_uid_and_gid(platform, registry, image_server_binary):
    name = unique("uid")
    ref = server_image(registry, image_server_binary, repo(name), "v1", user="1000:1000")
    deployed(platform, name, ref)
    out = invoke(platform, name)
    assert (out["uid"], out["gid"]) == (1000, 1000), out


def test_per_app_url_forwards_path_query_and_sets_the_ignite_headers(platform, registry, image_server_binary):
    name = unique("url")
    ref = server_image(registry, image_server_binary, repo(name), "v1")
    deployed(platform, name, ref)
    org_id = app_get(platform, name)["organizationId"]

    status, headers, body = direct(platform, name, "GET", "/some/path?q=1")
    assert status == 200, (status, body[:2000])
    # The container's own response, as it sent it.
    assert headers.get("content-type") == "application/json", headers
    out = json.loads(body)
    assert out["method"] == "GET" and out["path"] == "/some/path" and out["query"] == "q=1", out
    assert out["uri"] == "/some/path?q=1", out
    h = out["headers"]
    assert h.get("x-ignite-function-id") == f"org/{name}", h
    assert h.get("x-ignite-organization-id") == org_id, (h, org_id)
    exec_id = h.get("x-ignite-execution-id")
    assert exec_id, h
    if "x-ignite-execution-id" in headers:
        assert headers["x-ignite-execution-id"] == exec_id, (headers, h)

    # Verbatim: percent-escapes and the query's order stay as the client wrote them; the body arrives whole.
    path = "/a%20b/c%2Fd?z=%2F&y=1&y=2&empty="
    status, _, body = direct(platform, name, "POST", path, body=b"hello body",
                             headers={"Content-Type": "text/plain", "X-Custom": "abc"})
    assert status == 200, (status, body[:2000])
    out = json.loads(body)
    assert out["method"] == "POST" and out["uri"] == path, out
    assert out["query"] == "z=%2F&y=1&y=2&empty=", out
    assert out["body"] == "hello body", out
    assert out["headers"].get("x-custom") == "abc", out["headers"]
    assert out["headers"].get("x-ignite-execution-id") not in (None, exec_id), out["headers"]

    # Client-sent x-ignite-* headers are replaced, not passed on or duplicated.
    status, _, body = direct(platform, name, "GET", "/spoof", headers={
        "X-Ignite-Function-Id": "spoofed", "X-Ignite-Execution-Id": "spoofed",
        "X-Ignite-Organization-Id": "spoofed"})
    assert status == 200, (status, body[:2000])
    out = json.loads(body)
    h = out["headers"]
    assert h.get("x-ignite-function-id") == f"org/{name}", h
    assert h.get("x-ignite-organization-id") == org_id, h
    assert h.get("x-ignite-execution-id") not in (None, "", "spoofed"), h
    assert out["header_values"]["x-ignite-function-id"] == [f"org/{name}"], out["header_values"]
    assert "spoofed" not in json.dumps(out), out
    # As for compiled apps, the caller's platform token is not handed to the app.
    assert "authorization" not in h, "the caller's bearer token must not reach the container"

    # The same through the CLI's -H.
    out = invoke(platform, name, PAYLOAD, "-H", "X-Ignite-Function-Id: spoofed", "-H", "X-Custom: cli")
    assert out["headers"].get("x-ignite-function-id") == f"org/{name}", out["headers"]
    assert out["headers"].get("x-custom") == "cli", out["headers"]
    assert "spoofed" not in json.dumps(out), out


@pytest.mark.parametrize("user", ["app", "0", "0:0", "1000:staff", None],
                         ids=["named-user", "uid-0", "uid-0-gid-0", "named-group", "no-user"])
def test_save_rejects_an_image_without_a_numeric_non_root_user(platform, registry, image_server_binary, user):
    name = unique("user")
    ref = server_image(registry, image_server_binary, repo(name), "v1", user=user)
    assert inspect(ref, config=True)["config"].get("User") == user
    platform.ok("app", "create", f"org:{name}")
    r = platform.cli("draft", "save", f"org:{name}", "--image-ref", ref)
    err = r.stderr.decode(errors="replace")
    assert r.returncode != 0, (r.stdout, err)
    assert "USER" in err and "numeric" in err, err
    # The one-shot deploy stops at the same check.
    r = deploy(platform, name, ref)
    err = r.stderr.decode(errors="replace")
    assert r.returncode != 0, (r.stdout, err)
    assert "USER" in err and "numeric" in err, err
    assert_nothing_published(platform, name)


@pytest.mark.parametrize("entry", [
    ("../escape", b"outside the root"),
    ("/abs-escape", b"an absolute path"),
    ("link", "hardlink-escape", "../../etc/shadow"),
], ids=["dotdot", "absolute", "hardlink-dotdot"])
def test_deploy_rejects_a_layer_that_writes_outside_the_root(platform, registry, image_server_binary, entry):
    name = unique("layer")
    good = server_image(registry, image_server_binary, repo(name), "v1", env={"GREETING": "good"})
    deployed(platform, name, good)
    assert invoke(platform, name)["env"].get("GREETING") == "good"

    layer = tar_gz_layer([("ok-file", b"fine"), entry])
    bad = server_image(registry, image_server_binary, repo(name), "v2", env={"GREETING": "bad"},
                       extra_layers=[layer])
    # The registry holds a well-formed image: the layer is there as made; only its entry is hostile.
    manifest = inspect(bad, raw=True)
    assert len(manifest["layers"]) == 2, manifest
    assert manifest["layers"][-1]["digest"] == "sha256:" + hashlib.sha256(layer).hexdigest(), manifest

    r = deploy(platform, name, bad)
    err = r.stderr.decode(errors="replace")
    assert r.returncode != 0, (r.stdout, err)
    shown = entry[1] if entry[0] == "link" else entry[0]
    assert shown in err, err
    # Nothing new was published; version 1 still serves.
    assert [v["version"] for v in versions(platform, name)] == [1]
    assert app_get(platform, name)["activeVersion"] == 1
    assert invoke(platform, name)["env"].get("GREETING") == "good"


def test_a_custom_health_path_is_probed(platform, registry, image_server_binary):
    name = unique("health")
    ref = server_image(registry, image_server_binary, repo(name), "v1", env={"HEALTH_PATH": "/ready"})
    deployed(platform, name, ref, "--health-path", "/ready")
    out = invoke(platform, name)
    assert out["body"] == PAYLOAD, out
    # image_server logs every request: the probe went to /ready, never to the default /healthz.
    messages = log_messages(platform, name, "request GET /ready")
    assert any("request GET /ready" in m for m in messages), messages[-20:]
    assert not any("request GET /healthz" in m for m in messages), messages[-20:]


def test_an_image_that_never_becomes_healthy_fails_the_call(platform, registry, image_server_binary):
    name = unique("unhealthy")
    ref = server_image(registry, image_server_binary, repo(name), "v1", env={"NEVER_HEALTHY": "1"})
    deployed(platform, name, ref)  # pulling and publishing do not run the image

    started = time.time()
    status, _, body = direct(platform, name, "GET", "/work", timeout=90)
    took = time.time() - started
    assert status == 503, (status, body[:2000])
    assert took < 60, f"the per-app call took {took:.1f}s to fail"

    started = time.time()
    try:
        r = platform.cli("invoke", f"org:{name}", "-p", PAYLOAD, timeout=90)
    except subprocess.TimeoutExpired:
        raise AssertionError("invoke of a never-healthy image did not fail within 90s")
    took = time.time() - started
    assert r.returncode != 0, (r.stdout, r.stderr)
    assert took < 60, f"invoke took {took:.1f}s to fail"

    # The container did start; only its health check failed.
    messages = log_messages(platform, name, "image_server listening")
    assert any("image_server listening" in m for m in messages), messages[-20:]


def test_deploying_a_missing_tag_fails_and_names_the_reference(platform, registry, image_server_binary):
    name = unique("missing")
    server_image(registry, image_server_binary, repo(name), "v1")  # the repository exists; the tag does not
    assert "no-such-tag" not in registry.tags(repo(name))
    ref = f"{registry.host}/{repo(name)}:no-such-tag"
    started = time.time()
    r = deploy(platform, name, ref, timeout=120)
    err = r.stderr.decode(errors="replace")
    assert r.returncode != 0, (r.stdout, err)
    assert time.time() - started < 60
    assert f"{registry.host}/{repo(name)}" in err and "no-such-tag" in err, err
    assert versions(platform, name) == []


def test_rollback_returns_to_the_earlier_image(platform, registry, image_server_binary):
    name = unique("rollback")
    one = server_image(registry, image_server_binary, repo(name), "v1", env={"GREETING": "one"})
    two = server_image(registry, image_server_binary, repo(name), "v2", env={"GREETING": "two"})
    deployed(platform, name, one)
    assert invoke(platform, name)["env"].get("GREETING") == "one"
    deployed(platform, name, two)
    assert invoke(platform, name)["env"].get("GREETING") == "two"

    vs = {v["version"]: v for v in versions(platform, name)}
    assert sorted(vs) == [1, 2], vs
    assert vs[1]["imageRef"].endswith("@" + manifest_digest(one)), vs[1]
    assert vs[2]["imageRef"].endswith("@" + manifest_digest(two)), vs[2]

    platform.ok("version", "rollback", f"org:{name}", "1")
    assert app_get(platform, name)["activeVersion"] == 1
    assert invoke(platform, name)["env"].get("GREETING") == "one"


def test_rollback_between_an_image_version_and_a_compiled_version(platform, registry, image_server_binary):
    name = unique("modes")
    hello = str((Path(__file__).parent / "apps" / "hello").resolve())
    platform.ok("app", "deploy", f"org:{name}", "--code", hello, timeout=300)
    assert json.loads(platform.ok("invoke", f"org:{name}", "-p", '{"name":"go"}').stdout)["greeting"] == "Hello, go!"
    assert app_get(platform, name)["deploymentMode"] == "DEPLOYMENT_MODE_COMPILE"

    ref = server_image(registry, image_server_binary, repo(name), "v1", env={"GREETING": "image"})
    deployed(platform, name, ref)
    assert invoke(platform, name)["env"].get("GREETING") == "image"
    app = app_get(platform, name)
    assert app["deploymentMode"] == "DEPLOYMENT_MODE_IMAGE" and app["activeVersion"] == 2, app
    kinds = {v["version"]: v.get("codeKind") for v in versions(platform, name)}
    assert kinds == {1: "CODE_KIND_SDK", 2: "CODE_KIND_PREBUILT"}, kinds

    platform.ok("version", "rollback", f"org:{name}", "1")
    assert json.loads(platform.ok("invoke", f"org:{name}", "-p", '{"name":"back"}').stdout)["greeting"] == "Hello, back!"
    platform.ok("version", "rollback", f"org:{name}", "2")
    assert invoke(platform, name)["env"].get("GREETING") == "image"


def test_two_apps_on_one_image_share_its_stored_layers(platform, registry, image_server_binary):
    a, b = unique("share-a"), unique("share-b")
    ref = server_image(registry, image_server_binary, repo(a), "v1", env={"GREETING": "shared"})
    deployed(platform, a, ref)
    blobs = platform.data_dir / "blobs" / "sha256"
    before = {p for p in blobs.rglob("*") if p.is_file()}
    deployed(platform, b, ref)
    added = {p for p in blobs.rglob("*") if p.is_file()} - before
    # The second app stores no layer, config or manifest again: at most its own draft and descriptor.
    manifest = inspect(ref, raw=True)
    layer_hex = {l["digest"].split(":", 1)[1] for l in manifest["layers"]}
    assert not {p.parent.name + p.name for p in added} & layer_hex, added
    assert len(added) <= 2, added
    assert invoke(platform, b)["env"].get("GREETING") == "shared"
