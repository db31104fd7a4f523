#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The shared state in PostgreSQL against the local state directory (issue 14's benchmark), on a
# throwaway PostgreSQL 15 cluster (tests/support/pg_throwaway.sh; PG_DURABLE=1 by default: fsync
# and synchronous_commit on, as the local journal's fdatasync). Not run by CTest.
#  1. `rollback run` of a playbook of STEPS `exec` steps of `true`, REPS times, the two stores in
#     turn: wall and CPU (user+sys of the process tree) medians, the ratio PostgreSQL/local pair
#     by pair, and from each run's own journal the time per step (one step_started to the next:
#     the step's three records, the child, the engine), with the server's transactions per
#     record.
#  2. `rollback monitor` idle (one command source, 1 s ticks, mode observe) for SECONDS_RUN
#     seconds after 5 s of start-up, MON_REPS times per store in turn: the monitor's CPU per tick
#     (utime+stime of its process and children, /proc), its resident memory (VmRSS at the end,
#     VmHWM), and with PostgreSQL the server backends' CPU over the same span.
#   ROLLBACK=build/rollback STEPS=200 REPS=5 SECONDS_RUN=30 MON_REPS=3 tests/bench/pg_state_bench.sh
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
RB=${ROLLBACK:-$SRC/build/rollback}
STEPS=${STEPS:-200}
REPS=${REPS:-5}
SECONDS_RUN=${SECONDS_RUN:-30}
MON_REPS=${MON_REPS:-3}
BIN=/usr/lib/postgresql/15/bin
[ -x "$BIN/initdb" ] || { echo "PostgreSQL 15 (initdb) missing" >&2; exit 125; }

work=$(mktemp -d /tmp/rbpgb.XXXXXX)
PG_BASE=$(mktemp -d /tmp/rbpgc.XXXXXX)
export PG_BASE PG_PORT=${PG_PORT:-54371} PG_DURABLE=${PG_DURABLE:-1}
trap 'bash "$SRC/tests/support/pg_throwaway.sh" destroy; rm -rf "$work"' EXIT
bash "$SRC/tests/support/pg_throwaway.sh" start
DSN="postgresql://rollback@/postgres?host=$PG_BASE&port=$PG_PORT"

for store in local pg; do
    d=$work/$store
    mkdir -p "$d"
    echo 1 >"$d/value"
    {
        echo '[target]'
        echo 'name = "bench"'
        if [ "$store" = pg ]; then
            printf '[state]\ndsn = "%s"\nschema = "bench_state"\n' "$DSN"
        fi
        cat <<'TOML'
[source.v]
kind = "command"
argv = ["cat", "value"]
[[condition]]
name = "v"
signal = "v.value"
above = 5
[decision]
interval = "1s"
mode = "observe"
TOML
    } >"$d/rollback.toml"
    {
        printf '[playbook]\nname = "bench"\n'
        for i in $(seq 1 "$STEPS"); do
            printf '[[step]]\nid = "s%d"\naction = "exec"\nargv = ["true"]\n' "$i"
        done
    } >"$d/gen.toml"
done
(cd "$work/pg" && "$RB" state init >/dev/null)

python3 - "$RB" "$work" "$STEPS" "$REPS" "$SECONDS_RUN" "$MON_REPS" "$BIN/psql" "$PG_BASE" "$PG_PORT" <<'PY'
import json, os, resource, signal, statistics as st, subprocess, sys, time
from datetime import datetime
rb, work, steps, reps, secs, mon_reps, psql, pg_base, pg_port = sys.argv[1:]
steps, reps, secs, mon_reps = int(steps), int(reps), float(secs), int(mon_reps)
tick = os.sysconf("SC_CLK_TCK")

def q(sql):
    return subprocess.run([psql, "-X", "-q", "-tA", "-h", pg_base, "-p", pg_port, "-U", "rollback",
                           "-d", "postgres", "-c", sql], check=True, capture_output=True,
                          text=True).stdout.strip()

def xacts():
    return int(q("SELECT xact_commit FROM pg_stat_database WHERE datname = 'postgres'"))

def child_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime

def journal_lines(store, run_id):
    if store == "local":
        with open(os.path.join(work, "local", ".rollback", "runs", run_id + ".jsonl")) as f:
            return [l for l in f.read().splitlines() if l]
    return q("SELECT line FROM bench_state.journal WHERE run_id = '%s' ORDER BY seq" % run_id).splitlines()

def latest_run(store):
    if store == "local":
        d = os.path.join(work, "local", ".rollback", "runs")
        return sorted(f[:-6] for f in os.listdir(d) if f.endswith(".jsonl"))[-1]
    return q("SELECT run_id FROM bench_state.journal WHERE seq = 0 ORDER BY run_id DESC LIMIT 1")

def t(rec):
    return datetime.strptime(rec["time"], "%Y-%m-%dT%H:%M:%S.%fZ").timestamp() * 1000

