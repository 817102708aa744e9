"""The per-app URL surface: <app>-<org>.<base_domain> reaches the active version with method, path and query
verbatim and returns the instance's own answer."""

import json

from conftest import write_app

PATH_APP = '''package main

import (
	"encoding/json"
	"ignite"
)

func handler(payload []byte, ctx *ignite.Context) ([]byte, error) {
	return json.Marshal(map[string]string{
		"payload": string(payload),
		"method":  ctx.Headers.Get("X-Probe-Method"),
		"exec":    ctx.ExecutionID,
	})
}

func main() {
	ignite.Start(handler)
}
'''


def call(platform, host, method="POST", path="/", body=b"", token="default", headers=None):
    return platform.on_host(host, method, path, body, token, headers, timeout=60)


def test_per_app_url(platform, tmp_path):
    app = tmp_path / "web"
    app.mkdir()
    (app / "main.go").write_text(PATH_APP)
    (app / "go.mod").write_text("module web\n\ngo 1.26\n")
    platform.ok("app", "create", "org:my-web")
    platform.ok("draft", "save", "org:my-web", "-c", str(app))
    platform.ok("draft", "publish", "org:my-web")
    host = f"my-web-org.ignite.localhost:{platform.port}"
    status, headers, body = call(platform, host, path="/predict?top_k=5", body=b"hello")
    assert status == 200, body
    assert headers["content-type"] == "application/octet-stream"
    out = json.loads(body)
    assert out["payload"] == "hello"
    assert headers["x-ignite-execution-id"] == out["exec"]
    # A bare GET / is the platform's health answer.
    status, _, body = call(platform, host, method="GET")
    assert status == 200 and json.loads(body) == {"status": "ok"}
    # Auth: no token is 401; unknown app 404; no CORS headers without anonymous access.
    status, headers, _ = call(platform, host, body=b"x", token=None)
    assert status == 401
    assert "access-control-allow-origin" not in headers
    status, _, body = call(platform, f"nope-org.ignite.localhost:{platform.port}", body=b"x")
    assert status == 404 and json.loads(body)["code"] == 5


def test_anonymous_app_with_cors(platform, tmp_path):
    status, _, body = platform.http("POST", "/v1/ignite/app/org",
                                    json.dumps({"name": "open.v2", "allowUnauthenticated": True}).encode())
    assert status == 200, body
    platform.ok("draft", "save", "org:open.v2", "-c", str(write_app(tmp_path / "open")))
    platform.ok("draft", "publish", "org:open.v2")
    host = f"open-dot-v2-org.ignite.localhost:{platform.port}"
    status, headers, body = call(platform, host, body=b'{"name":"anon"}', token=None)
    assert status == 200, body
    assert json.loads(body)["greeting"] == "Hello, anon!"
    assert headers["access-control-allow-origin"] == "*"
    status, headers, _ = call(platform, host, method="OPTIONS", token=None,
                              headers={"Origin": "http://example.test", "Access-Control-Request-Method": "POST"})
    assert status == 204
    assert headers["access-control-allow-headers"] == "content-type"
