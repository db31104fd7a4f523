// SPDX-License-Identifier: MIT
// action = "pg_restore", strategy "side_swap": restore into <db>_restore_<run>, verify it against
// the backup's manifest and the step's asserts, then swap names with the live database in one
// transaction, keeping the old one as <db>_rolledback_<run>; then reconcile. See docs/database.md.
#include "actions/pg_restore_action.hpp"

#include "actions/action.hpp"
#include "actions/backup_catalog.hpp"
#include "actions/pg_rehearsal.hpp"
#include "actions/pg_restore_core.hpp"
#include "actions/pg_restore_state.hpp"
#include "actions/pg_tables.hpp"
#include "util/duration.hpp"
#include "util/files.hpp"
#include "util/log.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <boost/json/value_from.hpp>
#include <chrono>
#include <memory>
#include <pqxx/connection_base>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>
#include <sys/statvfs.h>
#include <thread>

namespace rollback::actions {

namespace fs = std::filesystem;
namespace json = boost::json;

PgRestoreParams read_pg_restore_params(const playbook::Playbook& pb, StepParams& p) {
    PgRestoreParams out;
    if (auto dsn = p.string("dsn")) {
        out.dsn = *dsn;
        try {
            Dsn d = Dsn::parse(*dsn);
            if (d.dbname().empty()) {
                p.error("dsn", "must name the database (dbname=... or postgresql://.../DB)");
            }
        } catch (const util::Error& e) {
            p.error("dsn", e.what());
        }
    }
    if (auto c = p.string("catalog")) {
        fs::path cat = *c;
        out.catalog = cat.is_relative() ? (pb.directory / cat).lexically_normal() : cat;
    }
    if (auto b = p.string("backup")) {
        out.backup = *b;
        if (out.backup.rfind("before_release:", 0) == 0 &&
            out.backup.size() == std::string("before_release:").size()) {
            p.error("backup", "\"before_release:\" needs a release, e.g. \"before_release:2.4.0\"");
        }
    }
    if (auto j = p.integer("jobs")) {
        if (*j < 1 || *j > 64) {
            p.error("jobs", "must be between 1 and 64");
        } else {
            out.jobs = static_cast<int>(*j);
        }
    }
    if (auto s = p.string("strategy")) {
        out.strategy = *s;
        if (*s != "side_swap") {
            p.error(
                "strategy",
                "unknown strategy " + util::quoted(*s) + " (the only one is \"side_swap\")",
                "side_swap never overwrites the live database; an in-place restore is not offered");
        }
    }
    if (const auto* a = p.raw("assert")) {
        if (!a->is_array()) {
            p.error("assert", "expected an array of { sql = \"...\", expect = ... }");
        } else {
            for (size_t index = 0; index < a->as_array().size(); ++index) {
                const auto& item = a->as_array()[index];
                const auto* sql = member(&item, "sql");
                const auto* expect = member(&item, "expect");
                const auto* rows = member(&item, "expect_rows");
                if (sql == nullptr || !sql->is_string()) {
                    p.error("assert", "each entry needs sql = \"...\"");
                    continue;
                }
                SqlAssert sa;
                sa.sql = std::string(sql->as_string());
                sa.params = p.sql_params("assert." + std::to_string(index) + ".sql");
                if (expect != nullptr) {
                    sa.expect.scalar = expectation_text(*expect);
                    if (!sa.expect.scalar) {
                        p.error("assert", "expect must be a string, number or boolean");
                    }
                }
                if (rows != nullptr) {
                    if (!rows->is_int64() || rows->as_int64() < 0) {
                        p.error("assert", "expect_rows must be an integer ≥ 0");
                    } else {
                        sa.expect.rows = rows->as_int64();
                    }
                }
                if (expect == nullptr && rows == nullptr) {
                    p.error("assert", "each entry needs expect = ... or expect_rows = N");
                }
                for (const auto& [k, _] : item.as_object()) {
                    if (k != "sql" && k != "expect" && k != "expect_rows") {
                        p.error("assert",
                                "unknown key " + util::quoted(std::string(k)) + " in an entry");
                    }
                }
                out.asserts.push_back(std::move(sa));
            }
        }
    }
    if (const auto* r = p.raw("reconcile")) {
        if (!r->is_array()) {
            p.error("reconcile", "expected an array of { table = \"orders\", key = \"id\" }");
        } else {
            for (const auto& item : r->as_array()) {
                const auto* table = member(&item, "table");
                const auto* key = member(&item, "key");
                if (table == nullptr || !table->is_string() || table->as_string().empty()) {
                    p.error("reconcile", "each entry needs table = \"...\"");
                    continue;
                }
                ReconcileSpec spec;
                spec.table = std::string(table->as_string());
                if (key != nullptr && key->is_string()) {
                    spec.key.emplace_back(key->as_string());
                } else if (key != nullptr && key->is_array()) {
                    for (const auto& k : key->as_array()) {
                        if (k.is_string()) {
                            spec.key.emplace_back(k.as_string());
                        }
                    }
                }
                if (spec.key.empty()) {
                    p.error("reconcile", "entry for " + util::quoted(spec.table) +
                                             " needs key = \"column\" or key = [\"a\", \"b\"]");
                }
                for (const auto& [k, _] : item.as_object()) {
                    if (k != "table" && k != "key") {
                        p.error("reconcile",
                                "unknown key " + util::quoted(std::string(k)) + " in an entry");
                    }
                }
                out.reconcile.push_back(std::move(spec));
            }
        }
    }
    return out;
}

std::vector<std::string> run_asserts(pqxx::transaction_base& tx,
                                     const std::vector<SqlAssert>& asserts) {
    std::vector<std::string> failures;
    for (const auto& a : asserts) {
        if (std::string problem = check_sql(tx, a.sql, a.params, a.expect); !problem.empty()) {
            failures.push_back("assert " + util::quoted(util::tail(a.sql, 80)) + ": " + problem);
        }
    }
    return failures;
}

namespace {

bool server_is_local(const Dsn& dsn) {
    std::string h = dsn.host();
    return h.empty() || h.front() == '/' || h == "localhost" || h == "127.0.0.1" || h == "::1";
}

class PgRestoreAction final : public Action {
  public:
    std::vector<std::string> keys() const override {
        return {"dsn", "catalog", "backup", "jobs", "strategy", "assert", "reconcile"};
    }
    std::vector<std::string> required_keys() const override { return {"dsn", "catalog"}; }
    std::map<std::string, playbook::Encoding> encodings() const override {
        return {{"assert.sql", playbook::Encoding::sql}};
    }

