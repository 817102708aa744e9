"""Ignite's Python SDK: the API a handler can use beyond its arguments.

A function is a handler.py at the code root with a top-level ``def handler(payload, ctx)`` (or
``async def handler``); the runtime (ignite_main.py) imports it and serves it (README.md has the contract).

    import ignite

    def handler(payload, ctx):
        agent = ignite.headers().get("User-Agent")
        return {"execution": ctx["execution_id"], "agent": agent}

Keep this module light: every instance imports it at start.
"""

import os as _os

from ignite._context import headers
from ignite._headers import Headers

__all__ = ["Headers", "__version__", "headers"]


def _read_version():
    """The content of the VERSION file beside this package (the platform records it with each build)."""
    path = _os.path.join(_os.path.dirname(_os.path.dirname(_os.path.abspath(__file__))), "VERSION")
    try:
        with open(path, "rb") as f:
            return f.read().decode("ascii").strip()
    except (OSError, ValueError):
        return "0+unknown"


def __getattr__(name):
    # __version__ is read on first use: most instances never ask, and every one imports this module.
    if name == "__version__":
        global __version__
        __version__ = _read_version()
        return __version__
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
