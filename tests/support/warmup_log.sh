# SPDX-License-Identifier: MIT
# Sourced by tests/integration/monitor_warmup_*.sh (after itest.sh): a log generator and a
# monitor over its access log (docs/decision.md "trigger and monitor", Warm-up).
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 125; }
cd "$WORK"
# gen.py LOG SECONDS RATE: combined log lines at RATE/s, the 5xx share read from ./ctl (< 0: silence)
cat > gen.py <<'PY'
import datetime, random, sys, time
log, dur, rate = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
rnd = random.Random(1)
end = time.time() + dur
f = open(log, 'a', buffering=1)
while time.time() < end:
    try:
        p = float(open('ctl').read().strip())
    except Exception:
        p = 0.0
    if p >= 0:
        now = datetime.datetime.now(datetime.timezone.utc)
        st = 500 if rnd.random() < p else 200
        f.write(f'127.0.0.1 - - [{now.strftime("%d/%b/%Y:%H:%M:%S %z")}] "POST /c HTTP/1.1" '
                f'{st} 12 "-" "t" 0.0{rnd.randint(10, 99)}\n')
    time.sleep(1 / rate)
PY
write_config() { # for cooldown [max_missed]
    cat > rollback.toml <<TOML
[target]
name = "shop"
state_dir = "st"
[source.web]
kind = "access_log"
path = "access.log"
format = "combined_request_time"
interval = "1s"
max_lateness = "1s"
[[condition]]
name = "err"
signal = "web.error_rate"
window = "6s"
above = 0.05
min_requests = 10
for = "$1"
max_missed = ${3:-0}
resolve_after = "3s"
[decision]
mode = "observe"
interval = "1s"
cooldown = "$2"
TOML
}
gen_pid=""; mon_pid=""
on_exit 'kill $gen_pid $mon_pid 2>/dev/null || true'
start_gen() { # seconds: the log exists when it returns (a missing log is paged: no_data)
    rm -f access.log
    timeout 60 python3 gen.py access.log "$1" 20 & gen_pid=$!
    for _ in $(seq 50); do [ -s access.log ] && return 0; sleep 0.1; done
    fail "the generator wrote nothing"
}
start_monitor() { "$RB" monitor -c rollback.toml >> "$1" 2>&1 & mon_pid=$!; }
stop_monitor() { kill -TERM "$mon_pid"; wait "$mon_pid" 2>/dev/null || true; }
count() { grep -c -- "$2" "$1" || true; }

