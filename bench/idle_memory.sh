#!/usr/bin/env bash
# Memory ignited holds per idle instance, with N idle instances (issue 4, benchmark c).
#
# N apps are created from the hello source (scaling.idleTimeoutSecs=IDLE_TIMEOUT so none is reaped during the
# run), saved and published (PUBLISH_PARALLEL at a time; the builds hit the warm Go cache), then each is
# invoked once (INVOKE_PARALLEL at a time) so it has one running, idle instance. ignited's memory is read at
# three points, each after SETTLE seconds:
#   M0  fresh ignited
#   M1  N apps published, no instance running
#   M2  N instances running and idle
# from /proc/<pid>/status (VmRSS) and /proc/<pid>/smaps_rollup (Pss). The platform's memory per idle instance
# is (M2 - M1) / N; (M2 - M0) / N also counts the apps' and versions' own bookkeeping (and whatever the
# allocator kept from the builds). The instances' own memory (sum of their RSS and PSS) is shown for
# information, as are ignited's descriptors and threads per instance.
#
# Knobs: N (default 500), IDLE_TIMEOUT (seconds, default 300), PUBLISH_PARALLEL (default 2),
# INVOKE_PARALLEL (default 8), SETTLE (seconds, default 3), BUILD_DIR, IGNITE_GO_CACHE_DIR, KEEP_WORK=1.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N="${N:-500}"
IDLE_TIMEOUT="${IDLE_TIMEOUT:-300}"
PUBLISH_PARALLEL="${PUBLISH_PARALLEL:-2}"
INVOKE_PARALLEL="${INVOKE_PARALLEL:-8}"
SETTLE="${SETTLE:-3}"

bench_init idle_memory
start_ignited
SRC="$WORK/src"
hello_source "$SRC"

kb() { awk -v k="$2" '$1 == k":" { print $2; exit }' "$1" 2>/dev/null || echo 0; }
# snapshot NAME: ignited's VmRSS, Pss (kB), open descriptors and threads into variables NAME_rss etc.
snapshot() {
  local pid=$IGNITED_PID
  printf -v "$1_rss" '%s' "$(kb /proc/$pid/status VmRSS)"
  printf -v "$1_pss" '%s' "$(kb /proc/$pid/smaps_rollup Pss)"
  printf -v "$1_fds" '%s' "$(find /proc/$pid/fd -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)"
  printf -v "$1_thr" '%s' "$(kb /proc/$pid/status Threads)"
}
per() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { if (n == 0) print "n/a"; else printf "%.1f", (a - b) / n }'; }

sleep "$SETTLE"
snapshot m0
log "M0 (fresh): VmRSS ${m0_rss} kB, Pss ${m0_pss} kB"

# One app: create (with the idle timeout), save, publish. Run by xargs, so it is a script of its own.
cat >"$WORK/publish_one.sh" <<EOF
#!/usr/bin/env bash
set -euo pipefail
app=\$1
curl -sS --fail-with-body -o /dev/null -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
  --data-binary "{\"name\":\"\$app\",\"scaling\":{\"idleTimeoutSecs\":$IDLE_TIMEOUT}}" "$IGNITED_URL/v1/ignite/app/$ORG"
"$DODIL" ignite --api-endpoint "$IGNITED_URL" --token "$TOKEN" draft save "$ORG:\$app" --code "$SRC" >/dev/null
"$DODIL" ignite --api-endpoint "$IGNITED_URL" --token "$TOKEN" --timeout 15m draft publish "$ORG:\$app" >/dev/null
EOF
cat >"$WORK/invoke_one.sh" <<EOF
#!/usr/bin/env bash
out=\$(curl -sS --max-time 60 -X POST -H "Authorization: Bearer $TOKEN" --data-binary '{"name":"bench"}' \\
  "$IGNITED_URL/v1/ignite/app/$ORG/\$1/invoke" 2>&1)
case "\$out" in *'"status":200'*) ;; *) echo "invoke \$1 failed: \$out" >&2; exit 1 ;; esac
EOF
chmod +x "$WORK/publish_one.sh" "$WORK/invoke_one.sh"
apps() { for ((i = 1; i <= N; i++)); do printf 'idle-%04d\n' "$i"; done; }

