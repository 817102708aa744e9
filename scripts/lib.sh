# Shared by up.sh and test.sh: install what is missing, then configure and build.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${IGNITE_BUILD_DIR:-$REPO/build}"

# Debian bookworm packages the build and tests need. Boost must be 1.81 (1.74 lacks Boost.URL).
DEB_PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates curl
  libboost1.81-dev libboost-url1.81-dev
  libprotobuf-dev protobuf-compiler libgrpc++-dev protobuf-compiler-grpc
  nlohmann-json3-dev libcli11-dev libyaml-cpp-dev libvalijson-dev
  libsqlite3-dev libarchive-dev libssl-dev
  libspdlog-dev libfmt-dev
  libseccomp-dev slirp4netns bubblewrap
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-pip
  python3.11  # the Python code path's interpreter (docs/runtimes/python.md); pip comes from python3-pip
  skopeo umoci  # container images: pull and unpack (docs/runtimes/image.md)
  docker-registry  # tests: a registry on loopback (CNCF distribution)
)

install_missing() {
  local missing=()
  for p in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "==> installing: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
  if ! command -v go >/dev/null 2>&1; then
    if [ -x /usr/local/go/bin/go ]; then
      export PATH="/usr/local/go/bin:$PATH"
    else
      echo "Go 1.26 is required (the platform builds user code with it): install it from the Go downloads page" >&2
      echo "into /usr/local/go, then run this again." >&2
      exit 1
    fi
  fi
  if ! python3 -c 'import pytest, yaml' >/dev/null 2>&1; then
    echo "==> installing pytest and PyYAML (end-to-end tests)"
    python3 -m pip install -q pytest pyyaml || python3 -m pip install -q --break-system-packages pytest pyyaml
  fi
}

# Tools the tests use that Debian does not package, built with the Go toolchain into a cache outside the tree
# (kept across clean clones; set IGNITE_TOOLS_DIR to move it).
TOOLS_DIR="${IGNITE_TOOLS_DIR:-$HOME/.cache/ignite/tools}"
GRPCURL_VERSION=v1.9.3
install_test_tools() {
  export IGNITE_GRPCURL="$TOOLS_DIR/grpcurl-$GRPCURL_VERSION"
  if [ ! -x "$IGNITE_GRPCURL" ]; then
    echo "==> installing grpcurl $GRPCURL_VERSION (gRPC end-to-end tests)"
    mkdir -p "$TOOLS_DIR"
    local gobin
    gobin="$(mktemp -d)"
    GOBIN="$gobin" go install "github.com/fullstorydev/grpcurl/cmd/grpcurl@$GRPCURL_VERSION"
    mv "$gobin/grpcurl" "$IGNITE_GRPCURL"
    rmdir "$gobin"
  fi
}

build_all() {
  echo "==> building in $BUILD_DIR"
  # IGNITE_WERROR=ON (CI sets it) makes compiler warnings errors.
  cmake -S "$REPO" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="${IGNITE_BUILD_TYPE:-RelWithDebInfo}" \
    -DIGNITE_WERROR="${IGNITE_WERROR:-OFF}" >/dev/null
  cmake --build "$BUILD_DIR"
}
