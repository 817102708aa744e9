"""Which invocation the running code belongs to.

The current invocation lives in a context variable rather than a thread-local, because it must follow code
in three shapes:
  - a sync handler: the connection thread that calls it sets the variable around the call;
  - an async handler: every invocation runs as its own task on one shared event-loop thread, and each task
    has its own copy of the context (the task wrapper sets the variable, see _aio.py), so tasks that
    interleave on that thread still see their own invocation; tasks they create inherit it;
  - threads a handler starts: a new thread starts with an empty context, so _threads.py copies the
    creating thread's invocation into it.
Readers: ignite.headers() and the log streams (_logs.py), which tag lines with the execution id.
"""

from contextvars import ContextVar

# The Invocation the running code belongs to; None outside any.
_current = ContextVar("ignite_invocation", default=None)

# The platform strips tags with ids longer than this (docs/instance-protocol.md, Logs).
_MAX_TAGGED_ID = 64


class Invocation:
    """One handler call: its execution id, inbound headers, and the log tag its lines carry."""

    __slots__ = ("execution_id", "headers", "tag")

    def __init__(self, execution_id, headers, tag_logs):
        """tag_logs: whether lines get the platform's prefix (only when the platform runs us: local runs keep
        a terminal readable). An id the platform could not parse back is never put in a tag."""
        self.execution_id = execution_id
        self.headers = headers
        self.tag = b""
        if tag_logs and 0 < len(execution_id) <= _MAX_TAGGED_ID and execution_id.isprintable():
            self.tag = b"\x1eexec=" + execution_id.encode("utf-8", "replace") + b"\x1e"


def current():
    """The running code's Invocation, or None."""
    return _current.get()


def enter(invocation):
    """Makes invocation current in the running context; returns the token leave() takes."""
    return _current.set(invocation)


def leave(token):
    """Restores what was current before the enter() that returned token (same context only)."""
    _current.reset(token)


def headers():
    """The current invocation's request headers: a case-insensitive read-only mapping (ignite.Headers).

    Valid in the handler's thread, in threads it starts and in its asyncio tasks. Raises RuntimeError
    elsewhere (at import time, in threads not started by a handler)."""
    invocation = _current.get()
    if invocation is None:
        raise RuntimeError(
            "ignite.headers() was called outside an invocation: it is only valid while a handler runs "
            "(in its thread, threads it starts, or its asyncio tasks)"
        )
    return invocation.headers
