// SPDX-License-Identifier: MIT
#include "orchestrator/execution.hpp"

#include "state/state_args.hpp"

#include "actions/hooks.hpp"
#include "orchestrator/hook_runner.hpp"
#include "orchestrator/step_runner.hpp"
#include "orchestrator/step_sessions.hpp"
#include "util/error.hpp"
#include "util/log.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <cstring>

namespace rollback::orchestrator {
namespace {

using Clock = std::chrono::steady_clock;

long long elapsed_ms(Clock::time_point since) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count();
}

/// At most `max` bytes of `text`, secrets masked first (a cut must not leave part of one), cut
/// on a UTF-8 character boundary, "…" appended when cut.
std::string clip(std::string_view text, size_t max) {
    std::string masked = util::mask_secrets(text);
    if (masked.size() <= max) {
        return masked;
    }
    size_t end = max;
    while (end > 0 && (static_cast<unsigned char>(masked[end]) & 0xC0) == 0x80) {
        --end;
    }
    return masked.substr(0, end) + "…";
}

/// step_process_exited: how a program of the attempt ended by itself and, when its action's
/// result is that ending (Action::result_of_exit), the step's status and summary it makes.
journal::StepProcessExited exit_record(const playbook::Step& step, int attempt,
                                       const exec::GroupToken& group, const exec::Outcome& exited,
                                       const actions::Action* action) {
    journal::StepProcessExited rec;
    rec.step = step.id;
    rec.attempt = attempt;
    rec.pgid = group.pgid;
    rec.ending = std::string(exec::to_string(exited.ending));
    if (exited.ending == exec::Ending::exited) {
        rec.exit_code = exited.exit_code;
    } else if (exited.ending == exec::Ending::signaled && exited.signal != 0) {
        rec.signal = exited.signal;
    }
    if (!exited.error.empty()) {
        rec.error = clip(exited.error, 200);
    }
    if (auto result = action != nullptr ? action->result_of_exit(exited) : std::nullopt) {
        rec.step_status = std::string(actions::to_string(result->status));
        rec.summary = clip(result->summary, 200);
    }
    return rec;
}

std::string signal_name(int sig) {
    return exec::interrupt_name(sig);
}

} // namespace

Execution::Execution(const playbook::Playbook& pb, std::unique_ptr<journal::Appender> writer,
                     actions::Trigger trigger, std::string run_id, std::filesystem::path state_dir,
                     state::Store& store, bool verbose, exec::ProcessRunner& runner,
                     report::Observer& observer)
    : m_pb(pb), m_writer(std::move(writer)), m_trigger(std::move(trigger)),
      m_run_id(std::move(run_id)), m_state_dir(std::move(state_dir)), m_store(store),
      m_verbose(verbose), m_runner(runner), m_observer(observer) {}

void Execution::record(const journal::Record& record, journal::Durability durability) {
    std::lock_guard lock(m_record_mutex);
    journal::Entry entry;
    entry.seq = static_cast<std::int64_t>(m_writer->append(journal::to_json(record), durability));
    entry.record = record;
    log::debug("journal {} #{} {}", m_run_id, entry.seq, journal::to_string(entry.type()));
    m_observer.on_record(entry, m_run_id);
}

actions::Context Execution::context(const playbook::Step& step) {
    return context(step, m_runner);
}

std::string Execution::state_args() const {
    return m_state.args.empty() ? state::state_args({m_state_dir}) : m_state.args;
}

actions::Context Execution::context(const playbook::Step& step, exec::ProcessRunner& runner) {
    actions::Context ctx{
        m_pb,    step,      runner,    m_run_id, m_state_dir, m_store.artifacts_dir(m_run_id),
        m_store, m_trigger, m_verbose, {}};
    ctx.gates = &m_store;
    ctx.state_args = state_args();
    report::Observer* obs = &m_observer;
    std::string id = step.id;
    ctx.progress = [obs, id](const std::string& line) { obs->on_progress(id, line); };
    const playbook::Step* at_step = &step;
    ctx.notify = [this, at_step](std::string_view event, std::string_view status,
                                 const boost::json::object& extra) {
        lifecycle(event, at_step, status, extra);
    };
    // An effect inside the step that no record announces (a COMMIT, a further request) is
    // made only after this check: a holder deposed meanwhile makes none (break-it 43 F5, F6).
    ctx.fence = [this](const std::string& before) {
        std::lock_guard lock(m_record_mutex);
        m_writer->check_fence(before);
    };
    ctx.stage = [this, id](const std::string& stage, const boost::json::object& facts) {
        record(journal::StepProgress{id, stage, facts});
        // Test hook (crash tests): die right after this stage is durable, as kill -9 would.
        if (const char* at = std::getenv("ROLLBACK_TEST_KILL_AT_STAGE");
            at != nullptr && stage == at) {
            std::raise(SIGKILL);
        }
    };
    return ctx;
}

