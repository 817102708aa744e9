"""Golden tests of the CLI's output (reference section 3): every command that prints something, run against a
real ignited with `-o table` and `-o json`, compared with tests/e2e/golden/<step>.<format>.txt after the
volatile parts (ids, times, durations, hashes, sizes, ports, temp paths) are replaced by placeholders.

Rewrite the golden files after an intended change with:
    IGNITE_UPDATE_GOLDEN=1 python3 -m pytest tests/e2e/test_cli_golden.py
and review the diff.

One ignited serves the module. The same app lifecycle runs twice, once per format (apps gold-t and gold-j),
so that commands that change state (create, save, publish, update, delete) are each shown in both formats;
the second build reuses the Go build cache. Steps run in a fixed order, so the state each step sees is fixed.
"""

import difflib
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import BIN, write_app

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("IGNITE_UPDATE_GOLDEN") == "1"

# (pattern, replacement), applied in order.
_NORMALIZE = [
    (re.compile(r"\b[0-9A-HJKMNP-TV-Z]{26}\b"), "<ULID>"),
    (re.compile(r"\b[0-9a-f]{64}\b"), "<SHA256>"),
    (re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"), "<TIME>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"), "<TIME>"),
    (re.compile(r'("\w+AtMs"): "\d+"'), r'\1: "<MS>"'),
    (re.compile(r'("durationMs"): "?\d+"?'), r'\1: "<N>"'),
    (re.compile(r'("(?:codeSizeBytes|artifactSizeBytes|sizeBytes)"): "?\d+"?'), r'\1: "<N>"'),
    (re.compile(r'("coldStart"): (?:true|false)'), r'\1: <BOOL>'),
    (re.compile(r"\b\d+(?:\.\d)? (?:B|KiB|MiB)\b"), "<SIZE>"),
    (re.compile(r"\b\d+ ms\b"), "<N> ms"),
    (re.compile(r"(Cold start:\s+)(?:yes|no)"), r"\1<BOOL>"),
    (re.compile(r"(127\.0\.0\.1):\d+"), r"\1:<PORT>"),
    (re.compile(r"\*\*\*\*[A-Za-z0-9_-]{4}"), "****<TOKEN>"),
    (re.compile(r'("output"): "[A-Za-z0-9+/=]*"'), r'\1: "<BASE64>"'),  # execution output: has its id
    # Table columns are padded to their widest cell, which a placeholder changes: one gap of two spaces.
    (re.compile(r"(?<=\S) {2,}"), "  "),
]


def normalize(text, roots):
    for root in roots:
        text = text.replace(str(root), "<ROOT>")
    # JSON omits fields at their default (a 0 ms duration, coldStart false), so their presence varies by run:
    # drop them, and a comma left dangling before a closing bracket.
    text = re.sub(r'^\s*"(?:durationMs|coldStart)": [^\n]*\n', "", text, flags=re.M)
    text = re.sub(r",(\n\s*[}\]])", r"\1", text)
    for pattern, replacement in _NORMALIZE:
        text = pattern.sub(replacement, text)
    # Hashes shortened to 12 characters (version list): only where the short hash column is.
    text = re.sub(r"^(\d+\s+\w+\s+)[0-9a-f]{12}(\s)", r"\1<HASH12>\2", text, flags=re.M)
    return text


class Golden:
    """Collects mismatches of one test so that every difference is reported at once."""

    def __init__(self, *roots):
        self.roots = roots
        self.failures = []
        self.written = []

    def check(self, name, text):
        path = GOLDEN / f"{name}.txt"
        actual = normalize(text, self.roots)
        if UPDATE:
            path.write_text(actual)
            self.written.append(path.name)
            return
        if not path.exists():
            self.failures.append(f"{path.name}: missing (run with IGNITE_UPDATE_GOLDEN=1)\n{actual}")
            return
        expected = path.read_text()
        if expected != actual:
            diff = "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                                f"golden/{path.name}", "actual"))
            self.failures.append(diff)

    def assert_clean(self):
        assert not self.failures, "output differs from the golden files:\n" + "\n".join(self.failures)


def run(platform, fmt, *args, expect=0):
    p = platform.cli(*args, "-o", fmt)
    assert p.returncode == expect, (f"dodil ignite {' '.join(args)} -o {fmt} exited {p.returncode}, not {expect}\n"
                                    f"stdout: {p.stdout.decode(errors='replace')}\n"
                                    f"stderr: {p.stderr.decode(errors='replace')}")
    return p


def lifecycle(platform, golden, fmt, app, code_dir):
    """The app's whole life, each step's stdout checked against golden/<step>.<fmt>.txt."""
    def step(name, *args, expect=0, stream="stdout"):
        p = run(platform, fmt, *args, expect=expect)
        out = p.stdout if stream == "stdout" else p.stderr
        golden.check(f"{name}.{fmt}", out.decode())
        return p

    step("app_create", "app", "create", app, "--runtime", "go", "--description", "Golden test app",
         "--tier", "small", "--env", "GREETING=hi", "--max-concurrency", "8")
    step("app_get", "app", "get", app)
    step("draft_info_none", "draft", "info", app)
    step("draft_save", "draft", "save", f"org:{app}", "--code", str(code_dir))
    step("draft_publish", "draft", "publish", f"org:{app}")
    step("draft_info", "draft", "status", app)
    step("version_list", "version", "list", app)
    step("version_get", "version", "get", app, "1")
    step("app_update", "fn", "update", app, "--description", "Updated golden app", "--max-replicas", "3")
    step("app_state", "app", "state", app)
    step("app_list", "app", "list")
    step("invoke", "invoke", f"org:{app}", "-p", '{"name": "golden"}')
    started = platform.ok("invoke", app, "--async", "-p", '{"name": "async"}').stdout.decode().strip()
    platform.ok("execution", "watch", started)  # until it has finished
    step("execution_get", "exec", "get", started)
    step("app_get_missing", "app", "get", f"{app}-missing", expect=5, stream="stderr")
    step("app_delete", "app", "delete", app)


@pytest.fixture(scope="module")
def code_dir(tmp_path_factory):
    return write_app(tmp_path_factory.mktemp("golden") / "app", greeting="Hello")


def test_command_outputs_match_the_golden_files(platform, code_dir):
    golden = Golden(code_dir, platform.root)
    lifecycle(platform, golden, "table", "gold-t", code_dir)
    lifecycle(platform, golden, "json", "gold-j", code_dir)
    golden.assert_clean()


def test_config_view_and_set_match_the_golden_files(platform, tmp_path):
    golden = Golden(platform.root, tmp_path)
    for fmt in ("table", "json"):
        p = run(platform, fmt, "config", "view")
        golden.check(f"config_view.{fmt}", p.stdout.decode())
    # config set into a fresh directory, then view what it gives (flags and environment win over it).
    env = {"DODIL_CONFIG_DIR": str(tmp_path / "cfg"), "IGNITE_ORG_ID": "envorg"}
    for fmt in ("table", "json"):
        p = platform.cli("config", "set", "token", "ign_goldentoken1234", "-o", fmt, env_extra=env)
        assert p.returncode == 0, p.stderr
        golden.check(f"config_set.{fmt}", p.stdout.decode())
        p = platform.cli("config", "view", "--api-endpoint", "127.0.0.1:9", "-o", fmt, env_extra=env)
        assert p.returncode == 0, p.stderr
        golden.check(f"config_view_sources.{fmt}", p.stdout.decode())
    golden.assert_clean()
    assert (tmp_path / "cfg" / "config.yaml").stat().st_mode & 0o777 == 0o600


def test_yaml_is_the_json_as_yaml(platform, code_dir):
    import yaml  # PyYAML: scripts/lib.sh installs it with pytest
    for args in (["config", "view"], ["app", "list"]):
        as_json = json.loads(run(platform, "json", *args).stdout)
        as_yaml = yaml.safe_load(run(platform, "yaml", *args).stdout)
        assert as_yaml == as_json, args


def test_unknown_output_format_is_a_usage_error(platform):
    p = platform.cli("app", "list", "-o", "xml")
    assert p.returncode == 2
    assert b"use table, json, yaml or wide" in p.stderr
    assert p.stdout == b""


def test_bash_completion_script_completes_commands(tmp_path):
    for program, words, expected in (
        ("ignite", ["ignite", "ap"], "app"),
        ("ignite", ["ignite", "app", "cr"], "create"),
        ("ignite", ["ignite", "--org", "acme", "fn", "li"], "list"),
        ("ignite", ["ignite", "app", "list", "-o", "ya"], "yaml"),
        ("ignite", ["ignite", "draft", "publish", "--ti"], "--timeout"),
        ("dodil", ["dodil", "ignite", "exec", "wa"], "watch"),
        ("dodil", ["dodil", "lo"], "login"),
    ):
        script = tmp_path / f"{program}.bash"
        script.write_bytes(subprocess.run([str(BIN / program), "completion", "bash"], check=True,
                                          capture_output=True).stdout)
        words_text = " ".join(f"'{w}'" for w in words)
        probe = (f"source {script}; COMP_WORDS=({words_text}); COMP_CWORD={len(words) - 1}; "
                 f"_{program}_complete; printf '%s\\n' \"${{COMPREPLY[@]}}\"")
        out = subprocess.run(["bash", "-c", probe], check=True, capture_output=True, text=True).stdout.split()
        assert out == [expected], (words, out)
