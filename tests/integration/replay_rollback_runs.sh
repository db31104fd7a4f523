#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `check --replay` reads the rollback runs in the state directory and feeds each at its end, as
# the monitor noticed it: a recurrence within watch_after is notified, not a second trigger
# (docs/decision.md "Commands"; break-it 22 of issue 10, finding 08). ~20 s.
source "$(dirname "$0")/../support/itest.sh"
source "$(dirname "$0")/../support/replay_rollback.sh"
replay_rollback_scenario ""
check_replay_rollback "state directory" "$WORK/st/runs"
