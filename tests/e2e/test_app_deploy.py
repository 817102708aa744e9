"""Issue 5 item 3 (part): `app deploy` one shot (create or update, save, build, publish, --follow) and
`--allow-unauthenticated` on create, update and deploy."""

import json
import urllib.error
import urllib.request

from conftest import write_app


def anonymous(platform, app, body=b'{"name":"anon"}'):
    """POST to the per-app URL without a token; returns (status, body)."""
    req = urllib.request.Request(platform.endpoint + "/", data=body, method="POST",
                                 headers={"Host": f"{app}-org.ignite.localhost"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_app_deploy_creates_then_updates_and_publishes(platform, tmp_path):
    src = write_app(tmp_path / "v1", greeting="Hi")
    r = platform.cli("app", "deploy", "org:dep", "--code", str(src), "--allow-unauthenticated", "--follow",
                     "--max-concurrency", "7")
    assert r.returncode == 0, r.stderr.decode()
    assert b"Published org/dep version 1" in r.stdout, r.stdout
    err = r.stderr.decode()
    assert "Created app org/dep" in err and "==> go build" in err, err  # --follow shows the build log
    app = platform.json("app", "get", "org:dep")["app"]
    assert app["allowUnauthenticated"] is True and app["maxConcurrency"] == 7
    status, body = anonymous(platform, "dep")
    assert status == 200 and b"Hi, anon" in body, (status, body)

    # Again with new code and one changed flag: the app is updated, not re-created; other settings stay.
    src2 = write_app(tmp_path / "v2", greeting="Hello again")
    r = platform.cli("-o", "json", "app", "deploy", "org:dep", "--code", str(src2), "--env", "MODE=two")
    assert r.returncode == 0, r.stderr.decode()
    assert json.loads(r.stdout)["version"] == 2
    assert b"Updated the configuration of org/dep" in r.stderr
    app = platform.json("app", "get", "org:dep")["app"]
    assert app["env"] == {"MODE": "two"} and app["maxConcurrency"] == 7 and app["allowUnauthenticated"] is True
    status, body = anonymous(platform, "dep")
    assert status == 200 and b"Hello again, anon" in body, (status, body)

    # Requiring a token again.
    platform.ok("app", "update", "org:dep", "--allow-unauthenticated=false")
    status, body = anonymous(platform, "dep")
    assert status == 401, (status, body)


def test_app_deploy_reports_a_bad_build_and_publishes_nothing(platform, tmp_path):
    src = write_app(tmp_path / "bad")
    (src / "main.go").write_text((src / "main.go").read_text() + "\nfunc broken() { undefined_call() }\n")
    r = platform.cli("app", "deploy", "org:depbad", "--code", str(src))
    assert r.returncode == 2, r.stderr.decode()  # InvalidArgument: the compiler's message
    assert b"undefined" in r.stderr, r.stderr
    assert platform.json("version", "list", "org:depbad").get("versions", []) == []
