// SPDX-License-Identifier: MIT
#pragma once

// Which runs rolled the release back, and when: the live monitor (noticing a run that ended)
// and `check --replay` (reading the runs recorded in the state) take them the same way, and
// feed each to decision::Evaluator::rolled_back at its end.

#include "journal/state.hpp"
#include "state/store.hpp"
#include "util/time.hpp"

#include <optional>
#include <vector>

namespace rollback::monitor {

/// The end of a finished run that rolled back — not a dry run, ended succeeded or
/// verification_failed — its run_finished time (`fallback` when that cannot be read);
/// nullopt for any other run (running, failed, interrupted, a dry run).
std::optional<util::SystemTime> rollback_end(const journal::RunState& st,
                                             util::SystemTime fallback);

/// The ends of every rollback recorded in `runs` (rollback_end of each journal), oldest first.
/// A journal that cannot be read is left out and counted in `unreadable`.
std::vector<util::SystemTime> recorded_rollbacks(const state::Runs& runs, uint64_t& unreadable);

} // namespace rollback::monitor
