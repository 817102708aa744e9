"""Secrets (SecretService, proto/dodil/ignite/v1/ignite_secret.proto; reference 2.10, 3.10, 4.8): named,
typed, org-scoped credentials managed with `dodil ignite secret create|list|get|delete` and the
/v1/ignite/secrets routes. A value is shown only to `secret get` (developer), never by create or list, is
encrypted at rest (its bytes appear nowhere in ignite.db) and never logged. A registry secret is what an
image app pulls with: `app deploy --image-ref ... --registry-secret-ref NAME`, tried here against a
docker-registry on 127.0.0.1 that requires an htpasswd login (images.private_registry). Rotating a secret
(`secret create` of the same name) takes effect on the next pull, with nothing redeployed or changed."""

import json
import re
import subprocess
import time
import uuid

import pytest

from conftest import BIN
from images import image_server_binary, private_registry  # noqa: F401
from images import private_server_image, server_image, skip_without_tools

pytestmark = skip_without_tools()

PAYLOAD = '{"x":1}'
NAME_CHARS = re.compile(r"letter|digit|character|a-z|0-9", re.I)
AUTH_ERROR = re.compile(r"authenticat|unauthori[sz]ed", re.I)


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def password(prefix="pw"):
    """A password no other test uses, so finding it anywhere means this test's secret leaked there."""
    return f"{prefix}-{uuid.uuid4().hex}{uuid.uuid4().hex[:8]}"


def text(p):
    return p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")


