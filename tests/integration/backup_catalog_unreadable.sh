#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A backup catalog the engine's user may not read — the packaged case: `apt purge` kept
# /var/lib/rollback/backups under the removed user's uid, the package was installed again (a new
# uid), or another account got the old one — is a clean error naming the path, its owner and
# mode, who reads, and the chown that fixes it: `backup verify` (the daily timer's command) and
# `backup list` exit 2, and a pg_restore step's preflight says the same; never "internal error".
source "$(dirname "$0")/../support/itest.sh"
cd "$WORK"
need_other_owner
mkdir -p cat
printf '{"hello":1}\n' > cat/shop-20261206T181019Z.json
chmod 0700 cat # root's: uid 65534 may not open it
cat > pb.toml <<TOML
[playbook]
name = "revert"
[[step]]
id = "restore-db"
action = "pg_restore"
dsn = "host=127.0.0.1 port=1 dbname=shop connect_timeout=2"
catalog = "$WORK/cat"
backup = "last_good"
TOML
chmod 0644 pb.toml
mkdir -p svc && chown $owner:$owner svc

expect_rc 2 verify.out -- as_owner "$RB" backup verify --catalog "$WORK/cat"
contains verify.out "backup catalog $WORK/cat cannot be read: Permission denied; it belongs to root:root, mode 0700, and this runs as nobody"
contains verify.out "chown -R nobody: $WORK/cat"
lacks verify.out "internal error"
lacks verify.out "filesystem error"
pass "backup verify on an unreadable catalog: exit 2 with the path, the owner and the chown"

expect_rc 2 list.out -- as_owner "$RB" backup list --catalog "$WORK/cat"
contains list.out "backup catalog $WORK/cat cannot be read: Permission denied"
pass "backup list: the same"

# A parent directory the user may not enter: not "does not exist".
mkdir -p closed/cat && chmod 0700 closed
expect_rc 2 parent.out -- as_owner "$RB" backup verify --catalog "$WORK/closed/cat"
contains parent.out "backup catalog $WORK/closed/cat cannot be read: Permission denied"
lacks parent.out "does not exist"
pass "a catalog under a directory the user may not enter: cannot be read, not missing"

rc=0
as_owner "$RB" plan -p pb.toml --state-dir "$WORK/svc" > plan.out 2>&1 </dev/null || rc=$?
[ "$rc" != 0 ] || { cat plan.out; fail "plan passed its preflight on an unreadable catalog"; }
contains plan.out "backup catalog $WORK/cat cannot be read: Permission denied; it belongs to root:root"
contains plan.out "chown -R nobody: $WORK/cat"
lacks plan.out "filesystem error"
pass "a pg_restore step's preflight (plan, exit $rc): the same message and hint"
