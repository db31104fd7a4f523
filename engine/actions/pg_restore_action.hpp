// SPDX-License-Identifier: MIT
#pragma once

// action = "pg_restore": restore a catalogued backup without destroying anything (side_swap).
// The step's parameters, shared with `rollback rehearse`.

#include "actions/action.hpp"
#include "actions/pg_conn.hpp"
#include "actions/pg_reconcile.hpp"
#include "actions/sql_check.hpp"
#include "actions/step_params.hpp"
#include "playbook/model.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace rollback::actions {

struct SqlAssert {
    std::string sql;                 ///< with $1, $2, ... for the variables it used
    std::vector<std::string> params; ///< their values, bound
    SqlExpectation expect;
};

struct PgRestoreParams {
    std::string dsn;                  ///< the production database (its dbname is the one restored)
    std::filesystem::path catalog;    ///< absolute (relative paths are against the playbook)
    std::string backup = "last_good"; ///< "last_good" | "before_release:V" | a path
    int jobs = 2;
    std::string strategy = "side_swap";
    std::vector<SqlAssert> asserts;
    std::vector<ReconcileSpec> reconcile;
};

/// Reads and checks a pg_restore step's keys; problems go to `p` (located diagnostics).
PgRestoreParams read_pg_restore_params(const playbook::Playbook& pb, StepParams& p);

/// The step's work, stage by stage (pg_restore_run.cpp): continues from the stage the databases
/// record for this run (after a crash), else starts. Never throws: failures are a Result.
Result run_pg_restore(const Context& ctx);
/// Resume's "is it done?": done once reconciled; not_done (re-running continues) at any earlier
/// stage; unknown when the databases are in a state no run leaves them in, or cannot be read.
ProbeAnswer probe_pg_restore(const Context& ctx);

/// Runs the step's asserts in `tx`; returns one line per failing assertion.
std::vector<std::string> run_asserts(pqxx::transaction_base& tx,
                                     const std::vector<SqlAssert>& asserts);

} // namespace rollback::actions