def ignited(platform, *args):
    """The offline admin commands (`ignited --data-dir D token create ...`) against the running server's data."""
    r = subprocess.run([str(BIN / "ignited"), "--data-dir", str(platform.data_dir), *args], capture_output=True,
                       timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout.decode().strip()


def as_token(token):
    return {"DODIL_TOKEN": token}


def create_registry_secret(platform, name, pw, username="ci", server=None, env_extra=None):
    argv = ["-o", "json", "secret", "create", name, "--type", "registry", "--username", username, "--password", pw]
    if server is not None:
        argv += ["--server-address", server]
    return platform.cli(*argv, env_extra=env_extra)


def created_registry_secret(platform, name, pw, username="ci", server=None):
    """`secret create` that must succeed; its JSON output (the metadata, never the value)."""
    p = create_registry_secret(platform, name, pw, username, server)
    assert p.returncode == 0, (f"secret create {name} exited {p.returncode}:\n{text(p)}\nignited log tail:\n"
                               f"{platform.log_path.read_text()[-3000:]}")
    assert pw not in text(p), "secret create must not print the password"
    return json.loads(p.stdout)


def metadata(out):
    """The metadata of a create/get answer: {"metadata": {...}} (CreateSecretResponse), or the object itself."""
    return out.get("metadata", out) if isinstance(out, dict) else out


def get_secret(platform, name):
    return platform.json("secret", "get", name)


def listed(platform, env_extra=None):
    p = platform.cli("-o", "json", "secret", "list", env_extra=env_extra)
    assert p.returncode == 0, text(p)
    return p, {s["name"]: s for s in json.loads(p.stdout).get("secrets", [])}


def ms(v):
    return int(v)  # int64 fields are JSON strings in proto JSON; numbers are taken too


def post_json(platform, path, obj, token="default"):
    return platform.http("POST", path, json.dumps(obj).encode(), token=token,
                         headers={"Content-Type": "application/json"})


def registry_body(name, pw, username="ci", server="127.0.0.1:5000"):
    return {"name": name, "value": {"registrySecret": {"username": username, "password": pw,
                                                       "serverAddress": server}}}


def assert_not_logged(platform, *values):
    log = platform.log_path.read_bytes()
    for v in values:
        assert v.encode() not in log, f"a secret value ({v[:6]}...) is in ignited's log"


@pytest.fixture(scope="module")
def tokens(platform):
    ignited(platform, "org", "create", "other")
    return {
        "viewer": ignited(platform, "token", "create", "--org", "org", "--role", "app-viewer"),
        "developer": ignited(platform, "token", "create", "--org", "org", "--role", "app-developer"),
        "other-developer": ignited(platform, "token", "create", "--org", "other", "--role", "app-developer"),
    }


# ---------------------------------------------------------------------------------------------------------
# Managing secrets


def test_create_list_get_delete_a_registry_secret_through_the_cli(platform):
    name, pw = unique("reg"), password()
    before = time.time() * 1000
    out = created_registry_secret(platform, name, pw, username="robot", server="127.0.0.1:5000")
    meta = metadata(out)
    assert meta["name"] == name and meta["type"] == "registry_secret", out
    assert "value" not in out, out

    p, secrets = listed(platform)
    assert pw not in p.stdout.decode(), "secret list must not show values"
    assert name in secrets, secrets
    s = secrets[name]
    assert s["type"] == "registry_secret", s
    assert set(s) <= {"name", "type", "createdAtMs", "updatedAtMs"}, s
    assert before - 5000 <= ms(s["createdAtMs"]) <= ms(s["updatedAtMs"]) <= time.time() * 1000 + 5000, s

    got = get_secret(platform, name)
    assert got["metadata"]["name"] == name and got["metadata"]["type"] == "registry_secret", got
    assert got["value"] == {"registrySecret": {"username": "robot", "password": pw,
                                               "serverAddress": "127.0.0.1:5000"}}, got

    platform.ok("secret", "delete", name)
    assert name not in listed(platform)[1]
    r = platform.cli("-o", "json", "secret", "get", name)
    assert r.returncode != 0 and name in text(r), text(r)
    assert_not_logged(platform, pw)


def test_create_of_an_existing_name_overwrites_it(platform):
    """Rotation: the same name, a new value; one secret, its updatedAtMs moves and its createdAtMs does not."""
    name, old, new = unique("rot"), password("old"), password("new")
    created_registry_secret(platform, name, old, server="127.0.0.1:5000")
    first = listed(platform)[1][name]
    time.sleep(0.05)
    created_registry_secret(platform, name, new, username="robot2", server="127.0.0.1:5001")
    p, secrets = listed(platform)
    assert [n for n in secrets if n == name] == [name]
    second = secrets[name]
    assert ms(second["createdAtMs"]) == ms(first["createdAtMs"]), (first, second)
    assert ms(second["updatedAtMs"]) > ms(first["updatedAtMs"]), (first, second)
    assert old not in p.stdout.decode() and new not in p.stdout.decode()
    got = get_secret(platform, name)
    assert got["value"]["registrySecret"] == {"username": "robot2", "password": new,
                                              "serverAddress": "127.0.0.1:5001"}, got
    platform.ok("secret", "delete", name)


def test_a_git_secret(platform):
    name, tok = unique("git"), "ghp_" + uuid.uuid4().hex
    # --pat is the secret's token (--token is the CLI's bearer flag): the call still authenticates as the admin.
    p = platform.cli("-o", "json", "secret", "create", name, "--type", "git", "--username", "bot", "--pat", tok)
    assert p.returncode == 0, text(p)
    assert tok not in text(p), "secret create must not print the token"
    meta = metadata(json.loads(p.stdout))
    assert meta["name"] == name and meta["type"] == "git_secret", meta

    p, secrets = listed(platform)
    assert tok not in p.stdout.decode()
    assert secrets[name]["type"] == "git_secret", secrets[name]
    got = get_secret(platform, name)
    assert got["metadata"]["type"] == "git_secret", got
    assert got["value"] == {"gitSecret": {"username": "bot", "token": tok}}, got
    platform.ok("secret", "delete", name)
    assert_not_logged(platform, tok)


def test_delete_is_idempotent(platform):
    name = unique("gone")
    created_registry_secret(platform, name, password())
    platform.ok("secret", "delete", name)
    platform.ok("secret", "delete", name)  # no longer there: still success
    platform.ok("secret", "delete", unique("never-existed"))
    status, _, body = platform.http("DELETE", f"/v1/ignite/secrets/{unique('never')}")
    assert status == 200, body
    assert not json.loads(body or b"{}").get("deleted"), body


@pytest.mark.parametrize("name", ["a", "A-b_9", "x" * 64, "UPPER_lower-123"],
                         ids=["one-char", "mixed", "64-chars", "cases"])
def test_valid_names(platform, name):
    pw = password()
    created_registry_secret(platform, name, pw)
    assert get_secret(platform, name)["value"]["registrySecret"]["password"] == pw
    platform.ok("secret", "delete", name)


@pytest.mark.parametrize("name", ["bad name!", "x" * 65, "a/b", "dot.name", "semi;colon", "ünïcode"],
                         ids=["space-bang", "65-chars", "slash", "dot", "semicolon", "non-ascii"])
def test_invalid_names_are_refused(platform, name):
    pw = password()
    p = create_registry_secret(platform, name, pw)
    err = text(p)
    assert p.returncode != 0, err
    assert NAME_CHARS.search(err), f"the message should say which characters a name may have: {err}"
    assert pw not in err
    # Over HTTP too: InvalidArgument, and nothing stored.
    status, _, body = post_json(platform, "/v1/ignite/secrets", registry_body(name, pw))
    assert status == 400, (status, body)
    assert pw.encode() not in body
    assert name not in listed(platform)[1]


def test_an_empty_name_or_a_missing_value_is_refused_over_http(platform):
    status, _, body = post_json(platform, "/v1/ignite/secrets", registry_body("", password()))
    assert status == 400, (status, body)
    name = unique("novalue")
    status, _, body = post_json(platform, "/v1/ignite/secrets", {"name": name})
    assert status == 400, (status, body)
    assert name not in listed(platform)[1]


def test_the_http_routes(platform):
    name, pw = unique("http"), password()
    status, _, body = post_json(platform, "/v1/ignite/secrets", registry_body(name, pw, "u1", "127.0.0.1:5000"))
    assert status == 200, (status, body)
    assert pw.encode() not in body, "POST must answer the metadata only"
    meta = metadata(json.loads(body))
    assert meta["name"] == name and meta["type"] == "registry_secret", body

    status, _, body = platform.http("GET", "/v1/ignite/secrets")
    assert status == 200, body
    assert pw.encode() not in body
    names = {s["name"]: s for s in json.loads(body).get("secrets", [])}
    assert names[name]["type"] == "registry_secret", names

    status, _, body = platform.http("GET", f"/v1/ignite/secrets/{name}")
    assert status == 200, body
    got = json.loads(body)
    assert got["metadata"]["name"] == name, got
    assert got["value"] == {"registrySecret": {"username": "u1", "password": pw,
                                               "serverAddress": "127.0.0.1:5000"}}, got
    # The CLI reads what HTTP wrote.
    assert get_secret(platform, name)["value"] == got["value"]

    # A git secret over HTTP.
    git, tok = unique("http-git"), "ghp_" + uuid.uuid4().hex
    status, _, body = post_json(platform, "/v1/ignite/secrets",
                                {"name": git, "value": {"gitSecret": {"username": "bot", "token": tok}}})
    assert status == 200 and tok.encode() not in body, (status, body)
    status, _, body = platform.http("GET", f"/v1/ignite/secrets/{git}")
    assert status == 200 and json.loads(body)["value"] == {"gitSecret": {"username": "bot", "token": tok}}, body

    status, _, body = platform.http("DELETE", f"/v1/ignite/secrets/{name}")
    assert status == 200, body
    assert json.loads(body).get("deleted") is True, body
    status, _, body = platform.http("GET", f"/v1/ignite/secrets/{name}")
    assert status == 404, (status, body)
    assert name in json.loads(body).get("message", ""), body
    platform.http("DELETE", f"/v1/ignite/secrets/{git}")

    # No token: 401 on every route.
    for method, path in (("GET", "/v1/ignite/secrets"), ("GET", f"/v1/ignite/secrets/{git}"),
                         ("DELETE", f"/v1/ignite/secrets/{git}")):
        status, _, _ = platform.http(method, path, token=None)
        assert status == 401, (method, path, status)
    status, _, _ = post_json(platform, "/v1/ignite/secrets", registry_body(git, pw), token=None)
    assert status == 401, status


def test_values_are_encrypted_at_rest(platform):
    name, pw, user = unique("rest"), password("at-rest"), "user-" + uuid.uuid4().hex
    created_registry_secret(platform, name, pw, username=user, server="127.0.0.1:5000")
    git, tok = unique("rest-git"), "ghp_" + uuid.uuid4().hex
    platform.ok("secret", "create", git, "--type", "git", "--username", "bot", "--pat", tok)
    # Rotation writes a second value; the first must not stay behind in clear either.
    pw2 = password("at-rest-2")
    created_registry_secret(platform, name, pw2, username=user, server="127.0.0.1:5000")

    files = [f for f in (platform.data_dir / "ignite.db", platform.data_dir / "ignite.db-wal",
                         platform.data_dir / "ignite.db-journal") if f.exists()]
    assert files and files[0].name == "ignite.db", list(platform.data_dir.iterdir())
    stored = b"".join(f.read_bytes() for f in files)
    # The check looks at the right place: the secret's (plain) name is in the database.
    assert name.encode() in stored, f"secret {name} not found in {[f.name for f in files]}"
    for value in (pw, pw2, tok, user):
        assert value.encode() not in stored, f"{value[:8]}... is stored in the clear in {[f.name for f in files]}"
    # And the server hands the value back intact.
    assert get_secret(platform, name)["value"]["registrySecret"]["password"] == pw2
    assert get_secret(platform, git)["value"]["gitSecret"]["token"] == tok
    platform.ok("secret", "delete", name)
    platform.ok("secret", "delete", git)
    assert_not_logged(platform, pw, pw2, tok)


def test_a_viewer_lists_but_cannot_read_create_or_delete(platform, tokens):
    name, pw = unique("roles"), password()
    created_registry_secret(platform, name, pw, server="127.0.0.1:5000")
    viewer = as_token(tokens["viewer"])

    p, secrets = listed(platform, env_extra=viewer)
    assert name in secrets and pw not in p.stdout.decode(), p.stdout

    r = platform.cli("-o", "json", "secret", "get", name, env_extra=viewer)
    assert r.returncode == 4, text(r)  # PermissionDenied
    assert pw not in text(r)
    status, _, body = platform.http("GET", f"/v1/ignite/secrets/{name}", token=tokens["viewer"])
    assert status == 403, (status, body)
    assert pw.encode() not in body

    other = password("viewer")
    r = create_registry_secret(platform, name, other, env_extra=viewer)
    assert r.returncode == 4, text(r)
    status, _, body = post_json(platform, "/v1/ignite/secrets", registry_body(unique("by-viewer"), other),
                                token=tokens["viewer"])
    assert status == 403, (status, body)
    r = platform.cli("secret", "delete", name, env_extra=viewer)
    assert r.returncode == 4, text(r)
    status, _, body = platform.http("DELETE", f"/v1/ignite/secrets/{name}", token=tokens["viewer"])
    assert status == 403, (status, body)

    # Nothing the viewer tried changed anything.
    assert get_secret(platform, name)["value"]["registrySecret"]["password"] == pw
    assert not any(n.startswith("by-viewer") for n in listed(platform)[1])

    # A developer of the org may do all of it.
    dev = as_token(tokens["developer"])
    r = platform.cli("-o", "json", "secret", "get", name, env_extra=dev)
    assert r.returncode == 0 and json.loads(r.stdout)["value"]["registrySecret"]["password"] == pw, text(r)
    r = platform.cli("secret", "delete", name, env_extra=dev)
    assert r.returncode == 0, text(r)


def test_secrets_belong_to_the_tokens_org(platform, tokens):
    name, pw, theirs = unique("org"), password("ours"), password("theirs")
    created_registry_secret(platform, name, pw)
    other = as_token(tokens["other-developer"])

    assert name not in listed(platform, env_extra=other)[1]
    r = platform.cli("-o", "json", "secret", "get", name, env_extra=other)
    assert r.returncode != 0 and pw not in text(r), text(r)
    status, _, body = platform.http("GET", f"/v1/ignite/secrets/{name}", token=tokens["other-developer"])
    assert status == 404 and pw.encode() not in body, (status, body)

    # The same name in the other org is another secret; deleting it there leaves ours.
    r = create_registry_secret(platform, name, theirs, env_extra=other)
    assert r.returncode == 0, text(r)
    r = platform.cli("-o", "json", "secret", "get", name, env_extra=other)
    assert json.loads(r.stdout)["value"]["registrySecret"]["password"] == theirs, text(r)
    assert get_secret(platform, name)["value"]["registrySecret"]["password"] == pw
    assert platform.cli("secret", "delete", name, env_extra=other).returncode == 0
    assert get_secret(platform, name)["value"]["registrySecret"]["password"] == pw
    platform.ok("secret", "delete", name)


# ---------------------------------------------------------------------------------------------------------
# Pulling private images with a registry secret


def repo(name):
    return f"ignite-e2e/{name}"


def deploy(platform, name, ref, *extra, timeout=300, env_extra=None):
    return platform.cli("app", "deploy", f"org:{name}", "--image-ref", ref, *extra, timeout=timeout,
                        env_extra=env_extra)


def deployed(platform, name, ref, *extra):
    r = deploy(platform, name, ref, *extra)
    assert r.returncode == 0, (f"deploy of {ref} exited {r.returncode}:\n{text(r)}\nignited log tail:\n"
                               f"{platform.log_path.read_text()[-3000:]}")
    return r


def invoke(platform, name):
    out = platform.ok("invoke", f"org:{name}", "-p", PAYLOAD, timeout=120).stdout
    try:
        return json.loads(out)
    except ValueError:
        raise AssertionError(f"invoke printed no JSON echo: {out[:2000]!r}")


def versions(platform, name):
    return sorted(v["version"] for v in platform.json("version", "list", f"org:{name}").get("versions", []))


def right_password(private_registry):
    return private_registry.users["ci"]


def test_the_private_registry_needs_its_login(private_registry, image_server_binary):
    """The fixture itself (no ignited involved): anonymous and wrong-password pulls get 401, the login works."""
    ref = private_server_image(private_registry, image_server_binary, repo(unique("fixture")), "v1")
    path = "/v2/" + ref.split("/", 1)[1].replace(":", "/manifests/")
    status, challenge = private_registry.status(path, creds=None)
    assert status == 401 and (challenge or "").startswith("Basic"), (status, challenge)
    assert private_registry.status(path, creds=("ci", "wrong"))[0] == 401
    assert private_registry.status(path)[0] == 200
    anon = subprocess.run(["skopeo", "inspect", "--tls-verify=false", "--no-creds", f"docker://{ref}"],
                          capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    assert anon.returncode != 0 and b"unauthorized" in anon.stderr, anon.stderr
    ok = subprocess.run(["skopeo", "inspect", "--tls-verify=false", "--creds", private_registry.creds,
                         f"docker://{ref}"], capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    assert ok.returncode == 0, ok.stderr
    # Anonymous pushes are refused too.
    with pytest.raises(RuntimeError, match="unauthorized|authentication required"):
        server_image(private_registry, image_server_binary, repo(unique("anon-push")), "v1")


def test_deploying_a_private_image_without_a_secret_suggests_one(platform, private_registry, image_server_binary):
    name = unique("nosecret")
    ref = private_server_image(private_registry, image_server_binary, repo(name), "v1")
    platform.ok("app", "create", f"org:{name}")
    r = deploy(platform, name, ref)
    err = text(r)
    assert r.returncode != 0, err
    assert AUTH_ERROR.search(err), f"the message should say the registry wants a login: {err}"
    assert "--registry-secret-ref" in err, f"the message should suggest --registry-secret-ref: {err}"
    assert versions(platform, name) == []


def test_a_registry_secret_with_a_wrong_password_is_refused(platform, private_registry, image_server_binary):
    name, secret, wrong = unique("wrongpw"), unique("ghcr-like"), password("wrong")
    ref = private_server_image(private_registry, image_server_binary, repo(name), "v1")
    created_registry_secret(platform, secret, wrong, server=private_registry.host)
    platform.ok("app", "create", f"org:{name}")
    r = deploy(platform, name, ref, "--registry-secret-ref", secret)
    err = text(r)
    assert r.returncode != 0, err
    assert AUTH_ERROR.search(err), f"the message should say the login was refused: {err}"
    assert wrong not in err and right_password(private_registry) not in err
    assert versions(platform, name) == []
    platform.ok("secret", "delete", secret)
    assert_not_logged(platform, wrong)


def test_a_missing_registry_secret_is_named(platform, private_registry, image_server_binary):
    name, secret = unique("missing"), unique("no-such-secret")
    ref = private_server_image(private_registry, image_server_binary, repo(name), "v1")
    platform.ok("app", "create", f"org:{name}")
    r = deploy(platform, name, ref, "--registry-secret-ref", secret)
    err = text(r)
    assert r.returncode != 0, err
    assert secret in err, f"the message should name the secret: {err}"
    assert versions(platform, name) == []


def test_another_orgs_registry_secret_cannot_be_used(platform, tokens, private_registry, image_server_binary):
    name, secret = unique("xorg"), unique("org-only")
    ref = private_server_image(private_registry, image_server_binary, repo(name), "v1")
    created_registry_secret(platform, secret, right_password(private_registry), server=private_registry.host)
    other = as_token(tokens["other-developer"])
    assert platform.cli("app", "create", f"other:{name}", env_extra=other).returncode == 0
    r = platform.cli("app", "deploy", f"other:{name}", "--image-ref", ref, "--registry-secret-ref", secret,
                     timeout=300, env_extra=other)
    err = text(r)
    assert r.returncode != 0, err
    assert secret in err, f"the message should name the secret the other org does not have: {err}"
    assert right_password(private_registry) not in err
    platform.ok("secret", "delete", secret)


def test_a_git_secret_is_not_a_registry_secret(platform, private_registry, image_server_binary):
    name, secret = unique("gittype"), unique("git-not-registry")
    ref = private_server_image(private_registry, image_server_binary, repo(name), "v1")
    tok = "ghp_" + uuid.uuid4().hex
    platform.ok("secret", "create", secret, "--type", "git", "--username", "ci", "--pat", tok)
    platform.ok("app", "create", f"org:{name}")
    r = deploy(platform, name, ref, "--registry-secret-ref", secret)
    err = text(r)
    assert r.returncode != 0, err
    assert re.search(r"type|git_secret|registry_secret|git secret|registry secret", err, re.I), \
        f"the message should say the secret is of the wrong type: {err}"
    assert tok not in err
    assert versions(platform, name) == []
    platform.ok("secret", "delete", secret)


def test_deploy_with_a_registry_secret_and_rotate_it(platform, private_registry, image_server_binary):
    name, secret = unique("private"), unique("ghcr-like")
    right, wrong = right_password(private_registry), password("rotated-wrong")
    one = private_server_image(private_registry, image_server_binary, repo(name), "v1", env={"GREETING": "one"})
    created_registry_secret(platform, secret, right, server=private_registry.host)

    r = deployed(platform, name, one, "--registry-secret-ref", secret)
    assert right not in text(r)
    out = invoke(platform, name)
    assert out["body"] == PAYLOAD, out
    assert out["env"].get("GREETING") == "one", out
    assert right not in json.dumps(out), "the registry password must not reach the container"
    assert versions(platform, name) == [1]

    # Rotate to a wrong password: what runs keeps running (it was pulled already) ...
    created_registry_secret(platform, secret, wrong, server=private_registry.host)
    assert get_secret(platform, secret)["value"]["registrySecret"]["password"] == wrong
    assert invoke(platform, name)["env"].get("GREETING") == "one"
    # ... and the next pull uses the new value, with nothing else changed.
    two = private_server_image(private_registry, image_server_binary, repo(name), "v2", env={"GREETING": "two"})
    r = deploy(platform, name, two, "--registry-secret-ref", secret)
    err = text(r)
    assert r.returncode != 0, err
    assert AUTH_ERROR.search(err), err
    assert wrong not in err
    assert versions(platform, name) == [1]
    assert invoke(platform, name)["env"].get("GREETING") == "one"

    # Rotate back: the same deploy now pulls.
    created_registry_secret(platform, secret, right, server=private_registry.host)
    deployed(platform, name, two, "--registry-secret-ref", secret)
    assert versions(platform, name) == [1, 2]
    assert invoke(platform, name)["env"].get("GREETING") == "two"

    # Deleting the secret later does not stop what was pulled with it; a new pull then names it.
    platform.ok("secret", "delete", secret)
    assert invoke(platform, name)["env"].get("GREETING") == "two"
    three = private_server_image(private_registry, image_server_binary, repo(name), "v3", env={"GREETING": "3"})
    r = deploy(platform, name, three, "--registry-secret-ref", secret)
    assert r.returncode != 0 and secret in text(r), text(r)
    assert versions(platform, name) == [1, 2]
    assert_not_logged(platform, right, wrong)
