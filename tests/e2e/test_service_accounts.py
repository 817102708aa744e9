"""Issue 5 item 4: service accounts (`dodil auth service-account ...`) and the exchange of their credentials
for expiring bearer tokens (POST /v1/ignite/auth/token), against a real ignited."""

import json
import os
import sqlite3
import subprocess
import time
import urllib.parse

import pytest

from conftest import BIN


def dodil(platform, *args, token=None):
    """Runs `dodil <args>` (not under `ignite`) with the platform's CLI config; returns CompletedProcess."""
    env = dict(os.environ)
    for k in ("DODIL_TOKEN", "IGNITE_TOKEN", "IGNITE_API_ENDPOINT", "IGNITE_ORG_ID", "IGNITE_ORG_NAME"):
        env.pop(k, None)
    env["DODIL_CONFIG_DIR"] = str(platform.config_dir)
    if token:
        env["DODIL_TOKEN"] = token
    return subprocess.run([str(BIN / "dodil"), *args], capture_output=True, env=env, timeout=60)


def dodil_ok(platform, *args, token=None):
    p = dodil(platform, *args, token=token)
    assert p.returncode == 0, f"dodil {' '.join(args)} exited {p.returncode}: {p.stderr.decode()}"
    return p


def create_account(platform, name, role):
    out = json.loads(dodil_ok(platform, "auth", "service-account", "create", name, "--role", role, "-o", "json").stdout)
    assert out["serviceAccountId"].startswith("sa_") and out["secret"]
    assert out["serviceAccount"]["id"] == out["serviceAccountId"]
    assert out["serviceAccount"]["role"] == role and out["serviceAccount"]["organizationName"] == "org"
    return out["serviceAccountId"], out["secret"]


def exchange(platform, account_id, secret, ttl_secs=None):
    body = {"serviceAccountId": account_id, "secret": secret}
    if ttl_secs is not None:
        body["ttlSecs"] = str(ttl_secs)
    return platform.http("POST", "/v1/ignite/auth/token", json.dumps(body).encode(), token=None,
                         headers={"Content-Type": "application/json"})


def token_for(platform, account_id, secret, ttl_secs=None):
    status, headers, body = exchange(platform, account_id, secret, ttl_secs)
    assert status == 200, body
    return json.loads(body)


