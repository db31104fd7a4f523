// SPDX-License-Identifier: MIT
#pragma once

// Survivors of interrupted attempts: processes of a step's groups (step_process records) still
// alive after the engine that ran the step died. They are waited for, or ended, before anything
// else of that step runs (DESIGN.md trust invariant 4; docs/actions.md "Step processes").

#include "journal/records.hpp"
#include "journal/state.hpp"
#include "playbook/model.hpp"

#include <functional>
#include <set>
#include <string>

namespace rollback::orchestrator {

struct SurvivorHooks {
    /// Appends a record (step_survivors) to the run's journal.
    std::function<void(const journal::Record&)> record;
    /// A line for the person watching: (step id, text).
    std::function<void(const std::string&, const std::string&)> progress;
};

/// For every step of `state` with unsettled groups: finds the group's survivors; when there are
/// some, waits for them up to the step's timeout in `pb` (5 minutes for a step `pb` lacks), then
/// TERM, a 5 s grace, KILL; records one step_survivors per group that had survivors. Returns the
/// ids of steps whose processes are still alive afterwards (they must not run again).
std::set<std::string> settle_survivors(const journal::RunState& state, const playbook::Playbook& pb,
                                       const SurvivorHooks& hooks);

} // namespace rollback::orchestrator
