// SPDX-License-Identifier: MIT
#pragma once

// The progress of a pg_restore (side_swap) step, kept where it survives a crash of the engine: in
// the databases themselves. The side database `<db>_restore_<run>` carries a COMMENT ON DATABASE
// naming its run and stage; the swap moves that comment to `<db>` in the same transaction as the
// renames. Resume reads it (probe_restore) to continue from the right stage; `status` and `plan`
// read it to show what a crash left behind. See docs/database.md, "Crashes and resume".

#include "db/names.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pqxx {
class transaction_base;
}

namespace rollback::db {

/// Written to database comments and journals by name; never rename.
enum class RestoreStage {
    none,         ///< nothing of this run exists
    side_created, ///< the side database exists; pg_restore may have run partly
    restored,     ///< pg_restore finished into the side database
    verified,     ///< row counts, checksums and asserts hold
    swapping,     ///< connections to <db> are being blocked and the names swapped
    swapped,      ///< <db> is the restored database; the old one is <db>_rolledback_<run>
    reconciled,   ///< the reconciliation files are written: the step is done
};
std::string_view to_string(RestoreStage s);
std::optional<RestoreStage> parse_restore_stage(std::string_view name);

/// The comment of a database a restore works on:
/// `rollback:restore run=<run id> stage=<stage> backup=<id> allow_connections=<true|false>`.
struct RestoreMark {
    std::string run_id;
    RestoreStage stage = RestoreStage::side_created;
    std::string backup;
    /// <db>'s datallowconn before the swap blocked it (restored afterwards, also after a crash).
    bool allow_connections = true;
};
std::string format_mark(const RestoreMark& m);
/// nullopt when `comment` is not a mark (another comment, or none).
std::optional<RestoreMark> parse_mark(std::string_view comment);

/// Sets database `name`'s comment to the mark. Needs ownership of `name` (the restoring role
/// owns the side database or is a member of its owner).
void write_mark(pqxx::transaction_base& tx, const std::string& name, const RestoreMark& m);

/// What the server says about one run's restore of `database`.
struct RestoreProbe {
    std::string database, side, rolled;
    RestoreStage stage = RestoreStage::none;
    std::optional<RestoreMark> mark; ///< the side database's (before the swap) or <db>'s (after)
    bool side_exists = false;
    bool rolled_exists = false;
    bool production_blocked = false; ///< <db> (before the swap) does not accept connections
    /// Non-empty when the databases are in a state this run's restore never leaves them in (a
    /// person renamed or dropped something): resume must not guess.
    std::string problem;
    /// One sentence for a person: where the restore stands and what production is.
    std::string describe() const;
};

/// Reads pg_database (names, datallowconn, comments) through the maintenance database; only
/// SELECTs. Throws ConnectError when the server cannot be reached.
RestoreProbe probe_restore(const Dsn& dsn, const std::string& run_id);

/// A database a restore left behind: a side database of a run that is not running, or an old
/// database kept after a swap. The engine never drops them.
struct LeftoverDatabase {
    std::string name;
    /// "side" | "rolled_back" | "rehearsal" (a rehearse's scratch copy) | "verification" (the
    /// scratch copy of a `backup verify --restore-test`)
    std::string kind;
    std::string database; ///< the production database it belongs to
    std::string run_id;   ///< from the mark, else from the name ("" when not recoverable)
    std::string stage;    ///< side databases: the recorded stage ("" = none recorded)
    std::string drop_command;
    /// "side database of run R, stage restored, never swapped in: shop is untouched", ...
    std::string describe() const;
};

/// The command a person runs to drop database `name` of `dsn`'s server: psql connected to the
/// maintenance database, without the password (psql asks, or PGPASSWORD / ~/.pgpass give it).
std::string drop_command(const Dsn& dsn, const std::string& name);

/// The leftovers of restores and rehearsals of `dsn`'s database. A side database of
/// `live_run_id` (a run that holds the state lock right now) is in use, not left over; so is a
/// rehearsal's or verification's scratch database named in `scratch_in_use` (db::scratch_in_use).
/// Throws ConnectError.
std::vector<LeftoverDatabase>
find_leftover_databases(const Dsn& dsn, const std::string& live_run_id,
                        const std::vector<std::string>& scratch_in_use = {});

} // namespace rollback::db
