#!/usr/bin/env bash
# Cold start of a small container image app (issue 15) through the platform, against the same process
# started directly in the image's unpacked root, and against runc, in one run.
#
# The image is the end-to-end tests' static Go server (tests/e2e/apps/image_server) in an OCI image pushed to
# a registry on loopback (bench/image/registry.py). It is deployed as app `imgcold` with idleTimeoutSecs=1.
# (i) Floor: bench/floor port chroots into the very root the platform unpacked (<data-dir>/cache/image-roots/
#     <manifest>) and starts /app/server there as uid 65534 with PORT set, polls GET /healthz every 0.5 ms
#     until 2xx, then times start -> the complete answer to POST /. Each iteration after a FLOOR_GAP pause.
# (ii) runc: the same root as a runc bundle (host network, a config from `runc spec` with the server as its
#     process), `runc run -d`, then the same polling and request.
# (iii) Platform: per iteration wait until the instance was reaped, then time one invoke (bench/floor cold).
#
# Knobs: N (default 30), FLOOR_GAP (default 1200ms), BUILD_DIR, KEEP_WORK=1.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

kv() { local v; v="$(grep -m1 "^$2=" "$WORK/$1.out" | cut -d= -f2-)"; echo "${v:-nan}"; }
line() {  # line LABEL FILE PREFIX
  printf '%-54s %s\n' "$1" "n=$(kv "$2" "${3}_n")  p50 $(kv "$2" "${3}_p50_ms") ms  p90 $(kv "$2" "${3}_p90_ms") ms  p99 $(kv "$2" "${3}_p99_ms") ms  (min $(kv "$2" "${3}_min_ms"), max $(kv "$2" "${3}_max_ms"))"
}

N="${N:-30}"
FLOOR_GAP="${FLOOR_GAP:-1200ms}"
PAYLOAD='{"name":"bench"}'

bench_init image_cold_start
need_cmd skopeo skopeo
need_cmd umoci umoci
need_cmd docker-registry docker-registry
need_cmd runc runc
FLOOR="$(build_helper floor)"
start_ignited

log "registry on loopback with the image_server image"
coproc REG { python3 "$BENCH_DIR/image/registry.py"; }
track_pid "$REG_PID"
read -r -t 120 line <&"${REG[0]}" || die "the registry helper did not answer"
REF="${line#ref=}"
log "image: $REF"

log "deploying it as app 'imgcold' (idleTimeoutSecs=1)"
api POST "/v1/ignite/app/$ORG" '{"name":"imgcold","limits":{"cpuMillicores":2000},"scaling":{"idleTimeoutSecs":1}}' >/dev/null
dodil draft save "$ORG:imgcold" --image-ref "$REF" >/dev/null
dodil draft publish "$ORG:imgcold" >/dev/null
invoke_app imgcold "$PAYLOAD" >/dev/null  # unpacks the image root on first use
ROOT="$(ls -d "$DATA_DIR"/cache/image-roots/*/ | head -1)"
ROOT="${ROOT%/}"
[ -x "$ROOT/app/server" ] || die "no unpacked root with /app/server under $DATA_DIR/cache/image-roots"
PORT="$(free_port)"

log "floor: $N starts of /app/server chrooted into $ROOT, each after a $FLOOR_GAP pause"
"$FLOOR" port -root "$ROOT" -port "$PORT" -n "$N" -gap "$FLOOR_GAP" -payload "$PAYLOAD" -- /app/server >"$WORK/floor.out"

log "runc: $N runs of a bundle over the same root"
BUNDLE="$WORK/bundle"
mkdir -p "$BUNDLE"
(cd "$BUNDLE" && runc spec)
python3 - "$BUNDLE/config.json" "$ROOT" "$PORT" <<'PY'
import json, sys
path, root, port = sys.argv[1:]
c = json.load(open(path))
c["root"] = {"path": root, "readonly": True}
c["process"].update(terminal=False, args=["/app/server"], cwd="/", user={"uid": 65534, "gid": 65534},
                    env=["PATH=/usr/bin:/bin", f"PORT={port}", "HOME=/tmp"])
c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "network"]  # the host's
c["mounts"] = [m for m in c["mounts"] if m["destination"] != "/sys"] + [
    {"destination": "/sys", "type": "bind", "source": "/sys", "options": ["rbind", "ro", "nosuid", "noexec", "nodev"]}]
json.dump(c, open(path, "w"))
PY
"$FLOOR" port -runc "$BUNDLE" -port "$PORT" -n "$N" -gap "$FLOOR_GAP" -payload "$PAYLOAD" >"$WORK/runc.out"

log "platform: $N cold invokes of 'imgcold' (each after its instance was reaped)"
"$FLOOR" cold -url "$IGNITED_URL/v1/ignite/app/$ORG/imgcold/invoke" -token "$TOKEN" -run-dir "$DATA_DIR/run" \
  -prefix imgcold- -n "$N" -payload "$PAYLOAD" -max-wait 3s >"$WORK/platform.out"

rule
echo "Ignite bench: container image cold start (issue 15)"
machine
echo "image: $REF; root $ROOT"
rule
line "floor (chroot into the unpacked root, same binary):" floor floor
line "runc (runc run -d, same root, host network):" runc floor
line "platform cold (sandbox, own netns, port bridge):" platform cold
grep -E '^(errors|last_error|not_reaped_before_invoke)=' "$WORK/platform.out" | tr '\n' ' '
echo
rule
F50=$(kv floor floor_p50_ms) F99=$(kv floor floor_p99_ms)
R50=$(kv runc floor_p50_ms) R99=$(kv runc floor_p99_ms)
P50=$(kv platform cold_p50_ms) P99=$(kv platform cold_p99_ms)
echo "RATIO cold start p50 platform/floor: $(ratio "$P50" "$F50")x   (target: <= 1.5x)   p99: $(ratio "$P99" "$F99")x"
echo "RATIO cold start p50 runc/floor: $(ratio "$R50" "$F50")x   p99: $(ratio "$R99" "$F99")x"
echo "RATIO cold start p50 platform/runc: $(ratio "$P50" "$R50")x   p99: $(ratio "$P99" "$R99")x"
rule
