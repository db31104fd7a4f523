#!/usr/bin/env bash
# Configures and builds into build/ (RelWithDebInfo, warnings as errors). Prints the binary path.
# ROLLBACK_BUILD_TARGET=rollback builds only the binary (the demo), not the tests.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${ROLLBACK_BUILD_DIR:-$root/build}
jobs=${ROLLBACK_JOBS:-$(nproc)}
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2
fi
cmake --build "$build" -j "$jobs" ${ROLLBACK_BUILD_TARGET:+--target "$ROLLBACK_BUILD_TARGET"} >&2
echo "$build/rollback"
