#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Playbook-runner benchmark (issues #2 and #3): a generated N-step playbook of `/bin/true`, timed in
# one interleaved run as
#   (a)  `rollback run -p gen.toml --yes`, state dir on disk (the journal fdatasyncs every record),
#   (a') the same with the state dir on tmpfs (/dev/shm: fdatasync costs ~nothing) -> journal share,
#   (b)  a bash script running the same N commands, one per line (the floor),
#   (c)  `ansible-playbook` with N `ansible.builtin.command: /bin/true` tasks (fewer repetitions),
# plus a raw write+fdatasync loop (dd oflag=dsync) on the same two file systems, and the cold start
# of `rollback plan -p gen.toml` (hyperfine if installed, else a bash loop). Reports medians of wall
# time and of CPU time (user+sys of the whole process tree): on a loaded machine the wall time is
# mostly waiting for a CPU after every blocking point, the CPU time is not.
# Not run by CTest. Usage:
#   tests/bench/runner_bench.sh [path/to/rollback]          (default: build/rollback)
# Environment: STEPS (200), REPS (7), ANSIBLE_REPS (3, 0 = skip), ANSIBLE_STEPS (= STEPS),
#   COLD_RUNS (20), WORKDIR (default: a fresh mktemp -d, removed at exit), SHM_DIR (/dev/shm).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
rb=${1:-$root/build/rollback}
[ -x "$rb" ] || { echo "runner_bench: no executable rollback at $rb (pass its path)" >&2; exit 2; }
rb=$(cd "$(dirname "$rb")" && pwd)/$(basename "$rb")
steps=${STEPS:-200}
reps=${REPS:-7}
ansible_reps=${ANSIBLE_REPS:-3}
ansible_steps=${ANSIBLE_STEPS:-$steps}
cold_runs=${COLD_RUNS:-20}
work=${WORKDIR:-$(mktemp -d "${TMPDIR:-/tmp}/runner_bench.XXXXXX")}
shm_base=${SHM_DIR:-/dev/shm}
mkdir -p "$work"
shm=""
if [ -d "$shm_base" ] && [ -w "$shm_base" ]; then
  shm=$(mktemp -d "$shm_base/runner_bench.XXXXXX")
fi
cleanup() {
  [ -n "$shm" ] && rm -rf "$shm"
  [ -z "${WORKDIR:-}" ] && rm -rf "$work"
  return 0
}
trap cleanup EXIT

# --- inputs -------------------------------------------------------------------------------------
{
  printf '[playbook]\nname = "gen"\ndescription = "%d steps of /bin/true"\n' "$steps"
  for ((i = 1; i <= steps; i++)); do
    printf '\n[[step]]\nid = "s%03d"\naction = "exec"\nargv = ["/bin/true"]\n' "$i"
  done
} > "$work/gen.toml"
{
  printf '#!/bin/bash\n'
  for ((i = 1; i <= steps; i++)); do printf '/bin/true\n'; done
} > "$work/gen.sh"
chmod +x "$work/gen.sh"
printf 'localhost ansible_connection=local\n' > "$work/inventory.ini"
{
  printf -- '- hosts: localhost\n  gather_facts: false\n  tasks:\n'
  for ((i = 1; i <= ansible_steps; i++)); do
    printf '    - name: s%03d\n      ansible.builtin.command: /bin/true\n' "$i"
  done
} > "$work/gen.yml"
have_ansible=0
if [ "$ansible_reps" -gt 0 ] && command -v ansible-playbook > /dev/null; then
  have_ansible=1
fi

# --- helpers ------------------------------------------------------------------------------------
now_us() { local t=$EPOCHREALTIME; echo "${t/./}"; } # bash 5: microseconds, no fork
median() {
  sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) { print "nan"; exit }
    print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ms() { awk -v us="$1" 'BEGIN { printf "%.1f", us / 1000 }'; }
