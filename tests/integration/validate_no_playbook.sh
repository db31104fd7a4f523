#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Break-it 44/08: a config whose conditions can decide a trigger (mode auto or confirm, severity
# above warning) and that names no [decision] playbook is refused by `validate -c` (located, with a
# hint); `monitor --once` that decides such a trigger says on stderr why it exits 2.
source "$(dirname "$0")/../support/itest.sh"
cd "$WORK"

# A dead site: a request every 2 s until 10 minutes ago, nothing since.
python3 - <<'PY'
import time
from datetime import datetime, timezone
now = time.time()
open('y.log', 'w').write(''.join(
    '10.0.0.1 - - [%s] "GET / HTTP/1.1" 200 5 "-" "ua"\n'
    % datetime.fromtimestamp(now - k, timezone.utc).strftime('%d/%b/%Y:%H:%M:%S +0000')
    for k in range(900, 600, -2)))
PY
rule() { # extra lines of [decision]
    cat <<TOML
[target]
name = "t"
[source.web]
kind = "access_log"
path = "y.log"
format = "combined"
interval = "10s"
max_lateness = "0s"
[[condition]]
name = "traffic"
signal = "web.request_count"
window = "1m"
below = 5
${2:-}
[decision]
interval = "10s"
${1:-}
TOML
}

rule "" > rollback.toml
expect_rc 2 v.out -- "$RB" validate -c rollback.toml
contains v.out "rollback.toml:15:1: error: decision: condition \"traffic\" can decide a trigger (mode \"auto\", severity above \"warning\"), but there is no [decision] playbook to run"
contains v.out "hint: name the rollback playbook under [decision]"
contains v.out "rollback.toml: 1 error"
# check runs nothing: it still reads the config and recommends (exit 5).
expect_rc 5 c.out -- "$RB" check -c rollback.toml
pass "mode auto without a playbook: validate -c refuses it, located at [decision]; check still judges"

rule 'mode = "confirm"' > rollback.toml
expect_rc 2 v.out -- "$RB" validate -c rollback.toml
contains v.out "(mode \"confirm\", severity above \"warning\")"
# No [decision] at all: located at the condition that can trigger.
rule "" | sed '/^\[decision\]$/,$d' > rollback.toml
expect_rc 2 v.out -- "$RB" validate -c rollback.toml
contains v.out "rollback.toml:9:1: error: decision: condition \"traffic\" can decide a trigger"
pass "mode confirm, and no [decision]: refused too, located at the condition"

for ok in 'mode = "observe"' "playbook = \"$SRC/examples/hello/hello.toml\""; do
    rule "$ok" > rollback.toml
    expect_rc 0 v.out -- "$RB" validate -c rollback.toml
    contains v.out "rollback.toml: ok (config: 1 source, 1 condition)"
done
rule "" 'severity = "warning"' > rollback.toml
expect_rc 0 v.out -- "$RB" validate -c rollback.toml
rule 'mode = "observe"' 'mode = "auto"' > rollback.toml # the condition's own mode acts
expect_rc 2 v.out -- "$RB" validate -c rollback.toml
pass "observe, a playbook, or a warning-only rule: valid; a condition's own mode auto: refused"

# The monitor of such a config (not validated) decides the trigger and says why it exits 2.
rule "" > rollback.toml
expect_rc 2 m.out -- timeout 60 "$RB" monitor -c rollback.toml --once
contains m.out "trigger  traffic=firing(0<5)"
contains m.out "rollback: error: monitor: decision "
contains m.out "has no [decision] playbook: nothing was run"
pass "monitor --once: a trigger it cannot run is exit 2 with the reason on stderr"
