// SPDX-License-Identifier: MIT
#pragma once

// action = "pg_restore": restore a catalogued backup without destroying anything (side_swap).
// An adapter over db/: the step's parameters become a db::RestoreSpec, the restore's outcome the
// step's result. The parameters are shared with `rollback rehearse` and `status`.

#include "actions/action.hpp"
#include "actions/step_params.hpp"
#include "db/rehearsal.hpp"
#include "db/restore_state.hpp"
#include "db/side_swap.hpp"
#include "playbook/model.hpp"

#include <string>
#include <vector>

namespace rollback::actions {

/// The step's parameters are a restore's specification (db/side_swap.hpp).
using PgRestoreParams = db::RestoreSpec;

/// Reads and checks a pg_restore step's keys; problems go to `p` (located diagnostics).
PgRestoreParams read_pg_restore_params(const playbook::Playbook& pb, StepParams& p);

/// The step's work: db::run_side_swap for this run, its outcome as the step's result. Never
/// throws: failures are a Result.
Result run_pg_restore(const Context& ctx);

/// Resume's "is it done?": done once reconciled; not_done (re-running continues) at any earlier
/// stage; unknown when the databases are in a state no run leaves them in, or cannot be read.
ProbeAnswer probe_pg_restore(const Context& ctx);

struct LeftoverScan {
    std::vector<db::LeftoverDatabase> found;
    std::vector<std::string> not_checked; ///< "database shop: cannot connect ..." (masked)
};
/// db::find_leftover_databases for every distinct database of the playbook's pg_restore steps.
/// Connection problems are reported in not_checked, never thrown.
LeftoverScan scan_leftover_databases(const playbook::Playbook& pb, const std::string& live_run_id);

/// `rollback rehearse` of one pg_restore step (db::rehearse_restore with the step's parameters).
/// `dsn_override` replaces the step's dsn. Never throws: problems are in the rehearsal.
db::Rehearsal rehearse_pg_restore(const playbook::Playbook& pb, const playbook::Step& step,
                                  exec::ProcessRunner& runner, const std::string& dsn_override,
                                  const db::ProgressFn& progress);

} // namespace rollback::actions
