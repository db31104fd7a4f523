#!/usr/bin/env bash
# The sanitizer build (ASan+UBSan, build-asan/): builds everything with
# -DROLLBACK_SANITIZE=address,undefined (undefined behaviour stops the program) and runs in it:
# the unit tests (one process for all cases), then with CTest the integration tests against the
# sanitized `rollback` binary (each drives the binary the build made: ROLLBACK is set by CTest).
# Arguments go to ctest instead of that selection. CI (.ci/run) runs this; measured time:
# docs/benchmarks.md "Sanitizers".
#   scripts/sanitize.sh                       unit + integration tests (but those excluded below)
#   scripts/sanitize.sh -R '^unit:'           unit tests only
#   scripts/sanitize.sh -R '^integration: '   every integration test
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
# rollback_generated: the man page and completions some integration tests compare with.
cmake --build "$build" -j "$jobs" --target rollback unit_tests rollback_generated >&2
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
# A library leak on a broken connection, explained in the file.
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/scripts/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$build"
if [ $# -eq 0 ]; then
  # Integration tests left out of the default run, each for a reason:
  #   deb_package    packs this build tree into a .deb and installs it on the machine with dpkg:
  #                  packaging, which the plain build's run checks; no engine code beyond --version
  #   replay_memory  pins replay memory under `ulimit -v`, which ASan's shadow memory cannot run
  #                  under (the test skips itself on a sanitized binary; here it is not even listed)
  #   monitor_shared*, monitor_restart, monitor_reload_lateness, remote_*
  #                  monitors sharing PostgreSQL killed, paused and restarted, a monitor restarted,
  #                  fleets over sshd: minutes of waiting on leases, restarts and ssh for little
  #                  engine code of their own (monitor_shared alone 178 s and monitor_restart
  #                  108 s of this step's 23 minutes in CI, 2026-12-06; none of them had a
  #                  sanitizer finding there). Their code stays sanitized in the unit tests (monitor loop
  #                  and leadership with fakes, inventories, remote steps with fakes).
  #   run_basics     268 s sanitized in that run, most of it `validate` of the 400+ invalid TOML
  #                  documents of tests/data/toml-invalid, which scripts/fuzz.sh feeds to
  #                  fuzz_config (ASan+UBSan) as seeds
  # The unit tests run as one process: CTest would start the sanitized binary once per case
  # (565 starts).
  echo "== unit tests (sanitized, one process)" >&2
  ./unit_tests
  set -- -R '^integration: ' \
    -E '^integration: (deb_package|replay_memory|monitor_shared.*|monitor_restart|monitor_reload_lateness|remote_.*|run_basics)$'
fi
ctest --output-on-failure -j "$jobs" --timeout 900 "$@"
