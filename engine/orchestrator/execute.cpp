// SPDX-License-Identifier: MIT
#include "orchestrator/execute.hpp"

#include "orchestrator/execution.hpp"
#include "orchestrator/host_survivors.hpp"
#include "orchestrator/hosts.hpp"
#include "orchestrator/probe.hpp"
#include "orchestrator/resume_decision.hpp"
#include "orchestrator/run_vars.hpp"
#include "orchestrator/survivors.hpp"

#include "state/step_gate.hpp"
#include "util/log.hpp"
#include "util/sha256.hpp"
#include "util/strings.hpp"
#include "util/time.hpp"

#include <algorithm>
#include <set>
#include <string_view>
#include <unistd.h>

namespace rollback::orchestrator {
namespace {

// The probe of a step on hosts asked on the hosts its interrupted attempt left unfinished: done
// when every host of the step is done (then the step is marked done by its probe), unknown when
// one host cannot tell (a person decides), else not done (the step runs on the hosts not done).
ProbeFinding probe_hosts(Execution& ex, const playbook::Step& step,
                         const journal::StepState& recorded) {
    const HostProbes found = ex.probe_on_hosts(step, recorded);
    if (!found.unknown.empty()) {
        return {ProbeFinding::Verdict::unknown,
                "on host " + util::join(found.unknown, ", ") +
                    (found.done.empty()
                         ? ""
                         : "; done by its probe on " + util::join(found.done, ", "))};
    }
    if (found.every_host_done && !found.done.empty()) {
        ex.record(journal::StepMarkedDone{
            step.id, "probe", "done on every host; by its probe on " + util::join(found.done, ", "),
            std::nullopt});
        return {ProbeFinding::Verdict::done, {}};
    }
    return {ProbeFinding::Verdict::not_done, {}};
}

std::string host_name() {
    char buf[256] = {};
    ::gethostname(buf, sizeof buf - 1);
    return buf;
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

/// The step_finished the engine did not live to write, for each step whose program's own exit
/// decided it (journal::StepState::finished_by_exit): the run goes on as if the engine had
/// died just after that record, and what the program left running stays running.
void record_finished_by_exit(Execution& ex, const journal::RunState& state,
                             const SurvivorReport& settled) {
    for (const auto& st : state.steps) {
        if (!st.finished_by_exit) {
            continue;
        }
        journal::StepFinished fin;
        fin.step = st.id;
        fin.attempt = st.attempts;
        fin.status = std::string(journal::to_string(st.status));
        fin.exit_code = st.exit_code;
        const auto from = util::parse_time(st.started);
        const auto to = util::parse_time(st.finished);
        fin.duration_ms =
            from && to && *to >= *from
                ? std::chrono::duration_cast<std::chrono::milliseconds>(*to - *from).count()
                : 0;
        fin.summary = st.summary;
        fin.recovered = true; // from step_process_exited, by this resume
        if (auto it = settled.left_alone.find(st.id); it != settled.left_alone.end()) {
            for (const auto& p : it->second) {
                fin.left_running.push_back({p.pid, p.command, !p.in_group});
            }
        }
        ex.record(fin);
    }
}

/// Whether a step of `state` is in flight on a host (started there, not finished).
bool in_flight_on_hosts(const journal::RunState& state) {
    for (const auto& st : state.steps) {
        for (const auto& [name, status] : st.hosts) {
            if (st.in_flight && status == "running") {
                return true;
            }
        }
    }
    return false;
}

/// What a resume records once the survivors are settled, before any step: the step_finished the
/// engine did not live to write, and a person's word (--mark-done, --retry).
void record_person_word(Execution& ex, const journal::RunState& state, const playbook::Playbook& pb,
                        const ResumeOptions& options, const SurvivorReport& settled,
                        const std::vector<journal::StepHostFinished>& vouched,
                        const std::set<std::string>& run_rest,
                        const std::set<std::string>& unverified, state::Store& store) {
    record_finished_by_exit(ex, state, settled);
    // A step whose interrupted attempt still runs is neither marked done nor retried now: what
    // a person said is recorded once those processes are gone (they say it again then).
    auto held = [&](const std::string& id) { return settled.blocked.count(id) != 0; };
    for (const auto& fin : vouched) {
        if (!held(fin.step)) {
            ex.record(fin);
        }
    }
    for (const auto& id : options.mark_done) {
        if (held(id)) {
            continue;
        }
        if (run_rest.count(id) != 0) {
            log::info("step {}: marked done on the hosts where it started; it runs on the hosts "
                      "where it never started",
                      id);
            continue;
        }
        journal::StepMarkedDone rec{id, options.user, options.why, std::nullopt};
        if (auto w = options.mark_done_warnings.find(id); w != options.mark_done_warnings.end()) {
            rec.probe_state = w->second; // what the step's probe said when a person overrode it
        }
        rec.unverified = unverified.contains(id);
        ex.record(rec);
    }
    // Forced past by this resume or an earlier one (the run was resumed again since).
    std::vector<std::string> not_verified;
    for (const auto& n : state.not_verified) {
        if (!unverified.contains(n.step) && !contains(options.retry, n.step)) {
            not_verified.push_back(n.step);
        }
    }
    not_verified.insert(not_verified.end(), unverified.begin(), unverified.end());
    ex.set_not_verified(std::move(not_verified));
    for (const auto& id : options.retry) {
        if (held(id)) {
            continue;
        }
        ex.record(journal::StepRetryRequested{id, options.user, options.why});
        // An approval gate run again asks again: its last request and answer are kept aside.
        for (const auto* list : {&pb.steps, &pb.finally}) {
            for (const auto& s : *list) {
                if (s.id == id && s.action == "approve") {
                    state::StepGates(store).retire(ex.run_id(), id);
                }
            }
        }
    }
}

/// The journal of `run_id` holds its header and nothing else: the process that started it (a
/// leader that decided the run) died before it recorded its plan — no step ran. Any other
/// answer (no journal, records, a broken chain, a store that cannot read it) is false.
bool header_only(const state::Store& store, const std::string& run_id) {
    try {
        const journal::Journal jr = store.read_journal(run_id);
        return jr.records.empty() && jr.chain_problem.empty();
    } catch (const std::exception&) {
        return false;
    }
}

/// The run starts in the journal its dead starter left with only a header (the same run: the
/// decided run a new leader starts, docs/config.md "A decided run that never started").
std::unique_ptr<journal::Appender> continue_header(state::Store& store, const std::string& run_id,
                                                   const state::RunLease& lease) {
    std::vector<std::string> warnings;
    auto writer = store.open_journal(run_id, lease, &warnings);
    for (const auto& w : warnings) {
        log::warn("{}", w);
    }
    log::warn("run {}: its journal held only its header (its starter died before recording the "
              "plan, no step ran): the run starts in it",
              run_id);
    return writer;
}

} // namespace

RunOutcome run(const Plan& plan, const RunOptions& options, state::Store& store,
               const state::RunLease& lease, const std::string& run_id, exec::ProcessRunner& runner,
               report::Observer& observer) {
    const playbook::Playbook& pb = *plan.playbook;
    auto writer = header_only(store, run_id)
                      ? continue_header(store, run_id, lease)
                      : store.create_journal(
                            run_id,
                            {{"run_id", run_id},
                             {"created", util::format_time(std::chrono::system_clock::now())}},
                            lease);
    Execution ex(pb, std::move(writer), options.trigger, run_id, options.state_dir, store,
                 options.verbose, runner, observer);
    if (options.connections) {
        ex.set_connections(options.connections);
    }
    ex.set_hand_over(options.hand_over);
    ex.set_state(options.state);

    journal::RunStarted started;
    started.run_id = run_id;
    started.playbook = pb.file.string();
    started.playbook_sha256 = util::sha256_file(pb.file);
    started.inventory_sha256 = pb.remote.inventory_sha256;
    started.playbook_name = pb.name;
    started.trigger = options.trigger;
    started.user = options.user;
    started.host = host_name();
    started.pid = ::getpid();
    started.steps.reserve(plan.steps.size());
    for (const auto& ps : plan.steps) {
        const actions::Action* action = actions::find_action(ps.step->action);
        started.steps.push_back(
            {ps.step->id, std::string(playbook::to_string(ps.step->phase)), ps.step->action,
             ps.step->idempotent,
             !ps.step->probe.empty() || (action != nullptr && action->has_probe()), ps.is_finally});
    }
    started.selection = {options.selection.only, options.selection.skip, options.selection.from};
    // The values the steps receive are part of the run: a resume goes on with these (run_vars).
    // A secret is kept by its origin and a fingerprint under the run's own key only.
    bool any_secret = false;
    for (const auto& v : pb.variables) {
        any_secret = any_secret || v.secret;
    }
    const auto key =
        any_secret ? run_vars_key(store.artifacts_dir(run_id), true) : std::optional<std::string>();
    started.vars = recorded_vars(pb, key.value_or(std::string()));
    started.has_vars = true;
    ex.record(started);
    log::info("run {} started: playbook {}, reason {}", run_id, pb.file.string(),
              options.trigger.reason);
    ex.lifecycle("on-trigger", nullptr, "started");
    auto out = ex.drive(plan, [](const PlannedStep& ps) {
        return ps.selected ? StepDecision{StepPlan::run, 1, {}}
                           : StepDecision{StepPlan::record_skip, 1, ps.skip_reason};
    });
    log::info("run {} finished: {}", run_id, journal::to_string(out.status));
    return out;
}

ResumeJournal read_for_resume(const state::Store& store, const std::string& run_id,
                              const state::RunLease& lease) {
    journal::Fold fold;
    std::optional<journal::RunStarted> started;
    const journal::RecordSink each = [&fold, &started](journal::Entry&& e) {
        fold.apply(e);
        if (!started && e.type() == journal::RecordType::run_started) {
            started = std::move(std::get<journal::RunStarted>(e.record));
            // Its plan is the fold's now (state.steps): 20,000 planned steps are 2 MB that the
            // playbook's load, which comes next, can use instead of memory never touched.
            std::vector<journal::PlannedStep>().swap(started->steps);
        }
    };
    ResumeJournal out{store.read_journal(run_id, &each), {}, {}, &lease};
    out.state = fold.finish(out.journal, false);
    out.started = std::move(started);
    return out;
}

ResumeJournal resume_journal(const journal::Journal& jr) {
    ResumeJournal out{jr, journal::fold(jr, false), {}, nullptr};
    for (const auto& e : jr.records) {
        if (e.type() == journal::RecordType::run_started) {
            out.started = std::get<journal::RunStarted>(e.record);
            break;
        }
    }
    return out;
}

RunOutcome resume(const playbook::Playbook& pb, const journal::Journal& jr,
                  const ResumeOptions& options, state::Store& store, const state::RunLease& lease,
                  exec::ProcessRunner& runner, report::Observer& observer) {
    return resume(pb, resume_journal(jr), options, store, lease, runner, observer);
}

RunOutcome resume(const playbook::Playbook& pb, const ResumeJournal& rj,
                  const ResumeOptions& options, state::Store& store, const state::RunLease& lease,
                  exec::ProcessRunner& runner, report::Observer& observer) {
    const journal::Journal& jr = rj.journal;
    const std::string run_id = jr.run_id();
    if (!jr.chain_problem.empty()) {
        // A journal whose chain is broken was changed after it was written: what it says was
        // done cannot be trusted, so nothing is decided from it (journal.md, corruption).
        throw util::Error("journal of run " + run_id + " is NOT intact: " + jr.chain_problem +
                              "; refusing to resume from it",
                          util::ExitCode::invalid,
                          "run 'rollback audit verify " + run_id + options.state.args +
                              "' and restore the journal from a copy, or start a new run");
    }
    const journal::RunState& state = rj.state;
    const journal::RunStarted* started = rj.started ? &*rj.started : nullptr;
    if (started == nullptr) {
        throw util::Error("run " + run_id +
                              " never started (its journal has no run_started record)",
                          util::ExitCode::invalid);
    }
    if (state.status == journal::RunStatus::succeeded) {
        throw util::Error("run " + run_id + " already succeeded; there is nothing to resume",
                          util::ExitCode::invalid);
    }

    // Rebuild the same plan: the recorded trigger and selection decide skips exactly as before.
    actions::Trigger trigger = started->trigger;
    if (!started->has_trigger) {
        trigger.kind = actions::Trigger{}.kind;
    }
    Selection selection;
    selection.only = started->selection.only;
    selection.skip = started->selection.skip;
    selection.from = started->selection.from;
    Plan plan = make_plan(pb, selection, trigger);
    // Every step of the run is still in the playbook: each playbook step marks its run step
    // (by the fold's index, in O(1): linear in the run's steps).
    std::vector<bool> in_playbook(state.steps.size(), false);
    for (const auto* list : {&pb.steps, &pb.finally}) {
        for (const auto& s : *list) {
            if (auto it = state.step_index.find(s.id); it != state.step_index.end()) {
                in_playbook[it->second] = true;
            }
        }
    }
    for (size_t i = 0; i < state.steps.size(); ++i) {
        if (!in_playbook[i]) {
            throw util::Error("run " + run_id + " has step " + util::quoted(state.steps[i].id) +
                                  " which " + pb.file.string() + " no longer has",
                              util::ExitCode::invalid);
        }
    }
    for (const auto& id : options.mark_done) {
        if (state.step(id) == nullptr) {
            throw util::Error("--mark-done: run " + run_id + " has no step " + util::quoted(id),
                              util::ExitCode::invalid);
        }
    }
    // A check of the verify phase that never passed, marked done, would make an unverified run
    // succeed: refused unless forced, and then recorded as not verified.
    std::set<std::string> unverified;
    for (const auto& id : options.mark_done) {
        const playbook::Step* step = pb.find_step(id);
        const auto* st = state.step(id);
        if (step == nullptr || step->phase != playbook::Phase::verify ||
            st->status == journal::StepStatus::succeeded) {
            continue;
        }
        if (!options.force) {
            throw util::Error(
                "--mark-done " + id + ": step " + util::quoted(id) +
                    " is a check of the verify phase that never passed (" +
                    std::string(journal::to_string(st->status)) +
                    "); marking it done would end the run succeeded without it verified",
                util::ExitCode::invalid,
                "resume without --mark-done " + id + " to run the check again" +
                    (step->idempotent ? " (it is idempotent)" : " (--retry " + id + ")") +
                    ", or add --force if the service was verified by hand");
        }
        unverified.insert(id);
    }
    for (const auto& id : options.retry) {
        if (state.step(id) == nullptr) {
            throw util::Error("--retry: run " + run_id + " has no step " + util::quoted(id),
                              util::ExitCode::invalid);
        }
    }
    // A step that failed and aborted the run is only run again when a person asks for it. A run
    // it stopped whose finally steps did not all finish (killed during them) is finished without
    // it: those finally steps run (by their own rules), and the run ends failed as it would have
    // (StepPlan::already_failed). With its finally steps done there is nothing left to do.
    const bool finally_left = !state.finally_done();
    for (const auto& ps : plan.steps) {
        if (finally_left) {
            break;
        }
        const auto* st = state.step(ps.step->id);
        if (ps.is_finally || st == nullptr || st->in_flight || contains(options.retry, st->id) ||
            contains(options.mark_done, st->id) || retries_owed(*ps.step, *st) ||
            ps.step->on_failure != playbook::OnFailure::abort) {
            continue;
        }
        if (st->status == journal::StepStatus::failed ||
            st->status == journal::StepStatus::timed_out ||
            st->status == journal::StepStatus::verification_failed) {
            throw util::Error("run " + run_id + " stopped because step " + util::quoted(st->id) +
                                  " " + std::string(journal::to_string(st->status)) + " (" +
                                  st->summary + ")",
                              util::ExitCode::invalid,
                              "fix the cause, then: rollback resume " + run_id +
                                  options.state.args + " --retry " + st->id +
                                  "   (or --mark-done " + st->id + " if it was done by hand)");
        }
    }

    std::vector<std::string> warnings;
    // Read under this lease: no writer changed the journal since, so it is continued from that
    // reading (its chain was checked above) instead of being read a second time.
    auto writer = rj.read_under == &lease ? store.continue_journal(run_id, jr, lease, &warnings)
                                          : store.open_journal(run_id, lease, &warnings);
    for (const auto& w : warnings) {
        log::warn("{}", w);
    }
    Execution ex(pb, std::move(writer), trigger, run_id, options.state_dir, store, options.verbose,
                 runner, observer);
    ex.set_state(options.state);
    std::map<std::string, std::set<std::string>> done_hosts; // a step on hosts: where it is done
    for (const auto& st : state.steps) {
        for (const auto& [name, status] : st.hosts) {
            if (status == "succeeded" || status == "marked_done") { // marked: by its probe
                done_hosts[st.id].insert(name);
            }
        }
    }
    // --mark-done of a step on hosts vouches for the hosts where it started (they are marked
    // done each); the hosts where it never started are no one's word: the step runs there.
    std::vector<journal::StepHostFinished> vouched;
    std::set<std::string> run_rest; // steps marked done on some hosts that still run on the rest
    for (const auto& id : options.mark_done) {
        const journal::StepState* st = state.step(id);
        const playbook::Step* step = nullptr;
        for (const auto* list : {&pb.steps, &pb.finally}) {
            for (const auto& s : *list) {
                if (s.id == id) {
                    step = &s;
                }
            }
        }
        if (step == nullptr || step->hosts.empty() || st == nullptr || st->hosts.empty()) {
            continue; // not on hosts, or started on none: the person's word is for the step
        }
        std::set<std::string>& done = done_hosts[id];
        for (const remote::Host* h : pb.inventory.select(step->hosts)) {
            if (done.count(h->name) != 0) {
                continue;
            }
            if (st->hosts.count(h->name) == 0) {
                run_rest.insert(id); // never started there
                continue;
            }
            journal::StepHostFinished fin;
            fin.step = id;
            fin.attempt = st->attempts;
            fin.host = h->name;
            fin.status = "marked_done";
            fin.summary = "marked done by " + options.user;
            vouched.push_back(std::move(fin));
            done.insert(h->name);
        }
    }
    ex.set_done_hosts(std::move(done_hosts));
    ex.set_hand_over(options.hand_over);
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    ex.record(
        journal::RunResumed{options.user, options.why, ::getpid(), host, options.vars_changed});
    // Before anything of an interrupted step happens again (its probe included): what its
    // attempt started must be gone, here and on the hosts where it did not finish (over the
    // connections its steps then use). A step whose processes live on needs a person.
    SurvivorHooks hooks{[&](const journal::Record& rec) { ex.record(rec); },
                        [&](const std::string& step, const std::string& line) {
                            observer.on_progress(step, line);
                        }};
    if (in_flight_on_hosts(state)) {
        auto connections = std::make_shared<remote::Connections>(runner, ssh_settings(pb.remote));
        ex.set_connections(connections);
        hooks.scan_host = ssh_host_scanner(connections);
    }
    SurvivorReport settled = settle_survivors(state, pb, hooks);
    // Interrupted while waiting for them: nothing is recorded as done or asked for, no step
    // starts, the finally steps wait for the next resume (drive records the interruption).
    settled.interrupted = settled.interrupted || exec::interrupt_requested() != 0;
    if (settled.interrupted) {
        ex.set_interrupted_waiting();
    } else {
        record_person_word(ex, state, pb, options, settled, vouched, run_rest, unverified, store);
    }
    // The probes resume may ask; each records what it found, and a `done` as marked by the probe.
    auto mark_done_by_probe = [&](const playbook::Step& step, const std::string& why) {
        ex.record(journal::StepMarkedDone{step.id, "probe", why, std::nullopt});
    };
    Probes probes;
    probes.command = [&](const playbook::Step& step) {
        if (!step.hosts.empty()) {
            return probe_hosts(ex, step, *state.step(step.id));
        }
        const ProbeVerdict v = run_probe(ex, step, runner);
        if (v == ProbeVerdict::done) {
            mark_done_by_probe(step, "probe says the step's effect is in place");
        }
        return ProbeFinding{v == ProbeVerdict::done       ? ProbeFinding::Verdict::done
                            : v == ProbeVerdict::not_done ? ProbeFinding::Verdict::not_done
                                                          : ProbeFinding::Verdict::unknown,
                            {}};
    };
    auto action_probe = [&](const playbook::Step& step) {
        const actions::Action* action = actions::find_action(step.action);
        actions::ProbeAnswer a = action->probe(ex.context(step));
        const bool done = a.verdict == actions::ProbeAnswer::Verdict::done;
        const bool not_done = a.verdict == actions::ProbeAnswer::Verdict::not_done;
        journal::StepProbe rec;
        rec.step = step.id;
        rec.by = "action";
        rec.verdict = done ? "done" : not_done ? "not_done" : "error";
        rec.state = a.state;
        ex.record(rec);
        if (done) {
            mark_done_by_probe(step, a.state);
        }
        return ProbeFinding{done       ? ProbeFinding::Verdict::done
                            : not_done ? ProbeFinding::Verdict::not_done
                                       : ProbeFinding::Verdict::unknown,
                            a.state};
    };
    Probes with_action_probe = probes; // made once: a copy per step was an allocation each
    with_action_probe.action = action_probe;
    auto decide = [&](const PlannedStep& ps) -> StepDecision {
        if (settled.interrupted) {
            return {StepPlan::already_done, 0, {}}; // nothing runs: the next resume decides
        }
        const actions::Action* action = actions::find_action(ps.step->action);
        const Probes& these =
            action == nullptr || !action->has_probe() ? probes : with_action_probe;
        const auto blocked = settled.blocked.find(ps.step->id);
        const auto unchecked = settled.unchecked.find(ps.step->id);
        return decide_resume(
            {ps, state.step(ps.step->id), blocked != settled.blocked.end(),
             contains(options.mark_done, ps.step->id) && run_rest.count(ps.step->id) == 0,
             contains(options.retry, ps.step->id) || run_rest.count(ps.step->id) != 0,
             std::chrono::system_clock::now(),
             blocked != settled.blocked.end() ? blocked->second : std::string(),
             unchecked != settled.unchecked.end() ? unchecked->second : std::string()},
            run_id, ex.state_args(), these);
    };
    auto out = ex.drive(plan, decide);
    log::info("run {} resumed and finished: {}", run_id, journal::to_string(out.status));
    return out;
}

std::map<std::string, std::string>
probe_mark_done(const playbook::Playbook& pb, const journal::Journal& jr,
                const std::vector<std::string>& mark_done, const std::filesystem::path& state_dir,
                state::Store& store, exec::ProcessRunner& runner) {
    std::map<std::string, std::string> out;
    const std::string run_id = jr.run_id();
    actions::Trigger trigger;
    for (const auto& id : mark_done) {
        const playbook::Step* step = pb.find_step(id);
        const actions::Action* action = step ? actions::find_action(step->action) : nullptr;
        if (action == nullptr || !action->has_probe()) {
            continue;
        }
        actions::Context ctx{pb,    *step,   runner, run_id, state_dir, store.artifacts_dir(run_id),
                             store, trigger, false,  {}};
        actions::ProbeAnswer a = action->probe(ctx);
        if (a.verdict != actions::ProbeAnswer::Verdict::done) {
            out[id] = a.state;
        }
    }
    return out;
}

} // namespace rollback::orchestrator
