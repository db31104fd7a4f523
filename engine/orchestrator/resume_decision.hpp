// SPDX-License-Identifier: MIT
#pragma once

// What `rollback resume` does with one planned step, from what the journal recorded of it and
// what the person asked (docs/architecture.md, "How a run flows", step 5): the rules in one pure
// function, the probes injected.

#include "journal/state.hpp"
#include "orchestrator/execution.hpp"
#include "orchestrator/plan.hpp"
#include "util/time.hpp"

#include <functional>
#include <string>

namespace rollback::orchestrator {

/// What a probe found out about an interrupted step: done, not done, or it cannot tell (`state`
/// says why: a probe's exit code, an action's "the swap did not happen").
struct ProbeFinding {
    enum class Verdict { done, not_done, unknown } verdict = Verdict::unknown;
    std::string state;
};

/// The ways to ask whether an interrupted step took effect. Each records what it did (the
/// step_probe record; on `done`, the step_marked_done record by the probe).
struct Probes {
    /// The step's own `probe` command (step.probe non-empty).
    std::function<ProbeFinding(const playbook::Step&)> command;
    /// The action's built-in probe (pg_restore knows its stages); null when the action has none.
    std::function<ProbeFinding(const playbook::Step&)> action;
};

/// One planned step as resume sees it.
struct ResumeFacts {
    const PlannedStep& planned;
    const journal::StepState* recorded = nullptr; ///< null: the journal never mentions it
    bool blocked = false;     ///< processes of its interrupted attempt are still alive
    bool marked_done = false; ///< --mark-done: a person says it happened
    bool retry = false;       ///< --retry: a person says run it again
    util::SystemTime now{};   ///< when resume decides: what is left of a retry delay
    /// With `blocked`: which processes, and how to look at them (SurvivorReport::blocked).
    std::string blocked_why = {};
    /// Its interrupted attempt could not be checked on a host (SurvivorReport::unchecked): it
    /// runs again, or is taken as done, only on a person's word (--retry, --mark-done).
    std::string unchecked = {};
};

/// True when the last attempt of `step` finished failed (or timed out) and attempts of its
/// `retries` are left: the run was interrupted during the retry delay, so the schedule is not
/// over and the failure is not the step's result.
bool retries_owed(const playbook::Step& step, const journal::StepState& st);

/// What is left at `now` of the retry delay after the last attempt of `st` (finished at
/// st.finished): between 0 and retry_delay_after(step, st.attempts); the whole delay when the
/// time cannot be read.
util::Millis retry_wait_left(const playbook::Step& step, const journal::StepState& st,
                             util::SystemTime now);

/// The decision, first rule that applies: blocked → needs_attention; unchecked without
/// --mark-done or --retry → needs_attention; --mark-done → already_done;
/// --retry → run (next attempt); never started → run (or record_skip when not selected);
/// failed with retries owed (retries_owed) → run the next attempt after the rest of its delay,
/// whatever its idempotence (the failed attempt ended; its retry is what the playbook asks);
/// failed, timed out or failed its verification with no retry owed → already_failed (the run
/// goes on as it did when the step failed: on_failure decides); finished otherwise (succeeded,
/// skipped, marked done) → already_done; interrupted (started, effect unknown): idempotent → run; a
/// probe command → its finding (done → already_done, not_done → run, unknown → needs_attention); an
/// action probe → the same; else needs_attention. Every needs_attention message names the commands
/// that go on
/// (`rollback resume RUN --mark-done STEP` / `--retry STEP`), with `state_args` (what finds the
/// run's state from any directory: state::state_args).
StepDecision decide_resume(const ResumeFacts& facts, const std::string& run_id,
                           const std::string& state_args, const Probes& probes);

} // namespace rollback::orchestrator
