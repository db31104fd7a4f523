#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 10, break-it 25/10 and 25/01 (check --replay, the monitor's Evaluator; ~2 s):
#  - an incident that acted does not swallow the next release's outage: a deploy marker of a
#    new release ends it, and missed ticks alone for longer than resolve_after and the cooldown
#    end it (a quiet night, a gap in a series);
#  - a condition in shadow mode (mode = "observe") or mode "confirm" never changes what a
#    production (auto) condition does: only executed triggers start the cooldown and cover.
source "$(dirname "$0")/../support/itest.sh"
command -v python3 > /dev/null || exit 125
cd "$WORK"

cat > gen.py <<'PY'
import datetime as dt, sys
# 10 req/s; `spans` of (start s, duration s, 5xx share) from 2026-12-06T00:00:00Z
t0 = dt.datetime(2026, 12, 6, 0, 0, tzinfo=dt.timezone.utc)
out = sys.argv[1]
with open(out, "w") as f:
    for span in sys.argv[2:]:
        start, dur, share = span.split(":")
        for i in range(int(dur) * 10):
            ts = t0 + dt.timedelta(seconds=int(start) + i / 10)
            st = 500 if (i % 10) < 10 * float(share) else 200
            f.write(f'10.0.0.1 - - [{ts.strftime("%d/%b/%Y:%H:%M:%S +0000")}] '
                    f'"GET /checkout HTTP/1.1" {st} 1 "-" "x" 0.010\n')
PY
conf() { # name, conditions...
    { printf '[target]\nname = "shop"\nstate_dir = "st"\n[source.web]\nkind = "access_log"\n'
      printf 'path = "access.log"\nformat = "combined_request_time"\ninterval = "10s"\n'
      printf 'max_lateness = "5s"\n'
      cat
      printf '[decision]\nmode = "%s"\ninterval = "10s"\ncooldown = "1h"\n' "${2:-auto}"; } > "$1"
}
rule() { # name, above, [mode]
    printf '[[condition]]\nname = "%s"\nsignal = "web.error_rate"\nwindow = "1m"\n' "$1"
    printf 'above = %s\nmin_requests = 20\nfor = "30s"\n' "$2"
    [ -z "${3:-}" ] || printf 'mode = "%s"\n' "$3"
}
executed() { python3 -c 'import sys, json
print(sum(1 for l in sys.stdin if (r := json.loads(l))["action"] == sys.argv[1] and r["executed"]))' "$1"; }

# 25/10: v2 fails at 00:00, a quiet night, v3 (deployed 05:55) fails from 06:00 for 10 min.
python3 gen.py access.log 0:300:0.3 21600:600:0.3
rule err 0.05 | conf one.toml
$RB check -c one.toml --replay access.log --deploy v2@2026-12-05T23:55:00Z \
    --deploy v3@2026-12-06T05:55:00Z > night.out 2>&1 || true
contains night.out "2026-12-06T06:00:50.000Z  trigger  err=firing"
pass "a quiet night and v3's marker end v2's acted incident: v3's outage triggers"
# The same without v3's marker: the quiet night (5 h, more than the cooldown) ends it.
$RB check -c one.toml --replay access.log --deploy v2@2026-12-05T23:55:00Z > gap.out 2>&1 || true
contains gap.out "2026-12-06T06:00:50.000Z  trigger  err=firing"
pass "missed ticks alone for longer than the cooldown end an acted incident"
# A marker of a new release within a short quiet spell ends the incident; one of the
# release that was running does not.
python3 gen.py access.log 0:300:0.3 600:600:0.3
$RB check -c one.toml --replay access.log --deploy v2@2026-12-05T23:55:00Z \
    --deploy v3@2026-12-06T00:08:00Z > short.out 2>&1 || true
contains short.out "2026-12-06T00:10:50.000Z  notify  err=firing"
lacks short.out "00:10:50.000Z  trigger"
pass "v3 within the cooldown: a new incident, told (cooldown), not swallowed"
$RB check -c one.toml --replay access.log --deploy v2@2026-12-05T23:55:00Z \
    --deploy v2@2026-12-06T00:08:00Z > same.out 2>&1 || true
lacks same.out "00:10:50.000Z  notify"
lacks same.out "00:10:50.000Z  trigger"
pass "a marker of the same release leaves the incident open"

# 25/01: a shadow rule (stricter or the same) and a confirm rule beside the production rule.
python3 gen.py access.log 0:300:0 300:600:0.3
rule err 0.05 | conf prod.toml
{ rule err-new 0.02 observe; rule err 0.05; } | conf stricter.toml
{ rule err-new 0.05 observe; rule err 0.05; } | conf same.toml
{ rule err-new 0.02 confirm; rule err 0.05; } | conf confirm.toml
want=$({ $RB check -c prod.toml --replay access.log --json 2> /dev/null || true; } | executed trigger)
[ "$want" = 1 ] || fail "the production rule alone: $want executed triggers, expected 1"
for f in stricter same confirm; do
    n=$({ $RB check -c $f.toml --replay access.log --json 2> /dev/null || true; } | executed trigger)
    [ "$n" = 1 ] || fail "$f.toml: $n executed triggers, expected 1 (the production rule's)"
done
$RB check -c stricter.toml --replay access.log > stricter.out 2>&1 || true
contains stricter.out "00:05:50.000Z  trigger (not executed: observe)"
contains stricter.out "00:06:00.000Z  trigger  err-new=firing"
pass "a shadow or confirm rule does not change the production rule's trigger"

# Global mode confirm, two conditions: the second one's incident asks for its own approval.
{ rule slow 0.02; rule err 0.2; } | conf two.toml confirm
python3 gen.py access.log 0:300:0 300:120:0.1 420:600:0.3
$RB check -c two.toml --replay access.log --json 2> /dev/null > two.json || true
n=$(executed request_approval < two.json)
[ "$n" = 2 ] || fail "two incidents in mode confirm: $n approval requests, expected 2"
pass "an approval request covers no later incident of another condition"
