#!/usr/bin/env bash
# Publish-to-first-response of the Go hello app with warm caches, against a plain `go build` of the same
# source with the same flags, both measured in this run (issue 3, "Measured").
#
# Each round changes a string constant in main.go (a fresh token every round and every run), so both sides
# really compile the main package and link, while the standard library, the SDK and modules stay cached.
# Platform round: `dodil ignite draft save` + `draft publish` + first `invoke` (wall time of the three CLI
# commands, checked to answer with the new string). Plain round: `go build` of the same edited source with
# the platform's flags and `ignite` replaced by sdk/go, using the same Go cache as the platform.
#
# Knobs: N (rounds, default 5), BUILD_DIR, IGNITE_GO_CACHE_DIR, KEEP_WORK=1.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N="${N:-5}"
bench_init go_publish
start_ignited

APP=hello
PLAT_SRC="$WORK/platform-src"
PLAIN_SRC="$WORK/plain/src"
hello_source "$PLAT_SRC"
hello_source "$PLAIN_SRC"
cp "$PLAT_SRC/main.go" "$WORK/main.go.orig"
# The plain build resolves `ignite` the way the platform does: require + replace to the bundled SDK through a
# sibling symlink, so the module path recorded in the binary is the same as in the platform's artifact.
ln -s "$REPO/sdk/go" "$WORK/plain/ignite-sdk"
printf '\nrequire ignite v0.0.0\n\nreplace ignite => ../ignite-sdk\n' >>"$PLAIN_SRC/go.mod"

plain_build() {
  (cd "$PLAIN_SRC" && env CGO_ENABLED=0 GOOS=linux GOARCH=amd64 GOTOOLCHAIN=local GOWORK=off \
    GOFLAGS="-mod=mod -modcacherw" GOCACHE="$IGNITE_GO_CACHE_DIR/go-build" GOMODCACHE="$IGNITE_GO_CACHE_DIR/gomod" \
    GOPATH="$IGNITE_GO_CACHE_DIR/gopath" \
    go build -trimpath -buildvcs=false -ldflags="-s -w -buildid=" -o "$WORK/plain-hello" .)
}

# set_greeting DIR TOKEN: main.go of DIR answers "Hello <TOKEN>, <name>!".
set_greeting() {
  sed "s/\"Hello, \"/\"Hello $2, \"/" "$WORK/main.go.orig" >"$1/main.go"
  grep -q "Hello $2, " "$1/main.go" || die "could not edit the greeting in main.go"
}

# Warm-up (not measured): version 1 is the unmodified hello app (its size is reported); the first publish
# also fills the Go cache when it is cold.
log "warm-up: create, save, publish and invoke the unmodified hello app; one plain build"
dodil app create "$ORG:$APP" >/dev/null
dodil draft save "$ORG:$APP" --code "$PLAT_SRC" >/dev/null
dodil draft publish "$ORG:$APP" >/dev/null
dodil invoke "$ORG:$APP" -p '{"name":"bench"}' >/dev/null
artifact_info "$APP" 1
HELLO_SIZE="$ARTIFACT_SIZE"
HELLO_SHA="$ARTIFACT_SHA"
plain_build
PLAIN_UNMODIFIED_SHA="$(sha256sum "$WORK/plain-hello" | cut -d' ' -f1)"
# One more round of each so the edited-main path is warm too.
set_greeting "$PLAT_SRC" "warm$$x${EPOCHREALTIME/./}"
dodil draft save "$ORG:$APP" --code "$PLAT_SRC" >/dev/null
dodil draft publish "$ORG:$APP" >/dev/null
dodil invoke "$ORG:$APP" -p '{"name":"bench"}' >/dev/null
set_greeting "$PLAIN_SRC" "warm$$y${EPOCHREALTIME/./}"
plain_build

