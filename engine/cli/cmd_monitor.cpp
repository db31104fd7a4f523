// SPDX-License-Identifier: MIT
// rollback monitor : the loop. Every [decision] interval: read the sources, evaluate, write the
// notable decision records; on an executed trigger start the playbook through the same sequence
// as `rollback run`. SIGTERM/SIGINT stop between ticks; SIGHUP reloads the config (a bad one is
// rejected and the running one kept).
#include "cli/check_support.hpp"
#include "cli/commands.hpp"
#include "cli/decision_actions.hpp"
#include "cli/load.hpp"
#include "cli/options.hpp"
#include "cli/run_support.hpp"
#include "cli/state_dir.hpp"
#include "exec/runner.hpp"
#include "journal/paths.hpp"
#include "journal/reader.hpp"
#include "journal/state.hpp"
#include "monitor/alert_book.hpp"
#include "monitor/endpoint.hpp"
#include "monitor/monitor.hpp"
#include "state/local_store.hpp"
#include "state/policy_memory.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/log.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <optional>
#include <pthread.h>

namespace rollback::cli {

namespace {

namespace fs = std::filesystem;
using decision::Action;

// SIGHUP is an interrupt for exec:: (a run stops on it); the monitor takes it over to mean
// "reload", noticed at the next tick boundary.
std::atomic<bool> g_reload{false};
extern "C" void on_reload(int) {
    g_reload.store(true);
}
void install_reload_handler() {
    struct sigaction sa {};
    sa.sa_handler = on_reload;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    ::sigaction(SIGHUP, &sa, nullptr);
}

/// One line of `<state_dir>/monitor.jsonl`: what the monitor did besides deciding (runs started
/// or not started, reloads accepted or rejected) — the evidence when a decision had no run.
void monitor_event(const fs::path& state_dir, boost::json::object ev) {
    ev.emplace("time", util::format_time(std::chrono::system_clock::now()));
    if (!util::append_line(state_dir / "monitor.jsonl",
                           util::mask_secrets(boost::json::serialize(ev)))) {
        log::error("cannot append to {}", (state_dir / "monitor.jsonl").string());
    }
}

decision::BaselineBook read_baselines(const state::Store& store, const fs::path& state_dir) {
    try {
        return store.baselines().value_or(decision::BaselineBook{});
    } catch (const std::exception& e) {
        log::warn("ignoring {}: {}", (state_dir / "baselines.json").string(), e.what());
        return {};
    }
}

/// The backup catalogs the [decision] playbook's pg_restore steps restore from (for the age of
/// the last good backup on /metrics); none when there is no playbook or it does not load.
std::vector<fs::path> restore_catalogs(const config::Config& cfg) {
    std::vector<fs::path> dirs;
    if (cfg.playbook.empty()) {
        return dirs;
    }
    try {
        auto pb = load_playbook(cfg.playbook);
        for (const auto* steps : {&pb.steps, &pb.finally}) {
            for (const auto& st : *steps) {
                const auto* c = st.params.if_contains("catalog");
                if (st.action != "pg_restore" || !c || !c->is_string()) {
                    continue;
                }
                fs::path dir(std::string(c->as_string()));
                dir = (dir.is_relative() ? pb.directory / dir : dir).lexically_normal();
                if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) {
                    dirs.push_back(dir);
                }
            }
        }
    } catch (const util::Error& e) {
        log::warn("monitor: /metrics has no backup age: {}", e.what());
    }
    return dirs;
}

struct Loop {
    CommonOptions common;
    fs::path state_dir;
    std::optional<state::LocalStore> local; ///< what is kept in state_dir; see store()
    std::optional<monitor::Monitor> mon;
    std::optional<std::string> marker_seen; ///< "release@time" of the deploy marker fed last
    /// The incident policy's memory as last saved (monitor-policy.json): a restart or a reload
    /// resumes it, so one incident is acted on at most once.
    std::optional<decision::Evaluator::PolicyMemory> policy_saved;
    /// The baselines change for good when a deploy marker is fed or a rollback noticed: saved
    /// after that tick (and every k_baseline_ticks, and at exit), so a kill -9 loses little.
    bool baselines_dirty = false;
    int ticks_since_baselines = 0;
    static constexpr int k_baseline_ticks = 60;
    std::optional<playbook::Playbook> hooks_pb; ///< the [decision] playbook, when hooks are set
    std::optional<std::string> last_run;        ///< the newest run already accounted for
    /// The newest journal as last read, while its run was unfinished: not read again unchanged.
    std::optional<std::pair<std::string, std::uintmax_t>> unfinished_seen;
    /// The runs directory as last listed: a new journal changes its mtime, so an idle tick
    /// costs one stat whatever the number of runs kept (and a full listing every
    /// k_relist_ticks, should two journals appear within one mtime tick).
    std::optional<fs::file_time_type> runs_dir_mtime;
    std::optional<std::string> latest_listed;
    int ticks_since_listing = 0;
    static constexpr int k_relist_ticks = 100;
    std::unique_ptr<monitor::Endpoint> endpoint; ///< [server]: webhook, /metrics, /healthz
    monitor::AlertBook alerts;                   ///< alerts active, by fingerprint

