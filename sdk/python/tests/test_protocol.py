"""The instance protocol over HTTP (docs/instance-protocol.md): probe, answers, errors, framing."""

import os
import re
import time
import unittest

from tests import support

# One handler for the whole class, dispatching on the X-Case header (the runtime starts once).
HANDLER = """
import json, os, sys
import ignite

CALLS = 0

def echo(payload, ctx):
    return payload

CASES = {
    "echo": echo,
    "bytes": lambda p, c: b"\\x00\\xffraw",
    "bytearray": lambda p, c: bytearray(b"array"),
    "memoryview": lambda p, c: memoryview(b"view"),
    "str": lambda p, c: "h\\u00e9llo",
    "dict": lambda p, c: {"a": [1, 2], "b": None},
    "list": lambda p, c: [1, "two"],
    "none": lambda p, c: None,
    "int": lambda p, c: 42,
    "float": lambda p, c: 1.5,
    "bool": lambda p, c: True,
    "calls": lambda p, c: CALLS,
    "set": lambda p, c: {1, 2},
    "ctx": lambda p, c: c,
    "env": lambda p, c: {
        "vars": sorted(k for k in os.environ if k.startswith("IGNITE_")),
        "listener_inheritable": os.get_inheritable(3),
    },
}

def raise_value_error(payload, ctx):
    raise ValueError("bad input: " + payload.decode())

def call_exit(payload, ctx):
    sys.exit(3)

def interrupt(payload, ctx):
    raise KeyboardInterrupt

def coroutine(payload, ctx):
    async def later():
        return {"awaited": payload.decode(), "header": ignite.headers().get("X-Case")}
    return later()

CASES.update(error=raise_value_error, exit=call_exit, interrupt=interrupt, coroutine=coroutine)

def handler(payload, ctx):
    global CALLS
    CALLS += 1
    return CASES[ignite.headers().get("X-Case", "echo")](payload, ctx)
"""


