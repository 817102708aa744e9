#!/usr/bin/env bash
# Quick start, step 1: install what is missing, build, put `dodil` and `ignite` on PATH, and run ignited in the
# foreground on 127.0.0.1:7070 with its data in ~/.local/share/ignite (override with IGNITE_LISTEN and
# IGNITE_DATA_DIR, or pass ignited flags after the script name).
source "$(dirname "$0")/lib.sh"
install_missing
build_all

bin_dir=/usr/local/bin
[ -w "$bin_dir" ] || bin_dir="$HOME/.local/bin"
mkdir -p "$bin_dir"
for tool in dodil ignite ignited; do ln -sf "$BUILD_DIR/bin/$tool" "$bin_dir/$tool"; done
case ":$PATH:" in *":$bin_dir:"*) ;; *) echo "note: add $bin_dir to your PATH to use dodil and ignite" ;; esac

exec "$BUILD_DIR/bin/ignited" --listen "${IGNITE_LISTEN:-127.0.0.1:7070}" \
  --data-dir "${IGNITE_DATA_DIR:-$HOME/.local/share/ignite}" "$@"
