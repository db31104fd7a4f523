// SPDX-License-Identifier: MIT
#include "monitor/loop.hpp"

#include "actions/load.hpp"
#include "journal/state.hpp"
#include "monitor/decision_actions.hpp"
#include "monitor/rollbacks.hpp"
#include "orchestrator/preflight.hpp"
#include "state/policy_memory.hpp"
#include "util/canonical_path.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/json_text.hpp"
#include "util/log.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>

namespace rollback::monitor {

namespace {

namespace fs = std::filesystem;
using decision::Action;

decision::BaselineBook read_baselines(const state::Store& store, const fs::path& state_dir) {
    try {
        return store.baselines().value_or(decision::BaselineBook{});
    } catch (const std::exception& e) {
        log::warn("ignoring {}: {}", (state_dir / "baselines.json").string(), e.what());
        return {};
    }
}

/// A request refused because its incident's request (its twin) is pending — filed by the leader
/// before a takeover: that request is this incident's, so its expiry is armed as this monitor's
/// own would be (unanswered while the incident breaches, a person is paged, once) and the
/// incident's end withdraws it. Returns the twin (its announcement may be unfinished).
std::optional<state::ApprovalRequest> arm_twin_expiry(state::Store& store, Monitor& mon,
                                                      const state::ApprovalRequest& refused) {
    std::vector<state::ApprovalRequest> all;
    try {
        all = store.approvals();
    } catch (const std::exception& e) {
        log::warn("monitor: cannot read the approval requests: {}", e.what());
        return std::nullopt;
    }
    const std::string twin = state::pending_twin(all, refused);
    for (const auto& o : all) {
        if (!twin.empty() && o.decision_id == twin) {
            mon.approval_requested(o.condition, o.decision_id, o.expires_at);
            log::info("monitor: approval request {} of condition \"{}\" stands for {} (until {})",
                      o.decision_id, o.condition, refused.decision_id,
                      util::format_time(o.expires_at));
            return o;
        }
    }
    return std::nullopt;
}

} // namespace

Loop::Loop(LoopEnv env, config::Config cfg, bool once) : m_env(env), m_once(once) {
    const util::Millis first_interval = cfg.interval;
    m_hooks_pb = load_hooks_playbook(cfg);
    m_mon.emplace(std::move(cfg), read_baselines(m_env.store, m_env.state_dir));
    m_state = {util::canonical_path(m_mon->config().state_dir), m_mon->config().shared_state, {}};
    if (auto memory = state::load_policy_memory(m_env.store, &m_blocked_by)) {
        // A restarted monitor is the same monitor: the cooldown and the recurrence watch of
        // the rollback it (or its predecessor) started still hold.
        m_mon->resume_policy(*memory);
        m_policy_saved = memory;
        m_decided = memory->decided_run;
        m_blocked_saved = m_blocked_by;
    }
    // Older runs are history (the listing is kept for the ticks); the newest, unfinished (the
    // engine or the host died mid-run), is accounted for when it ends (resumed).
    m_last_run = newest_run();
    watch_if_unfinished(m_last_run);
    log::info("monitor: {} conditions, every {}", m_mon->config().conditions.size(),
              util::format_duration(first_interval));
    // The first tick is now (to the second: `--once` judges the latest complete second); then
    // interval boundaries (as in `check --replay`), the sources read a settle delay after each.
    m_tick_at = tick_floor(m_env.clock.now(), std::chrono::seconds(1));
    if (m_mon->config().server && !m_once) {
        const auto& sc = *m_mon->config().server;
        m_endpoint = std::make_unique<Endpoint>(sc, m_env.state_dir, m_mon->config().webhooks);
        m_endpoint->set_decision_playbook(m_mon->config().playbook);
        restore_alerts();
        m_endpoint->start();
        log::info("monitor: listening on {} (port {})", sc.listen, m_endpoint->port());
        m_env.out.say("listening on " + sc.listen);
    }
}

Loop::~Loop() = default;

/// One line of `<state_dir>/monitor.jsonl`: what the monitor did besides deciding (runs started
/// or not started, reloads accepted or rejected) — the evidence when a decision had no run.
void Loop::event(boost::json::object ev) {
    ev.emplace("time", util::format_time(m_env.clock.now()));
    const fs::path file = m_env.state_dir / "monitor.jsonl";
    if (!util::append_line(file, util::mask_secrets(util::json_text(ev)))) {
        log::error("cannot append to {}", file.string());
    }
}

/// What a decision asks of people: an approval request (mode = "confirm") and the hooks.
void Loop::tell_people(const decision::DecisionRecord& r, const std::string& id) {
    // Every other condition's action that asks people (an escalation, a notify, a shadow's
    // trigger) reaches the hooks too: the tick's decision is only its heaviest action, and an
    // escalation made beside another's trigger is spent — its cooldown runs (break-it 25/06).
    if (m_hooks_pb) {
        for (const auto& c : r.conditions) {
            if (c.name == r.cause || c.action == Action::none ||
                c.action == Action::request_approval ||
                (c.action == Action::trigger && c.mode != decision::Mode::observe)) {
                continue;
            }
            for (auto& why :
                 tell_hooks(m_mon->config(), *m_hooks_pb, m_env.runner, m_env.store,
                            m_env.state_dir, condition_decision(r, c), id,
                            [this, &id](const auto& names) { return may_call_hooks(id, names); })) {
                event({{"event", "hook_failed"}, {"decision_id", id}, {"error", std::move(why)}});
            }
            if (m_leadership != nullptr && !m_leading) {
                return; // fenced: it acts on nothing more
            }
        }
    }
    if (r.action == Action::none || (r.action == Action::trigger && r.executed)) {
        return; // nothing more to tell, or the run's own on-trigger hooks tell it
    }
    const auto& cfg = m_mon->config();
    // An approval request tells each hook once (announce(): what they were told is kept with it).
    std::optional<state::ApprovalRequest> request;
    if (r.action == Action::request_approval) {
        request = m_env.store.approval(id);
    }
    if (r.action == Action::request_approval && !request) {
        if (!still_leading("no approval request filed for " + id)) {
            return;
        }
        state::ApprovalRequest a;
        a.decision_id = id;
        a.requested_at = r.time;
        a.expires_at = r.time + cfg.approval_timeout;
        auto t = trigger_of(r, id, "monitor");
        a.condition = t.condition;
        a.severity = t.severity;
        a.reason = r.reason;
        a.announced = !m_hooks_pb || cfg.hooks.empty(); // nothing to tell
        try {
            // Fenced like a journal append: a leader paused past its lease files nothing.
            m_env.store.request_approval(a,
                                         m_leadership != nullptr ? m_leadership->generation() : 0);
        } catch (const util::Error& e) {
            if (e.code() != util::ExitCode::locked) {
                throw;
            }
            log::warn("monitor: {}", e.what());
            m_env.out.problem(e.what());
            event({{"event", "approval_not_requested"}, {"decision_id", id}, {"error", e.what()}});
            auto twin = arm_twin_expiry(m_env.store, *m_mon, a);
            check_still_leading();
            if (twin && !twin->announced && m_leading) {
                // Its filer died or was deposed before its hooks ran (or while they ran): the
                // incident's one request is told by the leader that holds it now.
                try {
                    announce(*twin, m_env.store.record(twin->decision_id));
                } catch (const std::exception& ex) {
                    log::warn("monitor: approval request {} not announced: {}", twin->decision_id,
                              ex.what());
                    m_take_over_requests = true;
                }
            }
            return;
        }
        // Its expiry is the incident's: unanswered while it still breaches, a person is paged.
        m_mon->approval_requested(a.condition, id, a.expires_at);
        m_env.out.say("approval requested: rollback approve " + id + state_args() + " (until " +
                      util::format_time(a.expires_at) + ")");
        event({{"event", "approval_requested"}, {"decision_id", id}});
        request = a;
    }
    if (request) {
        if (request->state == "pending" && request->run_id.empty() && !request->announced) {
            announce(*request, r);
        }
        return;
    }
    if (m_hooks_pb) {
        for (auto& why : tell_hooks(
                 cfg, *m_hooks_pb, m_env.runner, m_env.store, m_env.state_dir, r, id,
                 [this, &id](const auto& names) { return may_call_hooks(id, names); }, {},
                 state_args())) {
            event({{"event", "hook_failed"}, {"decision_id", id}, {"error", std::move(why)}});
        }
    }
}

void Loop::feed_marker() {
    std::optional<state::DeployMarker> m;
    try {
        m = m_env.store.deploy_marker();
    } catch (const util::Error& e) {
        log::warn("{}", e.what());
        return;
    }
    if (!m) {
        return;
    }
    std::string key = m->release + "@" + util::format_time(m->time);
    if (key != m_marker_seen) {
        // Applied at the first tick at or after its recording (state::DeployMarker::known_at),
        // whenever this monitor read it: the replay applies it there too.
        m_mon->deployed(m->time, m->release, m->recorded_at);
        m_marker_seen = key;
        m_baselines_dirty = true;
    }
}

/// After a tick: what must survive a crash is written when it changed. A failure to write
/// is logged and tried again next tick (the loop goes on: deciding matters more).
void Loop::persist() {
    auto memory = m_mon->policy_memory();
    memory.decided_run = m_decided;
    if (m_leading && (memory != m_policy_saved || m_blocked_by != m_blocked_saved)) {
        try {
            state::save_policy_memory(m_env.store, memory, m_blocked_by);
            m_policy_saved = memory;
            m_blocked_saved = m_blocked_by;
        } catch (const util::Error& e) {
            log::warn("cannot save the incident policy's memory: {}", e.what());
            if (e.code() == util::ExitCode::locked) {
                check_still_leading(); // deposed: it keeps and starts nothing more
            }
        } catch (const std::exception& e) {
            log::warn("cannot save the incident policy's memory: {}", e.what());
        }
    }
    if (const uint64_t changes = m_mon->baseline_changes(); changes != m_baseline_changes) {
        // A before_deploy baseline was computed: kept at once, a rotated log cannot give it back
        m_baseline_changes = changes;
        m_baselines_dirty = true;
    }
    if (m_leading && (m_baselines_dirty || ++m_ticks_since_baselines >= k_baseline_ticks)) {
        try {
            m_env.store.put_baselines(m_mon->baselines());
            m_baselines_dirty = false;
            m_ticks_since_baselines = 0;
        } catch (const std::exception& e) {
            log::warn("cannot save baselines: {}", e.what());
        }
    }
}

void Loop::save() {
    m_baselines_dirty = true;
    persist();
}

/// The one place the loop starts a run: an executed trigger of `record`. Sets the exit code of
/// `--once` to the run's (4 when the lock is held: logged and recorded, the loop goes on).
void Loop::act_on_trigger(const decision::DecisionRecord& record, const std::string& decision_id) {
    const auto& cfg = m_mon->config();
    actions::Trigger t = trigger_of(record, decision_id, "monitor");
    if (cfg.playbook.empty()) {
        log::error("monitor: decision {} triggers, but {} has no [decision] playbook", decision_id,
                   cfg.file.string());
        event({{"event", "run_not_started"},
               {"decision_id", decision_id},
               {"error", "no [decision] playbook"}});
        m_once_rc = util::to_int(util::ExitCode::invalid);
        m_once_why = "decision " + decision_id + " triggers, but " + cfg.file.string() +
                     " has no [decision] playbook: nothing was run (rollback validate -c " +
                     cfg.file.string() + " says so before the monitor starts)";
        return;
    }
    if (m_stopping || exec::interrupt_requested() != 0) {
        log::warn("monitor: decision {}: no run: the monitor is stopping", decision_id);
        event({{"event", "run_not_started"},
               {"decision_id", decision_id},
               {"error", "the monitor is stopping (SIGINT/SIGTERM)"}});
        return;
    }
    if (!m_leading) { // deposed while this tick ran (its policy memory was refused)
        log::warn("monitor: decision {}: no run: this monitor no longer leads", decision_id);
        event({{"event", "run_not_started"}, {"decision_id", decision_id}, {"error", "deposed"}});
        return;
    }
    int rc = 0;
    std::string error;
    bool store_failed = false;
    bool preflight_failed = false;
    std::optional<playbook::Playbook> loaded;
    try {
        loaded.emplace(actions::load_playbook(cfg.playbook));
    } catch (const util::Error& e) {
        // Moved, broken or unreadable since the start: not acted on, retried, the hooks told.
        m_once_rc = util::to_int(e.code());
        m_once_why = "decision " + decision_id + ": " + e.what();
        run_not_started(record, decision_id, e.what(), NotStarted::playbook);
        return;
    }
    try {
        const playbook::Playbook& pb = *loaded;
        log::info("monitor: decision {} starts {}", decision_id, cfg.playbook.string());
        const state::RunFence f = fence(m_decided ? m_decided->run_id : std::string());
        rc = while_running("running the playbook of decision " + decision_id,
                           [&] { return m_env.starter.start(pb, t, f); });
    } catch (const orchestrator::PreflightFailed& e) {
        // A rollback that cannot start pages: a backup gone, a server down, a bad file — none is
        // the intended exclusion of another run (break-it 42/01: one stderr line, no page).
        rc = util::to_int(e.code());
        error = e.what();
        preflight_failed = true;
    } catch (const util::Error& e) {
        rc = util::to_int(e.code());
        error = e.what();
        store_failed = e.code() == util::ExitCode::state_unwritable;
        if (e.code() == util::ExitCode::locked) {
            check_still_leading();
        }
    } catch (const std::exception& e) {
        // Not the engine's own error: the store's driver (a broken connection) or the file
        // system refused before the run could start.
        rc = util::to_int(util::ExitCode::state_unwritable);
        error = e.what();
        store_failed = true;
    }
    m_once_rc = rc;
    if (rc == util::to_int(util::ExitCode::invalid)) {
        m_once_why = "decision " + decision_id + ": " +
                     (error.empty() ? "the run ended with exit 2 (invalid playbook)" : error);
    }
    if (store_failed) {
        if (!left_unfinished(decision_id, error)) {
            run_not_started(record, decision_id, error, NotStarted::store);
        }
        return;
    }
    if (preflight_failed) {
        run_not_started(record, decision_id, error, NotStarted::preflight);
        return;
    }
    if (rc == util::to_int(util::ExitCode::locked)) {
        excluded_by_lock();
    }
    if (m_pending && m_pending->condition == record.cause) {
        // The retry ran (or met the lock held: another run excludes it, as intended).
        const std::string line = "decision " + m_pending->decision_id + ": its run " +
                                 (error.empty() ? "started" : "is excluded: " + error) + " after " +
                                 std::to_string(m_pending->attempts) +
                                 " failed start(s), as decision " + decision_id;
        log::info("monitor: {}", line);
        m_env.out.say(line);
        event({{"event", "trigger_retried"},
               {"decision_id", m_pending->decision_id},
               {"retry_decision_id", decision_id},
               {"attempts", m_pending->attempts}});
        m_pending.reset();
    }
    if (!error.empty()) {
        log::error("monitor: decision {}: no run: {}", decision_id, error);
        m_env.out.problem("decision " + decision_id + ": no run: " + error);
        event({{"event", "run_not_started"},
               {"decision_id", decision_id},
               {"exit_code", rc},
               {"error", error}});
        return;
    }
    run_ended(decision_id, rc, m_decided ? m_decided->run_id : std::string());
}

/// Keeps and acts on one evaluation (of the signal conditions at a tick, or of the alert
/// conditions): the record, the people to tell, the run to start.
void Loop::handle(const decision::Evaluation& evaluated) {
    const decision::Evaluation e = with_retry(evaluated);
    const decision::DecisionRecord r = as_kept(e.record);
    // Every action is notable: the id (a hash of the record) is needed only then.
    const std::string id = e.notable ? decision::record_id(r) : std::string();
    for (const auto& c : r.conditions) {
        m_verdicts[c.name] = c.verdict; // what a request taken over is judged by
    }
    m_env.store.append_tick(r, id);
    if (e.notable) {
        m_env.store.put_record(r);
        m_env.out.decision(r);
    }
    if (m_leading) { // a follower's peers hear it from the leader
        tell_people(r, id);
    }
    if (m_leading) { // before persist(): the first tick compares with the memory resumed
        withdraw_ended_approvals(r.time);
    }
    if (r.action == Action::trigger && r.executed) {
        decide_run(id, r.cause);
    }
    persist(); // the trigger's cooldown and its decided run are durable before the run starts
    if (r.action == Action::trigger && r.executed) {
        act_on_trigger(r, id);
    } else if (r.action == Action::request_approval ||
               (r.action == Action::trigger && !r.executed)) {
        m_once_rc = util::to_int(util::ExitCode::rollback_recommended);
    }
}

void Loop::restore_alerts() {
    try {
        auto kept = m_env.store.active_alerts();
        const size_t n = static_cast<size_t>(std::count_if(
            kept.begin(), kept.end(), [](const ActiveAlert& a) { return !a.resolved; }));
        const size_t out = m_alerts.restore(std::move(kept), m_mon->config().alert_conditions);
        if (n > 0) {
            log::info("monitor: {} active alert(s) restored, {} matching no condition left out",
                      n - out, out);
            event({{"event", "alerts_restored"}, {"alerts", n - out}, {"left_out", out}});
        }
        m_alerts_dirty = out > 0;
    } catch (const std::exception& e) {
        log::warn("monitor: active alerts not restored: {}", e.what());
    }
}

/// Applies the notifications the server received, then evaluates the alert conditions (also at
/// every tick, `evaluate` true, so a verdict never lags the interval).
void Loop::take_alerts(bool evaluate) {
    auto notes = m_endpoint->take_alerts();
    const auto now = m_env.clock.now();
    // Alerts whose endsAt passed without a new notification end first (their resolution was
    // lost: the monitor was down, Alertmanager gave up retrying).
    const auto expired = m_alerts.expire(now);
    for (const auto& c : expired) {
        log::info("monitor: alert {} expired (its endsAt passed without a new notification)",
                  c.fingerprint);
        event({{"event", "alert_expired"}, {"fingerprint", c.fingerprint}});
        m_alerts_dirty = true;
    }
    m_endpoint->alert_changes(expired);
    for (const auto& n : notes) {
        auto changes = m_alerts.apply(n, m_mon->config().alert_conditions, now);
        m_endpoint->alert_changes(changes);
        for (const auto& c : changes) {
            boost::json::object labels;
            for (const auto& [k, v] : c.labels) {
                labels[k] = v;
            }
            boost::json::array conds;
            for (const auto& name : c.conditions) {
                conds.emplace_back(name);
            }
            log::info("monitor: alert {} {} (group {})", c.fingerprint, to_string(c.kind),
                      n.group_key);
            event({{"event", "alert_" + std::string(to_string(c.kind))},
                   {"fingerprint", c.fingerprint},
                   {"labels", std::move(labels)},
                   {"conditions", std::move(conds)}});
            using K = AlertChange::Kind;
            m_alerts_dirty |= c.kind == K::fired || c.kind == K::repeated ||
                              c.kind == K::resolved || c.kind == K::resolved_unknown;
        }
    }
    if (m_alerts_dirty) { // kept before acting on it; a failure is tried again next time
        try {
            m_env.store.put_active_alerts(m_alerts.alerts());
            m_alerts_dirty = false;
        } catch (const std::exception& e) {
            log::warn("cannot keep the active alerts: {}", e.what());
        }
    }
    if (!m_alerts_dirty) {
        m_endpoint->alerts_kept(); // what they did is kept: they leave the inbox file
    }
    if (!m_mon->has_alert_conditions() || (!evaluate && notes.empty() && expired.empty())) {
        return;
    }
    if (auto e = m_mon->evaluate_alerts(now, m_alerts)) {
        m_endpoint->alerts_evaluated(*e, *m_mon, m_alerts);
        handle(*e);
    }
}

void Loop::iterate(bool boundary) {
    if (boundary) {
        ask_leadership();
        feed_marker();
        notice_runs();
        if (m_leading) {
            take_over_approvals(m_tick_at);
        }
        check_approvals(m_tick_at);
        const auto started = std::chrono::steady_clock::now();
        decision::Evaluation e = m_mon->tick(m_env.runner, m_tick_at);
        if (exec::interrupt_requested() != 0) {
            // Stopped while reading the sources: the interrupted reads are not evidence.
            return;
        }
        if (m_endpoint) {
            m_endpoint->tick_done(
                e,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
                *m_mon);
        }
        handle(e);
        if (m_leading && m_leadership != nullptr) {
            resume_left_run();
            start_decided_run();
        }
    }
    if (m_endpoint) {
        take_alerts(boundary);
    }
}

util::SystemTime Loop::schedule_next(bool boundary) {
    const util::Millis interval = m_mon->config().interval;
    if (boundary) {
        // Boundaries missed while a rollback ran are skipped, not caught up.
        m_tick_at = std::max(tick_floor(m_tick_at, interval) + interval,
                             tick_floor(m_env.clock.now(), interval));
    }
    return m_tick_at + settle_delay(interval);
}

void Loop::iterate_local(bool boundary) {
    try {
        iterate(boundary);
        if (m_state_failing) {
            m_state_failing = false;
            log::info("monitor: the state directory can be written again");
            m_env.out.say("the state directory can be written again");
        }
    } catch (const util::Error& e) {
        if (e.code() != util::ExitCode::state_unwritable || m_once) {
            throw; // `monitor --once`: exit 7, with the hint
        }
        // A full or read-only state directory: this tick acted on nothing it could not record
        // (the record is kept before any run starts); the next tick tries again.
        log::warn("monitor: {}", e.what());
        if (!m_state_failing) {
            m_state_failing = true;
            m_env.out.problem(std::string(e.what()) +
                              ": acting on nothing it cannot record; retrying every tick (" +
                              e.hint() + ")");
        }
    }
}

int Loop::run(const std::function<bool()>& take_reload) {
    // `boundary`: this iteration is a tick; otherwise the server woke the loop for alerts.
    bool boundary = true;
    while (exec::interrupt_requested() == 0 && !m_stopping) {
        if (take_reload()) {
            reload();
        }
        if (m_leadership == nullptr) {
            iterate_local(boundary);
        } else {
            iterate_shared(boundary);
        }
        if (m_once || exec::interrupt_requested() != 0 || m_stopping) {
            break;
        }
        const auto wake = schedule_next(boundary);
        const auto real = m_env.clock.now();
        if (m_endpoint) {
            // An alert wakes the loop at once; the next tick keeps its boundary.
            boundary =
                !m_endpoint->wait_until(wake, [] { return exec::interrupt_requested() != 0; });
        } else if (wake > real) {
            exec::sleep_unless_interrupted(std::chrono::duration_cast<util::Millis>(wake - real));
        }
    }
    if (m_endpoint) {
        m_endpoint->stop();
    }
    save();
    if (m_stopping) {
        log::info("monitor: stopping: the run it started or resumed was interrupted by a signal "
                  "(exit 130; rollback resume continues it)");
        event({{"event", "stopped"}, {"why", "run interrupted"}});
        return util::to_int(util::ExitCode::interrupted);
    }
    if (m_once && m_once_rc == util::to_int(util::ExitCode::invalid) && !m_once_why.empty()) {
        std::fprintf(stderr, "rollback: error: monitor: %s\n", m_once_why.c_str());
    }
    return m_once ? m_once_rc : util::to_int(util::ExitCode::ok);
}

} // namespace rollback::monitor