def per_step(lines):
    """ms per step from the run's own journal: one step_started to the next (the step's three
    records — step_started, step_process, step_finished — their appends, the child, the engine)."""
    starts = [t(r) for r in map(json.loads, lines) if r.get("type") == "step_started"]
    return st.median(b - a for a, b in zip(starts, starts[1:])), len(lines)

res = {"local": [], "pg": []}
for rep in range(reps + 1):  # the first pair warms up
    for store in ("local", "pg"):
        d = os.path.join(work, store)
        x0 = xacts() if store == "pg" else 0
        c0, w0 = child_cpu(), time.monotonic()
        p = subprocess.run([rb, "run", "-p", "gen.toml", "--yes", "--reason", "bench"], cwd=d,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall, cpu = (time.monotonic() - w0) * 1000, (child_cpu() - c0) * 1000
        if p.returncode != 0:
            sys.exit(f"{store} run exited {p.returncode}")
        time.sleep(1.2)  # the server's statistics of the run's backend
        step_ms, nrec = per_step(journal_lines(store, latest_run(store)))
        if nrec != 3 * steps + 3:
            sys.exit(f"{store} run wrote {nrec} records, not {3 * steps + 3}")
        x = (xacts() - x0) if store == "pg" else 0
        if rep > 0:
            res[store].append((wall, cpu, step_ms, x / nrec))

def med(store, k):
    return st.median(v[k] for v in res[store])

def ratio(k):
    return st.median(p[k] / l[k] for p, l in zip(res["pg"], res["local"]))

print(f"rollback run, {steps} exec steps of `true`, medians of {reps} pairs (after 1 warm-up pair)")
print("| | wall ms | wall ms/step | CPU ms | CPU ms/step | journal ms/step | server transactions/record |")
print("|---|---|---|---|---|---|---|")
for store, name in (("local", "local state directory"), ("pg", "PostgreSQL")):
    print(f"| {name} | {med(store, 0):.0f} | {med(store, 0) / steps:.2f} | {med(store, 1):.0f} | "
          f"{med(store, 1) / steps:.2f} | {med(store, 2):.2f} | "
          f"{'%.2f' % med(store, 3) if store == 'pg' else '—'} |")
print(f"| PostgreSQL / local (pair by pair) | {ratio(0):.2f} | | {ratio(1):.2f} | | {ratio(2):.2f} | |")
print(f"per-step overhead of PostgreSQL over local: wall {(med('pg', 0) - med('local', 0)) / steps:.2f} ms, "
      f"CPU {(med('pg', 1) - med('local', 1)) / steps:.2f} ms; one journal append (the journal's "
      f"per-step difference / 3 records): {(med('pg', 2) - med('local', 2)) / 3:.2f} ms more")

def proc_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / tick  # utime stime cutime cstime

def status_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for l in f:
            if l.startswith(key + ":"):
                return int(l.split()[1])

def backends():
    with open(os.path.join(pg_base, "data", "postmaster.pid")) as f:
        pm = f.readline().strip()
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", pm], capture_output=True, text=True).stdout
    cpu = {}
    for pid in out.split():
        try:
            cpu[pid] = proc_cpu(pid)
        except OSError:
            pass
    return cpu

if mon_reps == 0:
    sys.exit(0)
mon = {"local": [], "pg": []}
for rep in range(mon_reps):
    for store in ("local", "pg"):
        d = os.path.join(work, store)
        p = subprocess.Popen([rb, "monitor"], cwd=d, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(5)
        b0, c0 = backends(), proc_cpu(p.pid)
        time.sleep(secs)
        c1, b1 = proc_cpu(p.pid), backends()
        rss, hwm = status_kb(p.pid, "VmRSS"), status_kb(p.pid, "VmHWM")
        p.send_signal(signal.SIGTERM)
        p.wait()
        server = sum(v - b0.get(k, 0.0) for k, v in b1.items()) if store == "pg" else 0.0
        mon[store].append(((c1 - c0) / secs * 1000, rss / 1024, hwm / 1024, server / secs * 1000))

def mmed(store, k):
    return st.median(v[k] for v in mon[store])

print(f"\nrollback monitor idle, 1 s ticks, {secs:.0f} s after 5 s of start-up, medians of {mon_reps}")
print("| | CPU ms per tick (monitor + its children) | server backends' CPU ms per tick | VmRSS MB | VmHWM MB |")
print("|---|---|---|---|---|")
for store, name in (("local", "local state directory"), ("pg", "PostgreSQL")):
    print(f"| {name} | {mmed(store, 0):.2f} | {'%.2f' % mmed(store, 3) if store == 'pg' else '—'} | "
          f"{mmed(store, 1):.1f} | {mmed(store, 2):.1f} |")
r = st.median(p[0] / l[0] for p, l in zip(mon["pg"], mon["local"]))
print(f"| PostgreSQL / local (pair by pair) | {r:.2f} | | | |")
PY