    state::Store& store() {
        if (!local) {
            local.emplace(state_dir);
        }
        return *local;
    }

    /// The newest run's id, listing the runs only when the directory changed.
    std::optional<std::string> newest_run() {
        std::error_code ec;
        const auto mtime = fs::last_write_time(journal::runs_dir(state_dir), ec);
        if (ec) {
            runs_dir_mtime.reset();
            return std::nullopt;
        }
        if (runs_dir_mtime != mtime || ++ticks_since_listing >= k_relist_ticks) {
            runs_dir_mtime = mtime;
            ticks_since_listing = 0;
            latest_listed = journal::latest_run(state_dir);
        }
        return latest_listed;
    }

    /// The playbook whose hooks directory holds `[decision] hooks`. Throws util::Error.
    static std::optional<playbook::Playbook> load_hooks_playbook(const config::Config& cfg) {
        if (cfg.hooks.empty()) {
            return std::nullopt;
        }
        auto pb = load_playbook(cfg.playbook);
        for (const auto& h : cfg.hooks) {
            const fs::path p = pb.hooks_dir / h;
            if (!util::is_executable_file(p)) {
                throw util::Error(cfg.file.string() + ": [decision] hooks: " + p.string() +
                                      " is not an executable hook",
                                  util::ExitCode::invalid, "chmod +x " + p.string());
            }
        }
        return pb;
    }

    /// A rollback run that finished since the last look — started by this monitor, a person
    /// (`rollback run`, `trigger`, `approve`) or a webhook: the release it left is no baseline,
    /// and for `watch_after` a recurrence is reported, not triggered again.
    void notice_runs() {
        auto latest = newest_run();
        if (!latest || latest == last_run) {
            return;
        }
        try {
            const fs::path file = journal::journal_path(state_dir, *latest);
            const std::pair<std::string, std::uintmax_t> seen{*latest, fs::file_size(file)};
            if (seen == unfinished_seen) {
                return; // no new record since the last look
            }
            auto st = journal::fold(journal::read(file), false);
            if (st.finished.empty()) {
                unfinished_seen = seen; // still running, or died: look again when it grows
                return;
            }
            last_run = latest;
            if (st.dry_run) {
                return;
            }
            if (endpoint) {
                endpoint->run_ended(st);
            }
            if (st.status == journal::RunStatus::succeeded ||
                st.status == journal::RunStatus::verification_failed) {
                auto t = util::parse_time(st.finished);
                mon->rolled_back(t.value_or(std::chrono::system_clock::now()));
                baselines_dirty = true;
                log::info("monitor: run {} finished ({}): watching for a recurrence", *latest,
                          journal::to_string(st.status));
                monitor_event(state_dir, {{"event", "run_noticed"},
                                          {"run_id", *latest},
                                          {"status", journal::to_string(st.status)}});
            }
        } catch (const std::exception& e) {
            log::warn("monitor: cannot read run {}: {}", *latest, e.what());
            last_run = latest;
        }
    }

    /// What a decision asks of people: an approval request (mode = "confirm") and the hooks.
    void tell_people(const decision::DecisionRecord& r, const std::string& id,
                     exec::ProcessRunner& runner) {
        using decision::Action;
        if (r.action == Action::none || (r.action == Action::trigger && r.executed)) {
            return; // nothing to tell, or the run's own on-trigger hooks tell it
        }
        const auto& cfg = mon->config();
        if (r.action == Action::request_approval && !store().approval(id)) {
            state::ApprovalRequest a;
            a.decision_id = id;
            a.requested_at = r.time;
            a.expires_at = r.time + cfg.approval_timeout;
            auto t = trigger_of(r, id, "monitor");
            a.condition = t.condition;
            a.severity = t.severity;
            a.reason = r.reason;
            store().put_approval(a);
            std::printf("approval requested: rollback approve %s -c %s (until %s)\n", id.c_str(),
                        cfg.file.c_str(), util::format_time(a.expires_at).c_str());
            std::fflush(stdout);
            monitor_event(state_dir, {{"event", "approval_requested"}, {"decision_id", id}});
        }
        if (hooks_pb) {
            for (auto& why : tell_hooks(cfg, *hooks_pb, runner, state_dir, r, id)) {
                monitor_event(
                    state_dir,
                    {{"event", "hook_failed"}, {"decision_id", id}, {"error", std::move(why)}});
            }
        }
    }