void Execution::lifecycle(std::string_view event, const playbook::Step* step,
                          std::string_view status, const boost::json::object& extra) {
    auto it = m_pb.hooks.find(std::string(event));
    if (it == m_pb.hooks.end()) {
        return;
    }
    // A hook is recorded after it ran: the fence is checked before it, so a holder that lost
    // the run lock (paused past its lease, taken over) runs no hook (break-it 32/04) — and again
    // after its child was forked, which is held until that check passed: a pause between the
    // first check and the spawn cannot let the hook's program start (break-it 38/04).
    auto check_fence = [this] {
        std::lock_guard lock(m_record_mutex);
        m_writer->check_fence("a hook");
    };
    HookRunner held(m_runner, check_fence);
    auto ctx = context(step ? *step : m_no_step, held);
    for (const auto& name : it->second) {
        check_fence();
        auto result = actions::run_hook(ctx, name, actions::hook_event(ctx, event, status, extra));
        std::string outcome(actions::to_string(result.status));
        std::string reason;
        if (result.status != actions::Status::succeeded) {
            // A hook that failed or sent nothing says why in its output: the record carries it,
            // so the report shows more than "exit 1".
            reason = actions::hook_reason(result);
            if (result.exit_code == actions::k_hook_nothing_sent &&
                result.status == actions::Status::failed) {
                outcome = "nothing_sent";
            }
            log::warn("hook {} for {}: {} ({}): {}", name, event, outcome, result.summary, reason);
        }
        record(journal::Hook{std::string(event), name, step ? step->id : "", outcome,
                             result.summary, reason, result.output_tail});
    }
}

util::Millis retry_delay_after(const playbook::Step& step, int attempt) {
    const util::Millis cap = std::chrono::minutes(5);
    util::Millis delay = std::min(step.retry_delay, cap);
    for (int i = 1; i < attempt && delay < cap; ++i) {
        delay = std::min(delay * 2, cap);
    }
    return delay;
}

actions::Result Execution::run_step(const playbook::Step& step, int first_attempt,
                                    util::Millis wait_first) {
    const actions::Action* action = actions::find_action(step.action);
    lifecycle("before-step", &step, "running");
    actions::Status status = actions::Status::failed;
    actions::Result last;
    m_last_attempt.reset();
    const int last_attempt = std::max(first_attempt, step.retries + 1);
    // The schedule goes on where it was: a resumed retry waits what the first run would have.
    auto delay = retry_delay_after(step, first_attempt);
    if (wait_first > util::Millis(0)) {
        m_observer.on_progress(step.id, "retrying in " + util::format_duration(wait_first) +
                                            " (attempt " + std::to_string(first_attempt) + " of " +
                                            std::to_string(last_attempt) +
                                            ", continued after the interruption)");
        if (!exec::sleep_unless_interrupted(wait_first)) {
            // No attempt started: the journal still owes the retry, the next resume makes it.
            last.status = actions::Status::interrupted;
            last.summary = "interrupted while waiting to retry";
            lifecycle("after-step", &step, actions::to_string(last.status));
            return last;
        }
    }
    for (int attempt = first_attempt; attempt <= last_attempt; ++attempt) {
        record(journal::StepStarted{step.id, attempt});
        m_last_attempt = attempt;
        auto start = Clock::now();
        // Every child of the attempt is journaled (its group token) before its program runs, so
        // a resume after kill -9 can find what it left behind (docs/journal.md, step_process).
        // Each program also carries a token in its environment that survives setsid, so what
        // leaves the group is found too.
        StepRunner step_runner(
            m_runner, m_run_id + "/" + step.id + "/" + std::to_string(attempt),
            [&](const exec::Command& cmd, const exec::GroupToken& group) {
                record(journal::StepProcess{step.id, attempt, group.pgid, group.leader_start,
                                            group.boot_id, group.attempt_token,
                                            clip(util::join(cmd.argv, " "), 200)},
                       // write(2) only: the token matters only on this boot, where the page
                       // cache outlives the engine; the step's finish syncs it (no extra fsync).
                       journal::Durability::with_next);
            },
            [&](const exec::Command&, const exec::GroupToken& group, const exec::Outcome& exited) {
                // The program ended by itself: recorded before the runner waits for what it left
                // running and drains its output, so an engine killed then is not taken for one
                // killed mid-program (resume leaves those processes alone; docs/journal.md).
                record(exit_record(step, attempt, group, exited, action),
                       journal::Durability::with_next);
            });
        actions::Result result;
        if (action == nullptr) {
            result.summary = "unknown action " + util::quoted(step.action);
        } else if (!step.hosts.empty()) {
            result = run_on_hosts(step, attempt);
        } else {
            actions::Context ctx = context(step, step_runner);
            ctx.session_name = step_session_name(m_run_id, step.id, attempt);
            result = action->run(ctx);
        }
        status = result.status;
        last = result;
        journal::StepFinished finished;
        finished.step = step.id;
        finished.attempt = attempt;
        finished.status = actions::to_string(result.status);
        if (result.exit_code >= 0) { // absent when the action ran no child (docs/journal.md)
            finished.exit_code = result.exit_code;
        }
        finished.duration_ms = elapsed_ms(start);
        finished.summary = result.summary;
        finished.output_tail = result.output_tail;
        finished.details = result.details;
        for (const auto& p : step_runner.left_running()) {
            // left_group: found by its attempt token outside the group (setsid)
            finished.left_running.push_back({p.pid, clip(p.command, 200), !p.in_group});
        }
        record(finished, journal::Durability::with_next);
        if (status == actions::Status::succeeded || status == actions::Status::interrupted ||
            exec::interrupt_requested() != 0 || attempt == last_attempt) {
            break;
        }
        m_observer.on_progress(step.id, "retrying in " + util::format_duration(delay) +
                                            " (attempt " + std::to_string(attempt + 1) + " of " +
                                            std::to_string(last_attempt) + ")");
        if (!exec::sleep_unless_interrupted(delay)) {
            break;
        }
        delay = retry_delay_after(step, attempt + 1);
    }
    lifecycle("after-step", &step, actions::to_string(status));
    return last;
}

