// SPDX-License-Identifier: MIT
#pragma once

// The database sessions of step attempts (docs/actions.md "Step sessions"; internal to
// orchestrator/): the name each attempt's sessions carry, and the resume's sweep that ends the
// sessions of interrupted attempts before anything else of their step happens — a paused or cut
// off engine's open transaction must not commit after the step ran again.

#include "journal/state.hpp"
#include "orchestrator/survivors.hpp"
#include "playbook/model.hpp"

#include <string>

namespace rollback::orchestrator {

/// The application_name of attempt `attempt` of step `step` in run `run_id`:
/// "rollback/<run_id>/<step>/<attempt>", at most 63 bytes of printable ASCII (what PostgreSQL
/// keeps): a longer step id is cut and followed by "~" and 8 hex digits of its SHA-256, so every
/// (run, step, attempt) has its own name.
std::string step_session_name(const std::string& run_id, const std::string& step, int attempt);

/// For each step of `state` in flight whose action holds database sessions (sql, sql_assert,
/// pg_restore): the sessions named for any of its attempts are ended on its server and waited
/// for (Action::end_sessions) — a step_sessions record when some were found or the server could
/// not be looked at. Still open after the wait (the server refused: no privilege): `blocked`,
/// naming them. Not looked at (the server unreachable): `unchecked` (a person's --retry or
/// --mark-done). An interrupt before a step's sweep stops it (`interrupted`).
void settle_sessions(const journal::RunState& state, const playbook::Playbook& pb,
                     const SurvivorHooks& hooks, SurvivorReport& report);

} // namespace rollback::orchestrator
