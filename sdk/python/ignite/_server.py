"""Direct mode: serve HTTP on the platform's listening socket (or TCP :$PORT for local runs).

Contract (docs/instance-protocol.md, as the Go SDK's server.go):
  - The listener is the descriptor named by IGNITE_LISTEN_FD (a Unix or TCP stream socket), made
    non-inheritable, the variable removed; without it, TCP :$PORT (default 8080). Then the readiness byte.
  - One thread per connection; HTTP/1.1 keep-alive (the platform reuses connections); GET/HEAD "/" with no
    body is the probe, answered without the handler; every other request calls it (_invoke.App).
  - SIGTERM (or SIGINT, for local runs): stop accepting, close idle connections, give requests in flight up
    to 30 s, exit 0.

Sockets come from _socket, not socket: socket.py imports enum and selectors, several milliseconds of every
cold start for conveniences this module does not need.
"""

import errno
import os
import time
import _signal
import _socket
import _thread

from ignite import _http, _logs, _process
from ignite._invoke import JSON
from ignite._logs import sdk_log

SHUTDOWN_GRACE = 30.0  # seconds in-flight requests get after SIGTERM
_DEFAULT_PORT = 8080
_LARGE_BODY = 64 * 1024  # bodies up to this are sent in one call with their head; larger ones are not copied
_PROBE_BODY = b'{"status":"ok"}'
_SIGNAL_NAMES = {_signal.SIGTERM: "SIGTERM", _signal.SIGINT: "SIGINT"}


def run(app, managed):
    """Serves app until SIGTERM; returns the exit status (0 after a graceful shutdown, 1 on failure)."""
    try:
        listener = _listen()
    except (OSError, ValueError) as e:
        sdk_log(f"cannot listen: {e}")
        return 1
    server = Server(listener, app)
    server.handle_signals()  # before the readiness byte: from then on the platform may stop us any time
    _process.signal_ready()
    if not managed:
        sdk_log(f"listening on {_describe(listener)}")
    return server.serve()


def _listen():
    """The inherited listener (IGNITE_LISTEN_FD, removed from the environment), or TCP :$PORT."""
    fd = _process.take_fd("IGNITE_LISTEN_FD")
    if fd is not None:
        listener = _socket.socket(fileno=fd)  # family and type read from the descriptor
        os.set_inheritable(fd, False)
        listener.setblocking(True)  # whatever the platform left set: this thread blocks in accept
        return listener
    port_text = os.environ.get("PORT") or str(_DEFAULT_PORT)
    if not port_text.isascii() or not port_text.isdigit() or int(port_text) > 65535:
        raise ValueError(f"invalid PORT={port_text!r}")
    try:  # both IPv6 and IPv4, as Go's ":port"
        listener = _socket.socket(_socket.AF_INET6, _socket.SOCK_STREAM)
        listener.setsockopt(_socket.IPPROTO_IPV6, _socket.IPV6_V6ONLY, 0)
    except OSError:
        listener = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
    listener.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEADDR, 1)
    listener.bind(("", int(port_text)))
    listener.listen(1024)
    return listener


def _describe(listener):
    address = listener.getsockname()
    return f":{address[1]}" if isinstance(address, tuple) else repr(address)


