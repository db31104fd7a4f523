// SPDX-License-Identifier: MIT
#include "orchestrator/resume_decision.hpp"

#include "util/strings.hpp"

namespace rollback::orchestrator {
namespace {

// `run` is the run id and what finds its state ("RUN -c FILE").
std::string how_to_go_on(const std::string& run, const std::string& step) {
    return "rollback resume " + run + " --mark-done " + step +
           "  (it happened)  or  rollback resume " + run + " --retry " + step + "  (run it again)";
}

StepDecision from_finding(const ProbeFinding& f, int next_attempt, const std::string& what,
                          const std::string& run, const std::string& step) {
    switch (f.verdict) {
    case ProbeFinding::Verdict::done:
        return {StepPlan::already_done, 0, {}};
    case ProbeFinding::Verdict::not_done:
        return {StepPlan::run, next_attempt, {}}; // an action continues where it stopped
    case ProbeFinding::Verdict::unknown:
        break;
    }
    return {StepPlan::needs_attention, 0,
            what + ". Check by hand, then run: " + how_to_go_on(run, step)};
}

} // namespace

bool retries_owed(const playbook::Step& step, const journal::StepState& st) {
    const bool failed = st.status == journal::StepStatus::failed ||
                        st.status == journal::StepStatus::timed_out ||
                        st.status == journal::StepStatus::verification_failed;
    return failed && !st.in_flight && st.attempts >= 1 && st.attempts < step.retries + 1;
}

util::Millis retry_wait_left(const playbook::Step& step, const journal::StepState& st,
                             util::SystemTime now) {
    const util::Millis delay = retry_delay_after(step, st.attempts);
    const auto finished = util::parse_time(st.finished);
    if (!finished) {
        return delay;
    }
    const auto passed = std::chrono::duration_cast<util::Millis>(now - *finished);
    if (passed <= util::Millis(0)) {
        return delay;
    }
    return passed >= delay ? util::Millis(0) : delay - passed;
}

StepDecision decide_resume(const ResumeFacts& facts, const std::string& run_id,
                           const std::string& state_args, const Probes& probes) {
    const std::string run = run_id + state_args; // what every command printed here names
    const playbook::Step& step = *facts.planned.step;
    const journal::StepState* st = facts.recorded;
    const int next_attempt = st ? st->attempts + 1 : 1;
    const std::string id = util::quoted(step.id);
    if (facts.blocked) {
        return {StepPlan::needs_attention, 0,
                (facts.blocked_why.empty()
                     ? "processes of step " + id +
                           " from the interrupted run are still alive after SIGKILL"
                     : facts.blocked_why) +
                    " (see the step_survivors and step_sessions records: rollback report " + run +
                    "). The step does not start while they live: end them by hand, or wait for "
                    "them, then: rollback resume " +
                    run +
                    (facts.marked_done ? " --mark-done " + step.id
                     : facts.retry     ? " --retry " + step.id
                                       : "") +
                    (facts.marked_done || facts.retry ? " (not recorded meanwhile)" : "")};
    }
    if (!facts.unchecked.empty() && !facts.marked_done && !facts.retry) {
        return {StepPlan::needs_attention, 0,
                facts.unchecked + ". Check by hand, then run: " + how_to_go_on(run, step.id)};
    }
    if (facts.marked_done) {
        return {StepPlan::already_done, 0, {}};
    }
    if (facts.retry) {
        return {StepPlan::run, next_attempt, {}};
    }
    if (st == nullptr || st->status == journal::StepStatus::pending) {
        return facts.planned.selected
                   ? StepDecision{StepPlan::run, 1, {}}
                   : StepDecision{StepPlan::record_skip, 1, facts.planned.skip_reason};
    }
    if (retries_owed(step, *st)) {
        return {StepPlan::run, next_attempt, {}, retry_wait_left(step, *st, facts.now)};
    }
    if (!st->in_flight && (st->status == journal::StepStatus::failed ||
                           st->status == journal::StepStatus::timed_out ||
                           st->status == journal::StepStatus::verification_failed)) {
        // The run goes on as it did then: on_failure decides, nothing runs again.
        return {StepPlan::already_failed, 0, st->summary, util::Millis(0),
                st->status == journal::StepStatus::timed_out ? actions::Status::timed_out
                : st->status == journal::StepStatus::verification_failed
                    ? actions::Status::verification_failed
                    : actions::Status::failed};
    }
    if (!st->in_flight && st->status != journal::StepStatus::interrupted) {
        return {StepPlan::already_done, 0, {}}; // finished: succeeded, skipped, marked done, ...
    }
    // Started, effect unknown.
    if (step.idempotent) {
        return {StepPlan::run, next_attempt, {}};
    }
    if (!step.probe.empty() && probes.command) {
        const ProbeFinding f = probes.command(step);
        return from_finding(f, next_attempt,
                            "step " + id +
                                " was interrupted and its probe could not tell whether it "
                                "took effect" +
                                (f.state.empty() ? "" : " " + f.state),
                            run, step.id);
    }
    if (probes.action) {
        const ProbeFinding f = probes.action(step);
        return from_finding(
            f, next_attempt,
            "step " + id + " was interrupted and its probe cannot tell how to continue: " + f.state,
            run, step.id);
    }
    std::string where; // a step on hosts: the hosts to check (--mark-done vouches for those)
    if (st != nullptr) {
        std::vector<std::string> running;
        for (const auto& [name, status] : st->hosts) {
            if (status == "running") {
                running.push_back(name);
            }
        }
        if (!running.empty()) {
            where = " on host " + util::join(running, ", ");
        }
    }
    return {StepPlan::needs_attention, 0,
            "step " + id + " was started" + where +
                " but did not finish, is not idempotent and has no probe, so its "
                "effect is unknown. Check by hand, then run: " +
                how_to_go_on(run, step.id)};
}

} // namespace rollback::orchestrator
