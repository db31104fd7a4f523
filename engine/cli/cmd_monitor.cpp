// SPDX-License-Identifier: MIT
// rollback monitor : the options, the signals and the console of the loop (monitor/loop.hpp).
// SIGTERM/SIGINT stop between ticks; SIGHUP reloads the config (a bad one is rejected and the
// running one kept); a rollback starts through the same sequence as `rollback run`.
#include "cli/check_support.hpp"
#include "cli/commands.hpp"
#include "cli/load.hpp"
#include "cli/options.hpp"
#include "cli/run_support.hpp"
#include "cli/state_dir.hpp"
#include "db/connection.hpp"
#include "exec/runner.hpp"
#include "monitor/loop.hpp"
#include "state/local_store.hpp"
#include "state/pg_store.hpp"
#include "state/state_args.hpp"
#include "util/canonical_path.hpp"
#include "util/log.hpp"
#include "util/secrets.hpp"

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <pthread.h>
#include <thread>

namespace rollback::cli {

namespace {

namespace fs = std::filesystem;

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

/// The loop's news on stdout (a record as JSON with --json), its problems on stderr.
class ConsoleOutput final : public monitor::LoopOutput {
  public:
    explicit ConsoleOutput(bool json) : m_json(json) {}
    void decision(const decision::DecisionRecord& r) override {
        std::printf("%s\n", m_json ? decision::to_json(r).c_str() : summarize_record(r).c_str());
        std::fflush(stdout);
    }
    /// With --json, stdout holds JSON Lines only: news is {"event":"message","message":...}.
    void say(const std::string& line) override {
        if (m_json) {
            boost::json::object o{{"event", "message"}, {"message", line}};
            std::printf("%s\n", boost::json::serialize(o).c_str());
        } else {
            std::printf("%s\n", line.c_str());
        }
        std::fflush(stdout);
    }
    void problem(const std::string& line) override {
        std::fprintf(stderr, "rollback: %s\n", util::mask_secrets(line).c_str());
    }

  private:
    bool m_json;
};

/// Starts the [decision] playbook as `rollback run --yes` would: mode = "auto" is the
/// confirmation.
class RunAsCommand final : public monitor::RunStarter {
  public:
    RunAsCommand(const CommonOptions& common, StateDir sd)
        : m_common(common), m_sd(std::move(sd)) {}
    int start(const playbook::Playbook& pb, const actions::Trigger& trigger,
              const state::RunFence& fence) override {
        StartOptions so;
        so.fence = fence;
        so.state_dir = m_sd.dir;
        so.shared = m_sd.shared;
        so.config = m_sd.config;
        so.verbose = m_common.verbose;
        so.json = m_common.json;
        so.yes = true;
        so.start_logging = false;
        so.command = "monitor";
        // A person's run from before the one rule (or a binary that still keeps it there) may
        // hold the lock beside the playbook: it holds this target's lock (break-it 48/F3).
        refuse_older_layout_lock(m_sd, pb.file);
        const HupBlocked blocked;
        return start_run(pb, trigger, so);
    }
    // The leader's resume of a run a dead or deposed monitor left: `rollback resume RUN --yes`.
    int resume(const std::string& run_id, const state::RunFence& fence) override {
        ResumeRequest r;
        r.fence = fence;
        r.run_id = run_id;
        r.yes = true;
        r.verbose = m_common.verbose;
        r.json = m_common.json;
        r.start_logging = false;
        const HupBlocked blocked;
        auto store = open_store(m_sd, state::SchemaAccess::write);
        return resume_run(*store, m_sd, r);
    }

