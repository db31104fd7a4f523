#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Under systemd the log goes to journald (issue 13): when $JOURNAL_STREAM names stderr's
# device:inode (systemd.exec(5)), messages are sent over the journal's native protocol to
# /run/systemd/journal/socket with SYSLOG_IDENTIFIER=rollback and a PRIORITY, and rollback.log is
# not written. A receiver bound at that path stands in for systemd-journald (none runs here).
# Without the variable, or when stderr is another file, the log stays in the file.
source "$(dirname "$0")/../support/itest.sh"

sock=/run/systemd/journal/socket
if [ -e "$sock" ]; then
    echo "skip: a journald already listens at $sock"
    exit 125
fi
mkdir -p /run/systemd/journal 2>/dev/null || { echo "skip: cannot create /run/systemd/journal"; exit 125; }
on_exit "rm -f $sock; rmdir /run/systemd/journal /run/systemd 2>/dev/null || true"

python3 - "$sock" "$WORK/journal.txt" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
with open(sys.argv[2], "w") as out:
    try:
        while True:
            data = s.recv(65536)
            out.write(data.decode(errors="replace").replace("\n", "\t") + "\n")
            out.flush()
    except socket.timeout:
        pass
PY
receiver=$!
stop_on_exit $receiver
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
[ -S "$sock" ] || fail "the receiver did not bind $sock"

cat > "$WORK/pb.toml" <<'TOML'
[playbook]
name = "journald"
[[step]]
id = "hello"
phase = "immediate"
action = "exec"
argv = ["true"]
TOML

# stderr is a file; JOURNAL_STREAM names it, as systemd does for a unit's stderr.
: > "$WORK/stderr"
stream=$(stat -c '%d:%i' "$WORK/stderr")
JOURNAL_STREAM=$stream "$RB" run -p "$WORK/pb.toml" --yes --state-dir "$WORK/state" \
    > "$WORK/out" 2>> "$WORK/stderr" || fail "run under journald: $(cat "$WORK/out" "$WORK/stderr")"
for _ in $(seq 100); do grep -q "run finished\|succeeded" "$WORK/journal.txt" 2>/dev/null && break; sleep 0.05; done
contains "$WORK/journal.txt" "SYSLOG_IDENTIFIER=rollback"
contains "$WORK/journal.txt" "PRIORITY=6"
grep -q "MESSAGE=rollback [0-9.]* run (pid" "$WORK/journal.txt" || fail "no start message: $(cat "$WORK/journal.txt")"
[ ! -e "$WORK/state/rollback.log" ] || fail "rollback.log written under journald"
pass "JOURNAL_STREAM = stderr: messages go to journald with identifier and priority"

# The variable names another stream (a child whose stderr was redirected): the file.
: > "$WORK/journal.txt"
JOURNAL_STREAM=$stream "$RB" run -p "$WORK/pb.toml" --yes --state-dir "$WORK/state2" \
    > "$WORK/out2" 2> "$WORK/other-stderr" || fail "run: $(cat "$WORK/out2")"
contains "$WORK/state2/rollback.log" "run (pid"
sleep 0.2
lacks "$WORK/journal.txt" "SYSLOG_IDENTIFIER=rollback"
pass "JOURNAL_STREAM naming another stream: the log stays in the file"
