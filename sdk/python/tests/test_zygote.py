"""Zygote mode, driven as src/instances/zygote_launcher.cc drives it: a SEQPACKET control socket with
SO_PASSCRED on our end, "fork <replica id>" with four descriptors, "child"/"exit"/"error" answers."""

import array
import os
import shutil
import signal
import socket
import struct
import time
import unittest

from tests import support

HANDLER = """
import os, random, sys
import ignite

print("imported in", os.getpid(), flush=True)
sys.stdout.write("zygote-partial ")  # pending in the zygote: a child must not inherit it
COUNT = 0

def handler(payload, ctx):
    global COUNT
    case = ignite.headers().get("X-Case", "count")
    if case == "count":
        COUNT += 1
        print("counted", COUNT)
        return {"count": COUNT, "pid": os.getpid()}
    if case == "env":
        return {"vars": {k: v for k, v in os.environ.items() if k.startswith("IGNITE_") and k != "IGNITE_PYTHONPATH"},
                "pgid": os.getpgid(0), "sid": os.getsid(0), "ppid": os.getppid(),
                "stdio_inheritable": [os.get_inheritable(1), os.get_inheritable(2)],
                "listener_inheritable": os.get_inheritable(3)}
    if case == "random":
        return random.random()
    if case == "modules":
        heavy = ("threading", "asyncio", "socket", "signal", "email", "http", "inspect", "selectors")
        return [m for m in heavy if m in sys.modules]
    if case == "thread":
        import threading  # first imported here, after the fork: patched on import
        t = threading.Thread(target=lambda: print("from thread", ctx["execution_id"]))
        t.start()
        t.join()
        return "ok"
    return payload
"""

_CREDENTIALS = struct.calcsize("3i")


class Instance:
    """A forked child as the platform sees it: its socket, pipes and pids."""

    def __init__(self, replica_id, socket_path, stdout, stderr):
        self.replica_id = replica_id
        self.socket_path = socket_path
        self.stdout = stdout
        self.stderr = stderr
        self.pid = None  # from the "child" message text (the zygote's pid namespace)
        self.sender_pid = None  # from its credentials
        self.ready = None

    def call(self, body=b"", case=None, headers=None):
        with support.Client(self.socket_path) as client:
            return client.call(body, case, headers)