RunOutcome Execution::drive(const Plan& plan,
                            const std::function<StepDecision(const PlannedStep&)>& decide) {
    RunOutcome out;
    out.run_id = m_run_id;
    out.journal = m_writer->location();
    journal::RunStatus final = journal::RunStatus::succeeded;
    bool any_verification_failed = false;
    int tolerated_failures = 0;
    const playbook::Step* culprit = nullptr; // the last step that did not succeed, for on-failure
    std::string culprit_summary;
    // The step a signal caught, and how it ended: what a hand-over says of the step in flight.
    const playbook::Step* signalled = nullptr;
    actions::Result signalled_result;

    // The state directory refusing a record (disk full, read-only, no permission) stops the run
    // like an interrupt: no further step starts, the finally steps run if their records can be
    // written, and the run stays resumable. `stopped` says why.
    std::string stopped;
    auto guarded = [&](const std::function<void()>& fn) {
        if (!stopped.empty() && m_writer->broken()) {
            return false;
        }
        try {
            fn();
            return true;
        } catch (const util::Error& e) {
            if (e.code() != util::ExitCode::state_unwritable) {
                throw;
            }
            log::error("run {}: {}", m_run_id, e.what());
            if (stopped.empty()) {
                stopped = e.what();
            }
            return false;
        }
    };
    guarded([&] {
        for (const auto& ps : plan.steps) {
            if (ps.is_finally || exec::interrupt_requested() != 0) {
                continue;
            }
            if (m_writer->space_exhausted()) {
                stopped = "the disk of the state directory " + m_state_dir.string() + " is full";
                break;
            }
            StepDecision d = decide(ps);
            if (d.plan == StepPlan::already_done) {
                continue;
            }
            if (d.plan == StepPlan::record_skip) {
                record(journal::StepSkipped{ps.step->id, d.message});
                continue;
            }
            if (d.plan == StepPlan::needs_attention) {
                record(journal::NeedsAttention{ps.step->id, d.message});
                final = journal::RunStatus::needs_attention;
                out.message = d.message;
                break;
            }
            actions::Result result;
            if (d.plan == StepPlan::already_failed) {
                // Failed before this resume: the run goes on as it did then (a step that aborts
                // the run stops it here, its finally steps still run), nothing runs again.
                result.status = d.failed_as;
                result.summary = d.message;
            } else {
                result = run_step(*ps.step, d.first_attempt, d.wait_first);
            }
            actions::Status s = result.status;
            if (ps.step->phase == playbook::Phase::verify &&
                (s == actions::Status::failed || s == actions::Status::timed_out)) {
                // A check in the verify phase that does not pass is a failed verification (exit 3),
                // whatever its action: the rollback ran, the system is not proven healthy.
                s = actions::Status::verification_failed;
            }
            if (s == actions::Status::succeeded) {
                continue;
            }
            culprit = ps.step;
            culprit_summary = result.summary;
            if (s == actions::Status::interrupted || exec::interrupt_requested() != 0) {
                if (d.plan != StepPlan::already_failed) {
                    signalled = ps.step;
                    signalled_result = result;
                }
                break;
            }
            any_verification_failed =
                any_verification_failed || s == actions::Status::verification_failed;
            if (ps.step->on_failure == playbook::OnFailure::abort) {
                final = s == actions::Status::verification_failed
                            ? journal::RunStatus::verification_failed
                            : journal::RunStatus::failed;
                break;
            }
            ++tolerated_failures;
        }
    });
    if (final == journal::RunStatus::succeeded && any_verification_failed) {
        final = journal::RunStatus::verification_failed;
    }
    if (!stopped.empty()) {
        final = journal::RunStatus::interrupted;
        guarded([&] { record(journal::RunStopped{stopped}); });
    }
    // A monitor's run on a shared state is handed over by an interrupt (a SIGTERM of systemctl
    // stop): the run is not over, the next leader resumes it, so its finally steps are left to
    // that resume and run after the remaining steps, as after a kill -9 (break-it 32/02).
    bool handed_over = false;
    if (int sig = exec::interrupt_requested(); sig != 0) {
        handed_over = m_hand_over.has_value();
        if (handed_over) {
            guarded([&] { record(hand_over_record(sig, "steps", signalled, signalled_result)); });
            out.message = "interrupted by " + signal_name(sig) +
                          ": handed over; the next leader resumes the run and runs its finally "
                          "steps after the remaining steps";
        } else {
            guarded([&] {
                record(journal::RunInterrupted{signal_name(sig),
                                               m_interrupted_waiting ? "survivors" : ""});
            });
        }
        final = journal::RunStatus::interrupted;
        // finally steps still run (not handed over); a second signal interrupts them too.
        exec::clear_interrupt();
    }

    bool finally_ran = true;
    if (final != journal::RunStatus::needs_attention && !handed_over) {
        finally_ran = guarded([&] { run_finally(plan, decide, final, out); });
    }
    const std::string args = state_args();
    if (!stopped.empty() && m_writer->fenced()) {
        // Fenced: another process took the run over (or will: the lock expired). Nothing is
        // wrong with any disk, and the run is not this process's to resume.
        final = journal::RunStatus::interrupted;
        out.fenced = true;
        out.message = stopped + ".\nThe run stopped here; " +
                      (m_hand_over || m_trigger.kind == "monitor"
                           ? "the process that holds the run lock now (or the next leader) "
                             "finishes it: see rollback status" +
                                 args
                           // A person's run: no monitor resumes it (docs/config.md "Failover").
                           : "no monitor resumes a person's run. See who holds the run lock: "
                             "rollback status " +
                                 m_run_id + args +
                                 " — when nobody does (it expired), continue it: rollback "
                                 "resume " +
                                 m_run_id + args);
    } else if (!stopped.empty() && m_state.shared) {
        // The shared state refused or did not answer: the server's problem, not a disk's.
        final = journal::RunStatus::interrupted;
        out.message =
            m_state.where + " cannot be written: " + stopped + ".\nThe run stopped " +
            (finally_ran ? std::string("and its finally steps ran; ")
                         : "and its finally steps could not be journaled, so they did not all "
                           "run; ") +
            "its journal holds every record up to the one refused. " +
            (m_hand_over ? "The leading monitor resumes it once the server answers; by hand: "
                         : "Once the server answers: ") +
            "rollback resume " + m_run_id + args;
    } else if (!stopped.empty()) {
        final = journal::RunStatus::interrupted;
        out.message = "the state directory cannot be written: " + stopped + ".\nThe run stopped " +
                      (finally_ran ? "and its finally steps ran; "
                                   : "and its finally steps could not be journaled, so they did "
                                     "not all run; ") +
                      (m_writer->broken() ? "its last record may be incomplete. "
                                          : "the journal is intact. ") +
                      "Free space or make " + m_state_dir.string() +
                      " writable, then: rollback audit verify " + m_run_id + args +
                      "  and  rollback resume " + m_run_id + args;
    }
    finish(final, out, culprit, culprit_summary, tolerated_failures, !stopped.empty(), guarded);
    return out;
}