    std::vector<util::Diagnostic> validate(const playbook::Playbook& pb,
                                           const playbook::Step& step) const override {
        StepParams p(step);
        read_pg_restore_params(pb, p);
        return p.diagnostics();
    }

    std::string describe(const playbook::Step& step) const override {
        StepParams p(step);
        playbook::Playbook pb;
        auto prm = read_pg_restore_params(pb, p);
        std::string out = "restore " + prm.backup + " from " + prm.catalog.string() + " into " +
                          util::mask_dsn(prm.dsn) + " (side_swap, jobs " +
                          std::to_string(prm.jobs) + ")";
        if (!prm.asserts.empty()) {
            out += ", " + std::to_string(prm.asserts.size()) + " assert(s)";
        }
        if (!prm.reconcile.empty()) {
            std::vector<std::string> t;
            for (const auto& r : prm.reconcile) {
                t.push_back(r.table);
            }
            out += ", reconcile " + util::join(t, ", ");
        }
        return out;
    }

    std::vector<Check> preflight(const Context& ctx) const override;
    Result run(const Context& ctx) const override { return run_pg_restore(ctx); }
    bool has_probe() const override { return true; }
    ProbeAnswer probe(const Context& ctx) const override { return probe_pg_restore(ctx); }
};

std::vector<Check> PgRestoreAction::preflight(const Context& ctx) const {
    std::vector<Check> checks;
    StepParams p(ctx.step);
    PgRestoreParams prm = read_pg_restore_params(ctx.playbook, p);
    if (!p.ok()) {
        checks.push_back({false, "step parameters", p.first_problem(), ""});
        return checks;
    }
    auto fail = [&](std::string what, std::string problem, std::string hint = {}) {
        checks.push_back({false, std::move(what), util::mask_secrets(problem), std::move(hint)});
    };
    auto ok = [&](std::string what) { checks.push_back({true, util::mask_secrets(what), "", ""}); };

    Dsn dsn = Dsn::parse(prm.dsn);
    const std::string db = dsn.dbname();
    Connection conn;
    try {
        conn = connect(dsn);
        ok("database " + db + " reachable (" + dsn.masked() + ")");
    } catch (const util::Error& e) {
        fail("database " + db + " reachable", e.what(), e.hint());
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
                ok(what);
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
    // What earlier runs left: never dropped by the engine, so shown with the command that does.
    try {
        for (const auto& l : find_leftover_databases(dsn, "")) {
            checks.push_back({true, "database " + l.name + ": " + l.describe(), "",
                              "drop it with: " + l.drop_command, true});
        }
    } catch (const std::exception& e) {
        fail("leftover databases of earlier restores", db_error_text(e));
    }

    try {
        BackupCatalog catalog(prm.catalog);
        BackupManifest m = catalog.select(prm.backup, db, ctx.playbook.directory);
        ok("backup " + prm.backup + " = " + m.id + " (" + std::to_string(m.size >> 20) +
           " MiB, release " + (m.release.empty() ? "-" : m.release) + ")");
        TocInfo toc;
        auto problems = check_archive(ctx.runner, m, toc);
        if (problems.empty()) {
            ok("backup " + m.id + ": sha256 matches, TOC readable (" + std::to_string(toc.entries) +
               " items)");
        } else {
            fail("backup " + m.id + " intact", util::join(problems, "; "));
        }
        ok("loss window: " + loss_window(m, std::chrono::system_clock::now()));
        if (auto r = last_rehearsal(ctx.state_dir, ctx.step.id)) {
            ok("ETA: restore took " +
               util::format_duration(util::Millis(static_cast<long long>(r->restore_s * 1000))) +
               " in the last rehearsal (" + r->time + ", backup " + r->backup +
               (r->ok ? "" : ", FAILED") + ")");
        } else {
            ok("ETA: unknown — no rehearsal yet (rollback rehearse -p " +
               ctx.playbook.file.string() + ")");
        }
    } catch (const util::Error& e) {
        fail("backup " + prm.backup + " available", e.what(), e.hint());
    }
    return checks;
}

} // namespace

std::unique_ptr<Action> make_pg_restore_action() {
    return std::make_unique<PgRestoreAction>();
}

} // namespace rollback::actions