per_step() { awk -v us="$1" -v n="$2" 'BEGIN { printf "%.3f", us / n / 1000 }'; } # ms per step
diff_per_step() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { printf "%.3f", (a - b) / n / 1000 }'; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
declare -A samples outside
# timed KEY CMD...: runs CMD (output discarded); appends its wall time and its CPU time (user+sys of
# the process tree: bash's `time` reads getrusage of the reaped children) in µs to KEY and KEY.cpu.
timed() {
  local key=$1 s e TIMEFORMAT='%3U %3S'
  shift
  s=$(now_us)
  if ! { time "$@" > /dev/null 2>&1; } 2> "$work/time.txt"; then
    echo "runner_bench: failed: $*" >&2
    return 1
  fi
  e=$(now_us)
  samples[$key]+="$((e - s)) "
  samples[$key.cpu]+="$(awk '{ printf "%.0f", ($1 + $2) * 1e6 }' "$work/time.txt") "
}
med() { tr ' ' '\n' <<< "${samples[$1]:-}" | grep . | median; }
count() { tr ' ' '\n' <<< "${samples[$1]:-}" | grep -c . || true; }
run_rb() { "$rb" run -p "$work/gen.toml" --yes --state-dir "$1"; }
# Where a run's time went, from its own journal (record times have ms resolution):
# prints "steps child_ms in_step_ms between_ms startup_ms span_ms" where child = sum of the steps'
# duration_ms (spawn .. reap, as the engine measures it), in_step = step_started..step_finished minus
# that (the started record's write+fdatasync, step setup), between = step_finished..next step_started
# (the finished record's write+fdatasync, console output), startup = header..first step_started.
split_awk='
function val(key,   i) {
  for (i = 2; i < n_parts; i++) if (p[i] == key && p[i - 1] ~ /[{,]$/) return p[i + 1] == ":" ? p[i + 2] : p[i + 1]
  return ""
}
{ n_parts = split($0, p, "\"")
  tm = val("time"); type = val("type")
  split(substr(tm, 12, 12), hms, ":"); now = (hms[1] * 3600 + hms[2] * 60 + hms[3]) * 1000
  if (seen && now < last - 43200000) day += 86400000
  last = now; now += day; if (!seen) { first = now; seen = 1 } }
type == "step_started" { if (fin != "") between += now - fin; else startup = now - first; st = now; fin = "" }
type == "step_finished" { d = val("duration_ms"); gsub(/[^0-9]/, "", d); child += d; in_step += now - st - d; fin = now; steps++ }
type == "run_finished" { span = now - first }
END { printf "%d %d %d %d %d %d\n", steps, child, in_step, between, startup, span }'
split_run() { # split_run KEY STATE_DIR: journal breakdown of the run in STATE_DIR into samples
  local j n c i b s sp
  j=$(find "$2/runs" -name '*.jsonl' | head -1)
  read -r n c i b s sp < <(awk "$split_awk" "$j")
  [ "$n" = "$steps" ] || { echo "runner_bench: $j has $n finished steps, expected $steps" >&2; exit 1; }
  samples[$1.child]+="$((c * 1000)) "
  samples[$1.in]+="$((i * 1000)) "
  samples[$1.between]+="$((b * 1000)) "
  samples[$1.startup]+="$((s * 1000)) "
  samples[$1.span]+="$((sp * 1000)) "
}
run_ansible() { # fails unless every task ran ok
  ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_LOCALHOST_WARNING=0 \
    ANSIBLE_INVENTORY_UNPARSED_WARNING=0 ansible-playbook -i "$work/inventory.ini" "$work/gen.yml" \
    > "$work/ansible.out" 2>&1 && grep -q "ok=$ansible_steps " "$work/ansible.out"
}
# N appends of a 300-byte record, each write followed by a data sync (O_DSYNC == write+fdatasync);
# count=0 times dd's own start and open, subtracted in the report.
sync_loop() {
  dd if=/dev/zero of="$1/sync.bin" bs=300 count="$2" oflag=dsync status=none
  rm -f "$1/sync.bin"
}

# --- sanity: one checked run of each ----------------------------------------------------------------
load_before=$(loadavg)
if ! "$rb" run -p "$work/gen.toml" --yes --state-dir "$work/check" > "$work/check.out" 2>&1; then
  echo "runner_bench: rollback run failed:" >&2
  tail -20 "$work/check.out" >&2
  exit 1
fi
journal=$(find "$work/check/runs" -name '*.jsonl' 2> /dev/null | head -1)
records=0
[ -n "$journal" ] && records=$(wc -l < "$journal")

# --- interleaved repetitions --------------------------------------------------------------------------
for ((r = 1; r <= reps; r++)); do
  timed bash bash "$work/gen.sh"
  timed rb_disk run_rb "$work/state-$r"
  split_run rb_disk "$work/state-$r"
  timed sync_disk sync_loop "$work" "$steps"
  timed sync_disk0 sync_loop "$work" 0
  if [ -n "$shm" ]; then
    timed rb_shm run_rb "$shm/state-$r"
    split_run rb_shm "$shm/state-$r"
    timed sync_shm sync_loop "$shm" "$steps"
    timed sync_shm0 sync_loop "$shm" 0
  fi
  if [ "$have_ansible" = 1 ] && [ "$r" -le "$ansible_reps" ]; then
    if ! timed ansible run_ansible; then
      echo "runner_bench: ansible-playbook did not run $ansible_steps tasks:" >&2
      tail -20 "$work/ansible.out" >&2
      exit 1
    fi
  fi
  rm -rf "$work/state-$r"
  [ -n "$shm" ] && rm -rf "$shm/state-$r"
done

# --- cold start of `rollback plan` ---------------------------------------------------------------
plan_cmd=("$rb" plan -p "$work/gen.toml")
"${plan_cmd[@]}" > /dev/null 2>&1 || { echo "runner_bench: rollback plan failed" >&2; exit 1; }
if command -v hyperfine > /dev/null; then
  plan_tool="hyperfine -N, $cold_runs runs after 3 warmups"
  hyperfine -N --warmup 3 --runs "$cold_runs" --export-csv "$work/plan.csv" \
    "${plan_cmd[*]}" "/bin/true" > /dev/null 2>&1
  # CSV: command,mean,stddev,median,user,system,min,max (seconds; user/system are means)
  plan_us=$(awk -F, 'NR == 2 { printf "%.0f", $4 * 1e6 }' "$work/plan.csv")
  plan_cpu_us=$(awk -F, 'NR == 2 { printf "%.0f", ($5 + $6) * 1e6 }' "$work/plan.csv")
  true_us=$(awk -F, 'NR == 3 { printf "%.0f", $4 * 1e6 }' "$work/plan.csv")
else
  plan_tool="bash loop, $cold_runs runs"
  for ((i = 0; i < cold_runs; i++)); do
    timed plan "${plan_cmd[@]}"
    timed true /bin/true
  done
  plan_us=$(med plan)
  plan_cpu_us=$(med plan.cpu)
  true_us=$(med true)
fi
load_after=$(loadavg)

# --- report -------------------------------------------------------------------------------------
bash_us=$(med bash)
bash_cpu=$(med bash.cpu)
disk_us=$(med rb_disk)
disk_cpu=$(med rb_disk.cpu)
rps=$(awk -v r="$records" -v n="$steps" 'BEGIN { printf "%.2f", r / n }')
echo "runner_bench: $steps steps of /bin/true, $reps interleaved repetitions, medians; $(nproc) cores"
echo "  rollback: $rb ($("$rb" --version 2> /dev/null | head -1))"
echo "  journal: $records records per run ($rps per step), each one write; synced before every step start (one fdatasync per step)"
echo "  work dir: $work ($(df -T "$work" | awk 'NR == 2 { print $2 }'))${shm:+; tmpfs dir: $shm}"
echo "  load average before: $load_before; after: $load_after"
echo
fmt="%-46s %9s %8s %10s %9s %8s %10s\n"
printf "$fmt" "" "wall" "wall/" "wall/step" "cpu" "cpu/" "cpu/step"
printf "$fmt" "what" "total ms" "step ms" "over bash" "total ms" "step ms" "over bash"
row() { # row LABEL KEY STEPS
  local w c
  w=$(med "$2")
  c=$(med "$2.cpu")
  printf "$fmt" "$1" "$(ms "$w")" "$(per_step "$w" "$3")" "$(diff_per_step "$w" "$bash_us" "$3")" \
    "$(ms "$c")" "$(per_step "$c" "$3")" "$(diff_per_step "$c" "$bash_cpu" "$3")"
}
row "(b) bash script, $steps lines of /bin/true" bash "$steps"
row "(a) rollback run, state dir on disk" rb_disk "$steps"
[ -n "$shm" ] && row "(a') rollback run, state dir on tmpfs" rb_shm "$steps"
[ "$have_ansible" = 1 ] && row "(c) ansible-playbook, $ansible_steps tasks ($(count ansible) runs)" ansible "$ansible_steps"
echo
echo "where rollback's wall time goes (from its journals; ms per step unless marked):"
fmt2="%-46s %9s %9s\n"
printf "$fmt2" "" "disk" "${shm:+tmpfs}"
brow() { # brow LABEL SUFFIX [total]
  local d t=""
  if [ "${3:-}" = total ]; then
    d=$(ms "$(med "rb_disk.$2")")
    [ -n "$shm" ] && t=$(ms "$(med "rb_shm.$2")")
  else
    d=$(per_step "$(med "rb_disk.$2")" "$steps")
    [ -n "$shm" ] && t=$(per_step "$(med "rb_shm.$2")" "$steps")
  fi
  printf "$fmt2" "$1" "$d" "$t"
}
brow "  child: spawn .. reap (step duration_ms)" child
brow "  in step, outside the child (start record)" in
brow "  between steps (finish record, console)" between
brow "  journal header .. first step (ms total)" startup total
brow "  journal header .. run_finished (ms total)" span total
for k in rb_disk rb_shm; do # wall time outside the journal: exec, load, parse, open; exit
  [ -n "${samples[$k]:-}" ] && outside[$k]=$(ms "$(awk -v w="$(med "$k")" -v s="$(med "$k.span")" 'BEGIN { print w - s }')")
done
printf "$fmt2" "  process start + exit, outside the journal (ms)" "${outside[rb_disk]}" "${outside[rb_shm]:-}"
dsync_disk=$(awk -v a="$(med sync_disk)" -v b="$(med sync_disk0)" -v n="$steps" 'BEGIN { printf "%.3f", (a - b) / n / 1000 }')
printf "$fmt2" "  raw write+fdatasync of 300 B (dd dsync)" "$dsync_disk" \
  "$([ -n "$shm" ] && awk -v a="$(med sync_shm)" -v b="$(med sync_shm0)" -v n="$steps" 'BEGIN { printf "%.3f", (a - b) / n / 1000 }')"
printf "$fmt2" "  bash: fork+exec+wait of /bin/true" "$(per_step "$bash_us" "$steps")" ""
echo
echo "summary:"
echo "  rollback over bash, per step: wall $(diff_per_step "$disk_us" "$bash_us" "$steps") ms," \
  "cpu $(diff_per_step "$disk_cpu" "$bash_cpu" "$steps") ms (goal <= 1 ms)"
if [ -n "$shm" ]; then
  shm_us=$(med rb_shm)
  echo "  journal fdatasync share (run on disk - run on tmpfs), per step: wall" \
    "$(diff_per_step "$disk_us" "$shm_us" "$steps") ms; raw: $rps records x $dsync_disk ms" \
    "= $(awk -v r="$rps" -v d="$dsync_disk" 'BEGIN { printf "%.3f", r * d }') ms"
fi
if [ "$have_ansible" = 1 ]; then
  ans_us=$(med ansible)
  ans_cpu=$(med ansible.cpu)
  echo "  ansible per step / rollback per step: wall $(awk -v a="$ans_us" -v na="$ansible_steps" -v r="$disk_us" -v n="$steps" \
    'BEGIN { printf "%.0fx", (a / na) / (r / n) }'), cpu $(awk -v a="$ans_cpu" -v na="$ansible_steps" -v r="$disk_cpu" -v n="$steps" \
    'BEGIN { printf "%.0fx", (a / na) / (r / n) }') (goal >= 100x)"
else
  echo "  ansible-playbook: skipped (not installed, or ANSIBLE_REPS=0)"
fi
echo "  cold start, rollback plan -p gen.toml ($plan_tool): median wall $(ms "$plan_us") ms," \
  "cpu $(ms "$plan_cpu_us") ms (goal <= 20 ms); /bin/true: $(ms "$true_us") ms"
exit 0
