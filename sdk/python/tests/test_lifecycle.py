"""Start and stop: readiness, failures to load the handler, SIGTERM, the parent-death signal."""

import signal
import threading
import time
import unittest

from tests import support


class LoadFailureTest(unittest.TestCase):
    """A handler that cannot be loaded: exit 1 before readiness, with the reason on stderr."""

    def start(self, source, files=None):
        rt = support.DirectRuntime(source, files=files, wait_ready=False)
        self.addCleanup(rt.close)
        self.assertEqual(rt.wait_ready(), b"")  # never ready
        self.assertEqual(rt.wait(), 1)
        return rt.stderr.wait_closed()

    def test_missing_handler_file(self):
        lines = self.start(None)
        self.assertTrue(any(line.startswith(b"ignite: no handler.py at the code root") for line in lines), lines)

    def test_no_callable_handler(self):
        for source in ("x = 1\n", "handler = 42\n", "def main(payload, ctx):\n    pass\n"):
            with self.subTest(source):
                lines = self.start(source)
                self.assertIn(b"ignite: handler.py has no callable `handler`: define `def handler(payload, ctx):`"
                              b" (or `async def handler`) at the top level of handler.py", lines)

    def test_import_error_prints_the_traceback(self):
        lines = self.start("import helper\n", files={"helper.py": "x = 1\nraise RuntimeError('boom at import')\n"})
        text = b"\n".join(lines)
        self.assertIn(b"ignite: importing handler.py failed:", text)
        self.assertIn(b'helper.py", line 2, in <module>', text)
        self.assertIn(b"RuntimeError: boom at import", text)
        self.assertNotIn(b"_boot.py", text)

    def test_missing_dependency_is_not_a_missing_handler(self):
        text = b"\n".join(self.start("import no_such_module_here\n"))
        self.assertIn(b"ModuleNotFoundError: No module named 'no_such_module_here'", text)
        self.assertNotIn(b"no handler.py", text)

    def test_syntax_error(self):
        text = b"\n".join(self.start("def handler(payload, ctx)\n    return 1\n"))
        self.assertIn(b"SyntaxError", text)


class ShutdownTest(unittest.TestCase):
    def test_sigterm_lets_requests_in_flight_finish_then_exits_0(self):
        rt = support.DirectRuntime("""
            import time
            def handler(payload, ctx):
                print("slow started", flush=True)
                time.sleep(0.5)
                return b"slow done"
        """)
        self.addCleanup(rt.close)
        idle = rt.connect()  # an idle keep-alive connection must not hold the shutdown up
        self.addCleanup(idle.close)
        self.assertEqual(idle.call(method="GET").status, 200)
        answer = {}
        busy = rt.connect()
        self.addCleanup(busy.close)
        thread = threading.Thread(target=lambda: answer.update(r=busy.call(b"x")))
        thread.start()
        rt.stdout.wait_for(b"slow started")
        start = time.monotonic()
        rt.proc.send_signal(signal.SIGTERM)
        thread.join(support.TIMEOUT)
        self.assertEqual(answer["r"].body, b"slow done")
        self.assertEqual(answer["r"].headers.get("connection"), "close")  # no further requests on it
        self.assertEqual(rt.wait(), 0)
        self.assertLess(time.monotonic() - start, 5)
        self.assertTrue(idle.at_eof())
        self.assertIn(b"ignite: received SIGTERM; shutting down", rt.stderr.wait_closed())

    def test_sigterm_when_idle_exits_0_at_once(self):
        rt = support.DirectRuntime("def handler(payload, ctx):\n    return payload\n")
        self.addCleanup(rt.close)
        self.assertEqual(rt.call(b"x").body, b"x")
        rt.proc.send_signal(signal.SIGTERM)
        self.assertEqual(rt.wait(), 0)


class ParentDeathSignalTest(unittest.TestCase):
    def test_managed_instances_die_with_their_parent(self):
        # The instance's parent is a stand-in for the platform, which the test then kills.
        parent = (
            "import subprocess, sys, time\n"
            f"child = subprocess.Popen({[support.PYTHON, '-I', '-S', '-B', support.BOOT]!r}, pass_fds=(3, 4))\n"
            "print(child.pid, flush=True)\n"
            "time.sleep(60)\n"
        )
        rt = support.DirectRuntime("def handler(payload, ctx):\n    return payload\n",
                                   argv=[support.PYTHON, "-I", "-S", "-c", parent])
        self.addCleanup(rt.close)
        self.assertEqual(rt.ready, b"1")
        instance = int(rt.stdout.wait_for(b""))
        self.addCleanup(support.kill_quietly, instance)
        self.assertEqual(rt.call(b"alive").body, b"alive")
        rt.proc.kill()
        rt.wait()
        self.assertTrue(support.wait_until(lambda: support.process_gone(instance)))


if __name__ == "__main__":
    unittest.main()