    void feed_marker() {
        std::optional<state::DeployMarker> m;
        try {
            m = state::LocalStore(state_dir).deploy_marker();
        } catch (const util::Error& e) {
            log::warn("{}", e.what());
            return;
        }
        if (!m) {
            return;
        }
        std::string key = m->release + "@" + util::format_time(m->time);
        if (key != marker_seen) {
            mon->deployed(m->time, m->release);
            marker_seen = key;
            baselines_dirty = true;
        }
    }

    /// After a tick: what must survive a crash is written when it changed. A failure to write
    /// is logged and tried again next tick (the loop goes on: deciding matters more).
    void persist() {
        const auto memory = mon->policy_memory();
        if (memory != policy_saved) {
            try {
                state::save_policy_memory(state_dir, memory);
                policy_saved = memory;
            } catch (const std::exception& e) {
                log::warn("cannot save the incident policy's memory: {}", e.what());
            }
        }
        if (baselines_dirty || ++ticks_since_baselines >= k_baseline_ticks) {
            try {
                store().put_baselines(mon->baselines());
                baselines_dirty = false;
                ticks_since_baselines = 0;
            } catch (const std::exception& e) {
                log::warn("cannot save baselines: {}", e.what());
            }
        }
    }

    void reload() {
        const fs::path file = mon->config().file;
        try {
            config::Config cfg = config::load(file);
            auto pb = load_hooks_playbook(cfg);
            const auto memory = mon->policy_memory();
            const auto& old = mon->config().server;
            if (old.has_value() != cfg.server.has_value() ||
                (old && (old->listen != cfg.server->listen || old->token != cfg.server->token ||
                         old->max_body != cfg.server->max_body))) {
                log::warn("monitor: [server] changed in {}: it applies at the next start",
                          file.string());
                std::fprintf(stderr, "rollback: [server] changed: restart the monitor to apply "
                                     "it (the other changes apply now)\n");
            }
            mon.emplace(std::move(cfg), mon->baselines());
            mon->resume_policy(memory); // a reload is not a new incident
            if (endpoint) {
                endpoint->conditions_changed(); // series of removed conditions go
            }
            hooks_pb = std::move(pb);
            marker_seen.reset();
            feed_marker();
            log::info("monitor: reloaded {}", file.string());
            std::printf("reloaded %s\n", file.c_str());
            monitor_event(state_dir, {{"event", "reloaded"}, {"config", file.string()}});
        } catch (const util::Error& e) {
            log::error("monitor: rejected the new {}; keeping the running config:\n{}",
                       file.string(), e.what());
            std::fprintf(stderr, "rollback: reload rejected; keeping the running config:\n%s\n",
                         util::mask_secrets(e.what()).c_str());
            monitor_event(
                state_dir,
                {{"event", "reload_rejected"}, {"config", file.string()}, {"error", e.what()}});
        }
    }