class ZygoteRuntime(support.Runtime):
    def __init__(self, source):
        code_dir = support.write_code(source)
        self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.control.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        ready_r, ready_w = os.pipe()
        try:
            super().__init__(code_dir, {"IGNITE_ZYGOTE_FD": "3", "IGNITE_READY_FD": "4"},
                             {3: theirs.fileno(), 4: ready_w})
        finally:
            theirs.close()
            os.close(ready_w)
        self.ready = os.read(ready_r, 1)
        os.close(ready_r)
        self.messages = []  # (text, sender pid) received and not yet taken
        self.instances = []

    def receive(self, timeout=support.TIMEOUT):
        """The next message as (text, sender pid from SCM_CREDENTIALS)."""
        self.control.settimeout(timeout)
        text, ancillary, _, _ = self.control.recvmsg(1024, socket.CMSG_SPACE(_CREDENTIALS))
        sender = None
        for level, kind, data in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                sender = struct.unpack("3i", data[:_CREDENTIALS])[0]
        return text, sender

    def take(self, prefix, timeout=support.TIMEOUT):
        """The first message starting with prefix (earlier ones of other kinds are kept)."""
        for i, (text, sender) in enumerate(self.messages):
            if text.startswith(prefix):
                return self.messages.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            text, sender = self.receive(max(deadline - time.monotonic(), 0.001))
            if text.startswith(prefix):
                return text, sender
            self.messages.append((text, sender))

    def send_fork(self, replica_id, fds):
        self.control.sendmsg([b"fork " + replica_id.encode()],
                             [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])

    def fork(self, replica_id):
        """Forks an instance the way the platform does; returns it once it sent "child" and is ready."""
        path = os.path.join(self.code_dir, replica_id + ".sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        listener.listen(16)
        ready_r, ready_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        try:
            self.send_fork(replica_id, [listener.fileno(), ready_w, out_w, err_w])
        finally:
            listener.close()
            for fd in (ready_w, out_w, err_w):
                os.close(fd)
        instance = Instance(replica_id, path, support.Lines(out_r), support.Lines(err_r))
        text, sender = self.take(b"child " + replica_id.encode() + b" ")
        instance.pid = int(text.rsplit(b" ", 1)[1])
        instance.sender_pid = sender
        instance.ready = os.read(ready_r, 1)
        os.close(ready_r)
        self.instances.append(instance)
        return instance

    def close(self):
        for instance in self.instances:
            support.kill_quietly(instance.pid)
        self.control.close()
        self.stop()
        shutil.rmtree(self.code_dir, ignore_errors=True)


class ZygoteTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.z = ZygoteRuntime(HANDLER)
        assert cls.z.ready == b"1", cls.z.stderr.text()
        cls.a = cls.z.fork("hello-01JAAAA")
        cls.b = cls.z.fork("hello-01JBBBB")

    @classmethod
    def tearDownClass(cls):
        cls.z.close()

    def test_children_report_with_their_credentials(self):
        for instance in (self.a, self.b):
            self.assertEqual(instance.ready, b"1")
            self.assertEqual(instance.sender_pid, instance.pid)  # one pid namespace here
            self.assertNotEqual(instance.pid, self.z.proc.pid)
        self.assertNotEqual(self.a.pid, self.b.pid)

    def test_children_serve_with_independent_state(self):
        # First calls of each child: neither has counted yet, whatever the other did.
        a1 = self.a.call(case="count", headers={"X-Ignite-Execution-Id": "exec-a1"}).json()
        a2 = self.a.call(case="count").json()
        b1 = self.b.call(case="count", headers={"X-Ignite-Execution-Id": "exec-b1"}).json()
        self.assertEqual((a1["pid"], b1["pid"]), (self.a.pid, self.b.pid))
        self.assertEqual(a2["count"], a1["count"] + 1)
        self.assertEqual(b1["count"], 1)
        # Each child logs to its own pipes, tagged; the zygote's partial buffers did not follow it.
        self.assertEqual(self.a.stdout.wait_for(b"counted"), support.tag("exec-a1") + b"counted 1")
        self.assertEqual(self.b.stdout.wait_for(b"counted"), support.tag("exec-b1") + b"counted 1")

    def test_the_handler_module_is_imported_once(self):
        self.a.call(case="count")
        self.b.call(case="count")
        line = self.z.stdout.wait_for(b"imported in")
        self.assertEqual(line, f"imported in {self.z.proc.pid}".encode())
        time.sleep(0.05)
        self.assertEqual([l for l in self.z.stdout.snapshot() if b"imported" in l], [line])
        for instance in (self.a, self.b):
            self.assertFalse([l for l in instance.stdout.snapshot() if b"imported" in l])

    def test_child_environment_session_and_descriptors(self):
        env = self.a.call(case="env").json()
        self.assertEqual(env["vars"], {"IGNITE_REPLICA_ID": "hello-01JAAAA"})
        self.assertEqual((env["pgid"], env["sid"], env["ppid"]), (self.a.pid, self.a.pid, self.z.proc.pid))
        self.assertEqual(env["stdio_inheritable"], [True, True])
        self.assertFalse(env["listener_inheritable"])

    def test_children_are_lean_and_reseeded(self):
        self.assertEqual(self.a.call(case="modules").json(), [])
        self.assertNotEqual(self.a.call(case="random").json(), self.b.call(case="random").json())

    def test_thread_started_after_fork_is_attributed(self):
        self.assertEqual(self.b.call(case="thread", headers={"X-Ignite-Execution-Id": "exec-t"}).body, b"ok")
        self.assertEqual(self.b.stdout.wait_for(b"from thread"), support.tag("exec-t") + b"from thread exec-t")

    def test_bad_requests_are_answered_or_logged_and_ignored(self):
        r, w = os.pipe()
        try:
            self.z.send_fork("hello-01JBAD", [r, w])
        finally:
            os.close(r)
            os.close(w)
        text, sender = self.z.take(b"error hello-01JBAD ")
        self.assertIn(b"expected 4 descriptors", text)
        self.assertEqual(sender, self.z.proc.pid)
        self.z.control.send(b"hello there")
        self.z.stderr.wait_for(b"ignite: zygote: unknown message b'hello there'")
        self.assertEqual(self.a.call(b"still", case="echo").body, b"still")  # nothing else changed
        self.assertIsNone(self.z.proc.poll())


class ZygoteLifecycleTest(unittest.TestCase):
    def start(self):
        z = ZygoteRuntime(HANDLER)
        self.addCleanup(z.close)
        self.assertEqual(z.ready, b"1", z.stderr.text())
        return z

    def test_exits_are_reported(self):
        z = self.start()
        killed, stopped = z.fork("hello-01JKILL"), z.fork("hello-01JTERM")
        os.kill(killed.pid, signal.SIGKILL)
        text, _ = z.take(b"exit %d " % killed.pid)
        self.assertEqual(text, b"exit %d killed by signal 9 (Killed)" % killed.pid)
        os.kill(stopped.pid, signal.SIGTERM)  # an instance's graceful shutdown: exit 0
        text, _ = z.take(b"exit %d " % stopped.pid)
        self.assertEqual(text, b"exit %d exit status 0" % stopped.pid)
        # At its exit a child writes its own pending partial lines, never the zygote's.
        self.assertFalse([l for l in stopped.stdout.wait_closed() if b"zygote-partial" in l])
        self.assertEqual(z.fork("hello-01JNEXT").call(case="count").json()["count"], 1)

    def test_closing_the_control_socket_stops_the_zygote_and_its_children(self):
        z = self.start()
        children = [z.fork("hello-01JC1").pid, z.fork("hello-01JC2").pid]
        z.control.close()
        self.assertEqual(z.wait(), 0)
        for pid in children:
            self.assertTrue(support.wait_until(lambda: support.process_gone(pid)), pid)
        self.assertIn(b"ignite: zygote: the platform closed the control socket; stopping", z.stderr.wait_closed())

    def test_threads_started_at_import_are_reported(self):
        z = ZygoteRuntime("import threading, time\n"
                          "threading.Thread(target=time.sleep, args=(30,), daemon=True).start()\n"
                          "def handler(payload, ctx):\n    return threading.active_count()\n")
        self.addCleanup(z.close)
        self.assertIn(b"ignite: zygote: 2 threads run", z.stderr.wait_for(b"threads run"))
        self.assertEqual(z.fork("hello-01JTHREADS").call().json(), 1)  # the thread did not survive the fork

    def test_sigterm_stops_the_zygote_and_its_children(self):
        z = self.start()
        child = z.fork("hello-01JS1").pid
        z.proc.send_signal(signal.SIGTERM)
        self.assertEqual(z.wait(), 0)
        self.assertTrue(support.wait_until(lambda: support.process_gone(child)))


if __name__ == "__main__":
    unittest.main()
