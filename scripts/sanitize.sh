#!/usr/bin/env bash
# The sanitizer build (ASan+UBSan, build-asan/): builds everything with
# -DROLLBACK_SANITIZE=address,undefined (undefined behaviour stops the program) and runs CTest in
# it. Arguments go to ctest; default: the unit tests (`-R '^unit: '`). CI (.ci/run) runs this.
#   scripts/sanitize.sh                       unit tests
#   scripts/sanitize.sh -R '^integration: '  integration tests against the sanitized binary
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${ROLLBACK_SANITIZE_BUILD_DIR:-$root/build-asan}
jobs=${ROLLBACK_JOBS:-$(nproc)}
if [ ! -f "$build/build.ninja" ]; then
  # -O1 -g1 (line tables): much less compile time than RelWithDebInfo, stacks still named.
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
    -DROLLBACK_SANITIZE=address,undefined >&2
fi
cmake --build "$build" -j "$jobs" --target rollback unit_tests >&2
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$build"
[ $# -gt 0 ] || set -- -R '^unit:'
ctest --output-on-failure -j "$jobs" --timeout 900 "$@"