    /// Starts the playbook for `record`; returns the run's exit code (4 when the lock is held:
    /// logged and recorded, the loop goes on).
    int start(const decision::DecisionRecord& record, const std::string& decision_id) {
        const auto& cfg = mon->config();
        actions::Trigger t = trigger_of(record, decision_id, "monitor");
        if (cfg.playbook.empty()) {
            log::error("monitor: decision {} triggers, but {} has no [decision] playbook",
                       decision_id, cfg.file.string());
            monitor_event(state_dir, {{"event", "run_not_started"},
                                      {"decision_id", decision_id},
                                      {"error", "no [decision] playbook"}});
            return util::to_int(util::ExitCode::invalid);
        }
        StartOptions so;
        so.state_dir = state_dir;
        so.verbose = common.verbose;
        so.json = common.json;
        so.yes = true; // mode = "auto" is the confirmation
        so.start_logging = false;
        so.command = "monitor";
        // A SIGHUP during the rollback must not interrupt it: blocked (children get a clean mask)
        // and delivered to the reload handler afterwards.
        sigset_t hup, old;
        sigemptyset(&hup);
        sigaddset(&hup, SIGHUP);
        pthread_sigmask(SIG_BLOCK, &hup, &old);
        int rc = 0;
        std::string error;
        try {
            auto pb = load_playbook(cfg.playbook);
            log::info("monitor: decision {} starts {}", decision_id, cfg.playbook.string());
            rc = start_run(pb, t, so);
        } catch (const util::Error& e) {
            rc = util::to_int(e.code());
            error = e.what();
        }
        install_reload_handler();
        pthread_sigmask(SIG_SETMASK, &old, nullptr);
        if (!error.empty()) {
            log::error("monitor: decision {}: no run: {}", decision_id, error);
            std::fprintf(stderr, "rollback: decision %s: no run: %s\n", decision_id.c_str(),
                         util::mask_secrets(error).c_str());
            monitor_event(state_dir, {{"event", "run_not_started"},
                                      {"decision_id", decision_id},
                                      {"exit_code", rc},
                                      {"error", error}});
            return rc;
        }
        last_run = journal::latest_run(state_dir);
        if (endpoint && last_run) {
            try {
                auto st = journal::fold(journal::read(journal::journal_path(state_dir, *last_run)),
                                        false);
                endpoint->run_ended(st);
            } catch (const std::exception& e) {
                log::warn("monitor: cannot read run {}: {}", *last_run, e.what());
            }
        }
        monitor_event(state_dir, {{"event", "run_finished"},
                                  {"decision_id", decision_id},
                                  {"run_id", last_run.value_or("")},
                                  {"exit_code", rc}});
        // The rollback happened (verified or not): the release is no baseline, and a recurrence
        // is reported instead of triggering again.
        if (rc == util::to_int(util::ExitCode::ok) ||
            rc == util::to_int(util::ExitCode::verification_failed)) {
            mon->rolled_back(std::chrono::system_clock::now());
            baselines_dirty = true;
        }
        persist(); // the cooldown and the watch, before anything else can happen
        return rc;
    }
    /// Keeps and acts on one evaluation (of the signal conditions at a tick, or
    /// of the alert conditions): the record, the people to tell, the run to start. Updates
    /// `once_rc` as `--once` reports it.
    void handle(const decision::Evaluation& e, exec::ProcessRunner& runner, int& once_rc) {
        const auto& r = e.record;
        // Every action is notable: the id (a hash of the record) is needed only then.
        const std::string id = e.notable ? decision::record_id(r) : std::string();
        store().append_tick(r, id);
        if (e.notable) {
            store().put_record(r);
            std::printf("%s\n",
                        common.json ? decision::to_json(r).c_str() : summarize_record(r).c_str());
            std::fflush(stdout);
        }
        tell_people(r, id, runner);
        persist(); // the trigger's cooldown is durable before its run starts
        if (r.action == Action::trigger && r.executed) {
            once_rc = start(r, id);
        } else if (r.action == Action::request_approval ||
                   (r.action == Action::trigger && !r.executed)) {
            once_rc = util::to_int(util::ExitCode::rollback_recommended);
        }
    }

    /// Applies the notifications the server received, then evaluates the alert conditions
    /// (also at every tick, `evaluate` true, so a verdict never lags the interval).
    void take_alerts(bool evaluate, exec::ProcessRunner& runner, int& once_rc) {
        auto notes = endpoint->take_alerts();
        const auto now = std::chrono::system_clock::now();
        for (const auto& n : notes) {
            auto changes = alerts.apply(n, mon->config().alert_conditions, now);
            endpoint->alert_changes(changes);
            for (const auto& c : changes) {
                boost::json::object labels;
                for (const auto& [k, v] : c.labels) {
                    labels[k] = v;
                }
                boost::json::array conds;
                for (const auto& name : c.conditions) {
                    conds.emplace_back(name);
                }
                log::info("monitor: alert {} {} (group {})", c.fingerprint,
                          monitor::to_string(c.kind), n.group_key);
                monitor_event(state_dir,
                              {{"event", "alert_" + std::string(monitor::to_string(c.kind))},
                               {"fingerprint", c.fingerprint},
                               {"labels", std::move(labels)},
                               {"conditions", std::move(conds)}});
            }
        }
        if (!mon->has_alert_conditions() || (!evaluate && notes.empty())) {
            return;
        }
        if (auto e = mon->evaluate_alerts(now, alerts)) {
            endpoint->alerts_evaluated(*e, *mon, alerts);
            handle(*e, runner, once_rc);
        }
    }
};

} // namespace

