"""What a handler sees beyond its arguments: ignite.headers(), log tagging, threads it starts."""

import json
import shutil
import time
import unittest

from tests import support

HANDLER = """
import logging, sys, time
import ignite

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
log = logging.getLogger("app")

try:
    ignite.headers()
    OUTSIDE = "no error"
except RuntimeError as e:
    OUTSIDE = str(e)
print("imported; not tagged")

def headers_case(payload, ctx):
    h = ignite.headers()
    return {"get": h.get("x-custom"), "item": h["X-CUSTOM"], "all": h.get_all("x-multi"),
            "missing": h.get("x-missing", "default"), "missing_all": h.get_all("x-missing"),
            "in": ["X-Custom" in h, "x-custom" in h, "nope" in h],
            "names": [n for n in h if n.lower().startswith("x-")], "len_ok": len(h) >= 3,
            "same_as_ctx": h.get("X-Ignite-Execution-Id") == ctx["execution_id"]}

def logs_case(payload, ctx):
    marker = payload.decode()
    print("print", marker)
    sys.stdout.write("part-" + marker)
    sys.stdout.flush()  # a partial line stays buffered: the next write completes it
    sys.stdout.write("-end\\nsecond-" + marker + "\\n")
    log.info("logging %s", marker)
    print("stderr", marker, file=sys.stderr)
    sys.stdout.buffer.write(b"binary-" + payload + b"\\n")
    return "ok"

def background_case(payload, ctx):
    import threading  # imported by logging already: the patch is in place either way

    marker = payload.decode()

    class Worker(threading.Thread):  # a subclass overriding run() is covered too
        def run(self):
            time.sleep(0.3)
            print("worker", marker, ignite.headers().get("X-Ignite-Execution-Id"))

    def work():
        time.sleep(0.3)
        print("background", marker)
        log.warning("background log %s", marker)
        sys.stdout.write("unfinished-" + marker)  # written (as a line) when the thread ends

    threading.Thread(target=work, daemon=True).start()
    Worker(daemon=True).start()
    return "started"

def outside_case(payload, ctx):
    import threading
    result = []
    t = threading.Thread(target=lambda: result.append(OUTSIDE))
    t.start()
    t.join()
    return result[0]

def many_threads_case(payload, ctx):
    import threading
    def spam(i):
        for _ in range(50):
            print(str(i) * 3000)
    threads = [threading.Thread(target=spam, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return "done"

def partial_case(payload, ctx):
    sys.stdout.write(payload.decode())  # no newline: completed when the invocation returns
    return "ok"

CASES = {"partial": partial_case, "headers": headers_case, "logs": logs_case, "background": background_case,
         "outside": outside_case, "many": many_threads_case}

def handler(payload, ctx):
    return CASES[ignite.headers()["X-Case"]](payload, ctx)
"""


