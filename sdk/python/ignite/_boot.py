"""The runtime's entry point (ignite_main.py calls main()): load the handler, then serve in a mode.

Modes, chosen by the environment:
  - zygote: IGNITE_ZYGOTE_FD names a control socket; the process forks the instances (_zygote.py), and
    each child continues below in direct mode with IGNITE_LISTEN_FD;
  - direct: IGNITE_LISTEN_FD names the listening socket (_server.py);
  - local: neither; direct mode on TCP :$PORT (default 8080), log lines not tagged.

Order matters for cold start and correctness: the log streams and the thread patch are installed before the
user module is imported (its import-time output and threads are covered); everything else a call needs is
imported lazily in direct mode, or before the readiness byte in a zygote, which forks without importing.
"""

import gc
import os
import sys

from ignite import _invoke, _logs, _process, _server, _threads
from ignite._logs import sdk_log

_HANDLER_HELP = "define `def handler(payload, ctx):` (or `async def handler`) at the top level of handler.py"


def main():
    """Runs the instance; returns the process's exit status."""
    parent = os.getppid()
    zygote = "IGNITE_ZYGOTE_FD" in os.environ
    managed = zygote or "IGNITE_LISTEN_FD" in os.environ
    _logs.install()
    _threads.install()
    if managed and not _process.die_with_parent(parent):
        return 1
    control_fd = None
    if zygote:
        try:
            control_fd = _process.take_fd("IGNITE_ZYGOTE_FD")
            os.set_inheritable(control_fd, False)  # nothing the handler module starts may hold it
        except (ValueError, OSError) as e:
            sdk_log(f"zygote: the control socket (IGNITE_ZYGOTE_FD): {e}")
            return 1

    handler = _load_handler()
    if handler is None:
        return 1
    app = _invoke.App(handler, tag_logs=managed)

    if zygote:
        from ignite import _zygote  # only zygotes need it (fcntl, select)

        # Only now, after handler.py's import: while it ran, the control socket and the readiness pipe held
        # fds 3 and 4, so nothing it opened sits where a child puts its own descriptors (Zygote moves the
        # control socket away from 3).
        try:
            zygote_loop = _zygote.Zygote(control_fd)
        except OSError as e:
            sdk_log(f"zygote: the control socket (IGNITE_ZYGOTE_FD): {e}")
            return 1
        app.preload()
        gc.collect()
        gc.freeze()
        _process.signal_ready()
        if zygote_loop.run() is None:
            return 0
        # A forked child: serve exactly as a directly started instance, with what is already imported.
    return _server.run(app, managed)


def _load_handler():
    """Imports handler.py and returns its handler function, or None after explaining why to stderr."""
    try:
        module = __import__("handler")
    except ModuleNotFoundError as e:
        if e.name != "handler":
            _print_import_error(e)
            return None
        root = sys.path[0] if sys.path else os.getcwd()
        sdk_log(f"no handler.py at the code root ({root}): {_HANDLER_HELP}")
        return None
    except Exception as e:  # noqa: BLE001 - any import failure is the user's to read, then exit 1
        _print_import_error(e)
        return None
    handler = getattr(module, "handler", None)
    if not callable(handler):
        sdk_log(f"handler.py has no callable `handler`: {_HANDLER_HELP}")
        return None
    return handler


def _print_import_error(error):
    import traceback

    tb = error.__traceback__
    if tb is not None and tb.tb_frame.f_code is _load_handler.__code__:
        tb = tb.tb_next  # the __import__ call above is not the user's code
    text = "".join(traceback.format_exception(type(error), error, tb)).rstrip()
    sdk_log(f"importing handler.py failed:\n{text}")
