"""Boot script of Ignite's Python runtime; instances run

    /usr/bin/python3.11 -I -S -B /ignite/sdk/ignite_main.py      (working directory /app)

-I ignores PYTHONPATH (and the user's site directory), -S skips site-packages: nothing of the host's Python
installation leaks in. The import path comes as IGNITE_PYTHONPATH instead, a ':' list (normally
/app:/ignite/sdk:/ignite/site: the code, this SDK, the app's requirements) that goes at the front of
sys.path, in order, before anything else is imported. This script's own directory is appended when the
list lacks it (local runs), and without the variable the working directory stands for the code.

Kept tiny: a script is compiled on every start (only imported modules have cached bytecode).
"""

import os
import sys


def _set_import_path():
    entries = [p for p in os.environ.get("IGNITE_PYTHONPATH", "").split(":") if p] or [os.getcwd()]
    here = os.path.dirname(os.path.abspath(__file__))
    if here not in entries:
        entries.append(here)
    sys.path[0:0] = entries


_set_import_path()

from ignite import _boot  # noqa: E402 - the import path must be set first

sys.exit(_boot.main())
