// SPDX-License-Identifier: MIT
#pragma once

// A rehearsal of a restore (`rollback rehearse`): the backup a restore would use is restored into
// a scratch database, verified like the real restore would verify it, each phase timed, the
// scratch database dropped, the result recorded. Nothing live is touched: the production database
// is only read (its name and properties).

#include "db/side_swap.hpp"
#include "exec/runner.hpp"

#include <boost/json/object.hpp>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace rollback::db {

struct Rehearsal {
    std::string step_id;
    std::string time;     ///< RFC 3339, when the rehearsal started
    std::string backup;   ///< manifest id
    std::string database; ///< the production database name
    std::string scratch;  ///< the scratch database (dropped)
    /// The scratch database may remain (its drop failed, or could not be confirmed): still
    /// recorded, the command that drops it in `problems`. Not serialized.
    bool scratch_left = false;
    bool ok = false;
    std::vector<std::string> problems;
    int toc_entries = 0;
    double check_s = 0;   ///< sha256 + TOC
    double restore_s = 0; ///< create + pg_restore: the plan's ETA for the step's restore
    double verify_s = 0;  ///< manifest comparison + asserts
    double drop_s = 0;
    double total_s = 0;
    /// One `rollback rehearse` invocation: its id, how many steps it rehearses, the playbook
    /// (absolute). Recorded so that only a drill all of whose steps succeeded counts as one
    /// (the monitor's rollback_last_successful_rehearsal_timestamp_seconds). Empty / 0: not
    /// recorded.
    std::string rehearse_id;
    int of = 0;
    std::string playbook;
    /// The steps `rehearse --only` selected (empty: every pg_restore step of the playbook). A
    /// drill of a selection is no drill of the playbook: /metrics does not count it.
    std::vector<std::string> only;
};

/// What a rehearsal needs beside the restore's specification.
struct RehearsalSetup {
    std::string step_id;
    std::filesystem::path base;      ///< a relative backup path is relative to this
    std::string dsn_override;        ///< replaces the spec's dsn (a staging server)
    std::filesystem::path state_dir; ///< where the scratch database is recorded before it exists
    std::string playbook;            ///< absolute, named in that record
    ProgressFn progress;
};

/// Rehearses the restore `spec` asks for, as step `setup.step_id`. First drops what interrupted
/// rehearsals of the state directory left of this database on this server (drop_stale_scratch);
/// records the scratch database (ScratchClaim) before creating it, and removes the record once
/// it is dropped. An interrupt (exec::install_interrupt_handlers) ends pg_restore's group, skips
/// verification and drops the scratch database: the rehearsal fails "interrupted by SIG...".
/// Never throws for the rehearsal's own failures: they are in `problems`.
Rehearsal rehearse_restore(exec::ProcessRunner& runner, const RestoreSpec& spec,
                           const RehearsalSetup& setup);

/// The recorded form: {format, step, time, backup, database, scratch, ok, problems[],
/// toc_entries, check_s, restore_s, verify_s, drop_s, total_s} (seconds as numbers), and
/// rehearse_id, of, playbook when set, `only` when not empty.
boost::json::object to_json(const Rehearsal& r);

/// Writes `<state_dir>/rehearsals/<time>-<step>.json` atomically; returns its path.
std::filesystem::path save_rehearsal(const std::filesystem::path& state_dir, const Rehearsal& r);

/// The newest successful rehearsal of `step_id` recorded in `state_dir`, or nullopt. Its
/// `restore_s` is the measured restore time the plan shows as the step's ETA. A record that
/// cannot be read or parsed (a dangling link, a FIFO, another user's file, garbage) is passed
/// over and its reason appended to `skipped` when given. Never throws for a record.
std::optional<Rehearsal> last_rehearsal(const std::filesystem::path& state_dir,
                                        const std::string& step_id,
                                        std::vector<std::string>* skipped = nullptr);

/// What to do about a rehearsal record that cannot be read (last_rehearsal's `skipped`).
std::string rehearsal_record_hint(const std::filesystem::path& state_dir);

} // namespace rollback::db
