// SPDX-License-Identifier: MIT
#pragma once

// Survivors of interrupted attempts: processes of a step's groups (step_process records) still
// alive after the engine that ran the step died. They are waited for, or ended, before anything
// else of that step runs (DESIGN.md trust invariant 4; docs/actions.md "Step processes").
// A journal is untrusted input: only processes that carry the attempt's proof (its token or
// mark) are ever signalled, and only on a record that is plausible.

#include "exec/process_group.hpp"
#include "journal/records.hpp"
#include "journal/state.hpp"
#include "playbook/model.hpp"

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace rollback::orchestrator {

struct SurvivorHooks {
    /// Appends a record (step_survivors) to the run's journal.
    std::function<void(const journal::Record&)> record;
    /// A line for the person watching: (step id, text).
    std::function<void(const std::string&, const std::string&)> progress;
};

struct SurvivorReport {
    /// Steps whose proven processes are still alive after SIGKILL: they must not run again.
    std::set<std::string> blocked;
    /// Per step: what the programs that ended by themselves (step_process_exited) left running,
    /// found by its proof and left alone.
    std::map<std::string, std::vector<exec::ProcessInfo>> left_alone;
};

/// Why the journal's record `g` of a group of step `st` in run `run_id` is not to be believed
/// ("" when it is): no attempt token, a token not of this run, step and attempt
/// (`<run_id>/<step>/<attempt>/<16 hex digits>`), or a leader start time (`started_at`) that
/// is not between the attempt's step_started and the record (a few seconds' slack for clocks).
std::string implausible(const std::string& run_id, const journal::StepState& st,
                        const journal::ProcessGroup& g,
                        std::optional<std::chrono::system_clock::time_point> leader_started);

/// For every step of `state` with recorded groups. A group whose program ended by itself: its
/// proven survivors are listed and left alone (step_survivors `left_alone`). Otherwise, on a
/// plausible record, its proven survivors are waited for up to the step's timeout in `pb`
/// (5 minutes for a step `pb` lacks), then TERM, a 5 s grace, KILL, one process at a time.
/// Members of the group without the proof, and everything a record that is not plausible
/// names, are never signalled: step_survivors `not_proven` says so with the reason.
SurvivorReport settle_survivors(const journal::RunState& state, const playbook::Playbook& pb,
                                const SurvivorHooks& hooks);

} // namespace rollback::orchestrator
