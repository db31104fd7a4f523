# SPDX-License-Identifier: MIT
# One `rollback monitor` serving HTTP on a free loopback port, for the tests of its Alertmanager
# receiver, /healthz and /metrics, and the configuration the monitor tests share. Source it after
# itest.sh, in $WORK. Sets `port` and `base`; skips the test (exit 125) without curl.
command -v curl >/dev/null || { echo "skip: curl not installed"; exit 125; }
port=$(free_port)
base=http://127.0.0.1:$port

# alert_config MATCH [DECISION_LINE...]: writes rollback.toml: target "shop", one `alert` condition
# "shop-errors" matching the labels MATCH (the inside of a TOML inline table), the server on $port,
# and a [decision] with the lines given (e.g. 'mode = "auto"' 'playbook = "pb.toml"').
alert_config() {
    local match=$1 line; shift
    {
        printf '[target]\nname = "shop"\n[[condition]]\nname = "shop-errors"\nkind = "alert"\n'
        printf 'match = { %s }\n[server]\nlisten = "127.0.0.1:%s"\n[decision]\n' "$match" "$port"
        for line in "$@"; do printf '%s\n' "$line"; done
    } > rollback.toml
}

# revert_playbook: pb.toml, playbook "revert" of one step "mark" that adds a line to runs.txt
# (what `runs` counts).
revert_playbook() {
    cat >pb.toml <<TOML
[playbook]
name = "revert"
[[step]]
id = "mark"
action = "exec"
argv = ["sh", "-c", "echo ran >> $WORK/runs.txt"]
TOML
}

# web_errors_config LATENESS: prints the first part of a rollback.toml that watches access.log:
# target "shop" (state_dir st), source web (access_log, format combined_request_time, read each
# second, lines up to LATENESS late) and condition "err": web.error_rate above 5 % over 5 s, with
# at least 10 requests, for 3 s. The test appends the rest (other sources, [decision], [server]).
web_errors_config() {
    cat <<TOML
[target]
name = "shop"
state_dir = "st"
[source.web]
kind = "access_log"
path = "access.log"
format = "combined_request_time"
interval = "1s"
max_lateness = "$1"
[[condition]]
name = "err"
signal = "web.error_rate"
window = "5s"
above = 0.05
min_requests = 10
for = "3s"
TOML
}

# recording_hook NAME: hooks/NAME, a hook that appends what it is told (its standard input) and a
# newline to events.jsonl.
recording_hook() {
    mkdir -p hooks
    cat >"hooks/$1" <<'SH'
#!/bin/sh
cat >> "$(dirname "$0")/../events.jsonl"; echo >> "$(dirname "$0")/../events.jsonl"
SH
    chmod +x "hooks/$1"
}

# start_monitor LOG: starts `rollback monitor -c rollback.toml` (stdout and stderr to LOG, stopped
# at exit) and waits until /healthz answers (5 s, or the test fails); sets `mon`.
start_monitor() {
    "$RB" monitor -c rollback.toml >"$1" 2>&1 &
    mon=$!
    stop_on_exit $mon
    listening || { cat "$1"; fail "the monitor did not listen"; }
}
listening() { for _ in $(seq 1 50); do curl -s -o /dev/null "$base/healthz" && return 0; sleep 0.1; done; return 1; }

# am_alert STATUS FINGERPRINT [STARTS [ENDS [LABELS]]]: an Alertmanager webhook notification
# (version 4) of one alert. STARTS and ENDS are RFC 3339 (default: a fixed past time, and
# Alertmanager's zero time for "no end"); LABELS is the inside of a JSON object (default: the
# alertname only).
am_alert() {
    local starts=${3:-2026-12-05T23:00:00Z} ends=${4:-0001-01-01T00:00:00Z}
    local labels=${5:-'"alertname":"HighErrorRate"'}
    printf '{"version":"4","groupKey":"g","status":"%s","receiver":"rollback","alerts":[' "$1"
    printf '{"status":"%s","labels":{%s},"annotations":{},"startsAt":"%s","endsAt":"%s",' "$1" "$labels" "$starts" "$ends"
    printf '"fingerprint":"%s"}]}' "$2"
}

# post_alert BODY: POSTs BODY to the Alertmanager receiver; the test fails unless it answers 200.
post_alert() {
    local code
    code=$(curl -s -m 5 -o body.txt -w '%{http_code}' -X POST --data-binary "$1" "$base/api/v1/alertmanager")
    [ "$code" = 200 ] || fail "notification refused ($code): $(cat body.txt)"
}

# wait_for 'CONDITION': evaluates CONDITION every 0.1 s for 5 s; false if it never held.
wait_for() { for _ in $(seq 1 50); do eval "$1" && return 0; sleep 0.1; done; return 1; }
# runs: lines in runs.txt (the test playbooks append one per run); events NAME: monitor.jsonl lines
# of that event (0 before the file exists).
runs() { if [ -f runs.txt ]; then wc -l < runs.txt; else echo 0; fi; }
events() { local n; n=$(grep -c "\"event\":\"$1\"" .rollback/monitor.jsonl 2>/dev/null) || true; echo "${n:-0}"; }
