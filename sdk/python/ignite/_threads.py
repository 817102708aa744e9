"""Threads a handler starts belong to its invocation.

Handlers start threads for background work that outlives the call (the sample apps run daemon threads for
up to 90 s); their output must still be attributed to the execution that started them. A new thread starts
with an empty context (_context.py), so threading.Thread is patched:
  - Thread.__init__ records the creating code's current invocation (None outside any);
  - Thread._bootstrap_inner, the first Python code of every new threading thread (subclasses that override
    run() included), makes it current in the new thread for the thread's whole life, and when the thread
    ends writes its pending partial log lines (_logs.flush_thread).
Pool threads (concurrent.futures) are threads like any other: they belong to the invocation that caused
their creation, for every task they run later; asyncio.to_thread copies the caller's context per task.

The runtime itself never imports threading (its own threads are _thread threads: the module costs several
milliseconds at start, most handlers never need it). So the patch is applied when user code first imports
threading, by a one-shot import hook, or at once when it is already imported.
"""

import sys

from ignite import _context, _logs


def install():
    """Patches threading now if imported, else when it first is."""
    threading = sys.modules.get("threading")
    if threading is not None:
        _patch(threading)
    else:
        sys.meta_path.insert(0, _PatchOnImport())


def _patch(threading):
    thread = threading.Thread
    if getattr(thread, "_ignite_patched", False):
        return
    original_init = thread.__init__
    original_bootstrap = thread._bootstrap_inner

    def __init__(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        self._ignite_invocation = _context.current()

    def _bootstrap_inner(self):
        invocation = getattr(self, "_ignite_invocation", None)
        if invocation is not None:
            _context.enter(invocation)  # in this thread's own fresh context: never reset, the thread owns it
        try:
            original_bootstrap(self)
        finally:
            _logs.flush_thread()

    # functools is loaded by threading itself: wraps keeps the signature and docstring for introspection.
    from functools import wraps

    thread.__init__ = wraps(original_init)(__init__)
    thread._bootstrap_inner = wraps(original_bootstrap)(_bootstrap_inner)
    thread._ignite_patched = True


class _PatchOnImport:
    """sys.meta_path finder that lets the real finders locate threading and wraps the loader they return.
    It leaves sys.meta_path once the module is executed and patched (not on a mere importlib.util.find_spec,
    which executes nothing)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "threading":
            return None
        for finder in sys.meta_path:
            find_spec = getattr(finder, "find_spec", None) if finder is not self else None
            spec = find_spec(fullname, path, target) if find_spec is not None else None
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _PatchingLoader(spec.loader, self)
        return spec


class _PatchingLoader:
    """Wraps threading's loader: executes the module, then patches it. Anything else (get_source for
    tracebacks, ...) is the real loader's."""

    def __init__(self, loader, hook):
        self._loader = loader
        self._hook = hook

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        _patch(module)
        if self._hook in sys.meta_path:
            sys.meta_path.remove(self._hook)

    def __getattr__(self, name):
        return getattr(self._loader, name)
