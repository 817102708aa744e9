# Shared by the bench/*.sh scripts. Source it after `set -euo pipefail`.
#
# Provides: install helpers (Debian apt-get), building the tree when bin/ignited is missing, a private
# ignited (free loopback port, temp data dir, temp DODIL_CONFIG_DIR, shared Go cache), process tracking
# with cleanup on exit, and small statistics helpers. Nothing here touches the user's ~/.config or
# ~/.local/share: every run lives in its own temp dir, removed on exit (KEEP_WORK=1 keeps it).

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$BENCH_DIR/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$REPO/build}"
# Shared between runs (and between the platform and the plain builds) so repeated runs are warm.
IGNITE_GO_CACHE_DIR="${IGNITE_GO_CACHE_DIR:-/tmp/ignite-bench-go-cache}"
export IGNITE_GO_CACHE_DIR

WORK=""              # this run's temp dir
DATA_DIR=""          # ignited's data dir
IGNITED_PID=""
IGNITED_PORT=""
IGNITED_URL=""
TOKEN=""
ORG="org"
declare -a BENCH_PIDS=()   # other processes this run started (killed on exit)

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------- setup

# apt_install PKG...: installs the Debian packages that are not installed yet. Service start-up during
# installation is suppressed (policy-rc.d) so e.g. nginx does not start a system instance on port 80.
apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  log "installing from Debian: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  local policy=/usr/sbin/policy-rc.d made_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod +x "$policy" && made_policy=1
  fi
  $sudo apt-get update -qq >/dev/null
  local rc=0
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || rc=$?
  ((made_policy)) && $sudo rm -f "$policy"
  return $rc
}

# need_cmd CMD PKG...: installs PKG... when CMD is not on PATH.
need_cmd() {
  local cmd=$1; shift
  command -v "$cmd" >/dev/null 2>&1 || apt_install "$@"
  command -v "$cmd" >/dev/null 2>&1 || die "$cmd is still missing after installing $*"
}

# need_nginx: nginx-light, else nginx (any variant gives the proxy and upstream modules we use).
need_nginx() {
  NGINX_BIN="$(command -v nginx || true)"
  [ -n "$NGINX_BIN" ] || [ ! -x /usr/sbin/nginx ] || NGINX_BIN=/usr/sbin/nginx
  if [ -z "$NGINX_BIN" ]; then
    apt_install nginx-light 2>/dev/null || apt_install nginx
    NGINX_BIN="$(command -v nginx || echo /usr/sbin/nginx)"
  fi
  [ -x "$NGINX_BIN" ] || die "nginx is missing after installing it"
}

need_go() {
  if ! command -v go >/dev/null 2>&1; then
    [ -x /usr/local/go/bin/go ] || die "Go is required (the platform builds user code with it): install it into /usr/local/go"
    export PATH="/usr/local/go/bin:$PATH"
  fi
}

# Base tools every script uses.
need_base() {
  need_cmd curl curl ca-certificates
  need_cmd jq jq
  need_go
}

# ensure_built: brings $BUILD_DIR up to date (incremental), or builds the tree there in Release when it has none.
ensure_built() {
  if [ -f "$BUILD_DIR/CMakeCache.txt" ]; then
    # Always bring the binaries up to date (incremental; keeps the tree's configured build type), so a bench
    # never measures stale binaries.
    log "updating the build in $BUILD_DIR"
    cmake --build "$BUILD_DIR" >&2
  elif [ -f "$REPO/scripts/lib.sh" ]; then
    log "building the tree (Release) into $BUILD_DIR"
    # The project's own list of build dependencies.
    (IGNITE_BUILD_DIR="$BUILD_DIR" IGNITE_BUILD_TYPE=Release bash -c \
      'source "$0/scripts/lib.sh"; install_missing; build_all' "$REPO") >&2
  else
    cmake -S "$REPO" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$BUILD_DIR" >&2
  fi
  [ -x "$BUILD_DIR/bin/ignited" ] || die "no $BUILD_DIR/bin/ignited after building"
  DODIL="$BUILD_DIR/bin/dodil"
}

