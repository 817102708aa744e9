"""sys.stdout and sys.stderr for instances: whole lines, one write each, tagged with their execution.

The platform reads fds 1 and 2 as lines (docs/instance-protocol.md, Logs). The streams installed here
guarantee, whatever threads do concurrently:
  - a line is written whole: partial writes are kept per thread until their "\n" (flush() without a
    newline keeps them), then complete lines go out in one os.write under a per-stream lock, so two
    threads never interleave within a line;
  - each line written while the writing code belongs to an invocation (_context.py) starts with
    "\x1eexec=<id>\x1e", which the platform strips and records as the line's execution;
  - a pending partial line is written (ended with "\n") when its invocation returns, when its thread ends
    (flush_thread: _invoke.py, _threads.py and the connection threads call it) and at interpreter exit, so
    it is never glued to the next invocation's output on the same thread.
They write by fd number, so a zygote child that dup2s its own pipes onto 1 and 2 needs no new streams; it
drops the zygote's pending partials with reset_after_fork().
"""

import atexit
import io
import os
import sys
from _thread import RLock, get_ident

from ignite import _context


class LineWriter:
    """Line-buffered, tag-prefixing byte sink for one file descriptor (see the module docstring)."""

    def __init__(self, fd):
        self.fd = fd
        self._pending = {}  # thread ident -> bytearray: that thread's unfinished line
        # Reentrant: a signal handler that prints runs in the middle of the main thread's code, possibly
        # while that thread holds the lock.
        self._lock = RLock()

    def write(self, data):
        """Buffers data (bytes); writes out every line it completes."""
        ident = get_ident()
        end = data.rfind(b"\n")
        if end < 0:
            if data:
                pending = self._pending.get(ident)
                if pending is None:
                    self._pending[ident] = bytearray(data)
                else:
                    pending += data
            return
        pending = self._pending.pop(ident, None)
        if pending is not None:
            pending += data[: end + 1]
            lines = bytes(pending)
        else:
            lines = data[: end + 1]
        if end + 1 < len(data):
            self._pending[ident] = bytearray(data[end + 1 :])
        self._emit(lines)

    def flush_thread(self):
        """Writes the calling thread's pending partial line, if any, as a whole line."""
        pending = self._pending.pop(get_ident(), None)
        if pending:
            self._emit(bytes(pending) + b"\n")

    def flush_all(self):
        """Writes every thread's pending partial line (at exit: whoever started them, nothing follows)."""
        pending, self._pending = self._pending, {}
        for data in pending.values():
            if data:
                self._emit(bytes(data) + b"\n")

    def reset_after_fork(self):
        """Forgets pending partials (the zygote's, not the child's) and renews the lock."""
        self._pending = {}
        self._lock = RLock()

    def _emit(self, lines):
        """Writes lines (complete, ending in "\n"), each prefixed with the current invocation's tag."""
        invocation = _context.current()
        if invocation is not None and invocation.tag:
            tag = invocation.tag
            lines = tag + lines[:-1].replace(b"\n", b"\n" + tag) + b"\n"
        # Bounded: at exit a thread frozen while holding the lock must not hang the interpreter.
        locked = self._lock.acquire(timeout=5)
        try:
            view = memoryview(lines)
            while view:
                view = view[os.write(self.fd, view) :]
        except OSError:
            pass  # nowhere left to report it (the collector went away); logging must never fail a handler
        finally:
            if locked:
                self._lock.release()


class BinaryStream(io.RawIOBase):
    """sys.stdout.buffer / sys.stderr.buffer: bytes in, through the same LineWriter."""

    def __init__(self, writer, name):
        super().__init__()
        self._writer = writer
        self.name = name

    def writable(self):
        return True

    def write(self, data):
        data = bytes(data)
        self._writer.write(data)
        return len(data)

    def fileno(self):
        return self._writer.fd

    def isatty(self):
        return os.isatty(self._writer.fd)

    def close(self):
        pass  # the descriptor is the process's, not this object's


class TextStream(io.TextIOBase):
    """sys.stdout / sys.stderr: str in, UTF-8 out (unencodable characters, lone surrogates, as backslash escapes)."""

    encoding = "utf-8"
    errors = "backslashreplace"
    line_buffering = True

    def __init__(self, writer, name):
        super().__init__()
        self._writer = writer
        self.name = name
        self.buffer = BinaryStream(writer, name)

    def writable(self):
        return True

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self._writer.write(text.encode("utf-8", "backslashreplace"))
        return len(text)

    def flush(self):
        pass  # whole lines are already written; a partial line waits for its "\n" by design

    def fileno(self):
        return self._writer.fd

    def isatty(self):
        return os.isatty(self._writer.fd)

    def close(self):
        pass  # as BinaryStream.close


_writers = []


def install():
    """Makes sys.stdout and sys.stderr line-writing, tagging streams on fds 1 and 2."""
    out, err = LineWriter(1), LineWriter(2)
    _writers[:] = [out, err]
    sys.stdout = TextStream(out, "<stdout>")
    sys.stderr = TextStream(err, "<stderr>")
    atexit.register(_flush_all)


def flush_thread():
    """Writes the calling thread's pending partial lines (its invocation returned, or it ends)."""
    for writer in _writers:
        writer.flush_thread()


def reset_after_fork():
    """In a zygote child: drops what the zygote had pending."""
    for writer in _writers:
        writer.reset_after_fork()


def _flush_all():
    for writer in _writers:
        writer.flush_all()


def sdk_log(message):
    """Writes one of the SDK's own log lines ("ignite: <message>") to stderr."""
    sys.stderr.write(f"ignite: {message}\n")
