// SPDX-License-Identifier: MIT
#pragma once

// The scratch databases `rollback rehearse` creates — each a full copy of a backup of production,
// customer data included — recorded in the state directory *before* they exist:
// `<state_dir>/rehearsals/scratch/<name>.json`, held (flock) by the rehearsal while it runs. So a
// rehearsal killed with -9 (or a reboot, an OOM kill) leaves a record whose lock nobody holds:
// the next `rehearse` of the same server and database drops that scratch database (its name AND
// its record say it is a rehearsal's, never a database it did not create), and `status` and
// `plan` name it with the command that drops it (docs/database.md, "Rehearsal").

#include "db/names.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace rollback::db {

/// One scratch database a rehearsal created or was about to create.
struct ScratchRecord {
    std::string name;     ///< the scratch database, `<db>_rehearse_<time>_<pid>`
    std::string database; ///< the production database whose backup it holds
    /// The server, as the maintenance database's conninfo without its password (no secret):
    /// whose scratch databases a rehearsal may drop, and what the drop command connects to.
    std::string server;
    std::string step;     ///< the pg_restore step rehearsed
    std::string playbook; ///< absolute
    std::string started;  ///< RFC 3339
    int pid = 0;
    std::string host;
    std::filesystem::path file = {}; ///< where it is recorded (not serialized)
    bool in_use = false;             ///< its rehearsal still runs: the record's lock is held
    /// `psql '<server>' -c 'DROP DATABASE IF EXISTS "<name>"'` (psql asks for the password, or
    /// PGPASSWORD / ~/.pgpass give it).
    std::string drop_command() const;
};

/// The server identity a ScratchRecord keeps for `dsn`.
std::string scratch_server(const Dsn& dsn);

/// True when `name` is a name a rehearsal of database `database` gives its scratch database.
bool is_rehearsal_scratch_name(const std::string& database, const std::string& name);

/// A record written and locked before the scratch database is created, for as long as the
/// rehearsal runs. The destructor lets go of the lock and keeps the file (a database that may
/// exist stays recorded); release() removes it once the database is gone or was never created.
class ScratchClaim {
  public:
    /// Writes `r` under `<state_dir>/rehearsals/scratch/` by rename, locked before it appears.
    /// Throws util::Error (exit 7, nothing created) when the state directory cannot be written.
    static ScratchClaim claim(const std::filesystem::path& state_dir, ScratchRecord r);
    ScratchClaim(ScratchClaim&& other) noexcept;
    ScratchClaim& operator=(ScratchClaim&&) = delete;
    ScratchClaim(const ScratchClaim&) = delete;
    ~ScratchClaim();
    /// Removes the record (and lets go of its lock).
    void release();
    const ScratchRecord& record() const { return m_record; }

  private:
    ScratchClaim(ScratchRecord r, int fd) : m_record(std::move(r)), m_fd(fd) {}
    ScratchRecord m_record;
    int m_fd = -1;
};

/// Every scratch record of `state_dir`, oldest first, each with `in_use` said. A record that
/// cannot be read is named in `skipped`, never thrown.
std::vector<ScratchRecord> scratch_records(const std::filesystem::path& state_dir,
                                           std::vector<std::string>& skipped);

/// The names of the scratch databases whose rehearsal still runs (their record's lock is held).
std::vector<std::string> scratch_in_use(const std::filesystem::path& state_dir);

/// Drops the scratch databases interrupted rehearsals of `state_dir` left on `dsn`'s server for
/// its database: only those whose record is not held by a running rehearsal, whose server and
/// database are `dsn`'s and whose name is a rehearsal's. Each dropped one's record is removed.
/// Returns one line per database dropped ("dropped ..."), or not dropped (the reason and the
/// command). Never throws.
std::vector<std::string> drop_stale_scratch(const std::filesystem::path& state_dir, const Dsn& dsn);

} // namespace rollback::db
