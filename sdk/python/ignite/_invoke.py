"""Calling the user's handler: its arguments, its result's encoding, and its failures.

Contract (README.md):
  - handler(payload, ctx): payload is the request body (bytes); ctx a new dict with exactly the keys
    execution_id, function_id, organization_id (the X-Ignite-* identity headers; without the execution
    header, as in local runs, a random UUID; the others default to "").
  - The result: bytes, bytearray, memoryview -> as is, application/octet-stream; str -> UTF-8,
    text/plain; charset=utf-8; anything else -> json.dumps, application/json.
  - An async handler, or any handler returning an awaitable, is awaited on the shared loop (_aio.py).
  - Any exception (SystemExit and KeyboardInterrupt included: a handler must never stop the instance),
    and a result that cannot be encoded, give 500 application/json
    {"error": str(e), "type": <class name>, "traceback": <formatted>}; the traceback also goes to stderr.
"""

import os
import sys

from ignite import _aio, _context, _logs
from ignite._logs import sdk_log

OCTET_STREAM = b"application/octet-stream"
TEXT = b"text/plain; charset=utf-8"
JSON = b"application/json"

_CO_COROUTINE = 0x80  # inspect.CO_COROUTINE; inspect itself costs ~15 ms to import


class App:
    """The handler and how to call it; shared by every connection thread."""

    def __init__(self, handler, tag_logs):
        """tag_logs: prefix log lines with execution ids (when the platform runs the instance)."""
        self._handler = handler
        self._tag_logs = tag_logs
        self.is_async = is_coroutine_function(handler)
        self._loop = _aio.EventLoop()  # starts on the first awaitable

    def preload(self):
        """Imports what calls may need, so that a zygote's forks never import anything."""
        import json  # noqa: F401
        import traceback  # noqa: F401

        if self.is_async:
            import asyncio  # noqa: F401

    def invoke(self, headers, payload):
        """Calls the handler for one request; returns (status, content type, body)."""
        execution_id = headers.get("X-Ignite-Execution-Id") or _random_uuid()
        invocation = _context.Invocation(execution_id, headers, self._tag_logs)
        ctx = {
            "execution_id": execution_id,
            "function_id": headers.get("X-Ignite-Function-Id", ""),
            "organization_id": headers.get("X-Ignite-Organization-Id", ""),
        }
        token = _context.enter(invocation)
        try:
            result = self._handler(payload, ctx)
            if getattr(type(result), "__await__", None) is not None:
                result = self._loop.run(result, invocation)
            content_type, body = encode(result)
            return 200, content_type, body
        except BaseException as exc:  # noqa: B036 - a handler must never stop the instance (module docstring)
            return failure(exc)
        finally:
            _logs.flush_thread()  # a partial line it left belongs to it, not to the next call on this thread
            _context.leave(token)


def encode(result):
    """(content type, body bytes) of a handler's result; TypeError/ValueError for unencodable ones."""
    if isinstance(result, bytes):
        return OCTET_STREAM, result
    if isinstance(result, (bytearray, memoryview)):
        return OCTET_STREAM, bytes(result)
    if isinstance(result, str):
        return TEXT, result.encode("utf-8")
    import json

    return JSON, json.dumps(result).encode("utf-8")


def failure(exc):
    """The 500 answer for exc raised by (or while encoding the result of) a handler; logs its traceback
    to stderr, from the invocation's thread so the lines carry its tag."""
    import json
    import traceback

    name = type(exc).__name__
    try:
        if isinstance(exc, SystemExit):
            message = f"the handler called sys.exit({exc.code!r}); return a value or raise an exception instead"
        elif isinstance(exc, KeyboardInterrupt):
            message = "the handler raised KeyboardInterrupt; return a value or raise an exception instead"
        else:
            message = str(exc)
        text = "".join(traceback.format_exception(type(exc), exc, _user_traceback(exc.__traceback__)))
    except Exception as e:  # noqa: BLE001 - an exception whose __str__ fails still gets its 500
        message, text = f"{name} (its message could not be formatted: {type(e).__name__})", ""
    sdk_log(f"the handler failed ({name}); answered 500:\n{text.rstrip() or message}")
    body = json.dumps({"error": message, "type": name, "traceback": text})
    return 500, JSON, body.encode("utf-8")


def _user_traceback(tb):
    """tb without its leading frames of this SDK (the call into the handler is not the user's code)."""
    first = tb
    while tb is not None and tb.tb_frame.f_globals.get("__name__", "").startswith("ignite."):
        tb = tb.tb_next
    return tb if tb is not None else first


def is_coroutine_function(fn):
    """inspect.iscoroutinefunction without importing inspect: sees through bound methods, functools.partial
    and callable objects with an async __call__. Anything it misses still works: a returned awaitable is
    awaited (App.invoke)."""
    functools = sys.modules.get("functools")  # a partial exists only if functools was imported
    for _ in range(32):
        if functools is not None and isinstance(fn, functools.partial):
            fn = fn.func
        elif hasattr(fn, "__func__"):
            fn = fn.__func__
        else:
            break
    code = getattr(fn, "__code__", None)
    if code is None:
        code = getattr(getattr(type(fn), "__call__", None), "__code__", None)
    return code is not None and bool(code.co_flags & _CO_COROUTINE)


def _random_uuid():
    """A random (version 4) UUID string, as the Go SDK makes for local runs; without the uuid module."""
    b = bytearray(os.urandom(16))
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
