#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# replay_rollback_runs.sh with the state shared in PostgreSQL: the replay reads the markers and
# the rollback runs from there (break-it 22 of issue 10, finding 08). ~25 s.
source "$(dirname "$0")/../support/itest.sh"
PG_PORT=54352
source "$(dirname "$0")/../support/pg_shared.sh"
source "$(dirname "$0")/../support/replay_rollback.sh"
replay_rollback_scenario "state = \"$DSN\""
[ ! -d "$WORK/st/runs" ] || [ -z "$(ls -A "$WORK/st/runs")" ] ||
    fail "the run's journal went to the local state directory, not PostgreSQL"
check_replay_rollback "PostgreSQL state" "the shared state"
