"""Async handlers: one long-lived asyncio event loop in a dedicated thread, shared by every invocation.

One loop for the process (not asyncio.run per call) so async handlers can keep loop-bound state across
calls: a client session, a connection pool, a task started by an earlier call. Connection threads hand
each awaitable over with run_coroutine_threadsafe and block on the result; invocations therefore run
concurrently on the loop like any asyncio tasks, each with its own context (_context.py).

asyncio is imported on first use only (it is the largest import the runtime can need); a zygote imports it
before forking when the handler is async, and the loop itself starts in each instance on its first call
(a loop's selector and wake-up pipe must not be shared across forks).
"""

import _thread

from ignite import _context


class EventLoop:
    """The process's event loop thread, started on first use. Thread-safe."""

    def __init__(self):
        self._loop = None
        self._lock = _thread.allocate_lock()

    def run(self, awaitable, invocation):
        """Runs awaitable as a task of invocation on the loop; returns its result or raises its exception.

        SystemExit and KeyboardInterrupt raised by the awaitable are re-raised here too, in the calling
        thread: inside the loop, asyncio would let them stop the loop for every other invocation."""
        import asyncio

        loop = self._loop or self._start()
        ok, value = asyncio.run_coroutine_threadsafe(_task(awaitable, invocation), loop).result()
        if not ok:
            try:
                raise value
            finally:
                del value  # the frame would otherwise keep the exception and its traceback alive
        return value

    def _start(self):
        with self._lock:
            if self._loop is None:
                import asyncio

                loop = asyncio.new_event_loop()
                # A _thread thread: created outside threading.Thread, it inherits no invocation, so the
                # loop's own callbacks are never attributed to the call that happened to start it.
                _thread.start_new_thread(_run_forever, (loop,))
                self._loop = loop
            return self._loop


def _run_forever(loop):
    import asyncio

    asyncio.set_event_loop(loop)
    loop.run_forever()


async def _task(awaitable, invocation):
    """The task of one invocation: makes it current in the task's own context, and returns (True, result)
    or (False, exception) so that no exception of user code escapes into the loop."""
    _context.enter(invocation)  # the task's context is its own copy; never reset
    try:
        return True, await awaitable
    except BaseException as exc:  # noqa: B036 - SystemExit & co. included, see EventLoop.run
        return False, exc
