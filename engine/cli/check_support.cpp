// SPDX-License-Identifier: MIT
#include "cli/check_support.hpp"

#include "cli/state_dir.hpp"
#include "decision/combine.hpp"
#include "exec/runner.hpp"
#include "monitor/monitor.hpp"
#include "util/error.hpp"

#include <cstdio>

namespace rollback::cli {

namespace fs = std::filesystem;

config::Config load_rollback_config(const CommonOptions& common) {
    auto file = find_config(common, {});
    if (!file) {
        throw util::Error("no configuration: rollback.toml does not exist", util::ExitCode::invalid,
                          "pass -c rollback.toml (see docs/config.md)");
    }
    return config::load(*file);
}

decision::DecisionRecord evaluate_now(const config::Config& cfg, const state::Store& store,
                                      util::SystemTime now) {
    // One tick of the monitor's own reading and evaluation: `check` and `monitor --once` judge
    // the same data the same way.
    monitor::Monitor mon(cfg, store.baselines().value_or(decision::BaselineBook{}));
    if (auto marker = store.deploy_marker()) {
        mon.deployed(marker->time, marker->release);
    }
    exec::RealProcessRunner runner;
    decision::DecisionRecord record = mon.tick(runner, now).record;
    if (mon.has_alert_conditions()) {
        // The alert conditions as the monitor judges them: over the alerts it keeps active.
        // Kept alerts that cannot be read are not "no alerts": those conditions have no data,
        // and the others are judged all the same.
        std::optional<std::vector<state::ActiveAlert>> kept;
        std::string unreadable;
        try {
            kept = store.active_alerts();
        } catch (const util::Error& e) {
            unreadable = std::string("the active alerts cannot be read: ") + e.what();
            std::fprintf(stderr, "rollback: warning: %s\n", unreadable.c_str());
        }
        std::optional<decision::Evaluation> e;
        if (kept) {
            monitor::AlertBook book;
            book.restore(std::move(*kept), cfg.alert_conditions);
            book.expire(now);
            e = mon.evaluate_alerts(now, book);
        } else {
            e = mon.evaluate_alerts_unknown(now, unreadable);
        }
        if (e) {
            record = decision::combine(std::move(record), e->record, cfg.decision.mode);
        }
    }
    // Evaluated, never acted on: `check` (exit 5) and `explain --now` recommend; a record that
    // said "executed" would claim a rollback that nobody started.
    record.executed = false;
    return record;
}

} // namespace rollback::cli