: >"$WORK/save" >"$WORK/publish" >"$WORK/invoke" >"$WORK/total" >"$WORK/pub_inv" >"$WORK/plain_build"
for ((r = 1; r <= N; r++)); do
  tok="r${r}x$$x${EPOCHREALTIME/./}"
  set_greeting "$PLAT_SRC" "$tok"
  t0=${EPOCHREALTIME/./}
  dodil draft save "$ORG:$APP" --code "$PLAT_SRC" >/dev/null
  t1=${EPOCHREALTIME/./}
  dodil draft publish "$ORG:$APP" >/dev/null
  t2=${EPOCHREALTIME/./}
  out="$(dodil invoke "$ORG:$APP" -p '{"name":"bench"}')"
  t3=${EPOCHREALTIME/./}
  grep -q "Hello $tok, bench" <<<"$out" || die "round $r: the first invoke did not answer with the new version: $out"

  set_greeting "$PLAIN_SRC" "p$tok"
  p0=${EPOCHREALTIME/./}
  plain_build
  p1=${EPOCHREALTIME/./}

  elapsed_ms "$t0" "$t1" >>"$WORK/save"; echo >>"$WORK/save"
  elapsed_ms "$t1" "$t2" >>"$WORK/publish"; echo >>"$WORK/publish"
  elapsed_ms "$t2" "$t3" >>"$WORK/invoke"; echo >>"$WORK/invoke"
  elapsed_ms "$t0" "$t3" >>"$WORK/total"; echo >>"$WORK/total"
  elapsed_ms "$t1" "$t3" >>"$WORK/pub_inv"; echo >>"$WORK/pub_inv"
  elapsed_ms "$p0" "$p1" >>"$WORK/plain_build"; echo >>"$WORK/plain_build"
  log "round $r/$N: save $(tail -1 "$WORK/save") ms, publish $(tail -1 "$WORK/publish") ms, first invoke $(tail -1 "$WORK/invoke") ms; plain go build $(tail -1 "$WORK/plain_build") ms"
done

# Where the last publish's build spent its time: the build log's lines with their offsets.
BUILD_LOG="$(dodil -o json draft compile-logs "$ORG:$APP" 2>/dev/null |
  jq -r 'select(.line != null and .timestampMs != null) | "\(.timestampMs) \(.line)"' 2>/dev/null |
  awk 'NR == 1 { t0 = $1 } { ts = $1; $1 = ""; printf "  +%5d ms %s\n", ts - t0, substr($0, 2, 100) }' || true)"

med() { median <"$WORK/$1"; }
SAVE=$(med save) PUBLISH=$(med publish) INVOKE=$(med invoke) TOTAL=$(med total) PUBINV=$(med pub_inv) PLAIN=$(med plain_build)
list() { paste -sd' ' "$WORK/$1"; }
PLAIN_SIZE=$(stat -c %s "$WORK/plain-hello")
GOVER="$(go env GOVERSION)"

rule
echo "Ignite bench: Go publish-to-first-response vs plain go build (issue 3)"
machine
echo "$GOVER; rounds: $N (medians; each round edits a string in main.go); warm Go cache: $IGNITE_GO_CACHE_DIR"
rule
printf '%-44s %10s ms   [%s]\n' "draft save" "$(fmt1 "$SAVE")" "$(list save)"
printf '%-44s %10s ms   [%s]\n' "draft publish (build + store + activate)" "$(fmt1 "$PUBLISH")" "$(list publish)"
printf '%-44s %10s ms   [%s]\n' "first invoke (cold start)" "$(fmt1 "$INVOKE")" "$(list invoke)"
printf '%-44s %10s ms   [%s]\n' "save + publish + first invoke" "$(fmt1 "$TOTAL")" "$(list total)"
printf '%-44s %10s ms   [%s]\n' "publish + first invoke" "$(fmt1 "$PUBINV")" "$(list pub_inv)"
printf '%-44s %10s ms   [%s]\n' "plain go build (same source and flags)" "$(fmt1 "$PLAIN")" "$(list plain_build)"
echo "(wall times of the CLI commands, each including the dodil process start)"
if [ -n "$BUILD_LOG" ]; then
  echo "last round's build log (offsets from its first line):"
  echo "$BUILD_LOG"
fi
rule
echo "RATIO publish-to-first-response / plain go build (save+publish+invoke): $(ratio "$TOTAL" "$PLAIN")x   (aim: < 1.30x)"
echo "RATIO publish + first invoke / plain go build (without save):          $(ratio "$PUBINV" "$PLAIN")x"
echo "RATIO draft publish alone / plain go build:                             $(ratio "$PUBLISH" "$PLAIN")x"
rule
echo "artifact size of the hello app (version 1, unmodified): $HELLO_SIZE bytes ($(awk -v b="$HELLO_SIZE" 'BEGIN{printf "%.2f", b/1048576}') MiB), sha256 ${HELLO_SHA:0:16}..."
echo "plain go build binary size (last edited round):         $PLAIN_SIZE bytes"
if [ "$PLAIN_UNMODIFIED_SHA" = "$HELLO_SHA" ]; then
  echo "plain build of the unmodified source is byte-identical to the platform's artifact (same sha256)"
else
  echo "plain build of the unmodified source differs from the platform's artifact (sha256 ${PLAIN_UNMODIFIED_SHA:0:16}...)"
fi
rule
