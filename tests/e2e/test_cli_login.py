"""`dodil login <service_account_id> <secret>` against a real ignited: a service account created through the
HTTP API logs in, the token lands in the config file, and later commands work without --token.

Needs ignited's service-account routes (POST /v1/ignite/auth/service-accounts, POST /v1/ignite/auth/token).
An ignited without them answers an unknown route with HTTP 404 and code 5; the tests are skipped then."""

import json
import os
import subprocess

import pytest

from conftest import BIN


def dodil(*args, config_dir, env_extra=None):
    env = dict(os.environ)
    for k in ("DODIL_TOKEN", "IGNITE_TOKEN", "IGNITE_API_ENDPOINT", "IGNITE_ORG_ID", "IGNITE_ORG_NAME",
              "IGNITE_CONFIG_DIR", "IGNITE_DEBUG"):
        env.pop(k, None)
    env["DODIL_CONFIG_DIR"] = str(config_dir)
    env.update(env_extra or {})
    return subprocess.run([str(BIN / "dodil"), *args], capture_output=True, env=env, timeout=60)


def _unknown_route(status, body):
    try:
        return status == 404 and json.loads(body).get("code") == 5 and "no route" in json.loads(body)["message"]
    except (ValueError, AttributeError, KeyError):
        return False


@pytest.fixture(scope="module")
def service_account(platform):
    status, _, body = platform.http("POST", "/v1/ignite/auth/service-accounts", json.dumps({"name": "ci"}).encode(),
                                    headers={"Content-Type": "application/json"})
    if _unknown_route(status, body):
        pytest.skip("this ignited has no service-account routes yet (POST /v1/ignite/auth/service-accounts: "
                    "404, code 5)")
    assert status == 200, body
    created = json.loads(body)
    return created["serviceAccount"]["id"], created["secret"]


def test_login_with_a_service_account_then_commands_need_no_token(platform, service_account, tmp_path):
    sa_id, secret = service_account
    config_dir = tmp_path / "cli"  # does not exist yet: login creates it
    p = dodil("login", sa_id, secret, "--api-endpoint", platform.endpoint, config_dir=config_dir)
    assert p.returncode == 0, p.stderr
    out = p.stdout.decode()
    assert f"as service account {sa_id} in organization org" in out, out
    assert "The token expires at" in out, out
    config = config_dir / "config.yaml"
    assert config.stat().st_mode & 0o777 == 0o600
    text = config.read_text()
    assert "org_id: org" in text and f"api_endpoint: {platform.endpoint}" in text, text
    assert secret not in text

    p = dodil("ignite", "app", "list", config_dir=config_dir)
    assert p.returncode == 0, p.stderr
    # The issued token is what authenticated: without it the same call is refused.
    (tmp_path / "empty").mkdir()  # an existing, empty config dir: no token from anywhere
    p = dodil("ignite", "app", "list", config_dir=tmp_path / "empty",
              env_extra={"IGNITE_API_ENDPOINT": platform.endpoint})
    assert p.returncode == 3, (p.returncode, p.stderr)

    p = dodil("ignite", "config", "view", "-o", "json", config_dir=config_dir)
    view = json.loads(p.stdout)
    assert view["values"]["token"]["source"] == "file"
    assert view["values"]["org_id"]["value"] == "org"


def test_login_json_output_and_wrong_secret(platform, service_account, tmp_path):
    sa_id, secret = service_account
    p = dodil("login", sa_id, secret, "--api-endpoint", platform.endpoint, "-o", "json", config_dir=tmp_path)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["serviceAccountId"] == sa_id
    assert out["organizationName"] == "org"
    assert int(out["expiresAtMs"]) > 0
    assert out["configFile"] == str(tmp_path / "config.yaml")

    before = (tmp_path / "config.yaml").read_text()
    p = dodil("login", sa_id, "not-the-secret", "--api-endpoint", platform.endpoint, config_dir=tmp_path)
    assert p.returncode == 3, (p.returncode, p.stderr)
    assert (tmp_path / "config.yaml").read_text() == before