class ContextTest(support.DirectRuntimeTest):
    HANDLER = HANDLER

    def call(self, case, body=b"", execution_id="exec-1", headers=None):
        return self.rt.call(body, case, {"X-Ignite-Execution-Id": execution_id, **(headers or {})})

    def test_headers_are_case_insensitive_and_read_only(self):
        # Raw, to send a repeated field in two spellings.
        with self.rt.connect() as client:
            client.send(b"POST / HTTP/1.1\r\nX-Case: headers\r\nX-Custom: v1\r\nx-multi: a\r\nX-MULTI: b\r\n"
                        b"X-Ignite-Execution-Id: e\r\nContent-Length: 0\r\n\r\n")
            r = client.read_response()
        self.assertEqual(r.json(), {
            "get": "v1", "item": "v1", "all": ["a", "b"], "missing": "default", "missing_all": None,
            "in": [True, True, False], "names": ["X-Case", "X-Custom", "x-multi", "X-Ignite-Execution-Id"],
            "len_ok": True, "same_as_ctx": True})

    def test_headers_outside_an_invocation_raise(self):
        message = self.call("outside").body.decode()
        self.assertIn("outside an invocation", message)

    def test_print_logging_and_stderr_lines_are_tagged(self):
        self.assertEqual(self.call("logs", b"m1", execution_id="01JEXECLOGS").body, b"ok")
        t = support.tag("01JEXECLOGS")
        out, err = self.rt.stdout, self.rt.stderr
        self.assertEqual(out.wait_for(b"print m1"), t + b"print m1")
        self.assertEqual(out.wait_for(b"part-m1"), t + b"part-m1-end")
        self.assertEqual(out.wait_for(b"second-m1"), t + b"second-m1")
        self.assertEqual(out.wait_for(b"binary-m1"), t + b"binary-m1")
        self.assertEqual(err.wait_for(b"logging m1"), t + b"INFO app: logging m1")
        self.assertEqual(err.wait_for(b"stderr m1"), t + b"stderr m1")
        # Import-time output belongs to no execution.
        self.assertEqual(out.wait_for(b"imported;"), b"imported; not tagged")

    def test_a_partial_line_ends_with_its_invocation(self):
        with self.rt.connect() as client:  # the same connection thread serves both calls
            for execution_id, text in (("01JPART1", b"partial-1"), ("01JPART2", b"partial-2")):
                client.call(text, "partial", {"X-Ignite-Execution-Id": execution_id})
        self.assertEqual(self.rt.stdout.wait_for(b"partial-1"), support.tag("01JPART1") + b"partial-1")
        self.assertEqual(self.rt.stdout.wait_for(b"partial-2"), support.tag("01JPART2") + b"partial-2")

    def test_threads_started_by_a_handler_keep_its_execution(self):
        start = time.monotonic()
        self.assertEqual(self.call("background", b"bg1", execution_id="01JEXECBG").body, b"started")
        self.assertLess(time.monotonic() - start, 0.3)  # the handler did not wait for its threads
        t = support.tag("01JEXECBG")
        # A call from another execution meanwhile must not steal the attribution.
        self.call("logs", b"other", execution_id="01JOTHER")
        out, err = self.rt.stdout, self.rt.stderr
        self.assertEqual(out.wait_for(b"background bg1"), t + b"background bg1")
        self.assertEqual(out.wait_for(b"worker bg1"), t + b"worker bg1 01JEXECBG")
        self.assertEqual(err.wait_for(b"background log bg1"), t + b"WARNING app: background log bg1")
        self.assertEqual(out.wait_for(b"unfinished-bg1"), t + b"unfinished-bg1")
        self.assertEqual(out.wait_for(b"print other"), support.tag("01JOTHER") + b"print other")

    def test_concurrent_threads_never_interleave_within_a_line(self):
        self.assertEqual(self.call("many", execution_id="01JMANY").body, b"done")
        t = support.tag("01JMANY")
        deadline = time.monotonic() + support.TIMEOUT
        while time.monotonic() < deadline:
            lines = [line for line in self.rt.stdout.snapshot() if line.startswith(t)]
            if len(lines) == 200:
                break
            time.sleep(0.02)
        self.assertEqual(len(lines), 200)
        for line in lines:
            text = line[len(t):]
            self.assertEqual(len(text), 3000)
            self.assertEqual(len(set(text)), 1, text[:80])


class LocalRunTest(unittest.TestCase):
    """Without IGNITE_LISTEN_FD: TCP :$PORT, and log lines without tags (a terminal stays readable)."""

    def test_port_and_untagged_logs(self):
        import socket

        with socket.socket() as s:  # a free port
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        code_dir = support.write_code("""
            def handler(payload, ctx):
                print("local", ctx["execution_id"])
                return {"got": payload.decode()}
        """)
        rt = support.Runtime(code_dir, {"PORT": str(port)}, {})
        try:
            rt.stderr.wait_for(f"listening on :{port}".encode())
            import http.client

            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=support.TIMEOUT)
            conn.request("GET", "/")
            self.assertEqual(conn.getresponse().read(), b'{"status":"ok"}')
            conn.request("POST", "/", body=b"hi", headers={"X-Ignite-Execution-Id": "local-exec"})
            response = conn.getresponse()
            self.assertEqual(json.loads(response.read()), {"got": "hi"})
            conn.close()
            self.assertEqual(rt.stdout.wait_for(b"local "), b"local local-exec")
        finally:
            rt.stop()
            shutil.rmtree(code_dir, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
