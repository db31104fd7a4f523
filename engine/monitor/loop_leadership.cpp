// SPDX-License-Identifier: MIT
// The monitor loop among monitors sharing a state (docs/config.md "Leadership"): who acts, what
// a follower records, the run a dead or deposed leader left, and a run that ended.
#include "monitor/loop.hpp"

#include "db/connection.hpp"

#include "exec/runner.hpp"
#include "journal/paths.hpp"
#include "journal/state.hpp"
#include "monitor/decision_actions.hpp"
#include "state/policy_memory.hpp"
#include "util/duration.hpp"
#include "util/error.hpp"
#include "util/log.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"
#include "util/time.hpp"

#include <algorithm>
#include <boost/json/array.hpp>

namespace rollback::monitor {

void Loop::ask_leadership() {
    if (m_leadership == nullptr) {
        return;
    }
    const bool was = m_leading;
    m_leading = m_leadership->may_act();
    if (m_leading && (!was || m_leadership->generation() != m_adopted_generation)) {
        // A new leadership (also this process's own again, after it lost it): what was acted
        // on meanwhile is what the shared state says.
        adopt_shared_policy();
    }
    std::optional<state::Leader> now;
    try {
        now = m_leadership->leader();
    } catch (const std::exception& e) {
        log::warn("monitor: cannot read who leads: {}", e.what());
        return; // said when the state answers again
    }
    const std::uint64_t generation = now ? now->generation : 0;
    if (was == m_leading && m_generation_seen == generation) {
        return;
    }
    m_generation_seen = generation;
    std::string line;
    if (m_leading) {
        line = "leading (generation " + std::to_string(generation) + ")";
    } else if (now) {
        line = "following " + now->holder.host + " pid " + std::to_string(now->holder.pid) +
               " (generation " + std::to_string(generation) + ")";
    } else {
        line = "following: nobody leads now (the shared state did not answer or the lease is "
               "free); acting on nothing";
    }
    log::info("monitor: {}", line);
    m_env.out.say(line);
    event({{"event", m_leading ? "leading" : "following"},
           {"generation", generation},
           {"leader_host", now ? now->holder.host : std::string()},
           {"leader_pid", now ? now->holder.pid : 0}});
}

/// A monitor that becomes the leader acts as the previous leader left things: what was acted on
/// is what the leader kept in the shared state (its policy memory, written before each run
/// starts), not what this monitor decided while it followed. So an incident that fired while
/// nobody could act — the shared state down at that tick, every monitor a follower — is acted
/// on at its next breaching tick by whoever leads when the state answers again (and one the
/// leader acted on is not acted on twice). Throws when the state does not answer: this monitor
/// then leads nothing this tick (iterate_shared) and adopts again at its next try.
void Loop::adopt_shared_policy() {
    std::optional<decision::Evaluator::PolicyMemory> memory;
    try {
        memory = state::load_policy_memory(m_env.store, &m_blocked_by);
    } catch (...) {
        m_leading = false;
        throw;
    }
    m_mon->adopt_policy(memory.value_or(decision::Evaluator::PolicyMemory{}));
    m_policy_saved = memory;
    m_blocked_saved = m_blocked_by;
    m_adopted_generation = m_leadership != nullptr ? m_leadership->generation() : 0;
    m_decided = memory ? memory->decided_run : std::nullopt;
    m_check_decided = m_decided.has_value();
    m_take_over_requests = true; // the requests its predecessors filed are judged again
    // A trigger kept for a retry belonged to the leadership before: what it decided is the
    // shared decided run, started by start_decided_run() if it never started.
    m_pending.reset();
    std::int64_t acted = 0;
    if (memory) {
        for (const auto& entry : memory->conditions) {
            acted += entry.second.incident_since && entry.second.acted ? 1 : 0;
        }
    }
    event({{"event", "policy_adopted"}, {"acted_incidents", acted}});
}

decision::DecisionRecord Loop::as_kept(const decision::DecisionRecord& r) const {
    decision::DecisionRecord kept = r;
    if (m_leadership == nullptr) {
        return kept;
    }
    const auto me = state::this_process_holder("", "");
    kept.leadership = decision::LeadershipInfo{m_leading ? "leader" : "follower", me.host, me.pid,
                                               m_generation_seen.value_or(0)};
    if (!m_leading && kept.action != decision::Action::none && kept.executed) {
        kept.executed = false; // the leader acts on it; this monitor only records it
    }
    return kept;
}

void Loop::resume_left_run() {
    std::optional<state::Holder> dead;
    try {
        if (m_env.store.lease_holder()) {
            return; // a run is live: its holder goes on
        }
        dead = m_env.store.dead_holder();
    } catch (const std::exception& e) {
        log::warn("monitor: cannot read the run lock: {}", e.what());
        return;
    }
    if ((!dead || dead->run_id.empty()) && m_left_run) {
        // This monitor's own run, stopped by the store (its lock released without a holder).
        dead = state::this_process_holder(*m_left_run, "");
    }
    if (!dead || !journal::is_valid_run_id(dead->run_id) || m_stopping ||
        exec::interrupt_requested() != 0) {
        return; // stopping: the next leader resumes it
    }
    journal::RunState st;
    try {
        st = journal::fold(m_env.store.read_journal(dead->run_id), false);
    } catch (const std::exception& e) {
        log::warn("monitor: cannot read run {}: {}", dead->run_id, e.what());
        return;
    }
    // Only a monitor's run is the monitors' to finish: a person's run that died waits for a
    // person (rollback status shows it, rollback resume continues it).
    if (st.playbook.empty() || st.trigger.kind != "monitor" ||
        (st.status != journal::RunStatus::running &&
         st.status != journal::RunStatus::interrupted)) {
        if (m_left_run == dead->run_id) {
            m_left_run.reset();
        }
        if (m_failed_resume && m_failed_resume->run_id == dead->run_id) {
            m_failed_resume.reset(); // finished meanwhile (a person's `rollback resume`)
        }
        return;
    }
    if (m_failed_resume && m_failed_resume->run_id == dead->run_id &&
        m_tick_at < m_failed_resume->next_try) {
        return; // its last resume failed: tried again when the delay has passed
    }
    const auto me = state::this_process_holder("", "");
    const bool own = dead->pid == me.pid && dead->host == me.host;
    const std::string line =
        "run " + dead->run_id + " of " +
        (own ? std::string("this monitor") : dead->host + " pid " + std::to_string(dead->pid)) +
        " was left unfinished: resuming it (rollback resume rules)" +
        (m_failed_resume && m_failed_resume->run_id == dead->run_id
             ? " — try " + std::to_string(m_failed_resume->attempts + 1)
             : std::string());
    log::warn("monitor: {}", line);
    m_env.out.say(line);
    event({{"event", "run_resuming"},
           {"run_id", dead->run_id},
           {"left_by_host", dead->host},
           {"left_by_pid", dead->pid}});
    int rc = 0;
    try {
        rc = while_running("resuming run " + dead->run_id + " (decision " + st.trigger.decision_id +
                               ")",
                           [&] { return m_env.starter.resume(dead->run_id, fence("")); });
    } catch (const util::Error& e) {
        if (e.code() == util::ExitCode::locked) {
            // Another process holds the run lock now: it goes on; nothing failed here.
            check_still_leading();
            log::warn("monitor: run {} not resumed: {}", dead->run_id, e.what());
            event({{"event", "run_not_resumed"},
                   {"run_id", dead->run_id},
                   {"exit_code", util::to_int(e.code())},
                   {"error", e.what()}});
            return;
        }
        resume_failed(dead->run_id, st.trigger.decision_id, e);
        return;
    }
    if (m_left_run == dead->run_id) {
        m_left_run.reset();
    }
    if (m_failed_resume && m_failed_resume->run_id == dead->run_id) {
        const std::string done = "run " + dead->run_id + " resumed after " +
                                 std::to_string(m_failed_resume->attempts) + " failed " +
                                 (m_failed_resume->attempts == 1 ? "try" : "tries");
        log::info("monitor: {}", done);
        m_env.out.say(done);
        m_failed_resume.reset();
    }
    run_ended(st.trigger.decision_id, rc, dead->run_id);
}

void Loop::resume_failed(const std::string& run_id, const std::string& decision_id,
                         const util::Error& error) {
    if (!m_failed_resume || m_failed_resume->run_id != run_id) {
        m_failed_resume = FailedResume{run_id, 0, m_tick_at};
    }
    auto& f = *m_failed_resume;
    ++f.attempts;
    const util::Millis delay = retry_delay(f.attempts, k_resume_delay_max);
    f.next_try = m_tick_at + delay;
    if (m_endpoint) {
        m_endpoint->run_not_resumed();
    }
    const std::string line = "run " + run_id + " not resumed (exit " +
                             std::to_string(util::to_int(error.code())) + "): " + error.what() +
                             "; tried again in " + util::format_duration(delay) +
                             " (failed tries: " + std::to_string(f.attempts) +
                             "); `rollback resume " + run_id + state_args() + "` continues it now";
    log::error("monitor: {}", line);
    m_env.out.problem(line);
    event({{"event", "run_not_resumed"},
           {"run_id", run_id},
           {"decision_id", decision_id},
           {"exit_code", util::to_int(error.code())},
           {"error", error.what()},
           {"attempts", f.attempts},
           {"next_try", util::format_time(f.next_try)}});
    if (f.attempts != 1 || !m_hooks_pb) {
        return; // paged at the first failure; each retry is said and recorded
    }
    // A person must know: the rollback stopped half way and may not finish by itself.
    decision::DecisionRecord page;
    try {
        page = m_env.store.record(decision_id);
    } catch (const std::exception& e) {
        log::warn("monitor: decision {} not read for the page: {}", decision_id, e.what());
        page.time = m_tick_at;
        page.cause = "";
    }
    page.action = decision::Action::escalate;
    page.executed = true;
    page.reason = "run " + run_id + " of decision " + decision_id +
                  " was left unfinished and did not resume: " + util::mask_secrets(error.what()) +
                  "; tried again later, or `rollback resume " + run_id + state_args() + "`";
    event({{"event", "escalated"}, {"decision_id", decision_id}, {"run_id", run_id}});
    try {
        for (auto& why : tell_hooks(
                 m_mon->config(), *m_hooks_pb, m_env.runner, m_env.store, m_env.state_dir, page,
                 decision_id,
                 [this, &decision_id](const auto& names) {
                     return may_call_hooks(decision_id, names);
                 },
                 error.what())) {
            event({{"event", "hook_failed"}, {"decision_id", decision_id}, {"error", why}});
        }
    } catch (const std::exception& e) {
        log::error("monitor: the hooks were not told of run {}: {}", run_id, e.what());
        event({{"event", "hook_failed"}, {"decision_id", decision_id}, {"error", e.what()}});
    }
}

void Loop::start_decided_run() {
    if (!m_check_decided || !m_decided || m_stopping || exec::interrupt_requested() != 0) {
        return;
    }
    const auto decided = *m_decided;
    if (!m_blocked_by.empty()) {
        // Its start met another run's lock: that run was its exclusion, here as for the leader
        // that decided it (docs/decision.md: two runs never start).
        m_check_decided = false;
        const std::string line = "run " + decided.run_id + " of decision " + decided.decision_id +
                                 " was excluded by run " + m_blocked_by +
                                 " (it held the run lock when the run was to start): not started";
        log::info("monitor: {}", line);
        m_env.out.say(line);
        event({{"event", "decided_run_excluded"},
               {"run_id", decided.run_id},
               {"decision_id", decided.decision_id},
               {"blocked_by", m_blocked_by}});
        return;
    }
    try {
        try {
            if (!journal::fold(m_env.store.read_journal(decided.run_id), false).playbook.empty()) {
                m_check_decided = false; // it started: resume_left_run finishes it if it must
                return;
            }
        } catch (const util::Error& e) {
            if (e.code() != util::ExitCode::invalid) {
                throw;
            }
            // No journal: it never started (or its header is all there is).
        }
        if (m_env.store.lease_holder()) {
            return; // a run is live (this one still starting, or another): looked at next tick
        }
    } catch (const std::exception& e) {
        log::warn("monitor: cannot look for run {}: {}", decided.run_id, e.what());
        return;
    }
    m_check_decided = false;
    const auto memory = m_mon->policy_memory();
    const auto it = memory.conditions.find(decided.condition);
    if (it == memory.conditions.end() || !it->second.incident_since || !it->second.acted) {
        const std::string line = "run " + decided.run_id + " of decision " + decided.decision_id +
                                 " was decided by the previous leader but never started; its "
                                 "incident (condition \"" +
                                 decided.condition + "\") ended: nothing to start";
        log::warn("monitor: {}", line);
        m_env.out.say(line);
        event({{"event", "decided_run_dropped"},
               {"run_id", decided.run_id},
               {"decision_id", decided.decision_id}});
        return;
    }
    decision::DecisionRecord record;
    try {
        record = m_env.store.record(decided.decision_id);
    } catch (const std::exception& e) {
        m_check_decided = true; // looked at again next tick
        log::warn("monitor: cannot read decision {}: {}", decided.decision_id, e.what());
        return;
    }
    const std::string line = "run " + decided.run_id + " of decision " + decided.decision_id +
                             " was decided by the previous leader but never started (it died or "
                             "was deposed before the run recorded its plan): starting it";
    log::warn("monitor: {}", line);
    m_env.out.say(line);
    event({{"event", "decided_run_not_started"},
           {"run_id", decided.run_id},
           {"decision_id", decided.decision_id}});
    decide_run(decided.decision_id, decided.condition);
    persist();
    act_on_trigger(record, decided.decision_id);
}

bool Loop::left_unfinished(const std::string& decision_id, const std::string& error) {
    if (!m_decided) {
        return false;
    }
    const std::string run_id = m_decided->run_id;
    bool known = true;
    try {
        if (journal::fold(m_env.store.read_journal(run_id), false).playbook.empty()) {
            return false; // its header at most: it ran nothing
        }
    } catch (const util::Error& e) {
        if (e.code() == util::ExitCode::invalid) {
            return false; // no journal: it did not start
        }
        known = false;
    } catch (const std::exception&) {
        known = false; // the store does not answer: whether it started is looked at again
    }
    const std::string line =
        "run " + run_id + " of decision " + decision_id + " stopped" +
        (known ? " unfinished" : " (whether it recorded its plan is not known now)") + ": " +
        error + "; " +
        (m_leadership != nullptr ? "the leader resumes it (rollback resume rules), nothing starts "
                                   "in its place"
                                 : "rollback resume " + run_id + state_args() + " continues it");
    log::error("monitor: {}", line);
    m_env.out.problem(line);
    event({{"event", "run_stopped_unfinished"},
           {"decision_id", decision_id},
           {"run_id", run_id},
           {"error", error}});
    if (m_leadership != nullptr) {
        m_left_run = run_id;
        m_check_decided = !known; // no journal after all: start_decided_run starts it
    }
    try {
        run_ended(decision_id, util::to_int(util::ExitCode::state_unwritable), run_id);
    } catch (const std::exception& e) {
        log::warn("monitor: run {}: {}", run_id, e.what());
    }
    return true;
}

void Loop::excluded_by_lock() {
    if (!m_decided || !m_leading) {
        return;
    }
    std::string by = "another run";
    try {
        auto h = m_env.store.lease_holder();
        if (!h) {
            h = m_env.store.dead_holder(); // a dead person's run: its exclusion too
        }
        if (h && !h->run_id.empty()) {
            by = h->run_id;
        }
    } catch (const std::exception& e) {
        log::warn("monitor: cannot read the run lock: {}", e.what());
    }
    if (by == m_decided->run_id) {
        return;
    }
    m_blocked_by = by;
    event({{"event", "decided_run_excluded"},
           {"run_id", m_decided->run_id},
           {"decision_id", m_decided->decision_id},
           {"blocked_by", by}});
    persist(); // a leader taking over honours the exclusion
}

void Loop::decide_run(const std::string& decision_id, const std::string& condition) {
    m_decided = decision::Evaluator::PolicyMemory::DecidedRun{journal::new_run_id(), decision_id,
                                                              condition};
    m_blocked_by.clear();
}

state::RunFence Loop::fence(const std::string& decided_run) const {
    return state::RunFence{m_leadership != nullptr ? m_leadership->generation() : 0, decided_run};
}

void Loop::check_still_leading() {
    if (m_leadership == nullptr) {
        return;
    }
    std::optional<state::Leader> now;
    try {
        now = m_leadership->leader();
    } catch (const std::exception&) {
        now.reset();
    }
    if (!now || now->generation != m_leadership->generation()) {
        // Asked again (and the shared policy memory adopted again) at the next tick.
        m_leading = false;
        log::warn("monitor: this monitor lost its leadership (generation {}): it starts nothing",
                  m_leadership->generation());
    }
}

bool Loop::may_call_hooks(const std::string& id, const std::vector<std::string>& not_called) {
    boost::json::array names;
    for (const auto& n : not_called) {
        names.emplace_back(n);
    }
    return still_leading("the [decision] hooks " + util::join(not_called, ", ") +
                             " were not called for " + id,
                         {{"decision_id", id}, {"not_called", std::move(names)}});
}

bool Loop::still_leading(const std::string& what, boost::json::object extra) {
    if (m_leadership == nullptr) {
        return true;
    }
    if (m_leading && m_leadership->leads_now()) {
        return true;
    }
    if (m_leading) {
        m_leading = false;
        const std::string line = what +
                                 ": this monitor no longer leads (its leadership of "
                                 "generation " +
                                 std::to_string(m_leadership->generation()) +
                                 " was taken over or expired); it acts on nothing more";
        log::warn("monitor: {}", line);
        m_env.out.problem(line);
        boost::json::object ev{{"event", "fenced"}, {"what", what}};
        for (auto& [k, v] : extra) {
            ev[k] = std::move(v);
        }
        event(std::move(ev));
    }
    return false;
}

int Loop::while_running(const std::string& what, const std::function<int()>& body) {
    // The run clears the interrupt to run its finally steps; the count tells the loop that the
    // signal (systemctl stop) was meant for the monitor too.
    struct Scope {
        Endpoint* endpoint;
        unsigned signals_before;
        bool& stopping;
        ~Scope() {
            stopping |= exec::interrupts_received() != signals_before;
            if (endpoint != nullptr) {
                endpoint->playbook_running(std::nullopt, "");
            }
        }
    } scope{m_endpoint.get(), exec::interrupts_received(), m_stopping};
    if (m_endpoint) {
        m_endpoint->playbook_running(m_env.clock.now(), what);
    }
    return body();
}

void Loop::run_ended(const std::string& decision_id, int rc, const std::string& run_id) {
    if (rc == util::to_int(util::ExitCode::state_unwritable) && m_leadership != nullptr &&
        !run_id.empty() && m_leadership->may_act() && m_left_run != run_id) {
        // Stopped by the store while this monitor leads (a statement slower than the lease, a
        // table locked, the server away): nobody else would finish it.
        m_left_run = run_id;
        const std::string line = "run " + run_id +
                                 " stopped unfinished (exit 7: the shared state refused or lost a "
                                 "record); this monitor resumes it once the run lock is free";
        log::warn("monitor: {}", line);
        m_env.out.problem(line);
        event({{"event", "run_stopped_unfinished"}, {"run_id", run_id}});
    }
    m_last_run = m_env.store.latest_run();
    if (m_last_run) {
        m_unfinished_runs.erase(*m_last_run); // accounted for here, not again when noticed
    }
    if (m_endpoint && m_last_run) {
        try {
            m_endpoint->run_ended(journal::fold(m_env.store.read_journal(*m_last_run), false));
        } catch (const std::exception& e) {
            log::warn("monitor: cannot read run {}: {}", *m_last_run, e.what());
        }
    }
    event({{"event", "run_finished"},
           {"decision_id", decision_id},
           {"run_id", m_last_run.value_or("")},
           {"exit_code", rc}});
    if (rc == util::to_int(util::ExitCode::state_unwritable) && m_leadership != nullptr &&
        !m_leadership->may_act()) {
        // Fenced: another monitor took the leadership and the run lock while this one was
        // silent (paused, cut off). It started nothing more; it keeps evaluating and recording
        // as a follower.
        m_leading = false;
        const std::string line = "run " + m_last_run.value_or("") +
                                 " stopped: this monitor lost its leadership and the run lock "
                                 "(another monitor took over); it starts nothing more and follows";
        log::warn("monitor: {}", line);
        m_env.out.problem(line);
        event({{"event", "fenced"}, {"run_id", m_last_run.value_or("")}});
        return;
    }
    // The rollback happened (verified or not): the release is no baseline, and a recurrence
    // is reported instead of triggering again.
    if (rc == util::to_int(util::ExitCode::ok) ||
        rc == util::to_int(util::ExitCode::verification_failed)) {
        m_mon->rolled_back(m_env.clock.now());
        m_baselines_dirty = true;
    }
    persist(); // the cooldown and the watch, before anything else can happen
}

void Loop::iterate_shared(bool boundary) {
    try {
        iterate(boundary);
        if (m_state_failing) {
            m_state_failing = false;
            log::info("monitor: the shared state answers again");
            m_env.out.say("the shared state answers again");
        }
    } catch (const std::exception& e) {
        if (db::refused_for_good(e.what())) {
            // A refused password (rotated without a restart) or a dropped database is not a
            // server restarting: retried forever, the target would be unprotected while the
            // monitor looks alive. Fatal, as at the start (docs/config.md).
            log::error("monitor: the shared state refused this monitor: {}", e.what());
            throw util::Error(std::string("the shared state refused this monitor (") + e.what() +
                                  "): it cannot act or follow; stopping",
                              util::ExitCode::run_failed,
                              "fix [state] dsn (a rotated password?) and restart the monitor");
        }
        // What the store refused is tried again at the next tick (a record, a tick line); this
        // tick acted on nothing it could not record.
        m_leading = false;
        log::warn("monitor: the shared state did not answer: {}", e.what());
        if (!m_state_failing) {
            m_state_failing = true;
            m_env.out.problem(std::string("the shared state did not answer (") + e.what() +
                              "): acting on nothing until it does; retrying every tick");
            event({{"event", "state_unavailable"}, {"error", e.what()}});
        }
    }
}

} // namespace rollback::monitor