void Execution::run_finally(const Plan& plan,
                            const std::function<StepDecision(const PlannedStep&)>& decide,
                            journal::RunStatus& final, RunOutcome& out) {
    // The finally step run last and how it ended: the step in flight when a signal came.
    const playbook::Step* last = nullptr;
    actions::Result last_result;
    // Handed over mid-finally: the steps not finished are the next leader's (no skip records).
    auto handed_over = [&] {
        const int sig = exec::interrupt_requested();
        if (sig == 0 || !m_hand_over) {
            return false;
        }
        const bool caught = last != nullptr && last_result.status != actions::Status::succeeded;
        record(hand_over_record(sig, "finally", caught ? last : nullptr, last_result));
        final = journal::RunStatus::interrupted;
        out.message = "interrupted by " + signal_name(sig) +
                      " in the finally steps: handed over; the next leader resumes the run and "
                      "runs the finally steps not finished";
        exec::clear_interrupt();
        return true;
    };
    {
        for (const auto& ps : plan.steps) {
            if (!ps.is_finally) {
                continue;
            }
            if (handed_over()) {
                return;
            }
            StepDecision d = decide(ps);
            if (d.plan == StepPlan::already_done || d.plan == StepPlan::already_failed) {
                continue;
            }
            if (d.plan == StepPlan::record_skip || exec::interrupt_requested() != 0) {
                record(journal::StepSkipped{ps.step->id, d.plan == StepPlan::record_skip
                                                             ? d.message
                                                             : "interrupted again"});
                continue;
            }
            if (d.plan == StepPlan::needs_attention) {
                record(journal::NeedsAttention{ps.step->id, d.message});
                final = journal::RunStatus::needs_attention;
                out.message = d.message;
                break;
            }
            last_result = run_step(*ps.step, d.first_attempt, d.wait_first);
            last = ps.step;
        }
    }
    if (final != journal::RunStatus::needs_attention) {
        handed_over();
    }
}