@pytest.fixture(scope="module", autouse=True)
def cli_configured(platform):
    """ignited answers /health a little before it has written the CLI config the `dodil` calls here read."""
    path = platform.config_dir / "config.yaml"
    deadline = time.time() + 10
    while not (path.exists() and f":{platform.port}" in path.read_text()):
        assert time.time() < deadline, f"ignited did not write {path}"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def other_org(platform):
    r = subprocess.run([str(BIN / "ignited"), "--data-dir", str(platform.data_dir), "org", "create", "other"],
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    return "other"


def test_create_shows_the_secret_once_and_list_never(platform):
    p = dodil_ok(platform, "auth", "service-account", "create", "shown", "--description", "for the test")
    out = p.stdout.decode()
    assert "sa_" in out and "igs_" in out, out
    assert "shown only now" in p.stderr.decode()
    secret = next(line.split()[-1] for line in out.splitlines() if line.startswith("Secret"))
    listed = dodil_ok(platform, "auth", "service-account", "list").stdout.decode()
    assert "shown" in listed and "for the test" in listed and secret not in listed
    listed_json = dodil_ok(platform, "auth", "service-account", "list", "-o", "json").stdout.decode()
    assert secret not in listed_json and "secretHash" not in listed_json and "salt" not in listed_json


def test_token_acts_for_its_org_with_its_role(platform, other_org):
    account_id, secret = create_account(platform, "ci", "app-developer")
    tok = token_for(platform, account_id, secret)
    assert tok["tokenType"] == "Bearer" and tok["role"] == "app-developer"
    assert tok["organizationName"] == "org" and tok["organizationId"]
    expires = int(tok["expiresAtMs"])  # int64 as a JSON string
    assert 3500_000 < expires - time.time() * 1000 <= 3600_000  # the default TTL: one hour
    bearer = tok["accessToken"]
    status, _, body = platform.http("GET", "/v1/ignite/app/org", token=bearer)
    assert status == 200, body
    status, _, _ = platform.http("GET", f"/v1/ignite/app/{other_org}", token=bearer)
    assert status == 403
    # The CLI takes the token like any other; `auth status` shows where it came from.
    who = json.loads(dodil_ok(platform, "auth", "status", "-o", "json", token=bearer).stdout)
    assert who["serviceAccountId"] == account_id and who["role"] == "app-developer"
    assert who["organizationName"] == "org" and who["expiresAtMs"] == tok["expiresAtMs"]
    # A developer cannot manage service accounts.
    p = dodil(platform, "auth", "service-account", "list", token=bearer)
    assert p.returncode == 4, p.stderr.decode()  # PermissionDenied
    # The OAuth2 client-credentials form works too.
    form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": account_id,
                                   "client_secret": secret}).encode()
    status, headers, body = platform.http("POST", "/v1/ignite/auth/token", form, token=None,
                                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200, body
    assert json.loads(body)["accessToken"] != bearer
    assert headers.get("Cache-Control") == "no-store"


def test_viewer_account_cannot_change_apps(platform):
    account_id, secret = create_account(platform, "dashboards", "app-viewer")
    bearer = token_for(platform, account_id, secret)["accessToken"]
    status, _, _ = platform.http("GET", "/v1/ignite/app/org", token=bearer)
    assert status == 200
    status, _, body = platform.http("POST", "/v1/ignite/app/org", b'{"name":"nope"}', token=bearer,
                                    headers={"Content-Type": "application/json"})
    assert status == 403, body
    assert "app-developer" in json.loads(body)["message"]


def test_wrong_credentials_get_one_401(platform):
    account_id, secret = create_account(platform, "wrong", "app-developer")
    status, _, wrong_secret = exchange(platform, account_id, secret[:-1] + ("0" if secret[-1] != "0" else "1"))
    assert status == 401
    err = json.loads(wrong_secret)
    assert err["code"] == 16 and err["details"] == [] and err["message"]
    status, _, wrong_id = exchange(platform, "sa_" + "0" * 32, secret)
    assert status == 401
    assert json.loads(wrong_id)["message"] == err["message"]  # does not say which was wrong
    status, _, _ = exchange(platform, account_id, "")
    assert status == 400


def test_token_expires(platform):
    account_id, secret = create_account(platform, "short", "app-viewer")
    tok = token_for(platform, account_id, secret, ttl_secs=1)
    assert int(tok["expiresAtMs"]) - time.time() * 1000 <= 1000
    bearer = tok["accessToken"]
    status, _, _ = platform.http("GET", "/v1/ignite/app/org", token=bearer)
    assert status == 200
    time.sleep(2)
    status, _, body = platform.http("GET", "/v1/ignite/app/org", token=bearer)
    assert status == 401, body
    assert "expired" in json.loads(body)["message"]


def test_deleting_the_account_revokes_its_tokens(platform):
    account_id, secret = create_account(platform, "gone", "app-developer")
    bearer = token_for(platform, account_id, secret)["accessToken"]
    for _ in range(2):  # the second call is served from the authenticator's cache
        status, _, _ = platform.http("GET", "/v1/ignite/app/org", token=bearer)
        assert status == 200
    out = dodil_ok(platform, "auth", "service-account", "delete", account_id).stdout.decode()
    assert "revoked 1 token" in out, out
    status, _, _ = platform.http("GET", "/v1/ignite/app/org", token=bearer)
    assert status == 401
    status, _, _ = exchange(platform, account_id, secret)
    assert status == 401
    assert account_id not in dodil_ok(platform, "auth", "service-account", "list").stdout.decode()
    p = dodil(platform, "auth", "service-account", "delete", account_id)
    assert p.returncode == 5, p.stderr.decode()  # NotFound


def test_database_holds_no_secret_or_token_in_clear(platform):
    account_id, secret = create_account(platform, "audit", "admin")
    bearer = token_for(platform, account_id, secret)["accessToken"]
    token_secret = bearer.rsplit("_", 1)[1]
    db = sqlite3.connect(f"file:{platform.data_dir / 'ignite.db'}?mode=ro", uri=True)
    try:
        dump = "\n".join(db.iterdump())
        row = db.execute("SELECT secret_hash, salt FROM service_accounts WHERE id = ?", (account_id,)).fetchone()
        assert row is not None and len(row[0]) == 64
        tokens = db.execute("SELECT count(*) FROM tokens WHERE service_account_id = ?", (account_id,)).fetchone()
        assert tokens[0] == 1
    finally:
        db.close()
    assert account_id in dump
    for clear in (secret, bearer, token_secret):
        assert clear not in dump
    # Nor in the raw files (the WAL holds recent writes before a checkpoint).
    for name in ("ignite.db", "ignite.db-wal"):
        path = platform.data_dir / name
        if path.exists():
            raw = path.read_bytes()
            for clear in (secret, bearer, token_secret):
                assert clear.encode() not in raw, name
