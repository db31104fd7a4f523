// SPDX-License-Identifier: MIT
#pragma once

// action = "pg_restore": restore a catalogued backup without destroying anything (side_swap).
// An adapter over db/: the step's parameters become a db::RestoreSpec, the restore's outcome the
// step's result. The parameters are shared with `rollback rehearse` and `status`.

#include "actions/action.hpp"
#include "db/rehearsal.hpp"
#include "db/restore_state.hpp"
#include "db/side_swap.hpp"
#include "playbook/model.hpp"

#include <memory>
#include <string>
#include <vector>

namespace rollback::actions {

/// A pg_restore step's keys: a restore's specification (db/side_swap.hpp), parsed once.
struct PgRestoreParams : playbook::ActionParams {
    db::RestoreSpec spec;
    std::string shown_catalog; ///< `catalog` as written, for the plan
};

/// The parameters of pg_restore step `step`: those kept at load (Step::parsed), else parsed now.
/// nullptr, and the first problem in `problem`, when its keys do not parse.
std::shared_ptr<const PgRestoreParams>
pg_restore_params(const playbook::Playbook& pb, const playbook::Step& step, std::string& problem);

struct LeftoverScan {
    std::vector<db::LeftoverDatabase> found;
    std::vector<std::string> not_checked; ///< "database shop: cannot connect ..." (masked)
};
/// db::find_leftover_databases for every distinct database of the playbook's pg_restore steps;
/// the scratch databases of rehearsals of `state_dir` still running are not left over.
/// Connection problems are reported in not_checked, never thrown.
LeftoverScan scan_leftover_databases(const playbook::Playbook& pb, const std::string& live_run_id,
                                     const std::filesystem::path& state_dir);

/// `rollback rehearse` of one pg_restore step (db::rehearse_restore with the step's parameters),
/// its scratch database recorded in `state_dir`. `dsn_override` replaces the step's dsn. Never
/// throws: problems are in the rehearsal.
db::Rehearsal rehearse_pg_restore(const playbook::Playbook& pb, const playbook::Step& step,
                                  exec::ProcessRunner& runner, const std::string& dsn_override,
                                  const db::ProgressFn& progress,
                                  const std::filesystem::path& state_dir);

} // namespace rollback::actions
