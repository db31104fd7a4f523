// SPDX-License-Identifier: MIT
#include "cli/check_support.hpp"

#include "cli/state_dir.hpp"
#include "decision/combine.hpp"
#include "exec/runner.hpp"
#include "monitor/monitor.hpp"
#include "util/error.hpp"

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
        monitor::AlertBook book;
        book.restore(store.active_alerts(), cfg.alert_conditions);
        book.expire(now);
        if (auto e = mon.evaluate_alerts(now, book)) {
            record = decision::combine(std::move(record), e->record, cfg.decision.mode);
        }
    }
    return record;
}

} // namespace rollback::cli