class ProtocolTest(support.DirectRuntimeTest):
    HANDLER = HANDLER

    def calls(self):
        return self.rt.call(case="calls").json()  # itself a call: counts

    def test_probe_answers_without_the_handler(self):
        before = self.calls()
        with self.rt.connect() as client:
            for method, path in (("GET", "/"), ("HEAD", "/"), ("GET", "/?x=1")):
                r = client.call(method=method, path=path)
                self.assertEqual(r.status, 200)
                self.assertEqual(r.headers["content-type"], "application/json")
                self.assertEqual(r.headers["content-length"], "15")
                self.assertEqual(r.body, b"" if method == "HEAD" else b'{"status":"ok"}')
        self.assertEqual(self.calls(), before + 1)

    def test_other_methods_and_paths_call_the_handler(self):
        before = self.calls()
        self.assertEqual(self.rt.call(method="GET", path="/other").body, b"")
        self.assertEqual(self.rt.call(b"x", method="PUT", path="/a/b?c=d").body, b"x")
        self.assertEqual(self.rt.call(b"payload", method="GET", path="/").body, b"payload")  # a body: not a probe
        self.assertEqual(self.calls(), before + 4)

    def test_return_types(self):
        cases = {
            "bytes": ("application/octet-stream", b"\x00\xffraw"),
            "bytearray": ("application/octet-stream", b"array"),
            "memoryview": ("application/octet-stream", b"view"),
            "str": ("text/plain; charset=utf-8", "h\u00e9llo".encode()),
            "dict": ("application/json", b'{"a": [1, 2], "b": null}'),
            "list": ("application/json", b'[1, "two"]'),
            "none": ("application/json", b"null"),
            "int": ("application/json", b"42"),
            "float": ("application/json", b"1.5"),
            "bool": ("application/json", b"true"),
        }
        for case, (content_type, body) in cases.items():
            with self.subTest(case):
                r = self.rt.call(case=case)
                self.assertEqual((r.status, r.headers["content-type"], r.body), (200, content_type, body))
                self.assertEqual(r.headers["content-length"], str(len(body)))

    def test_exception_is_500_with_type_and_traceback(self):
        r = self.rt.call(b"zzz", case="error", headers={"X-Ignite-Execution-Id": "exec-error-1"})
        self.assertEqual(r.status, 500)
        self.assertEqual(r.headers["content-type"], "application/json")
        body = r.json()
        self.assertEqual(body["error"], "bad input: zzz")
        self.assertEqual(body["type"], "ValueError")
        self.assertIn("in raise_value_error", body["traceback"])
        self.assertIn("ValueError: bad input: zzz", body["traceback"])
        self.assertNotIn("ignite/_invoke.py", body["traceback"])  # the SDK's frames are not the user's
        # Also on stderr, every line tagged with the execution.
        line = self.rt.stderr.wait_for(b"ValueError: bad input: zzz")
        self.assertTrue(line.startswith(support.tag("exec-error-1")), line)
        self.assertEqual(self.rt.call(b"still", case="echo").body, b"still")

    def test_unserialisable_result_is_500(self):
        r = self.rt.call(case="set")
        self.assertEqual(r.status, 500)
        self.assertEqual(r.json()["type"], "TypeError")
        self.assertIn("not JSON serializable", r.json()["error"])

    def test_sys_exit_and_keyboard_interrupt_do_not_stop_the_instance(self):
        r = self.rt.call(case="exit")
        self.assertEqual(r.status, 500)
        self.assertEqual(r.json()["type"], "SystemExit")
        self.assertEqual(r.json()["error"],
                         "the handler called sys.exit(3); return a value or raise an exception instead")
        r = self.rt.call(case="interrupt")
        self.assertEqual((r.status, r.json()["type"]), (500, "KeyboardInterrupt"))
        self.assertEqual(self.rt.call(b"alive").body, b"alive")
        self.assertIsNone(self.rt.proc.poll())

    def test_sync_handler_returning_an_awaitable(self):
        r = self.rt.call(b"later", case="coroutine")
        self.assertEqual(r.json(), {"awaited": "later", "header": "coroutine"})

    def test_keep_alive(self):
        with self.rt.connect() as client:
            for i in range(5):
                r = client.call(str(i).encode())
                self.assertEqual((r.status, r.body), (200, str(i).encode()))
                self.assertNotIn("connection", r.headers)
            r = client.call(b"last", headers={"Connection": "close"})
            self.assertEqual((r.body, r.headers.get("connection")), (b"last", "close"))
            self.assertTrue(client.at_eof())

    def test_http_1_0_closes_after_the_answer(self):
        with self.rt.connect() as client:
            client.send(b"POST / HTTP/1.0\r\nContent-Length: 2\r\n\r\nhi")
            self.assertEqual(client.read_response().body, b"hi")
            self.assertTrue(client.at_eof())

    def test_chunked_request_body(self):
        with self.rt.connect() as client:
            client.send(b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                        b"5\r\nhello\r\n1;ext=1\r\n \r\nA\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n")
            r = client.read_response()
            self.assertEqual((r.status, r.body), (200, b"hello 0123456789"))
            # The connection stays usable: the chunked framing was consumed exactly.
            client.send(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
            self.assertEqual(client.read_response().body, b"")
            self.assertEqual(client.call(b"after").body, b"after")

    def test_malformed_chunked_body_is_400_and_closes(self):
        bad_bodies = (b"zz\r\nhello\r\n0\r\n\r\n", b"0x5\r\nhello\r\n0\r\n\r\n",
                      b"5\r\nhelloXX0\r\n\r\n", b"-5\r\nhello\r\n0\r\n\r\n")
        before = self.calls()
        for bad in bad_bodies:
            with self.subTest(bad), self.rt.connect() as client:
                client.send(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + bad)
                r = client.read_response()
                self.assertEqual(r.status, 400)
                self.assertIn("chunked", r.json()["error"])
                self.assertEqual(r.headers.get("connection"), "close")
                self.assertTrue(client.at_eof())
        self.assertEqual(self.calls(), before + 1)

    def test_cut_off_body_never_reaches_the_handler(self):
        before = self.calls()
        for partial in (b"Transfer-Encoding: chunked\r\n\r\n10\r\nonly-part", b"Content-Length: 100\r\n\r\nshort"):
            with self.rt.connect() as client:
                client.send(b"POST / HTTP/1.1\r\n" + partial)
                client.sock.shutdown(1)  # the platform cut the request off
                self.assertTrue(client.at_eof())
        self.assertEqual(self.calls(), before + 1)

    def test_malformed_request_line_and_headers_are_400(self):
        for request in (b"NONSENSE\r\n\r\n", b"POST / HTTP/2.0\r\n\r\n",
                        b"POST / HTTP/1.1\r\nBad Header: x\r\n\r\n",
                        b"POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n",
                        b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"):
            with self.subTest(request), self.rt.connect() as client:
                client.send(request)
                self.assertEqual(client.read_response().status, 400)
                self.assertTrue(client.at_eof())

    def test_large_bodies_both_ways(self):
        payload = os.urandom(3 * 1024 * 1024 + 7)
        with self.rt.connect() as client:
            self.assertEqual(client.call(payload).body, payload)
            self.assertEqual(client.call(b"small").body, b"small")

    def test_ctx_has_exactly_the_identity_keys(self):
        r = self.rt.call(case="ctx", headers={"X-Ignite-Execution-Id": "01J0000000000000000000EXEC",
                                              "X-Ignite-Function-Id": "acme/hello",
                                              "X-Ignite-Organization-Id": "org-123"})
        self.assertEqual(r.json(), {"execution_id": "01J0000000000000000000EXEC", "function_id": "acme/hello",
                                    "organization_id": "org-123"})
        ctx = self.rt.call(case="ctx").json()  # no identity headers (a local run): a random UUID
        self.assertRegex(ctx["execution_id"], r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        self.assertEqual((ctx["function_id"], ctx["organization_id"]), ("", ""))

    def test_module_state_persists_across_calls(self):
        first = self.calls()
        self.assertEqual(self.calls(), first + 1)
        self.assertEqual(self.calls(), first + 2)

    def test_listener_and_readiness_variables_are_removed(self):
        env = self.rt.call(case="env").json()
        self.assertEqual(env["vars"], ["IGNITE_PYTHONPATH"])  # IGNITE_LISTEN_FD and IGNITE_READY_FD are gone
        self.assertFalse(env["listener_inheritable"])

    def test_concurrent_requests_run_in_parallel(self):
        rt = support.DirectRuntime("""
            import time
            def handler(payload, ctx):
                time.sleep(0.5)
                return payload
        """)
        try:
            rt.call(method="GET")  # warm: the first call may pay lazy imports
            clients = [rt.connect(), rt.connect()]
            start = time.monotonic()
            for i, client in enumerate(clients):
                client.send(b"POST / HTTP/1.1\r\nContent-Length: 1\r\n\r\n" + str(i).encode())
            bodies = [client.read_response().body for client in clients]
            elapsed = time.monotonic() - start
            self.assertEqual(bodies, [b"0", b"1"])
            self.assertLess(elapsed, 0.9)
            for client in clients:
                client.close()
        finally:
            rt.close()


class VersionTest(unittest.TestCase):
    def test_version_is_the_version_file(self):
        with open(os.path.join(support.SDK_DIR, "VERSION")) as f:
            version = f.read().strip()
        self.assertTrue(re.fullmatch(r"\d+\.\d+\.\d+", version), version)
        rt = support.DirectRuntime("""
            import ignite
            def handler(payload, ctx):
                return ignite.__version__
        """)
        try:
            self.assertEqual(rt.call().body.decode(), version)
        finally:
            rt.close()


if __name__ == "__main__":
    unittest.main()