log "creating and publishing $N apps, $PUBLISH_PARALLEL at a time"
t0=${EPOCHREALTIME/./}
apps | xargs -P "$PUBLISH_PARALLEL" -n 1 "$WORK/publish_one.sh" || die "publishing failed (see above)"
t1=${EPOCHREALTIME/./}
PUBLISH_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')
sleep "$SETTLE"
snapshot m1
log "M1 ($N apps published in ${PUBLISH_S}s, no instances): VmRSS ${m1_rss} kB, Pss ${m1_pss} kB"

log "invoking each app once, $INVOKE_PARALLEL at a time"
t0=${EPOCHREALTIME/./}
INVOKE_FAILED=0
apps | xargs -P "$INVOKE_PARALLEL" -n 1 "$WORK/invoke_one.sh" 2>"$WORK/invoke_errors" || INVOKE_FAILED=1
t1=${EPOCHREALTIME/./}
INVOKE_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')
sleep "$SETTLE"
snapshot m2
# The instances: ignited's children.
mapfile -t kids < <(pgrep -P "$IGNITED_PID" || true)
inst_rss=0 inst_pss=0
for k in "${kids[@]}"; do
  inst_rss=$((inst_rss + $(kb /proc/$k/status VmRSS)))
  inst_pss=$((inst_pss + $(kb /proc/$k/smaps_rollup Pss)))
done
shopt -s nullglob
socks=("$DATA_DIR"/run/idle-*.sock)
shopt -u nullglob
LIVE=${#kids[@]}
log "M2 ($LIVE instances; ${#socks[@]} sockets): VmRSS ${m2_rss} kB, Pss ${m2_pss} kB"

rule
echo "Ignite bench: platform memory per idle instance (issue 4 c)"
machine
echo "$N apps from the hello source, idle timeout ${IDLE_TIMEOUT}s; publish ${PUBLISH_S}s ($PUBLISH_PARALLEL at a time), first invokes ${INVOKE_S}s ($INVOKE_PARALLEL at a time)"
rule
printf '%-40s %12s %12s %8s %8s\n' "ignited" "VmRSS kB" "Pss kB" "fds" "threads"
printf '%-40s %12s %12s %8s %8s\n' "M0 fresh" "$m0_rss" "$m0_pss" "$m0_fds" "$m0_thr"
printf '%-40s %12s %12s %8s %8s\n' "M1 $N apps published, no instances" "$m1_rss" "$m1_pss" "$m1_fds" "$m1_thr"
printf '%-40s %12s %12s %8s %8s\n' "M2 $LIVE idle instances" "$m2_rss" "$m2_pss" "$m2_fds" "$m2_thr"
rule
if ((LIVE != N)) || ((INVOKE_FAILED)); then
  echo "WARNING: expected $N idle instances, ignited has $LIVE child processes and ${#socks[@]} instance sockets"
  [ ! -s "$WORK/invoke_errors" ] || { echo "invoke errors ($(wc -l <"$WORK/invoke_errors")), first ones:"; head -5 "$WORK/invoke_errors"; }
fi
echo "RESULT platform memory per idle instance, (M2-M1)/$LIVE: VmRSS $(per "$m2_rss" "$m1_rss" "$LIVE") KB, Pss $(per "$m2_pss" "$m1_pss" "$LIVE") KB   (aim: < 100 KB)"
echo "RATIO  to the aim (100 KB), VmRSS: $(ratio "$(per "$m2_rss" "$m1_rss" "$LIVE")" 100)x"
echo "       including the apps' bookkeeping, (M2-M0)/$LIVE: VmRSS $(per "$m2_rss" "$m0_rss" "$LIVE") KB, Pss $(per "$m2_pss" "$m0_pss" "$LIVE") KB"
echo "       ignited descriptors per instance: $(per "$m2_fds" "$m1_fds" "$LIVE"); threads per instance: $(per "$m2_thr" "$m1_thr" "$LIVE")"
echo "for information, the $LIVE instances themselves: VmRSS total $((inst_rss / 1024)) MB ($(per "$inst_rss" 0 "$LIVE") KB each), Pss total $((inst_pss / 1024)) MB ($(per "$inst_pss" 0 "$LIVE") KB each)"
rule