journal::RunHandedOver Execution::hand_over_record(int sig, std::string during,
                                                   const playbook::Step* interrupted,
                                                   const actions::Result& result) const {
    journal::RunHandedOver r;
    r.signal = signal_name(sig);
    r.during = std::move(during);
    if (interrupted != nullptr) {
        r.step = interrupted->id;
        r.attempt = m_last_attempt;
        r.step_status = std::string(actions::to_string(result.status));
        r.step_summary = clip(result.summary, 200);
    }
    r.generation = m_hand_over->generation;
    r.resume = m_hand_over->resume;
    return r;
}

void Execution::finish(journal::RunStatus final, RunOutcome& out, const playbook::Step* culprit,
                       const std::string& culprit_summary, int tolerated_failures, bool stopped,
                       const std::function<bool(const std::function<void()>&)>& guarded) {
    guarded([&] {
        if (final == journal::RunStatus::succeeded && !m_not_verified.empty()) {
            boost::json::array steps;
            for (const auto& id : m_not_verified) {
                steps.emplace_back(id);
            }
            boost::json::object extra;
            extra["not_verified"] = std::move(steps);
            lifecycle("on-success", nullptr, journal::to_string(final), extra);
        } else if (final == journal::RunStatus::succeeded) {
            lifecycle("on-success", nullptr, journal::to_string(final));
        } else {
            boost::json::object extra{{"run_state", journal::to_string(final)}};
            if (culprit != nullptr) {
                extra["summary"] = culprit_summary;
            }
            if (!out.message.empty()) {
                extra["message"] = out.message;
            }
            lifecycle("on-failure", culprit, journal::to_string(final), extra);
        }
    });

    switch (final) {
    case journal::RunStatus::succeeded:
        out.code = util::ExitCode::ok;
        break;
    case journal::RunStatus::verification_failed:
        out.code = util::ExitCode::verification_failed;
        break;
    case journal::RunStatus::interrupted:
        out.code = util::ExitCode::interrupted;
        break;
    case journal::RunStatus::needs_attention:
        out.code = util::ExitCode::needs_attention;
        break;
    default:
        out.code = util::ExitCode::run_failed;
        break;
    }
    if (stopped) {
        out.code = util::ExitCode::state_unwritable;
    }
    out.status = final;
    journal::RunFinished fin{std::string(journal::to_string(final)), util::to_int(out.code),
                             elapsed_ms(m_started), std::nullopt};
    if (tolerated_failures > 0) {
        fin.tolerated_failures = tolerated_failures;
    }
    if (final == journal::RunStatus::succeeded) {
        fin.not_verified = m_not_verified;
        out.not_verified = m_not_verified;
    }
    // Without this record the run reads as died-while-running: still interrupted and resumable.
    guarded([&] { record(fin); });
}

} // namespace rollback::orchestrator
