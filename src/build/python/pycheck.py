"""ignite-pycheck: checks a saved Python source tree before it is stored or built.

Run by ignited (build/python/python_builder.cc) in the build sandbox, without network, as
    python3.11 -I -S pycheck.py <source dir>
It never imports or runs the user's code: everything comes from Python's own parser (ast). It prints one JSON
object {"errors": ["./file.py:line:col: what is wrong and how to fix it", ...]} and exits 0; an empty list
means the source is fine. Any other exit is a failure of the checker itself.
"""

import ast
import json
import os
import sys

MAX_ERRORS = 20
MAX_FILES = 5000
# Requirement lines that would build or fetch something other than a published wheel.
VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")
EDITABLE = ("-e", "--editable")


def rel(path, root):
    return "./" + os.path.relpath(path, root)


def python_files(root):
    found = []
    for d, dirs, files in os.walk(root):
        dirs[:] = sorted(x for x in dirs if x != "__pycache__")
        for f in sorted(files):
            if f.endswith(".py"):
                found.append(os.path.join(d, f))
                if len(found) >= MAX_FILES:
                    return found
    return found


def parse(path, root, errors):
    try:
        with open(path, "rb") as f:
            data = f.read()
        return ast.parse(data, filename=path)
    except SyntaxError as e:
        line = e.lineno or 1
        col = e.offset or 1
        errors.append(f"{rel(path, root)}:{line}:{col}: syntax error: {e.msg}")
    except (ValueError, UnicodeDecodeError) as e:  # NUL bytes, undecodable source
        errors.append(f"{rel(path, root)}:1:1: cannot be parsed: {e}")
    return None


def top_level(body):
    """Statements run at import: the module body and the bodies of its top-level if/try blocks."""
    for node in body:
        yield node
        if isinstance(node, ast.If):
            yield from top_level(node.body)
            yield from top_level(node.orelse)
        elif isinstance(node, ast.Try):
            for part in (node.body, node.orelse, node.finalbody):
                yield from top_level(part)
            for h in node.handlers:
                yield from top_level(h.body)


def binds_handler(node):
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return any(isinstance(t, ast.Name) and t.id == "handler" for t in targets)
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return any((a.asname or a.name) == "handler" for a in node.names)
    if isinstance(node, ast.ClassDef):
        return node.name == "handler"
    return False


def check_signature(fn, path, root, errors):
    """handler must be callable as handler(payload, ctx)."""
    a = fn.args
    positional = len(a.posonlyargs) + len(a.args)
    required = positional - len(a.defaults)
    required_kwonly = sum(1 for d in a.kw_defaults if d is None)
    where = f"{rel(path, root)}:{fn.lineno}:{fn.col_offset + 1}"
    kind = "async def" if isinstance(fn, ast.AsyncFunctionDef) else "def"
    if (positional < 2 and a.vararg is None) or required > 2 or required_kwonly:
        errors.append(f"{where}: handler must accept two arguments, (payload, ctx): write "
                      f"`{kind} handler(payload, ctx):`")


def check_handler(tree, path, root, errors):
    fn = None
    bound = False
    for node in top_level(tree.body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "handler":
            fn = node
            bound = True
        elif binds_handler(node):
            fn = None  # a later binding replaces the def; its signature cannot be checked here
            bound = True
    if not bound:
        errors.append(f"{rel(path, root)}:1:1: handler.py defines no top-level `handler`: add "
                      "`def handler(payload, ctx):` returning bytes, str or a JSON-serialisable value")
    elif fn is not None:
        check_signature(fn, path, root, errors)


def check_requirements(path, root, errors):
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except UnicodeDecodeError:
        errors.append(f"{rel(path, root)}:1:1: requirements.txt is not UTF-8 text")
        return
    for n, raw in enumerate(lines, 1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        first = line.split()[0]
        if first in EDITABLE or first.startswith("--editable="):
            errors.append(f"{rel(path, root)}:{n}:1: editable requirements (-e) are not supported: list the "
                          "package by name and version, e.g. `requests==2.32.3`")
        elif line.startswith(VCS_PREFIXES) or "@ git+" in line:
            errors.append(f"{rel(path, root)}:{n}:1: requirements from version control are not supported "
                          "(builds install published binary wheels only): use a released version from the index")


def main():
    if len(sys.argv) != 2:
        print("usage: pycheck.py <source dir>", file=sys.stderr)
        return 2
    root = sys.argv[1]
    errors = []
    handler = os.path.join(root, "handler.py")
    if not os.path.isfile(handler):
        errors.append("./handler.py:1:1: no handler.py at the root of the code: upload handler.py, or a directory / "
                      "zip / tar.gz with handler.py at its top level (not inside a sub-directory)")
    for path in python_files(root):
        tree = parse(path, root, errors)
        if tree is not None and path == handler:
            check_handler(tree, path, root, errors)
    reqs = os.path.join(root, "requirements.txt")
    if os.path.isfile(reqs):
        check_requirements(reqs, root, errors)
    json.dump({"errors": errors[:MAX_ERRORS], "more": max(0, len(errors) - MAX_ERRORS)}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
