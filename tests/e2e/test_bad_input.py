"""Issue 3 item 6: bad input to `draft save` is rejected with InvalidArgument (exit 2), a message naming the
problem, and nothing stored."""

import gzip
import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest

from conftest import HELLO

MIB = 1 << 20

GO_MOD = b"module bad\n\ngo 1.26\n"

OTHER_GO = b"""package main

import "ignite"

func handler(payload []byte, ctx *ignite.Context) ([]byte, error) { return payload, nil }

func main() { ignite.Start(handler) }
"""

PACKAGE_FOO = OTHER_GO.replace(b"package main", b"package foo")

NO_START = b"""package main

import "ignite"

func handler(payload []byte, ctx *ignite.Context) ([]byte, error) { return payload, nil }

func main() { _ = ignite.Handler(handler) }
"""

# Line 5 has the syntax error (a missing comma between parameters).
SYNTAX_ERROR = b"""package main

import "ignite"

func handler(payload []byte ctx *ignite.Context) ([]byte, error) { return payload, nil }

func main() { ignite.Start(handler) }
"""

CGO = b"""package main

// int answer() { return 42; }
import "C"

import "ignite"

func handler(payload []byte, ctx *ignite.Context) ([]byte, error) { return payload, nil }

func main() { ignite.Start(handler) }
"""

MISSING_MODULE_MAIN = b"""package main

import (
	"ignite"

	_ "example.invalid/nope"
)

func handler(payload []byte, ctx *ignite.Context) ([]byte, error) { return payload, nil }

func main() { ignite.Start(handler) }
"""
MISSING_MODULE_GO_MOD = b"module bad\n\ngo 1.26\n\nrequire example.invalid/nope v1.0.0\n"


def _good_files():
    return {"main.go": (HELLO / "main.go").read_bytes(), "go.mod": (HELLO / "go.mod").read_bytes()}


def _tar_gz(files, **kw):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", **kw) as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _zip(files):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _zip_bomb(path, sizes_mib):
    """A zip of the good app plus zero-filled files of the given sizes, written streaming (1 MiB at a time)."""
    zero = bytes(MIB)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in _good_files().items():
            zf.writestr(name, data)
        for i, size in enumerate(sizes_mib):
            with zf.open(f"data/zeros{i}.bin", "w", force_zip64=True) as f:
                for _ in range(size):
                    f.write(zero)
    return path


def _write_dir(root, files):
    root.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (root / name).write_bytes(data)
    return root


def _blob_files(platform):
    return sorted(str(p) for p in (platform.data_dir / "blobs").rglob("*") if p.is_file())


def _draft_info(platform, app):
    return json.loads(platform.ok("-o", "json", "draft", "info", f"org:{app}").stdout)


def _make_case(case, tmp_path):
    """Returns (path to upload, substrings of which the error message must contain all)."""
    if case == "no-main-go":
        return _write_dir(tmp_path / "src", {"other.go": OTHER_GO, "go.mod": GO_MOD}), ["main.go"]
    if case == "package-not-main":
        return _write_dir(tmp_path / "src", {"main.go": PACKAGE_FOO, "go.mod": GO_MOD}), ["package main", "foo"]
    if case == "no-ignite-start":
        return _write_dir(tmp_path / "src", {"main.go": NO_START, "go.mod": GO_MOD}), ["ignite.Start"]
    if case == "syntax-error":
        return _write_dir(tmp_path / "src", {"main.go": SYNTAX_ERROR, "go.mod": GO_MOD}), ["main.go:5", "syntax"]
    if case == "cgo":
        return _write_dir(tmp_path / "src", {"main.go": CGO, "go.mod": GO_MOD}), ["cgo", "main.go:4"]
    if case == "zip-bomb-one-file":
        # One 300 MiB file: over both the per-file (128 MiB) and total (256 MiB) limits.
        path = _zip_bomb(tmp_path / "bomb.zip", [300])
        assert path.stat().st_size < 2 * MIB
        return path, ["MiB", "more than"]
    if case == "zip-bomb-total":
        # Three 100 MiB files: each under the per-file limit, together over the 256 MiB total.
        path = _zip_bomb(tmp_path / "bomb.zip", [100, 100, 100])
        assert path.stat().st_size < 2 * MIB
        return path, ["256 MiB"]
    if case == "10000-files":
        files = _good_files()
        files.update({f"data/f{i:05d}.txt": b"x" for i in range(10000)})
        path = tmp_path / "many.tar.gz"
        path.write_bytes(_tar_gz(files))
        with tarfile.open(path) as tf:
            assert len(tf.getmembers()) == 10002
        return path, ["5000", "entries"]
    if case == "invalid-utf8-name":
        files = _good_files()
        files["notes-\udcff\udcfe.txt"] = b"hello\n"  # surrogateescape: the raw bytes 0xff 0xfe
        path = tmp_path / "code.tar.gz"
        path.write_bytes(_tar_gz(files, format=tarfile.GNU_FORMAT, encoding="utf-8", errors="surrogateescape"))
        raw = gzip.decompress(path.read_bytes())
        assert b"notes-\xff\xfe.txt" in raw
        return path, ["UTF-8"]
    if case == "targz-named-zip":
        path = tmp_path / "x.zip"
        path.write_bytes(_tar_gz(_good_files()))
        return path, ["zip", "tar.gz"]
    if case == "zip-named-targz":
        path = tmp_path / "x.tar.gz"
        path.write_bytes(_zip(_good_files()))
        return path, ["zip", "tar.gz"]
    raise AssertionError(case)


