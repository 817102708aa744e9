#!/usr/bin/env bash
# Quick start, step 2: install what is missing, build, and run every test: C++ unit tests, the Go SDK's tests
# and the end-to-end tests (real ignited, real CLI, real Go toolchain), all through ctest.
source "$(dirname "$0")/lib.sh"
install_missing
install_test_tools
build_all
cd "$BUILD_DIR"
ctest --output-on-failure --timeout 1200 -j "$(nproc)" "$@"
