"""The Python contract app of tests/e2e/test_python.py: the X-Mode request header picks the behaviour."""

import asyncio  # noqa: F401  (imported at load: the zygote has it, forks share it)
import json
import logging
import os
import sys
import threading
import time

import ignite

from lib import util
from actions.greet import greeting

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
log = logging.getLogger("contract")

CALLS = 0
LOADED_AT = time.time()
INFLIGHT = {"now": 0, "max": 0}
INFLIGHT_LOCK = threading.Lock()


class Unserialisable:
    pass


def _background(marker, seconds):
    time.sleep(seconds)
    print(f"background {marker} done", flush=True)


def handler(payload, ctx):
    global CALLS
    CALLS += 1
    mode = ignite.headers().get("X-Mode", "echo")
    if mode == "echo":
        return payload
    if mode == "str":
        return "héllo " + payload.decode()
    if mode == "dict":
        return {"payload": payload.decode(), "n": 1}
    if mode == "list":
        return [1, "two", None]
    if mode == "none":
        return None
    if mode == "number":
        return 42
    if mode == "context":
        return {
            "ctx": ctx,
            "type": type(ctx).__name__,
            "payload_type": type(payload).__name__,
            "headers": {k.lower(): v for k, v in ignite.headers().items()},
            "cwd": os.getcwd(),
            "sys_path0": sys.path[0],
            "env": {k: v for k, v in os.environ.items() if k.startswith("GREETING")},
            "uid": os.getuid(),
            "pid": os.getpid(),
        }
    if mode == "state":
        return {"calls": CALLS, "pid": os.getpid(), "loaded_at": LOADED_AT}
    if mode == "imports":
        return {"util": util.shout(payload.decode()), "greeting": greeting("py")}
    if mode == "raise":
        raise ValueError("bad payload: " + payload.decode())
    if mode == "unserialisable":
        return {"x": Unserialisable()}
    if mode == "exit":
        os._exit(3)
    if mode == "sys-exit":
        sys.exit(4)
    if mode == "sleep":
        time.sleep(float(payload or b"1"))
        return "slept"
    if mode == "inflight":
        # How many calls this instance runs at once: the count when this one started, and the most seen.
        with INFLIGHT_LOCK:
            INFLIGHT["now"] += 1
            INFLIGHT["max"] = max(INFLIGHT["max"], INFLIGHT["now"])
        time.sleep(float(payload or b"1"))
        with INFLIGHT_LOCK:
            INFLIGHT["now"] -= 1
            return {"max": INFLIGHT["max"], "pid": os.getpid()}
    if mode == "log":
        marker = payload.decode()
        print(f"print {marker}")
        log.info("logging %s", marker)
        return "logged"
    if mode == "background":
        marker = payload.decode()
        threading.Thread(target=_background, args=(marker, 1.0), daemon=True).start()
        return "started"
    if mode == "files":
        out = {}
        try:
            with open("/app/new-file", "w") as f:
                f.write("x")
            out["app_writable"] = True
        except OSError as e:
            out["app_writable"] = False
            out["app_error"] = e.strerror
        try:
            open("/etc/shadow").read()
            out["shadow"] = True
        except OSError:
            out["shadow"] = False
        with open("/tmp/scratch", "w") as f:
            f.write("ok")
        out["tmp"] = open("/tmp/scratch").read()
        out["root"] = sorted(os.listdir("/"))
        return out
    return {"unknown mode": mode}
