#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every command that writes into the state checks its owner like approve/check do: `run`,
# `rehearse`, `resume`, `explain --now` (it records its decision) and `state import` by another user (root through sudo) than the state
# directory's owner are refused (exit 2, naming the owner) before they create anything there — a
# root-owned lock, runs/, rehearsals/ or rollback.log would keep the service from ever running a
# playbook or recording a drill again. A dry run writes nothing and still works; the owner runs.
source "$(dirname "$0")/../support/itest.sh"
cd "$WORK"
need_other_owner
mkdir -p cat
mkdir -p svc && chown $owner:$owner svc && chmod 0750 svc
cat > pb.toml <<TOML
[playbook]
name = "revert"
[[step]]
id = "mark"
action = "exec"
argv = ["true"]
[[step]]
id = "restore-db"
action = "pg_restore"
dsn = "host=127.0.0.1 port=1 dbname=shop"
catalog = "$WORK/cat"
backup = "last_good"
TOML
cat > t.toml <<TOML
[playbook]
name = "revert"
[[step]]
id = "mark"
action = "exec"
argv = ["true"]
TOML
cat > rollback.toml <<TOML
[target]
name = "shop"
state_dir = "$WORK/svc"
TOML
chmod 0644 pb.toml t.toml rollback.toml
refused() { # NAME FILE: exit 2, the owner named, nothing written into svc
    contains "$2" "belongs to nobody"
    contains "$2" "sudo -u nobody"
    [ -z "$(ls -A svc)" ] || { ls -la svc; fail "the refused $1 wrote into the state directory"; }
}
expect_rc 2 run.out -- "$RB" run -p t.toml -c rollback.toml --yes
refused run run.out
expect_rc 2 reh.out -- "$RB" rehearse -p pb.toml -c rollback.toml
refused rehearse reh.out
expect_rc 2 res.out -- "$RB" resume 20261205T170000Z-abcdef -c rollback.toml --yes
refused resume res.out
expect_rc 2 exn.out -- "$RB" explain --now -c rollback.toml
refused "explain --now" exn.out
expect_rc 0 dry.out -- "$RB" run -p t.toml -c rollback.toml --dry-run
[ -z "$(ls -A svc)" ] || { ls -la svc; fail "the dry run wrote into the state directory"; }
pass "run, rehearse, resume and explain --now by another user than the state's owner: refused, nothing written"

as_owner "$RB" run -p "$WORK/t.toml" -c "$WORK/rollback.toml" --yes > own.out 2>&1 ||
    { cat own.out; fail "the owner cannot run"; }
run_id=$(ls svc/runs | head -1)
[ -n "$run_id" ] || fail "the owner's run left no journal"
as_owner "$RB" state export "${run_id%.jsonl}" -c "$WORK/rollback.toml" -o - > run.jsonl 2> exp.err ||
    { cat exp.err; fail "state export as the owner"; }
before=$(ls -lR svc | md5sum)
expect_rc 2 imp.out -- "$RB" state import run.jsonl -c rollback.toml
contains imp.out "belongs to nobody"
[ "$(ls -lR svc | md5sum)" = "$before" ] || fail "the refused import changed the state directory"
[ -z "$(find svc -user 0)" ] || { find svc -user 0 -ls; fail "root owns files in the state"; }
pass "the owner runs; state import by another user is refused too"
