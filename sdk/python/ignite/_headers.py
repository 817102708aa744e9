"""The inbound request headers of an invocation, as a case-insensitive read-only mapping.

This replaces http.client.HTTPMessage / email.message.Message, whose import costs tens of milliseconds at
start (the email package), with the part of their reading API handlers use: ``get``, ``get_all``, ``in``,
``[]`` and iteration, all case-insensitive.

Contract (also documented in README.md):
  - ``h[name]`` is the first value of the field, KeyError when absent (Mapping semantics; Message returns
    None instead: use ``h.get(name)`` for that).
  - ``h.get_all(name, failobj=None)`` lists every value in the order received, or returns failobj.
  - Iteration yields each field name once, spelled as first received; ``len(h)`` counts distinct names.
  - Values are str, decoded as ISO-8859-1 (HTTP's historic charset, as http.client does), whitespace-trimmed.
"""

# collections.abc re-exports this class; importing the collections package itself costs ~2 ms at start on a
# slow machine, and _collections_abc is always loaded by the interpreter.
from _collections_abc import Mapping


class Headers(Mapping):
    """Read-only, case-insensitive view of HTTP header fields (see the module docstring)."""

    __slots__ = ("_values", "_names")

    def __init__(self, fields=()):
        """fields: (name, value) pairs of str in the order received; repeated names are kept."""
        values = {}  # lower-case name -> [value, ...]
        names = {}  # lower-case name -> name as first received
        for name, value in fields:
            key = name.lower()
            found = values.get(key)
            if found is None:
                values[key] = [value]
                names[key] = name
            else:
                found.append(value)
        self._values = values
        self._names = names

    def __getitem__(self, name):
        found = self._values.get(name.lower()) if isinstance(name, str) else None
        if found is None:
            raise KeyError(name)
        return found[0]

    def get(self, name, default=None):
        """The first value of the field name (any case), or default."""
        found = self._values.get(name.lower()) if isinstance(name, str) else None
        return default if found is None else found[0]

    def get_all(self, name, failobj=None):
        """Every value of the field name (any case) in the order received, or failobj when absent."""
        found = self._values.get(name.lower()) if isinstance(name, str) else None
        return failobj if found is None else list(found)

    def __contains__(self, name):
        return isinstance(name, str) and name.lower() in self._values

    def __iter__(self):
        return iter(self._names.values())

    def __len__(self):
        return len(self._values)

    def __repr__(self):
        fields = ", ".join(f"{self._names[k]!r}: {v[0] if len(v) == 1 else v!r}" for k, v in self._values.items())
        return f"Headers({{{fields}}})"
