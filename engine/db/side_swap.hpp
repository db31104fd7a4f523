// SPDX-License-Identifier: MIT
#pragma once

// Restoring a production database without destroying anything (side_swap): a catalogued backup
// is restored into a side database, verified, swapped in under the production name in one
// transaction (the old database is kept as <db>_rolledback_<run>), then reconciled with it.
// See docs/database.md.

#include "db/reconcile.hpp"
#include "db/restore.hpp"
#include "db/sql_check.hpp"
#include "exec/runner.hpp"

#include <boost/json/object.hpp>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace rollback::db {

/// What a restore asks for: the parameters of a pg_restore step, checked.
struct RestoreSpec {
    std::string dsn;                  ///< the production database (its dbname is the one restored)
    std::filesystem::path catalog;    ///< absolute (relative paths are against the playbook)
    std::string backup = "last_good"; ///< "last_good" | "before_release:V" | a path
    int jobs = 2;
    std::string strategy = "side_swap";
    std::vector<SqlAssert> asserts;
    std::vector<ReconcileSpec> reconcile;
};

/// The run a restore belongs to, and where it reports.
struct SideSwapRun {
    std::string run_id;                  ///< names the side and rolled-back databases
    std::filesystem::path base;          ///< a relative backup path is relative to this
    std::filesystem::path reconcile_dir; ///< where the reconciliation CSVs are written
    std::string log_name;                ///< prefix of the log lines (the step id)
    ProgressFn progress;                 ///< lines for a person; may be empty
    /// A stage reached, after it is recorded in the databases: its name and facts. May be empty.
    std::function<void(const std::string& stage, const boost::json::object& facts)> on_stage;
    /// pg_restore's time in the last successful rehearsal of the step (0: none): the ETA.
    util::Millis expected_restore{0};
    /// The step attempt's sessions (db/sessions.hpp): every session of the restore, pg_restore's
    /// own included, carries its name, and its fence is checked right before each effect on the
    /// server — a stage mark, the swap and its commit, a CREATE or DROP DATABASE (db::Fenced).
    StepSession session = {};
};

struct SideSwapOutcome {
    bool ok = false;
    std::string summary;     ///< what was restored, or what failed and that <db> is unchanged
    std::string output_tail; ///< pg_restore's stderr tail, masked
    /// database names, resumed_at_stage, backup, loss_window, timings, reconcile counts and files
    boost::json::object details;
};

/// Runs the restore stage by stage, continuing from the stage the databases record for
/// `run.run_id` (after a crash). Never throws: a failure is an outcome saying what is unchanged.
SideSwapOutcome run_side_swap(exec::ProcessRunner& runner, const RestoreSpec& spec,
                              const SideSwapRun& run);

} // namespace rollback::db
