// SPDX-License-Identifier: MIT
// A restore's preflight: read-only checks of the server, the role's privileges, the reconciled
// tables, the names the restore will create, the disk, what earlier restores left behind, and the
// backup it would restore.
#include "db/restore_preflight.hpp"

#include "db/backup_catalog.hpp"
#include "db/reconcile.hpp"
#include "db/restore_state.hpp"
#include "db/scratch_record.hpp"
#include "util/duration.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <chrono>
#include <pqxx/connection_base>
#include <pqxx/result>
#include <pqxx/transaction>
#include <sys/statvfs.h>

namespace rollback::db {

namespace {

bool server_is_local(const Dsn& dsn) {
    std::string h = dsn.host();
    return h.empty() || h.front() == '/' || h == "localhost" || h == "127.0.0.1" || h == "::1";
}

} // namespace

std::vector<PreflightLine> preflight_side_swap(exec::ProcessRunner& runner, const RestoreSpec& prm,
                                               const PreflightContext& ctx) {
    std::vector<PreflightLine> checks;
    auto fail = [&](std::string what, std::string problem, std::string hint = {}) {
        checks.push_back({false, std::move(what), util::mask_secrets(problem), std::move(hint)});
    };
    auto ok = [&](std::string what) { checks.push_back({true, util::mask_secrets(what), "", ""}); };

    Dsn dsn = Dsn::parse(prm.dsn);
    const std::string db = dsn.dbname();
    // The ETA is advice: a rehearsal record that cannot be read is a note, never a failure of
    // the restore's checks (break-it 42/01: one dangling link there kept every rollback from
    // starting, blamed on the backup).
    auto check_eta = [&] {
        std::vector<std::string> skipped;
        if (auto r = last_rehearsal(ctx.state_dir, ctx.step_id, &skipped)) {
            ok("ETA: restore took " +
               util::format_duration(util::Millis(static_cast<long long>(r->restore_s * 1000))) +
               " in the last rehearsal (" + r->time + ", backup " + r->backup +
               (r->ok ? "" : ", FAILED") + ")");
        } else {
            ok("ETA: unknown — no rehearsal yet (rollback rehearse -p " +
               ctx.playbook_file.string() + ")");
        }
        for (const auto& why : skipped) {
            checks.push_back({true, "rehearsal record passed over (no ETA from it): " + why, "",
                              rehearsal_record_hint(ctx.state_dir), true});
        }
    };
    // The backup needs no connection: checked also when the server is unreachable, so one
    // preflight names every problem (an unreadable catalog and a server down, say).
    auto check_backup = [&] {
        try {
            BackupCatalog catalog(prm.catalog);
            std::vector<std::string> unreadable;
            BackupManifest m = catalog.select(prm.backup, db, unreadable, ctx.base);
            ok("backup " + prm.backup + " = " + m.id + " (" + std::to_string(m.size >> 20) +
               " MiB, release " + (m.release.empty() ? "-" : m.release) + ")");
            // Passed over as the restore and /metrics pass over them: shown, not a failure.
            for (const auto& why : unreadable) {
                checks.push_back({true, "backup catalog entry passed over: " + why, "",
                                  unreadable_hint(prm.catalog), true});
            }
            TocInfo toc;
            auto problems = check_archive(runner, m, toc);
            if (problems.empty()) {
                ok("backup " + m.id + ": sha256 matches, TOC readable (" +
                   std::to_string(toc.entries) + " items)");
            } else {
                fail("backup " + m.id + " intact", util::join(problems, "; "));
            }
            ok("loss window: " + loss_window(m, std::chrono::system_clock::now()));
        } catch (const util::Error& e) {
            fail("backup " + prm.backup + " available", e.what(), e.hint());
        }
        check_eta();
    };
    Connection conn;
    try {
        conn = connect(dsn);
        ok("database " + db + " reachable (" + dsn.masked() + ")");
    } catch (const util::Error& e) {
        fail("database " + db + " reachable", e.what(), e.hint());
        check_backup();
        return checks;
    }
    std::int64_t db_size = 0;
    try {
        pqxx::read_transaction tx(*conn);
        pqxx::row r = tx.exec1("SELECT r.rolsuper, r.rolcreatedb, pg_has_role(current_user, "
                               "'pg_signal_backend', 'MEMBER'),"
                               " pg_get_userbyid(d.datdba) = current_user OR "
                               "pg_has_role(current_user, d.datdba, 'MEMBER'),"
                               " current_user, pg_database_size(d.oid)"
                               " FROM pg_roles r, pg_database d WHERE r.rolname = current_user AND "
                               "d.datname = current_database()");
        bool super = r[0].as<bool>();
        bool createdb = r[1].as<bool>();
        bool signal = r[2].as<bool>();
        bool owner = r[3].as<bool>();
        std::string user = r[4].c_str();
        db_size = r[5].as<std::int64_t>();
        if (super || createdb) {
            ok("role " + user + " may create databases" +
               std::string(super ? " (superuser)" : " (CREATEDB)"));
        } else {
            fail("role " + user + " may create databases",
                 "role " + user + " has neither CREATEDB nor SUPERUSER",
                 "ALTER ROLE " + user + " CREATEDB");
        }
        if (super || owner) {
            ok("role " + user + " may rename database " + db);
        } else {
            fail("role " + user + " may rename database " + db,
                 "only the owner of " + db + " or a superuser can rename it");
        }
        if (super || signal) {
            ok("role " + user + " may terminate connections");
        } else {
            fail("role " + user + " may terminate connections",
                 "role " + user + " is not a superuser nor a member of pg_signal_backend",
                 "GRANT pg_signal_backend TO " + user);
        }
        for (const auto& rc : prm.reconcile) {
            std::string what =
                "reconcile table " + rc.table + " with key " + util::join(rc.key, ", ");
            std::string q = qualify_table(rc.table);
            pqxx::result cols =
                tx.exec("SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(" +
                        quote_literal(quote_table(q)) + ") AND attnum > 0 AND NOT attisdropped");
            std::vector<std::string> have;
            for (const auto& c : cols) {
                have.push_back(c[0].c_str());
            }
            std::string missing;
            for (const auto& k : rc.key) {
                if (std::find(have.begin(), have.end(), k) == have.end()) {
                    missing += (missing.empty() ? "" : ", ") + k;
                }
            }
            if (have.empty()) {
                fail(what, "table " + q + " does not exist in " + db);
            } else if (!missing.empty()) {
                fail(what, "table " + q + " has no column " + missing);
            } else {
                // The exports' file names, derived here as the step derives them: any table name
                // is one file in the run's reconcile/ directory.
                ok(what + " (exported as " + reconcile_file_stem(rc.table) + ".missing.csv)");
            }
        }
        std::string side = derived_db_name(db, "restore", ctx.run_id);
        std::string rolled = derived_db_name(db, "rolledback", ctx.run_id);
        for (const auto& name : {side, rolled}) {
            if (database_exists(tx, name)) {
                fail("database name " + name + " is free", "database " + name + " already exists");
            }
        }
        // Disk: the side database needs about as much as the live one.
        if (server_is_local(dsn)) {
            // pg_settings hides data_directory from roles without pg_read_all_settings: no row.
            std::string data_dir;
            pqxx::result dd =
                tx.exec("SELECT setting FROM pg_settings WHERE name = 'data_directory'");
            if (!dd.empty()) {
                data_dir = dd[0][0].c_str();
            }
            struct statvfs sv {};
            if (!data_dir.empty() && ::statvfs(data_dir.c_str(), &sv) == 0) {
                auto free_bytes =
                    static_cast<std::int64_t>(sv.f_bavail) * static_cast<std::int64_t>(sv.f_frsize);
                std::string what = "free disk for the side database (" +
                                   std::to_string(free_bytes >> 20) + " MiB free in " + data_dir +
                                   ", " + db + " uses " + std::to_string(db_size >> 20) + " MiB)";
                if (free_bytes > db_size + db_size / 10) {
                    ok(what);
                } else {
                    fail(what, "not enough free space for a second copy of " + db);
                }
            } else {
                ok("free disk for the side database: not checked (data directory not readable "
                   "here)");
            }
        } else {
            ok("free disk for the side database: not checked (server is remote; " + db + " uses " +
               std::to_string(db_size >> 20) + " MiB)");
        }
        tx.commit();
    } catch (const std::exception& e) {
        fail("privileges and names", db_error_text(e));
    }
    // What earlier runs left (never dropped by the engine) and what interrupted rehearsals left
    // (the next rehearsal drops those it recorded): shown with the command that drops each.
    try {
        for (const auto& l :
             find_leftover_databases(dsn, "", scratch_in_use(ctx.state_dir, prm.catalog))) {
            checks.push_back({true, "database " + l.name + ": " + l.describe(), "",
                              "drop it with: " + l.drop_command, true});
        }
    } catch (const std::exception& e) {
        fail("leftover databases of earlier restores", db_error_text(e));
    }

    check_backup();
    return checks;
}

} // namespace rollback::db
