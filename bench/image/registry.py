"""Helper of bench/image_cold_start.sh: serves a registry on loopback holding the image_server test image
(made as the end-to-end tests make it, tests/e2e/images.py), prints `ref=<reference>` and
`registry=<host>` once it is pushed, and stops the registry when stdin closes."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "e2e"))
import images  # noqa: E402


def main():
    reg = images.Registry()
    reg.start()
    try:
        binary = images.build_image_server()
        ref = images.server_image(reg, binary, "bench-server", tag="1")
        print(f"ref={ref}\nregistry={reg.host}", flush=True)
        sys.stdin.read()  # until the caller closes it (or exits)
    finally:
        reg.stop()
        reg.cleanup()


if __name__ == "__main__":
    main()
