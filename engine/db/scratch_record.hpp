// SPDX-License-Identifier: MIT
#pragma once

// The scratch databases `rollback rehearse` and `rollback backup verify --restore-test` create —
// each a full copy of a backup of production, customer data included — recorded *before* they
// exist: a rehearsal's in `<state_dir>/rehearsals/scratch/<name>.json`, a verification's in
// `<catalog>/scratch/<name>.json`, held (flock) while the database is in use. So one killed with
// -9 (or a reboot, an OOM kill) leaves a record whose lock nobody holds: the next rehearsal (or
// verification) of the same server and database drops that scratch database (its name AND its
// record say it is one of theirs, never a database it did not create), and `status` and `plan`
// name it with the command that drops it (docs/database.md, "Rehearsal" and "Verifying backups").

#include "db/names.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace rollback::db {

/// Who creates a scratch database: where its record lives and what its name says.
enum class ScratchKind {
    rehearsal,    ///< `rollback rehearse`: `<db>_rehearse_...`, recorded under the state directory
    verification, ///< `backup verify --restore-test`: `<db>_verify_...`, under the catalog
};

/// One scratch database a rehearsal or a verification created or was about to create.
struct ScratchRecord {
    std::string name; ///< the scratch database, `<db>_rehearse_<time>_<pid>` or `<db>_verify_...`
    std::string database; ///< the production database whose backup it holds
    /// The server, as the maintenance database's conninfo without its password (no secret):
    /// whose scratch databases a rehearsal may drop, and what the drop command connects to.
    std::string server;
    std::string step;     ///< the pg_restore step rehearsed
    std::string playbook; ///< absolute
    std::string started;  ///< RFC 3339
    int pid = 0;
    std::string host;
    ScratchKind kind = ScratchKind::rehearsal;
    std::filesystem::path file = {}; ///< where it is recorded (not serialized)
    bool in_use = false;             ///< its rehearsal still runs: the record's lock is held
    /// `psql '<server>' -c 'DROP DATABASE IF EXISTS "<name>"'` (psql asks for the password, or
    /// PGPASSWORD / ~/.pgpass give it).
    std::string drop_command() const;
};

/// The server identity a ScratchRecord keeps for `dsn`.
std::string scratch_server(const Dsn& dsn);

/// True when `name` is a name a rehearsal (or verification) of database `database` gives its
/// scratch database.
bool is_scratch_name(const std::string& database, const std::string& name, ScratchKind kind);
inline bool is_rehearsal_scratch_name(const std::string& database, const std::string& name) {
    return is_scratch_name(database, name, ScratchKind::rehearsal);
}

/// Where the scratch records of `owner` are kept: `<owner>/rehearsals/scratch` for a state
/// directory's rehearsals, `<owner>/scratch` for a backup catalog's verifications.
std::filesystem::path scratch_dir(const std::filesystem::path& owner, ScratchKind kind);

/// A record written and locked before the scratch database is created, for as long as the
/// rehearsal runs. The destructor lets go of the lock and keeps the file (a database that may
/// exist stays recorded); release() removes it once the database is gone or was never created.
class ScratchClaim {
  public:
    /// Writes `r` under scratch_dir(owner, r.kind) by rename, locked before it appears. `owner`
    /// is the state directory (a rehearsal) or the backup catalog (a verification). Throws
    /// util::Error (exit 7, nothing created) when that directory cannot be written.
    static ScratchClaim claim(const std::filesystem::path& owner, ScratchRecord r);
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

/// Once the scratch database of `claim` should be gone (its rehearsal or verification ended, an
/// interrupt included): the record goes when the database is gone or was never `created`. While
/// it may remain, the record stays (the next one drops it, `status` and `plan` name it) and the
/// returned problem says how to drop it; "" when released.
std::string settle_scratch(ScratchClaim& claim, bool created, const Dsn& dsn);

/// Every scratch record of `owner` of `kind`, oldest first, each with `in_use` said. A record
/// that cannot be read is named in `skipped`, never thrown.
std::vector<ScratchRecord> scratch_records(const std::filesystem::path& owner,
                                           std::vector<std::string>& skipped,
                                           ScratchKind kind = ScratchKind::rehearsal);

/// The names of the scratch databases of `owner` still in use (their record's lock is held).
std::vector<std::string> scratch_in_use(const std::filesystem::path& owner,
                                        ScratchKind kind = ScratchKind::rehearsal);

/// The scratch databases in use by a rehearsal of `state_dir` or a verification of the backup
/// catalog `catalog` ("" : none): what find_leftover_databases must not call left over.
std::vector<std::string> scratch_in_use(const std::filesystem::path& state_dir,
                                        const std::filesystem::path& catalog);

/// Drops the scratch databases interrupted rehearsals (or verifications) of `owner` left on
/// `dsn`'s server for its database: only those whose record is not held, whose server and
/// database are `dsn`'s and whose name is one of `kind`'s. Each dropped one's record is removed.
/// Returns one line per database dropped ("dropped ..."), or not dropped (the reason and the
/// command). Never throws.
std::vector<std::string> drop_stale_scratch(const std::filesystem::path& owner, const Dsn& dsn,
                                            ScratchKind kind = ScratchKind::rehearsal);

} // namespace rollback::db
