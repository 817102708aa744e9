"""The routes the server registers are the ones the protos (and so docs/api.md) document, method by method."""

import importlib.util
import subprocess

from conftest import BIN, REPO


def load_generator():
    spec = importlib.util.spec_from_file_location("gen_api_docs", REPO / "scripts" / "gen_api_docs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_every_registered_route_is_documented_on_its_rpc():
    gen = load_generator()
    documented = {}
    for path in sorted(gen.PROTO_DIR.glob("*.proto")):
        services, _, _ = gen.parse(path)
        for svc in services:
            for rpc in svc["rpcs"]:
                documented[rpc["name"]] = rpc["route"].split("?")[0]
    out = subprocess.run([str(BIN / "ignited"), "routes"], capture_output=True, check=True, text=True).stdout
    registered = [line.split() for line in out.splitlines() if line.strip()]
    assert len(registered) > 20
    for method, pattern, rpc in registered:
        assert rpc in documented, f"route {method} {pattern} serves {rpc}, which no .proto service declares"
        assert documented[rpc] == f"{method} {pattern}", (
            f"{rpc}: the server registers {method} {pattern} but its proto comment says {documented[rpc]!r}")
