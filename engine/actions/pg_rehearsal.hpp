// SPDX-License-Identifier: MIT
#pragma once

// `rollback rehearse` for pg_restore steps: restore the step's backup into a scratch database,
// verify it like the real step would, time each phase, drop the scratch database, record it.
// Nothing live is touched: the production database is only read (its name and properties).

#include "actions/pg_restore_core.hpp"
#include "exec/runner.hpp"
#include "playbook/model.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace rollback::actions {

struct Rehearsal {
    std::string step_id;
    std::string time;     ///< RFC 3339, when the rehearsal started
    std::string backup;   ///< manifest id
    std::string database; ///< the production database name
    std::string scratch;  ///< the scratch database (dropped)
    bool ok = false;
    std::vector<std::string> problems;
    int toc_entries = 0;
    double check_s = 0;   ///< sha256 + TOC
    double restore_s = 0; ///< create + pg_restore: the plan's ETA for the step's restore
    double verify_s = 0;  ///< manifest comparison + asserts
    double drop_s = 0;
    double total_s = 0;
};

/// Rehearses one pg_restore step. `dsn_override` replaces the step's dsn (rehearse against a
/// staging server). Never throws for the rehearsal's own failures: they are in `problems`.
Rehearsal rehearse_pg_restore(const playbook::Playbook& pb, const playbook::Step& step,
                              exec::ProcessRunner& runner, const std::string& dsn_override,
                              const ProgressFn& progress);

/// Writes `<state_dir>/rehearsals/<time>-<step>.json` atomically; returns its path.
std::filesystem::path save_rehearsal(const std::filesystem::path& state_dir, const Rehearsal& r);

/// The newest successful rehearsal of `step_id` recorded in `state_dir`, or nullopt. Its
/// `restore_s` is the measured restore time the plan shows as the step's ETA.
std::optional<Rehearsal> last_rehearsal(const std::filesystem::path& state_dir,
                                        const std::string& step_id);

} // namespace rollback::actions
