#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan, build-fuzz/) and runs each for SECONDS
# (default 60), seeded from tests/fuzz/seeds, tests/fixtures, the shipped playbooks and
# tests/data when present. First every regression input of tests/fuzz/regressions/<target>/ is
# run once. A crash, a leak, a timeout (10 s per input) or undefined behaviour fails the script;
# the input is kept in build-fuzz/crashes/<target>/ (add it to tests/fuzz/regressions/<target>/
# with a name saying what it is). Prints one line per target: runs, runs/s, crashes.
#   scripts/fuzz.sh [SECONDS] [TARGET...]      e.g. scripts/fuzz.sh 60 fuzz_csv
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
shift || true
build=${ROLLBACK_FUZZ_BUILD_DIR:-$root/build-fuzz}
jobs=${ROLLBACK_JOBS:-$(nproc)}
all_targets=(fuzz_playbook fuzz_config fuzz_access_log fuzz_csv fuzz_journal fuzz_prometheus
             fuzz_alertmanager fuzz_inventory fuzz_shell_text fuzz_promql fuzz_toml_tree)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")

if [ ! -f "$build/build.ninja" ]; then
  CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
    -DROLLBACK_FUZZ=ON -DBUILD_TESTING=OFF >&2
fi
cmake --build "$build" -j "$jobs" --target "${targets[@]}" >&2

# Seeds per target: its own, plus the repository's inputs of that kind.
seed_dirs() {
  local t=${1#fuzz_}
  echo "$root/tests/fuzz/seeds/$t"
  case $t in
    playbook) echo "$root/tests/fixtures/playbooks" "$root/playbooks" "$root/examples/hello" ;;
    config) [ -d "$root/tests/data/toml-invalid" ] && echo "$root/tests/data/toml-invalid" ;;
    toml_tree) echo "$root/tests/fixtures/playbooks" "$root/playbooks" "$root/examples/hello"
               [ -d "$root/tests/data/toml-invalid" ] && echo "$root/tests/data/toml-invalid" ;;
    csv) [ -d "$root/tests/data/nab" ] && echo "$root/tests/data/nab" ;;
  esac
  return 0
}

status=0
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
for t in "${targets[@]}"; do
  bin="$build/$t"
  corpus="$build/corpus/$t"
  crashes="$build/crashes/$t"
  mkdir -p "$corpus" "$crashes"
  regressions=("$root/tests/fuzz/regressions/${t#fuzz_}"/*)
  if [ -e "${regressions[0]}" ]; then
    if ! "$bin" -rss_limit_mb=2048 -timeout=10 "${regressions[@]}" >"$build/$t.regressions.log" 2>&1; then
      echo "$t: a regression input fails again (log: $build/$t.regressions.log)" >&2
      status=1
      continue
    fi
  fi
  seeds=()
  for d in $(seed_dirs "$t"); do
    [ -d "$d" ] && seeds+=("$d")
  done
  log="$build/$t.log"
  if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 -artifact_prefix="$crashes/" "$corpus" "${seeds[@]}" >"$log" 2>&1; then
    result=ok
  else
    result="CRASH (see $log; input in $crashes/)"
    status=1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  printf '%-16s %10s runs %8s runs/s in %ss: %s\n' "$t" "$runs" "$rate" "$seconds" "$result"
done
exit $status