  private:
    // A SIGHUP during the rollback must not interrupt it: blocked (children get a clean mask)
    // and delivered to the reload handler afterwards.
    struct HupBlocked {
        sigset_t old{};
        HupBlocked() {
            sigset_t hup;
            sigemptyset(&hup);
            sigaddset(&hup, SIGHUP);
            pthread_sigmask(SIG_BLOCK, &hup, &old);
        }
        ~HupBlocked() {
            install_reload_handler();
            pthread_sigmask(SIG_SETMASK, &old, nullptr);
        }
        HupBlocked(const HupBlocked&) = delete;
        HupBlocked& operator=(const HupBlocked&) = delete;
    };
    const CommonOptions& m_common;
    StateDir m_sd;
};

/// A server that did not answer (down, restarting, unreachable) rather than one that refused
/// these credentials or this database: the first is waited for, the second is the operator's.
bool not_answering(const db::ConnectError& e) {
    return !db::refused_for_good(e.what());
}

/// open_store for the monitor: a shared state whose server does not answer at the start is
/// what it is when it goes away later (docs/config.md "The server going away"): the monitor
/// acts on nothing, says so once, and tries again every `interval` until it answers. A refused
/// password, a missing database or a refused schema version stay fatal (exit 1, 2), and so does
/// any failure with --once. nullptr: interrupted (SIGINT/SIGTERM) while waiting.
std::unique_ptr<state::Store> open_shared_store(const StateDir& sd, util::Millis interval,
                                                bool once) {
    bool said = false;
    for (;;) {
        try {
            auto store = open_store(sd, state::SchemaAccess::write);
            if (said) {
                log::info("monitor: the shared state answers again");
                std::puts("the shared state answers again");
                std::fflush(stdout);
            }
            return store;
        } catch (const db::ConnectError& e) {
            if (!sd.shared || once || !not_answering(e)) {
                throw;
            }
            if (!said) {
                said = true;
                log::warn("monitor: the shared state did not answer: {}", e.what());
                std::fprintf(stderr, "rollback: %s\n",
                             util::mask_secrets(std::string("the shared state did not answer (") +
                                                e.what() +
                                                "): acting on nothing until it does; retrying "
                                                "every tick")
                                 .c_str());
            }
        }
        const auto until = std::chrono::steady_clock::now() + interval;
        while (std::chrono::steady_clock::now() < until) {
            if (exec::interrupt_requested() != 0) {
                return nullptr;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
}

} // namespace

int cmd_monitor(const Args& args) {
    CommonOptions common;
    bool once = false;
    po::options_description desc("rollback monitor [-c CONFIG] [--once]");
    add_common_options(desc, common);
    desc.add_options()("once", po::bool_switch(&once), "evaluate once and exit");
    po::variables_map vm;
    if (!parse_options("monitor", args, desc, {}, vm)) {
        return util::to_int(util::ExitCode::ok);
    }
    config::Config cfg = load_rollback_config(common);
    // A trigger must be able to start its run: exit 2 now.
    const auto decision_playbook = load_decision_playbook(cfg);
    const StateDir sd = resolve_state_dir(common, cfg);
    if (decision_playbook) {
        refuse_state_in_releases(sd, *decision_playbook);
    }
    const fs::path state_dir = sd.dir;
    prepare_state_dir(sd, "monitor", "decision records, monitor.jsonl, alerts.json");
    start_logging(state_dir, common.verbose, "monitor");
    exec::install_interrupt_handlers();
    install_reload_handler();
    util::SystemClock clock;
    exec::RealProcessRunner runner;
    // On a shared state (PostgreSQL) several monitors run with the same config: the lease row
    // "leader" chooses the one that acts (docs/config.md "Leadership").
    const auto interval = cfg.interval;
    auto store = open_shared_store(sd, interval, once);
    if (!store) {
        return util::to_int(util::ExitCode::interrupted); // stopped while the state did not answer
    }
    std::unique_ptr<state::Leadership> leadership;
    if (auto* pg = dynamic_cast<state::PgStore*>(store.get())) {
        leadership = pg->leadership(state::this_process_holder("", "monitor"));
        log::info("monitor: sharing {} with other monitors", state_where(sd));
    }
    RunAsCommand starter(common, sd);
    ConsoleOutput out(common.json);
    monitor::Loop loop({clock, runner, *store, starter, out, state_dir}, std::move(cfg), once);
    if (leadership) {
        loop.set_leadership(*leadership);
    }
    // A reload compares the state the new file resolves to by the same rule, with this
    // monitor's --state-dir and $ROLLBACK_STATE_DIR: not the file's raw state_dir.
    loop.set_state_rule([common](const config::Config& c) {
        const StateDir r = resolve_state_dir(common, c);
        // The command it prints finds this state: the file (approve reads its playbook), and
        // the directory when the file's own is not it (--state-dir, $ROLLBACK_STATE_DIR).
        const std::string found =
            state::state_args({r.dir, r.shared.has_value(), util::canonical_path(c.file),
                               util::canonical_path(c.state_dir)},
                              true);
        return monitor::ResolvedState{r.dir, r.shared, found};
    });
    const int rc = loop.run([] { return g_reload.exchange(false); });
    if (leadership) {
        leadership->step_down(); // a follower leads at its next tick, not after the lease
    }
    if (!once) {
        log::info("monitor: stopped (exit {})", rc);
        if (common.json) {
            boost::json::object o{{"event", "stopped"}, {"exit_code", rc}};
            std::puts(boost::json::serialize(o).c_str());
        } else {
            std::puts("monitor stopped");
        }
    }
    return rc;
}

} // namespace rollback::cli
