"""async def handlers: one shared event loop, concurrent invocations, errors, per-task attribution."""

import time
import unittest

from tests import support

HANDLER = """
import asyncio, sys
import ignite

LOOPS = set()
QUEUE = None  # loop-bound state kept across calls

async def handler(payload, ctx):
    global QUEUE
    loop = asyncio.get_running_loop()
    LOOPS.add(id(loop))
    case = ignite.headers().get("X-Case", "echo")
    if case == "state":
        if QUEUE is None:
            QUEUE = asyncio.Queue()  # bound to this loop: a second loop would fail to use it
        await QUEUE.put(payload)
        return {"loops": len(LOOPS), "queued": QUEUE.qsize()}
    if case == "sleep":
        await asyncio.sleep(0.5)
        return payload
    if case == "interleave":
        # Two invocations print while both are suspended on the same loop thread.
        marker = payload.decode()
        for i in range(3):
            print("tick", marker, i)
            await asyncio.sleep(0.05)
        child = asyncio.create_task(asyncio.sleep(0, result=ignite.headers().get("X-Ignite-Execution-Id")))
        return {"task_saw": await child}
    if case == "error":
        await asyncio.sleep(0)
        raise LookupError("async failure")
    if case == "exit":
        sys.exit(7)
    return payload
"""


class AsyncTest(support.DirectRuntimeTest):
    HANDLER = HANDLER

    def test_result_is_awaited(self):
        r = self.rt.call(b"async hi")
        self.assertEqual((r.status, r.headers["content-type"], r.body),
                         (200, "application/octet-stream", b"async hi"))

    def test_one_loop_keeps_state_across_calls(self):
        first = self.rt.call(case="state").json()
        second = self.rt.call(case="state").json()
        self.assertEqual(first["loops"], 1)
        self.assertEqual(second, {"loops": 1, "queued": first["queued"] + 1})

    def test_invocations_run_concurrently(self):
        self.rt.call()  # the loop is started
        clients = [self.rt.connect() for _ in range(3)]
        start = time.monotonic()
        for i, client in enumerate(clients):
            client.send(b"POST / HTTP/1.1\r\nX-Case: sleep\r\nContent-Length: 1\r\n\r\n" + str(i).encode())
        bodies = [client.read_response().body for client in clients]
        elapsed = time.monotonic() - start
        for client in clients:
            client.close()
        self.assertEqual(bodies, [b"0", b"1", b"2"])
        self.assertLess(elapsed, 0.9)

    def test_each_task_logs_under_its_own_execution(self):
        clients = [self.rt.connect() for _ in range(2)]
        for marker, client in zip(("A", "B"), clients):
            client.send(f"POST / HTTP/1.1\r\nX-Case: interleave\r\nX-Ignite-Execution-Id: 01JASYNC{marker}\r\n"
                        f"Content-Length: 1\r\n\r\n{marker}".encode())
        results = [client.read_response().json() for client in clients]
        for client in clients:
            client.close()
        self.assertEqual(results, [{"task_saw": "01JASYNCA"}, {"task_saw": "01JASYNCB"}])
        for marker in ("A", "B"):
            for i in range(3):
                line = self.rt.stdout.wait_for(f"tick {marker} {i}".encode())
                self.assertEqual(line, support.tag(f"01JASYNC{marker}") + f"tick {marker} {i}".encode())

    def test_errors_and_exit_are_500_and_the_loop_survives(self):
        r = self.rt.call(case="error")
        self.assertEqual((r.status, r.json()["type"], r.json()["error"]), (500, "LookupError", "async failure"))
        self.assertIn("in handler", r.json()["traceback"])
        r = self.rt.call(case="exit")
        self.assertEqual((r.status, r.json()["type"]), (500, "SystemExit"))
        self.assertIn("sys.exit(7)", r.json()["error"])
        self.assertEqual(self.rt.call(b"after").body, b"after")
        self.assertEqual(self.rt.call(case="state").json()["loops"], 1)


if __name__ == "__main__":
    unittest.main()