# bench_init NAME: temp work dir, cleanup trap, base tools, built tree.
bench_init() {
  local name=$1
  WORK="$(mktemp -d "/tmp/ignite-bench-$name.XXXXXX")"
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  mkdir -p "$WORK/config" "$IGNITE_GO_CACHE_DIR"
  # Isolate the CLI: it reads (and ignited writes) $DODIL_CONFIG_DIR/config.yaml, never ~/.config.
  export DODIL_CONFIG_DIR="$WORK/config"
  unset IGNITE_CONFIG_DIR IGNITE_TOKEN DODIL_TOKEN IGNITE_ORG_ID IGNITE_ORG_NAME 2>/dev/null || true
  need_base
  ensure_built
}

# track_pid PID: killed (process group if it leads one, else the process) on exit.
track_pid() { BENCH_PIDS+=("$1"); }

stop_pid() {
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

bench_cleanup() {
  local rc=$? pid
  set +e
  for pid in "${BENCH_PIDS[@]}"; do stop_pid "$pid"; done
  if [ -n "$IGNITED_PID" ]; then stop_pid "$IGNITED_PID"; wait "$IGNITED_PID" 2>/dev/null; fi
  if [ -n "$WORK" ] && [ -d "$WORK" ]; then
    if [ "${KEEP_WORK:-0}" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
  fi
  exit $rc
}

free_port() {
  python3 - <<'EOF' 2>/dev/null || echo $((20000 + RANDOM % 30000))
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
EOF
}

wait_http() {  # wait_http URL [TRIES]: until the URL answers (any HTTP status)
  local url=$1 tries=${2:-200} i
  for ((i = 0; i < tries; i++)); do
    curl -s -o /dev/null --max-time 1 "$url" && return 0
    sleep 0.05
  done
  return 1
}

# start_ignited [FLAG...]: a private ignited on a free loopback port. Sets IGNITED_PID, IGNITED_URL, TOKEN,
# DATA_DIR and exports the CLI's endpoint and token.
start_ignited() {
  DATA_DIR="$WORK/data"
  mkdir -p "$DATA_DIR"
  IGNITED_PORT="$(free_port)"
  IGNITED_URL="http://127.0.0.1:$IGNITED_PORT"
  "$BUILD_DIR/bin/ignited" --listen "127.0.0.1:$IGNITED_PORT" --grpc-listen 127.0.0.1:0 --data-dir "$DATA_DIR" \
    --go-cache-dir "$IGNITE_GO_CACHE_DIR" --log-level "${IGNITE_LOG_LEVEL:-warn}" "$@" \
    >"$WORK/ignited.log" 2>&1 &
  IGNITED_PID=$!
  local i
  for ((i = 0; i < 300; i++)); do
    if [ -s "$DATA_DIR/admin-token" ] && curl -s -o /dev/null --max-time 1 "$IGNITED_URL/v1/ignite/health"; then break; fi
    kill -0 "$IGNITED_PID" 2>/dev/null || { cat "$WORK/ignited.log" >&2; die "ignited exited at start"; }
    sleep 0.05
  done
  TOKEN="$(cat "$DATA_DIR/admin-token")"
  [ -n "$TOKEN" ] || die "ignited did not write $DATA_DIR/admin-token"
  export IGNITE_API_ENDPOINT="$IGNITED_URL" DODIL_TOKEN="$TOKEN"
  log "ignited pid $IGNITED_PID on $IGNITED_URL, data dir $DATA_DIR, Go cache $IGNITE_GO_CACHE_DIR"
}

dodil() { "$DODIL" ignite --api-endpoint "$IGNITED_URL" --token "$TOKEN" "$@"; }

# api METHOD PATH [BODY]: one JSON API call; prints the body, fails on a non-2xx status.
api() {
  local method=$1 path=$2 body=${3:-}
  local args=(-sS --fail-with-body -X "$method" -H "Authorization: Bearer $TOKEN" "$IGNITED_URL$path")
  [ -z "$body" ] || args+=(-H 'Content-Type: application/json' --data-binary "$body")
  curl "${args[@]}"
}

# invoke_app APP PAYLOAD: the raw NDJSON answer of one invoke.
invoke_app() {
  curl -sS --fail-with-body -X POST -H "Authorization: Bearer $TOKEN" --data-binary "$2" \
    "$IGNITED_URL/v1/ignite/app/$ORG/$1/invoke"
}

# hello_source DIR: a copy of the hello app (tests/e2e/apps/hello).
hello_source() {
  mkdir -p "$1"
  cp "$REPO/tests/e2e/apps/hello/main.go" "$REPO/tests/e2e/apps/hello/go.mod" "$1/"
}

# create_and_publish APP SRC_DIR [SCALING_JSON]: creates the app (through the HTTP API, so scaling can be
# set), saves SRC_DIR as its draft and publishes it.
# Apps get the machine's whole CPU (2000 millicores on 2 cores) so that the figures measure the platform
# against its references, not the default tier's quarter-CPU quota (which the bare references do not have).
create_and_publish() {
  local app=$1 src=$2 scaling=${3:-}
  local limits='"limits":{"cpuMillicores":2000}'
  local body="{\"name\":\"$app\",$limits}"
  [ -z "$scaling" ] || body="{\"name\":\"$app\",$limits,\"scaling\":$scaling}"
  api POST "/v1/ignite/app/$ORG" "$body" >/dev/null
  dodil draft save "$ORG:$app" --code "$src" >/dev/null
  dodil draft publish "$ORG:$app" >/dev/null
}

# artifact_path APP VERSION: the artifact's path in the blob store (and ARTIFACT_SHA / ARTIFACT_SIZE).
artifact_info() {
  local json
  json="$(dodil -o json version get "$ORG:$1" "$2")"
  ARTIFACT_SHA="$(jq -r '.versionInfo.artifactSha256' <<<"$json")"
  ARTIFACT_SIZE="$(jq -r '.versionInfo.artifactSizeBytes' <<<"$json")"
  ARTIFACT_PATH="$DATA_DIR/blobs/sha256/${ARTIFACT_SHA:0:2}/${ARTIFACT_SHA:2}"
  [ -f "$ARTIFACT_PATH" ] || die "artifact $ARTIFACT_SHA not found at $ARTIFACT_PATH"
}

# build_helper NAME: builds bench/NAME (a Go main package) into $WORK/NAME; prints the path.
build_helper() {
  local name=$1
  (cd "$BENCH_DIR/$name" && CGO_ENABLED=0 GOTOOLCHAIN=local GOWORK=off GOFLAGS= \
    GOCACHE="$IGNITE_GO_CACHE_DIR/bench-go-build" go build -trimpath -o "$WORK/$name" .) >&2
  echo "$WORK/$name"
}

# ------------------------------------------------------------------------------------------ statistics

# Timestamps without forking: t0=${EPOCHREALTIME/./} (microseconds); elapsed_ms T0 T1 prints milliseconds.
elapsed_ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }

# percentile P < numbers: nearest-rank percentile (P in 0..100).
percentile() {
  sort -g | awk -v p="$1" '{ v[NR] = $1 } END {
    if (NR == 0) { print "nan"; exit }
    r = int(p / 100 * NR); if (r < p / 100 * NR) r++; if (r < 1) r = 1; print v[r] }'
}
median() {  # median < numbers (mean of the middle two for an even count)
  sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "nan"; exit }
    if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0 || a == "nan" || b == "nan") print "n/a"; else printf "%.2f", a / b }'; }
fmt1() { awk -v a="$1" 'BEGIN { if (a == "nan") print a; else printf "%.1f", a }'; }

rule() { printf '%s\n' "--------------------------------------------------------------------------------"; }

# machine: one line describing the machine and how busy it was when the run started (other work on the same
# cores skews every number here).
START_LOAD="$(cut -d' ' -f1-3 /proc/loadavg)"
machine() { echo "machine: $(nproc) cores; load average at start $START_LOAD, at end $(cut -d' ' -f1-3 /proc/loadavg)"; }
