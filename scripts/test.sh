#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, runs every test (CTest).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" >/dev/null
build=${ROLLBACK_BUILD_DIR:-$root/build}
cd "$build"
ctest --output-on-failure -j "${ROLLBACK_JOBS:-$(nproc)}" --timeout 900 "$@"
