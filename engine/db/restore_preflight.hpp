// SPDX-License-Identifier: MIT
#pragma once

// What `plan` and `--dry-run` check before a side_swap restore runs; only reads.

#include "db/preflight_line.hpp"
#include "db/rehearsal.hpp"
#include "db/side_swap.hpp"
#include "exec/runner.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace rollback::db {

struct PreflightContext {
    std::string run_id;                  ///< the names the restore would create
    std::filesystem::path base;          ///< a relative backup path is relative to this
    std::filesystem::path state_dir;     ///< where rehearsals are recorded (the ETA)
    std::string step_id;                 ///< whose rehearsal gives the ETA
    std::filesystem::path playbook_file; ///< named in the hint to rehearse
};

/// Server reachable, role may create/rename databases and terminate sessions, reconciled tables
/// and key columns exist, the side and rolled-back names are free, enough disk (local servers),
/// leftovers of earlier restores (notices), the backup selected and intact, loss window, ETA.
/// Never throws for what it checks: problems are lines.
std::vector<PreflightLine> preflight_side_swap(exec::ProcessRunner& runner, const RestoreSpec& spec,
                                               const PreflightContext& ctx);

} // namespace rollback::db
