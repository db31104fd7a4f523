// SPDX-License-Identifier: MIT
#pragma once

// The building blocks shared by the pg_restore action, `backup verify --restore-test` and
// `rehearse`: reading an archive's TOC, restoring it into a database created for it, dropping
// such a database again.

#include "db/names.hpp"
#include "db/sessions.hpp"
#include "exec/runner.hpp"
#include "util/duration.hpp"

#include <filesystem>
#include <functional>
#include <string>

namespace pqxx {
class transaction_base;
}

namespace rollback::db {

using ProgressFn = std::function<void(const std::string& line)>;

/// `pg_restore --list` of a custom-format archive.
struct TocInfo {
    bool ok = false;
    int entries = 0;   ///< TOC items pg_restore would process (non-comment lines)
    std::string error; ///< masked, when !ok
};
TocInfo read_toc(exec::ProcessRunner& runner, const std::filesystem::path& dump);

/// Whether database `name` exists (any connection to the server).
bool database_exists(pqxx::transaction_base& tx, const std::string& name);

struct RestoreRequest {
    Dsn server;           ///< any database of the server; the maintenance db is used for DDL
    std::string database; ///< the database to create and restore into (must not exist)
    std::filesystem::path dump;
    int jobs = 1;
    int toc_entries = 0; ///< from read_toc, for progress; 0 = unknown
    /// When set: the new database copies this database's owner, encoding, collation, ctype,
    /// connection limit, per-database settings and database-level grants.
    std::string like_database;
    ProgressFn
        progress; ///< "restoring: 34/52 items, 5s elapsed, ETA 12s as rehearsed"; may be empty
    /// Called once the database is created (and its properties copied), before pg_restore; when
    /// it throws, the database is dropped and the restore fails. May be empty.
    std::function<void()> on_created = nullptr;
    /// How long pg_restore took in the last successful rehearsal of this restore (0: none). The
    /// only ETA progress gives: items are no measure of time (one item is a whole table's data).
    util::Millis expected{0};
    /// A step's: its fence is checked right before the CREATE DATABASE and before dropping the
    /// database again (`server` carries the session's name). Empty: unfenced.
    StepSession session = {};
};

struct RestoreResult {
    bool ok = false;
    bool created = false; ///< the database was created (and, when !ok, dropped again)
    std::string error;    ///< masked, when !ok
    util::Millis create_time{0};
    util::Millis restore_time{0};
    std::string output_tail; ///< pg_restore's stderr tail, masked
};

/// Creates `req.database` and runs `pg_restore --exit-on-error --jobs N` into it. On any failure
/// the database is dropped again (only if this call created it). Never throws for the restore's own
/// failure; throws ConnectError when the server cannot be reached at all.
RestoreResult restore_into_new_database(exec::ProcessRunner& runner, const RestoreRequest& req);

/// DROP DATABASE IF EXISTS `name` WITH (FORCE) through the maintenance database, `session`'s
/// fence checked right before it (db::Fenced: nothing dropped). Returns an error text (masked)
/// or empty.
std::string drop_database(const Dsn& server, const std::string& name,
                          const StepSession& session = {});

/// The maintenance database of a server: `postgres`.
Dsn maintenance_dsn(const Dsn& dsn);

} // namespace rollback::db
