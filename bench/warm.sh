#!/usr/bin/env bash
# Warm latency and throughput of the Go hello app (issue 4, benchmark b), with wrk at 1 and 32 connections:
#   direct          the same hello binary run standalone on TCP (PORT=..., no IGNITE_LISTEN_FD)
#   nginx -> unix   nginx as a keep-alive reverse proxy in front of the platform's own running instance,
#                   through the instance's Unix socket in <data-dir>/run (the instance the platform uses)
#   nginx -> tcp    the same nginx setup in front of the standalone TCP instance (apples to apples with direct)
#   platform        POST /v1/ignite/app/org/hello/invoke through ignited (bearer token; NDJSON answer)
# nginx: upstream blocks with `keepalive 64`, proxy_http_version 1.1, Connection "" (an upstream block is
# needed for keepalive; an inline proxy_pass http://unix:... would open a connection per request), worker
# processes = ignited's event-loop threads, access log off.
# Every answer is checked by the wrk script (HTTP 200 and the greeting, or the head frame's status 200 for
# the platform); mismatches are reported as bad answers.
#
# Knobs: DURATION (seconds per run, default 10), CONNS (default "1 32"), WARMUP (seconds, default 2),
# WRK_THREADS (wrk threads for >1 connection, default 2), THREADS (ignited --threads and nginx workers,
# default 2), BUILD_DIR, IGNITE_GO_CACHE_DIR, KEEP_WORK=1.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DURATION="${DURATION:-10}"
CONNS="${CONNS:-1 32}"
WARMUP="${WARMUP:-2}"
WRK_THREADS="${WRK_THREADS:-2}"
THREADS="${THREADS:-2}"
PAYLOAD='{"name":"bench"}'

bench_init warm
need_cmd wrk wrk
need_nginx
start_ignited --threads "$THREADS"

SRC="$WORK/src"
hello_source "$SRC"
log "publishing hello"
create_and_publish hello "$SRC" '{"idleTimeoutSecs":3600}'
invoke_app hello "$PAYLOAD" | grep -q '"status":200' || die "the first invoke did not answer 200"
artifact_info hello 1
shopt -s nullglob
socks=("$DATA_DIR"/run/hello-*.sock)
shopt -u nullglob
((${#socks[@]} == 1)) || die "expected one hello instance socket in $DATA_DIR/run, found ${#socks[@]}"
SOCK="${socks[0]}"
INSTANCE_PID="$(pgrep -f -x "$ARTIFACT_PATH" | head -1 || true)"

# The standalone instance: the same artifact, on TCP.
DIRECT_PORT="$(free_port)"
cp "$ARTIFACT_PATH" "$WORK/hello-standalone"
(cd / && exec env -i PATH=/usr/bin:/bin PORT="$DIRECT_PORT" "$WORK/hello-standalone") >"$WORK/standalone.log" 2>&1 &
track_pid $!
wait_http "http://127.0.0.1:$DIRECT_PORT/" || die "the standalone instance did not start (see $WORK/standalone.log)"

# nginx
NGX="$WORK/nginx"
mkdir -p "$NGX/tmp"
NGINX_UNIX_PORT="$(free_port)"
NGINX_TCP_PORT="$(free_port)"
user_line=""
[ "$(id -u)" -ne 0 ] || user_line="user root;"   # workers must reach the instance socket in the temp dir
cat >"$NGX/nginx.conf" <<EOF
$user_line
worker_processes $THREADS;
daemon off;
pid $NGX/nginx.pid;
error_log $NGX/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $NGX/tmp/body;
  proxy_temp_path $NGX/tmp/proxy;
  fastcgi_temp_path $NGX/tmp/fastcgi;
  uwsgi_temp_path $NGX/tmp/uwsgi;
  scgi_temp_path $NGX/tmp/scgi;
  upstream platform_instance { server unix:$SOCK; keepalive 64; }
  upstream tcp_instance { server 127.0.0.1:$DIRECT_PORT; keepalive 64; }
  server {
    listen 127.0.0.1:$NGINX_UNIX_PORT;
    location / { proxy_pass http://platform_instance; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
  server {
    listen 127.0.0.1:$NGINX_TCP_PORT;
    location / { proxy_pass http://tcp_instance; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
EOF
"$NGINX_BIN" -p "$NGX" -e "$NGX/error.log" -c "$NGX/nginx.conf" >"$NGX/stdout.log" 2>&1 &
track_pid $!
wait_http "http://127.0.0.1:$NGINX_TCP_PORT/" || { cat "$NGX/error.log" >&2; die "nginx did not start"; }

INVOKE_URL="$IGNITED_URL/v1/ignite/app/$ORG/hello/invoke"
declare -A URL=(
  [direct]="http://127.0.0.1:$DIRECT_PORT/"
  [nginx_unix]="http://127.0.0.1:$NGINX_UNIX_PORT/"
  [nginx_tcp]="http://127.0.0.1:$NGINX_TCP_PORT/"
  [platform]="$INVOKE_URL"
  [platform_url]="$IGNITED_URL/"
)
TARGETS=(direct nginx_tcp nginx_unix platform platform_url)
PLATFORM_TARGETS=(platform platform_url)

# run_wrk TARGET CONNS SECONDS: prints wrk's RESULT line.
run_wrk() {
  local target=$1 c=$2 secs=$3 t=1 token="" expect="Hello, bench!" host=()
  ((c == 1)) || t=$WRK_THREADS
  ((t <= c)) || t=$c
  if [ "$target" = platform ]; then token="$TOKEN"; expect='"status":200'; fi
  # The per-app URL: ignited picks the app from the Host header, like a DNS wildcard would.
  if [ "$target" = platform_url ]; then token="$TOKEN"; host=(-H "Host: hello-$ORG.ignite.localhost"); fi
  BENCH_TOKEN="$token" BENCH_EXPECT="$expect" BENCH_PAYLOAD="$PAYLOAD" \
    wrk -t"$t" -c"$c" -d"${secs}s" --timeout 10s "${host[@]}" -s "$BENCH_DIR/wrk/post.lua" "${URL[$target]}" |
    grep '^RESULT' || die "wrk gave no result for $target"
}

declare -A R=()
for c in $CONNS; do
  for target in "${TARGETS[@]}"; do
    [ "$WARMUP" = 0 ] || run_wrk "$target" "$c" "$WARMUP" >/dev/null
    line="$(run_wrk "$target" "$c" "$DURATION")"
    R[$target,$c]="$line"
    log "$target c=$c: $line"
  done
done

# field TARGET CONNS KEY
field() { sed -n "s/.* $3=\([^ ]*\).*/\1/p" <<<" ${R[$1,$2]}"; }
us2ms() { awk -v u="$1" 'BEGIN { printf "%.3f", u / 1000 }'; }
errs() {
  local s=0 k
  for k in err_connect err_read err_write err_status err_timeout bad_answers; do s=$((s + $(field "$1" "$2" $k))); done
  echo $s
}
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (a - b) / 1000 }'; }   # (a-b) us -> ms
# ovr_ratio PLATFORM_OVERHEAD NGINX_OVERHEAD (us): their ratio; n/a when either is not positive (the tail of the
# direct run was worse than the proxied one: noise from the shared cores, not a real negative overhead).
ovr_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0 || a <= 0) print "n/a (an overhead <= 0)"; else printf "%.2fx", a / b }'; }

rule
echo "Ignite bench: warm latency and throughput (issue 4 b)"
machine
echo "wrk, nginx/ignited and the instance share the cores; ${DURATION}s per run after ${WARMUP}s warm-up;"
echo "ignited --threads $THREADS, nginx worker_processes $THREADS; payload $PAYLOAD; wrk threads: 1 for 1 connection, else $WRK_THREADS"
rule
printf '%-40s %5s %10s %10s %10s %10s %8s\n' target conns "req/s" "p50 ms" "p90 ms" "p99 ms" errors
label() {
  case $1 in
    direct) echo "direct (standalone instance, TCP)" ;;
    nginx_tcp) echo "nginx -> standalone instance (TCP)" ;;
    nginx_unix) echo "nginx -> platform's instance (unix)" ;;
    platform) echo "platform invoke route (NDJSON)" ;;
    platform_url) echo "platform per-app URL (plain HTTP)" ;;
  esac
}
for c in $CONNS; do
  for target in "${TARGETS[@]}"; do
    printf '%-40s %5s %10s %10s %10s %10s %8s\n' "$(label "$target")" "$c" "$(field "$target" "$c" rps)" \
      "$(us2ms "$(field "$target" "$c" p50_us)")" "$(us2ms "$(field "$target" "$c" p90_us)")" \
      "$(us2ms "$(field "$target" "$c" p99_us)")" "$(errs "$target" "$c")"
  done