int cmd_monitor(const Args& args) {
    Loop loop;
    bool once = false;
    po::options_description desc("rollback monitor [-c CONFIG] [--once]");
    add_common_options(desc, loop.common);
    desc.add_options()("once", po::bool_switch(&once), "evaluate once and exit");
    po::variables_map vm;
    if (!parse_options("monitor", args, desc, {}, vm)) {
        return util::to_int(util::ExitCode::ok);
    }
    config::Config cfg = load_rollback_config(loop.common);
    loop.state_dir = resolve_state_dir(loop.common, cfg).dir;
    fs::create_directories(loop.state_dir);
    start_logging(loop.state_dir, loop.common.verbose, "monitor");
    exec::install_interrupt_handlers();
    install_reload_handler();
    const util::Millis first_interval = cfg.interval;
    loop.hooks_pb = Loop::load_hooks_playbook(cfg);
    loop.mon.emplace(std::move(cfg), read_baselines(loop.store(), loop.state_dir));
    if (auto memory = state::load_policy_memory(loop.state_dir)) {
        // A restarted monitor is the same monitor: the cooldown and the recurrence watch of
        // the rollback it (or its predecessor) started still hold.
        loop.mon->resume_policy(*memory);
        loop.policy_saved = memory;
    }
    loop.last_run = journal::latest_run(loop.state_dir); // older runs are history
    log::info("monitor: {} conditions, every {}", loop.mon->config().conditions.size(),
              util::format_duration(first_interval));
    exec::RealProcessRunner runner;
    int once_rc = util::to_int(util::ExitCode::ok);
    // The first tick is now (to the second: `--once` judges the latest complete second); then
    // interval boundaries (as in `check --replay`), the sources read a settle delay after each.
    // Boundaries missed while a rollback ran are skipped, not caught up.
    auto tick_at = monitor::tick_floor(std::chrono::system_clock::now(), std::chrono::seconds(1));
    if (loop.mon->config().server && !once) {
        const auto& sc = *loop.mon->config().server;
        loop.endpoint =
            std::make_unique<monitor::Endpoint>(sc, loop.state_dir, loop.mon->config().webhooks);
        loop.endpoint->set_backup_catalogs(restore_catalogs(loop.mon->config()));
        loop.endpoint->start();
        log::info("monitor: listening on {} (port {})", sc.listen, loop.endpoint->port());
        std::printf("listening on %s\n", sc.listen.c_str());
        std::fflush(stdout);
    }
    // `boundary`: this iteration is a tick; otherwise the server woke the loop for alerts.
    bool boundary = true;
    while (exec::interrupt_requested() == 0) {
        if (g_reload.exchange(false)) {
            loop.reload();
        }
        if (boundary) {
            const auto now = tick_at;
            loop.feed_marker();
            loop.notice_runs();
            const auto started = std::chrono::steady_clock::now();
            decision::Evaluation e = loop.mon->tick(runner, now);
            if (exec::interrupt_requested() != 0) {
                // Stopped while reading the sources: the interrupted reads are not evidence.
                break;
            }
            if (loop.endpoint) {
                loop.endpoint->tick_done(
                    e,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
                        .count(),
                    *loop.mon);
            }
            loop.handle(e, runner, once_rc);
        }
        if (loop.endpoint) {
            loop.take_alerts(boundary, runner, once_rc);
        }
        if (once) {
            break;
        }
        const util::Millis interval = loop.mon->config().interval;
        const auto real = std::chrono::system_clock::now();
        if (boundary) {
            tick_at = std::max(monitor::tick_floor(tick_at, interval) + interval,
                               monitor::tick_floor(real, interval));
        }
        const auto wake = tick_at + monitor::settle_delay(interval);
        if (loop.endpoint) {
            // An alert wakes the loop at once; the next tick keeps its boundary.
            boundary =
                !loop.endpoint->wait_until(wake, [] { return exec::interrupt_requested() != 0; });
        } else if (wake > real) {
            exec::sleep_unless_interrupted(std::chrono::duration_cast<util::Millis>(wake - real));
        }
    }
    if (loop.endpoint) {
        loop.endpoint->stop();
    }
    loop.baselines_dirty = true;
    loop.persist();
    if (!once) {
        log::info("monitor: stopped by signal {}", exec::interrupt_requested());
        std::puts("monitor stopped");
        return util::to_int(util::ExitCode::ok);
    }
    return once_rc;
}

} // namespace rollback::cli
