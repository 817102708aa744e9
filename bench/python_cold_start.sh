#!/usr/bin/env bash
# Cold start of a Python handler through the platform (issue 14) against the bare floor and a plain
# interpreter start, in one run.
#
# (i) Bare floor: bench/floor spawns the same interpreter (/usr/bin/python3.11, the same flags) with the same
#     SDK and handler (the version's tree, unpacked from the artifact the platform built) and a pre-bound Unix
#     socket as fd 3, sends `POST /` at once and times spawn -> the complete HTTP 200; each after a FLOOR_GAP
#     idle pause, as every platform cold start follows one.
# (ii) Plain interpreter: the same, spawning `python3.11 bench/python/plain_server.py` (the standard library's
#     http.server answering on fd 3, interpreter started normally): what a fresh `python3 handler.py` costs.
# (iii) Platform: apps `cold` (bench/python/hello: stdlib only) and `coldimp` (bench/python/imports: json,
#     urllib.request and six from requirements.txt) with scaling.idleTimeoutSecs=1; per iteration bench/floor
#     waits until the idle instance was reaped, then times one invoke (request -> whole NDJSON answer) and
#     checks the trailer's coldStart. Sandbox on (ignited's default), instances forked from the version's
#     zygote; then again with --python-launcher process (a fresh interpreter per instance).
# (iv) Memory of one idle instance: RSS, PSS and USS (private pages) of the forked instance, and the zygote's.
#
# Knobs: N (cold starts per case, default 60), FLOOR_GAP (default 1200ms), MAX_WAIT (default 3s), BUILD_DIR,
# KEEP_WORK=1.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N="${N:-60}"
MAX_WAIT="${MAX_WAIT:-3s}"
FLOOR_GAP="${FLOOR_GAP:-1200ms}"
PYTHON="${IGNITE_PYTHON:-/usr/bin/python3.11}"
PAYLOAD='{"name":"bench"}'
PY_DIR="$BENCH_DIR/python"

bench_init python_cold_start
FLOOR="$(build_helper floor)"
start_ignited

log "publishing the stdlib hello to get its built tree"
create_and_publish pyhello "$PY_DIR/hello"
invoke_app pyhello "$PAYLOAD" >/dev/null
artifact_info pyhello 1
TREE="$WORK/tree"
mkdir -p "$TREE" && tar -xzf "$ARTIFACT_PATH" -C "$TREE" && mkdir -p "$TREE/site"

log "bare floor: $N spawns of $PYTHON with the version's SDK and handler, each after a $FLOOR_GAP pause"
"$FLOOR" spawn -bin "$PYTHON" -n "$N" -warmup 1 -gap "$FLOOR_GAP" -payload "$PAYLOAD" -dir "$TREE/app" \
  -env "IGNITE_PYTHONPATH=$TREE/app:$TREE/sdk:$TREE/site" -- -I -S -B -X utf8 "$TREE/sdk/ignite_main.py" \
  >"$WORK/floor.out"
log "plain interpreter: $N spawns of $PYTHON plain_server.py (http.server), each after a $FLOOR_GAP pause"
"$FLOOR" spawn -bin "$PYTHON" -n "$N" -warmup 1 -gap "$FLOOR_GAP" -payload "$PAYLOAD" -dir "$PY_DIR" \
  -- "$PY_DIR/plain_server.py" >"$WORK/plain.out"