done
echo "errors = connect/read/write/timeout errors + non-200 answers + answers without the expected content"
echo "(the platform route also frames each answer as NDJSON: head, base64 chunk, trailer; so its answers are bigger)"
rule
for c in $CONNS; do
  d50=$(field direct "$c" p50_us) d99=$(field direct "$c" p99_us)
  echo "$c connection(s): overhead = latency minus direct latency"
  for pt in "${PLATFORM_TARGETS[@]}"; do
  p50=$(field "$pt" "$c" p50_us) p99=$(field "$pt" "$c" p99_us) prps=$(field "$pt" "$c" rps)
  for ng in nginx_unix nginx_tcp; do
    n50=$(field "$ng" "$c" p50_us) n99=$(field "$ng" "$c" p99_us) nrps=$(field "$ng" "$c" rps)
    printf '  %-12s overhead p50 %7s ms, p99 %7s ms; %s overhead p50 %7s ms, p99 %7s ms\n' "$ng:" \
      "$(sub "$n50" "$d50")" "$(sub "$n99" "$d99")" "$pt" "$(sub "$p50" "$d50")" "$(sub "$p99" "$d99")"
    echo "  RATIO c=$c $pt/$ng overhead p50: $(ovr_ratio "$((p50 - d50))" "$((n50 - d50))")   p99: $(ovr_ratio "$((p99 - d99))" "$((n99 - d99))")   (aim: <= 1x)"
    echo "  RATIO c=$c $pt/$ng throughput:   $(ratio "$prps" "$nrps")x   (aim: >= 1x)"
    echo "        c=$c $pt/$ng latency p50: $(ratio "$p50" "$n50")x   p99: $(ratio "$p99" "$n99")x"
  done
  echo "  RATIO c=$c $pt/direct throughput: $(ratio "$prps" "$(field direct "$c" rps)")x; latency p50 $(ratio "$p50" "$d50")x"
  done
done
rule