class Server:
    """Accepts on the listener in the calling (main) thread and serves each connection in its own thread.

    Shutdown bookkeeping: _conns maps each open connection to whether a request is in flight on it;
    _idle is held exactly while at least one is (acquired by the first to start, released by the last to
    finish), so shutdown waits for in-flight requests by acquiring it. Both are guarded by _lock."""

    def __init__(self, listener, app):
        self._listener = listener
        self._app = app
        self._tcp = listener.family in (_socket.AF_INET, _socket.AF_INET6)
        self._lock = _thread.allocate_lock()
        self._idle = _thread.allocate_lock()
        self._conns = {}
        self._busy = 0
        self._stopping = False
        self._signal = None

    def handle_signals(self):
        """Makes SIGTERM and SIGINT shut the server down (main thread only, as any signal handler)."""
        for signum in _SIGNAL_NAMES:
            _signal.signal(signum, self._on_signal)

    def serve(self):
        """Runs until a shutdown signal or a listener failure; returns the exit status."""
        status = self._accept_loop()
        if self._signal is not None:
            sdk_log(f"received {_SIGNAL_NAMES[self._signal]}; shutting down")
        self._drain()
        return status

    def _on_signal(self, signum, frame):
        # Runs in the main thread, between bytecodes or while accept() waits (which then retries, PEP 475).
        # Closing the listener makes that accept fail at once; the loop sees _signal and ends.
        self._signal = signum
        self._listener.close()

    def _accept_loop(self):
        listener = self._listener
        while True:
            try:
                fd, _ = listener._accept()  # what socket.socket.accept wraps: (descriptor, address)
            except OSError as e:
                if self._signal is not None:
                    return 0
                if e.errno in (errno.ECONNABORTED, errno.EPROTO):
                    continue  # the client gave up while queued
                if e.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    sdk_log(f"accept: {e}; retrying")
                    time.sleep(0.1)
                    continue
                sdk_log(f"accept: {e}")
                return 1
            # accept4(SOCK_CLOEXEC): the connection never leaks into the handler's child processes.
            conn = _socket.socket(listener.family, listener.type, listener.proto, fileno=fd)
            if self._tcp:
                conn.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
            with self._lock:
                self._conns[conn] = False
            _thread.start_new_thread(self._serve_connection, (conn,))

    def _drain(self):
        """Closes idle connections and waits (up to SHUTDOWN_GRACE) for requests in flight."""
        with self._lock:
            self._stopping = True
            idle = [conn for conn, busy in self._conns.items() if not busy]
        for conn in idle:
            try:
                conn.shutdown(_socket.SHUT_RDWR)  # wakes its thread, blocked reading the next request
            except OSError:
                pass  # closed meanwhile
        if not self._idle.acquire(timeout=SHUTDOWN_GRACE):
            sdk_log(f"requests still in flight after {SHUTDOWN_GRACE:.0f} s; exiting anyway")

    def _begin(self, conn):
        """Marks a request in flight on conn; False once shutting down (the request is not served)."""
        with self._lock:
            if self._stopping:
                return False
            self._conns[conn] = True
            self._busy += 1
            if self._busy == 1:
                self._idle.acquire()  # never blocks: it is free while nothing is in flight
            return True

    def _end(self, conn):
        with self._lock:
            if conn in self._conns:
                self._conns[conn] = False
            self._busy -= 1
            if self._busy == 0:
                self._idle.release()

    def _serve_connection(self, conn):
        try:
            rfile = _http.reader(conn)
            while self._serve_request(conn, rfile):
                pass
        except (OSError, _http.Disconnected):
            pass  # the peer went away
        except BaseException as e:  # noqa: B036 - a bug here must cost one connection, never the process
            sdk_log(f"connection: unexpected {type(e).__name__}: {e}")
        finally:
            with self._lock:
                self._conns.pop(conn, None)
            conn.close()
            _logs.flush_thread()

    def _serve_request(self, conn, rfile):
        """Reads and answers one request; returns whether the connection stays open for another."""
        try:
            line = _http.read_request_line(rfile)
        except _http.BadRequest as e:
            self._refuse(conn, e)
            return False
        if line is None or not self._begin(conn):
            return False
        try:
            try:
                request = _http.read_request(rfile, line)
            except _http.BadRequest as e:
                self._refuse(conn, e)
                return False
            keep_alive = request.keep_alive
            if request.is_probe():
                status, content_type, body = 200, JSON, _PROBE_BODY
            else:
                status, content_type, body = self._app.invoke(request.headers, request.body)
            keep_alive = keep_alive and not self._stopping
            head = _http.response_head(status, content_type, len(body), not keep_alive)
            if request.method == "HEAD":
                conn.sendall(head)
            elif len(body) <= _LARGE_BODY:
                conn.sendall(head + body)
            else:
                conn.sendall(head)
                conn.sendall(body)
            return keep_alive
        finally:
            self._end(conn)

    @staticmethod
    def _refuse(conn, error):
        """Answers a malformed request with 400 (the connection then closes: its framing is lost)."""
        import json

        body = json.dumps({"error": f"malformed request: {error}"}).encode()
        conn.sendall(_http.response_head(400, JSON, len(body), True) + body)