cold_run() {  # cold_run APP OUT
  "$FLOOR" cold -url "$IGNITED_URL/v1/ignite/app/$ORG/$1/invoke" -token "$TOKEN" -run-dir "$DATA_DIR/run" \
    -prefix "$1-" -n "$N" -payload "$PAYLOAD" -max-wait "$MAX_WAIT" >"$WORK/$2.out"
}
SANDBOX_MODE="$(curl -s "$IGNITED_URL/v1/ignite/health" | sed -n 's/.*"sandbox":"\([^"]*\)".*/\1/p')"
log "platform (sandbox: $SANDBOX_MODE, zygote): $N cold invokes of 'cold' and of 'coldimp'"
create_and_publish cold "$PY_DIR/hello" '{"idleTimeoutSecs":1}'
create_and_publish coldimp "$PY_DIR/imports" '{"idleTimeoutSecs":1}'
cold_run cold cold
cold_run coldimp coldimp

log "memory of one idle instance of 'pyhello'"
invoke_app pyhello "$PAYLOAD" >/dev/null
mem_kb() {  # mem_kb PID FIELD: a field of /proc/PID/smaps_rollup, in kB
  awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/smaps_rollup"
}
# The instance that answered last (the newest Python process) and its zygote.
INSTANCE_PID="$(pgrep -n -u nobody -f ignite_main.py || true)"
ZYGOTE_PID="$(ps -o ppid= -p "$INSTANCE_PID" 2>/dev/null | tr -d ' ' || true)"
if [ -n "$INSTANCE_PID" ] && [ -r "/proc/$INSTANCE_PID/smaps_rollup" ]; then
  I_RSS=$(mem_kb "$INSTANCE_PID" Rss) I_PSS=$(mem_kb "$INSTANCE_PID" Pss)
  I_USS=$(( $(mem_kb "$INSTANCE_PID" Private_Clean) + $(mem_kb "$INSTANCE_PID" Private_Dirty) ))
  Z_RSS=$(mem_kb "$ZYGOTE_PID" Rss 2>/dev/null || echo nan)
else
  I_RSS=nan I_PSS=nan I_USS=nan Z_RSS=nan
fi

log "platform again with --python-launcher process (a fresh interpreter per instance)"
stop_pid "$IGNITED_PID"
wait "$IGNITED_PID" 2>/dev/null || true
start_ignited --python-launcher process
cold_run cold cold_process

kv() { local v; v="$(grep -m1 "^$2=" "$WORK/$1.out" | cut -d= -f2-)"; echo "${v:-nan}"; }
line() {  # line LABEL FILE PREFIX
  printf '%-58s %s\n' "$1" "n=$(kv "$2" "${3}_n")  p50 $(kv "$2" "${3}_p50_ms") ms  p90 $(kv "$2" "${3}_p90_ms") ms  p99 $(kv "$2" "${3}_p99_ms") ms  (min $(kv "$2" "${3}_min_ms"), max $(kv "$2" "${3}_max_ms"))"
}
F50=$(kv floor floor_p50_ms) F99=$(kv floor floor_p99_ms)
P50=$(kv plain floor_p50_ms) P99=$(kv plain floor_p99_ms)
C50=$(kv cold cold_p50_ms) C99=$(kv cold cold_p99_ms)
M50=$(kv coldimp cold_p50_ms) M99=$(kv coldimp cold_p99_ms)
X50=$(kv cold_process cold_p50_ms) X99=$(kv cold_process cold_p99_ms)

rule
echo "Ignite bench: Python cold start through the platform (issue 14)"
machine
echo "interpreter: $("$PYTHON" -c 'import sys; print(sys.version.split()[0])') ($PYTHON); sandbox: $SANDBOX_MODE"
rule
line "bare floor (same interpreter, SDK and handler, fresh):" floor floor
line "plain interpreter (python3.11 + http.server):" plain floor
line "platform cold, stdlib hello (zygote fork):" cold cold
line "platform cold, json+urllib+six (zygote fork):" coldimp cold
line "platform cold, stdlib hello, --python-launcher process:" cold_process cold
for f in cold coldimp cold_process; do
  echo "$f: $(kv $f cold_n) cold, $(kv $f warm_n) warm, $(kv $f errors) errors; not reaped before $(kv $f not_reaped_before_invoke)"
  [ "$(kv $f errors)" = 0 ] || echo "  last error: $(kv $f last_error)"
done
echo "idle instance memory: RSS ${I_RSS} kB, PSS ${I_PSS} kB, USS ${I_USS} kB (private); its zygote: RSS ${Z_RSS} kB"
rule
echo "TARGET cold start p50 (stdlib hello): $C50 ms   (target: <= 15 ms)"
echo "RATIO cold start p50 platform/bare floor: $(ratio "$C50" "$F50")x   p99: $(ratio "$C99" "$F99")x"
echo "RATIO cold start p50 platform/plain interpreter: $(ratio "$C50" "$P50")x   p99: $(ratio "$C99" "$P99")x"
echo "RATIO cold start p50 with imports/stdlib hello: $(ratio "$M50" "$C50")x   (target: <= 2x)   p99: $(ratio "$M99" "$C99")x"
echo "RATIO cold start p50 process launcher/zygote: $(ratio "$X50" "$C50")x   p99: $(ratio "$X99" "$C99")x"
rule
