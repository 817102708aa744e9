# Shared by up.sh and test.sh: install what is missing, then configure and build.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${IGNITE_BUILD_DIR:-$REPO/build}"

# Debian bookworm packages the build and tests need. Boost must be 1.81 (1.74 lacks Boost.URL).
DEB_PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libboost1.81-dev libboost-url1.81-dev
  libprotobuf-dev protobuf-compiler
  nlohmann-json3-dev libcli11-dev libyaml-cpp-dev
  libsqlite3-dev libarchive-dev libssl-dev
  libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-pip
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
  if ! python3 -m pytest --version >/dev/null 2>&1; then
    echo "==> installing pytest"
    python3 -m pip install -q pytest || python3 -m pip install -q --break-system-packages pytest
  fi
}

build_all() {
  echo "==> building in $BUILD_DIR"
  cmake -S "$REPO" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="${IGNITE_BUILD_TYPE:-RelWithDebInfo}" >/dev/null
  cmake --build "$BUILD_DIR"
}