CASES = ["no-main-go", "package-not-main", "no-ignite-start", "syntax-error", "cgo", "zip-bomb-one-file",
         "zip-bomb-total", "10000-files", "invalid-utf8-name", "targz-named-zip", "zip-named-targz"]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_rejected_and_nothing_stored(platform, tmp_path, case):
    app = "bad-" + case.replace(".", "")
    platform.ok("app", "create", f"org:{app}")
    path, needles = _make_case(case, tmp_path)
    before = _blob_files(platform)
    p = platform.cli("draft", "save", f"org:{app}", "-c", str(path))
    stderr = p.stderr.decode(errors="replace")
    assert p.returncode == 2, (p.returncode, stderr)
    for needle in needles:
        assert needle in stderr, f"{needle!r} not in the message: {stderr}"
    assert p.stdout == b""
    assert _blob_files(platform) == before
    assert _draft_info(platform, app) == {"status": "no draft"}
    assert platform.json("version", "list", f"org:{app}").get("versions", []) == []


def test_failed_save_keeps_the_previous_draft(platform, tmp_path):
    app = "bad-keeps-draft"
    platform.ok("app", "create", f"org:{app}")
    platform.ok("draft", "save", f"org:{app}", "-c", str(_write_dir(tmp_path / "good", _good_files())))
    good = _draft_info(platform, app)
    code_hash = good["draft"]["codeHash"]
    assert code_hash
    before = _blob_files(platform)
    for name, files in [("pkg", {"main.go": PACKAGE_FOO, "go.mod": GO_MOD}),
                        ("syntax", {"main.go": SYNTAX_ERROR, "go.mod": GO_MOD})]:
        p = platform.cli("draft", "save", f"org:{app}", "-c", str(_write_dir(tmp_path / name, files)))
        assert p.returncode == 2, (p.returncode, p.stderr)
        assert _blob_files(platform) == before
        assert _draft_info(platform, app)["draft"]["codeHash"] == code_hash
    # The kept draft still publishes and serves.
    platform.ok("draft", "publish", f"org:{app}")
    out = json.loads(platform.ok("invoke", f"org:{app}", "-p", '{"name":"kept"}').stdout)
    assert out["greeting"] == "Hello, kept!"


def test_nonexistent_module_in_go_mod(platform, tmp_path):
    app = "bad-missing-module"
    platform.ok("app", "create", f"org:{app}")
    src = _write_dir(tmp_path / "src", {"main.go": MISSING_MODULE_MAIN, "go.mod": MISSING_MODULE_GO_MOD})
    p = platform.cli("draft", "save", f"org:{app}", "-c", str(src))
    if p.returncode == 0:
        # Only detectable when the build resolves dependencies.
        p = platform.cli("draft", "publish", f"org:{app}")
    stderr = p.stderr.decode(errors="replace")
    assert p.returncode == 2, (p.returncode, stderr)
    assert "resolving dependencies" in stderr or "example.invalid/nope" in stderr, stderr
    assert "example.invalid/nope" in stderr, "the resolver's message must name the module: " + stderr
    assert platform.json("version", "list", f"org:{app}").get("versions", []) == []


def _assert_rejected_nothing_stored(platform, app, path, needle_any):
    """Exit 2 (InvalidArgument from ignited) or 1 (refused locally by the CLI) are both acceptable here."""
    before = _blob_files(platform)
    p = platform.cli("draft", "save", f"org:{app}", "-c", str(path))
    stderr = p.stderr.decode(errors="replace")
    assert p.returncode in (1, 2), (p.returncode, stderr)
    assert any(n in stderr for n in needle_any), stderr
    assert _blob_files(platform) == before
    assert _draft_info(platform, app) == {"status": "no draft"}
    return p.returncode, stderr


@pytest.mark.parametrize("name", ["main.go", "code.zip", "code.tar.gz"])
def test_empty_file_is_rejected(platform, tmp_path, name):
    app = "bad-empty-" + name.replace(".", "")
    platform.ok("app", "create", f"org:{app}")
    path = tmp_path / name
    path.write_bytes(b"")
    _assert_rejected_nothing_stored(platform, app, path, ["empty"])


def test_directory_with_only_a_readme_is_rejected(platform, tmp_path):
    app = "bad-readme-only"
    platform.ok("app", "create", f"org:{app}")
    src = _write_dir(tmp_path / "src", {"README.md": b"# nothing to build here\n"})
    _assert_rejected_nothing_stored(platform, app, src, ["main.go"])
