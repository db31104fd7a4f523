// SPDX-License-Identifier: MIT
// Database actions against a real PostgreSQL 15 (the CTest fixture `pg` starts a throwaway cluster;
// ROLLBACK_TEST_PG is its superuser DSN). Without a server these tests exit 125 (skipped).
#include "actions/action.hpp"
#include "actions/pg_restore_action.hpp"
#include "db/backup_catalog.hpp"
#include "db/names.hpp"
#include "db/restore.hpp"
#include "db/restore_state.hpp"
#include "db/tables.hpp"
#include "state/memory_store.hpp"
#include "support/temp_dir.hpp"
#include "util/files.hpp"
#include "util/secrets.hpp"
#include "util/sha256.hpp"
#include "util/strings.hpp"

#include <boost/json.hpp>
#include <csignal>
#include <cstdlib>
#include <doctest/doctest.h>
#include <fstream>
#include <map>
#include <pqxx/connection_base>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>
#include <set>
#include <sys/wait.h>
#include <unistd.h>

using namespace rollback;
using namespace rollback::actions;
using namespace rollback::db;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

// The cluster's superuser DSN; exits 125 (CTest: skipped) when there is no server to test with.
Dsn admin_dsn() {
    const char* env = std::getenv("ROLLBACK_TEST_PG");
    if (env == nullptr || *env == '\0' || !fs::exists("/usr/lib/postgresql/15/bin/pg_ctl")) {
        std::fprintf(stderr, "ROLLBACK_TEST_PG not set or PostgreSQL 15 missing: skipping\n");
        std::exit(125);
    }
    return Dsn::parse(env);
}

void exec_sql(const Dsn& dsn, const std::string& sql) {
    auto c = connect(dsn);
    pqxx::nontransaction nt(*c);
    nt.exec(sql);
}

std::string scalar(const Dsn& dsn, const std::string& sql) {
    auto c = connect(dsn);
    pqxx::nontransaction nt(*c);
    pqxx::result r = nt.exec(sql);
    return r.empty() || r[0][0].is_null() ? std::string() : r[0][0].c_str();
}

std::set<std::string> databases(const Dsn& admin) {
    auto c = connect(admin);
    pqxx::nontransaction nt(*c);
    std::set<std::string> out;
    for (const auto& r : nt.exec("SELECT datname FROM pg_database")) {
        out.insert(r[0].c_str());
    }
    return out;
}

// Every table's row count and content checksum: "the database is unchanged" means this is equal.
std::map<std::string, std::string> fingerprint(const Dsn& dsn) {
    auto c = connect(dsn);
    pqxx::read_transaction tx(*c);
    std::map<std::string, std::string> out;
    for (const auto& t : list_user_tables(tx)) {
        TableStat s = table_stat(tx, t, true);
        out[t] = std::to_string(s.rows) + "/" + s.checksum;
    }
    return out;
}

// A fresh shop database: customers, orders (FK), a few rows.
Dsn make_shop(const Dsn& admin, const std::string& name) {
    exec_sql(admin, "DROP DATABASE IF EXISTS " + quote_ident(name) + " WITH (FORCE)");
    exec_sql(admin, "CREATE DATABASE " + quote_ident(name));
    Dsn db = admin.with_dbname(name);
    exec_sql(
        db,
        "CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL);"
        "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int REFERENCES customers(id),"
        " total numeric(10,2), note text, created_at timestamptz DEFAULT '2026-01-01T00:00:00Z');"
        "CREATE INDEX ON orders (customer_id);"
        "INSERT INTO customers SELECT g, 'customer ' || g FROM generate_series(1, 20) g;"
        "INSERT INTO orders (id, customer_id, total, note) SELECT g, 1 + g % 20, g * 1.5,"
        " CASE WHEN g % 7 = 0 THEN 'has, comma \"quoted\"' END FROM generate_series(1, 100) g;");
    return db;
}

struct Fixture {
    Dsn admin = admin_dsn();
    test::TempDir tmp;
    fs::path catalog = tmp / "catalog";
    exec::RealProcessRunner runner;
    Fixture() { fs::create_directories(catalog); }

    BackupManifest backup(const Dsn& db, bool good = true, const std::string& release = "") {
        BackupCatalog cat(catalog);
        return take_backup(runner, cat, BackupRequest{db, release, good, {"orders", "customers"}},
                           {});
    }
};

struct StepRun {
    playbook::Playbook pb;
    playbook::Step step;
    Trigger trigger;
    std::vector<std::string> progress;
    state::MemoryStore store;
    Context ctx;
    StepRun(Fixture& f, const std::string& run_id, json::object params)
        : ctx{pb,
              step,
              f.runner,
              run_id,
              f.tmp / "state",
              f.tmp / "state" / "runs" / run_id,
              store,
              trigger,
              false,
              [this](const std::string& l) { progress.push_back(l); }} {
        pb.directory = f.tmp.path();
        step.id = "restore-db";
        step.action = "pg_restore";
        step.params = std::move(params);
    }
    const Action& action() const { return *find_action(step.action); }
};

json::object restore_params(const Dsn& db, const fs::path& catalog) {
    json::object p;
    p["dsn"] = db.conninfo();
    p["catalog"] = catalog.string();
    return p;
}

std::vector<std::string> csv_lines(const fs::path& file) {
    std::ifstream in(file);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) {
        out.push_back(line);
    }
    return out;
}

} // namespace

TEST_SUITE("actions") {

    TEST_CASE("backup writes the archive and a manifest of the dump snapshot") {
        Fixture f;
        Dsn db = make_shop(f.admin, "rbt_backup");
        BackupManifest m = f.backup(db, true, "2.4.0");
        CHECK(m.database == "rbt_backup");
        CHECK(m.verified);
        CHECK(m.good);
        CHECK(m.release == "2.4.0");
        CHECK(m.toc_entries > 5);
        CHECK(m.server_version.rfind("15.", 0) == 0);
        CHECK(fs::file_size(f.catalog / m.file) == m.size);
        CHECK(util::sha256_file(f.catalog / m.file) == m.sha256);
        REQUIRE(m.tables.size() == 2);
        CHECK(m.tables[1].table == "public.orders");
        CHECK(m.tables[1].rows == 100);
        CHECK(m.tables[1].checksum.size() == 32);
        CHECK(m.tables[1].checksum == fingerprint(db)["public.orders"].substr(4));

        // The manifest on disk is the same, and selection finds it.
        BackupCatalog cat(f.catalog);
        std::vector<std::string> unreadable;
        auto listed = cat.list(unreadable);
        CHECK(unreadable.empty());
        REQUIRE(listed.size() == 1);
        CHECK(listed[0].sha256 == m.sha256);
        CHECK(cat.select("last_good", "rbt_backup", unreadable).id == m.id);
        CHECK(cat.select("before_release:2.4.0", "rbt_backup", unreadable).id == m.id);
        CHECK_THROWS_WITH_AS(cat.select("before_release:9.9", "rbt_backup", unreadable),
                             doctest::Contains("no verified backup taken before release 9.9"),
                             util::Error);
        CHECK_THROWS_WITH_AS(cat.select("last_good", "other_db", unreadable),
                             doctest::Contains("no good backup of database other_db"), util::Error);
        // Not marked good: last_good does not take it.
        test::TempDir other;
        fs::create_directories(other / "c");
        BackupCatalog cat2(other / "c");
        take_backup(f.runner, cat2, BackupRequest{db, "", false, {}}, {});
        CHECK_THROWS_WITH_AS(cat2.select("last_good", "rbt_backup", unreadable),
                             doctest::Contains("no good backup"), util::Error);
        CHECK_THROWS_WITH_AS(BackupCatalog(other / "missing").list(unreadable),
                             doctest::Contains("does not exist"), util::Error);
        exec_sql(f.admin, "DROP DATABASE rbt_backup");
    }

    TEST_CASE("verify catches a corrupted archive and a restore test compares the manifest") {
        Fixture f;
        Dsn db = make_shop(f.admin, "rbt_verify");
        BackupManifest m = f.backup(db);
        BackupCatalog cat(f.catalog);
        auto before = databases(f.admin);

        VerifyReport ok = verify_backup(f.runner, cat, m, f.admin, {});
        CHECK_MESSAGE(ok.ok, util::join(ok.problems, "; "));
        CHECK(ok.passed.size() == 3);
        CHECK(!cat.get(m.id).restore_tested_at.empty());
        CHECK(databases(f.admin) == before); // scratch database dropped

        // Flip bytes in the middle of the archive.
        fs::path file = f.catalog / m.file;
        std::string bytes = util::read_file(file);
        bytes[bytes.size() / 2] ^= 0x5a;
        bytes[bytes.size() / 2 + 1] ^= 0x5a;
        std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
        VerifyReport bad = verify_backup(f.runner, cat, m, std::nullopt, {});
        CHECK_FALSE(bad.ok);
        REQUIRE_FALSE(bad.problems.empty());
        CHECK(bad.problems[0].find("sha256") != std::string::npos);
        CHECK_FALSE(cat.get(m.id).verified);
        std::vector<std::string> unreadable;
        CHECK_THROWS_WITH_AS(cat.select("last_good", "rbt_verify", unreadable),
                             doctest::Contains("no good backup"), util::Error);
        exec_sql(f.admin, "DROP DATABASE rbt_verify");
    }

    TEST_CASE("side_swap restores the backup under the original name and keeps the old one") {
        Fixture f;
        Dsn db = make_shop(f.admin, "rbt_swap");
        BackupManifest m = f.backup(db);
        auto at_backup = fingerprint(db);
        // After the backup: 7 new orders, one changed, one deleted.
        exec_sql(db, "INSERT INTO orders (id, customer_id, total) SELECT g, 1, 9.99 FROM "
                     "generate_series(1001, 1007) g;"
                     "UPDATE orders SET total = 0 WHERE id = 5; DELETE FROM orders WHERE id = 6;");
        auto at_rollback = fingerprint(db);

        json::object params = restore_params(db, f.catalog);
        params["reconcile"] = json::array{json::object{{"table", "orders"}, {"key", "id"}}};
        params["assert"] =
            json::array{json::object{{"sql", "SELECT count(*) FROM orders"}, {"expect", 100}}};
        StepRun s(f, "run-2026-11-26T14:00:00Z-abc", params);
        // A client connected to production during the swap gets terminated.
        auto client = connect(db);
        Result r = s.action().run(s.ctx);
        REQUIRE_MESSAGE(r.status == Status::succeeded, r.summary);
        CHECK(r.summary.find("restored " + m.id) != std::string::npos);

        std::string rolled =
            derived_db_name("rbt_swap", "rolledback", "run-2026-11-26T14:00:00Z-abc");
        CHECK(rolled == "rbt_swap_rolledback_run_2026_11_26t14_00_00z_abc");
        CHECK(fingerprint(db) == at_backup);
        CHECK(fingerprint(db.with_dbname(rolled)) == at_rollback);
        CHECK(databases(f.admin).count("rbt_swap_restore_run_2026_11_26t14_00_00z_abc") == 0);
        CHECK(scalar(f.admin, "SELECT datallowconn FROM pg_database WHERE datname = 'rbt_swap'") ==
              "t");

        // Reconciliation: exactly the 7 new orders are missing, order 5 changed (both versions).
        auto missing = csv_lines(s.ctx.run_dir / "reconcile" / "orders.missing.csv");
        REQUIRE(missing.size() == 8);
        CHECK(missing[0] == "id,customer_id,total,note,created_at");
        for (int i = 0; i < 7; ++i) {
            CHECK(missing[static_cast<size_t>(i) + 1].rfind(std::to_string(1001 + i) + ",1,9.99,,",
                                                            0) == 0);
        }
        auto changed = csv_lines(s.ctx.run_dir / "reconcile" / "orders.changed.csv");
        REQUIRE(changed.size() == 3);
        CHECK(changed[1].rfind("rolled_back,5,6,0.00,", 0) == 0);
        CHECK(changed[2].rfind("restored,5,6,7.50,", 0) == 0);
        const auto& rec = r.details.at("reconcile").as_array().at(0).as_object();
        CHECK(rec.at("missing").as_int64() == 7);
        CHECK(rec.at("changed").as_int64() == 1);
        CHECK(rec.at("restored_only").as_int64() == 1);
        CHECK(r.details.at("loss_window").as_string().find("backup taken") != json::string::npos);
        bool saw_progress = false;
        for (const auto& l : s.progress) {
            saw_progress = saw_progress || l.rfind("restoring: ", 0) == 0;
        }
        CHECK(saw_progress);

        // Running the same step again (resume after a crash) does not swap twice.
        Result again = s.action().run(s.ctx);
        CHECK_MESSAGE(again.status == Status::succeeded, again.summary);
        CHECK(fingerprint(db) == at_backup);

        exec_sql(f.admin, "DROP DATABASE rbt_swap WITH (FORCE)");
        exec_sql(f.admin, "DROP DATABASE " + rolled + " WITH (FORCE)");
    }

    TEST_CASE("a failing assert or a truncated archive leaves production unchanged") {
        Fixture f;
        Dsn db = make_shop(f.admin, "rbt_safe");
        BackupManifest m = f.backup(db);
        exec_sql(db, "INSERT INTO orders (id, customer_id, total) VALUES (5000, 2, 1)");
        auto before = fingerprint(db);
        auto dbs = databases(f.admin);

        SUBCASE("failing assert") {
            json::object params = restore_params(db, f.catalog);
            params["assert"] =
                json::array{json::object{{"sql", "SELECT count(*) FROM orders"}, {"expect", 99}}};
            StepRun s(f, "run-assert", params);
            Result r = s.action().run(s.ctx);
            CHECK(r.status == Status::failed);
            CHECK(r.summary.find("returned \"100\", expected \"99\"") != std::string::npos);
            CHECK(r.summary.find("rbt_safe unchanged") != std::string::npos);
        }
        SUBCASE("truncated archive whose manifest matches it (restore fails half-way)") {
            fs::path file = f.catalog / m.file;
            std::string bytes = util::read_file(file);
            std::ofstream(file, std::ios::binary | std::ios::trunc)
                << bytes.substr(0, bytes.size() * 2 / 3);
            BackupCatalog cat(f.catalog);
            m.sha256 = util::sha256_file(file);
            m.size = fs::file_size(file);
            cat.save(m);
            StepRun s(f, "run-trunc", restore_params(db, f.catalog));
            Result r = s.action().run(s.ctx);
            CHECK(r.status == Status::failed);
            CHECK(r.summary.find("unchanged") != std::string::npos);
        }
        SUBCASE("archive damaged in place (checksum differs)") {
            fs::path file = f.catalog / m.file;
            std::string bytes = util::read_file(file);
            bytes[bytes.size() / 2] ^= 0x5a;
            std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
            StepRun s(f, "run-sha", restore_params(db, f.catalog));
            Result r = s.action().run(s.ctx);
            CHECK(r.status == Status::failed);
            CHECK(r.summary.find("sha256") != std::string::npos);
        }
        SUBCASE("archive cut short (size differs): passed over, no good backup to restore") {
            fs::path file = f.catalog / m.file;
            fs::resize_file(file, fs::file_size(file) / 2);
            StepRun s(f, "run-size", restore_params(db, f.catalog));
            Result r = s.action().run(s.ctx);
            CHECK(r.status == Status::failed);
            CHECK(r.summary.find("no good backup") != std::string::npos);
            CHECK(r.summary.find("its manifest records " + std::to_string(m.size)) !=
                  std::string::npos);
        }
        CHECK(fingerprint(db) == before);
        CHECK(databases(f.admin) == dbs);
        exec_sql(f.admin, "DROP DATABASE rbt_safe WITH (FORCE)");
    }

    TEST_CASE("preflight writes nothing and rehearsal leaves production unchanged") {
        Fixture f;
        Dsn db = make_shop(f.admin, "rbt_pre");
        BackupManifest m = f.backup(db);
        json::object params = restore_params(db, f.catalog);
        params["reconcile"] = json::array{json::object{{"table", "orders"}, {"key", "id"}}};
        params["assert"] =
            json::array{json::object{{"sql", "SELECT count(*) FROM customers"}, {"expect", 20}}};
        StepRun s(f, "run-pre", params);
        auto before = fingerprint(db);
        auto dbs = databases(f.admin);
        auto manifest_text = util::read_file(f.catalog / (m.id + ".json"));
        std::string commits_sql = "SELECT sum(xact_commit) FROM pg_stat_database";

        auto checks = s.action().preflight(s.ctx);
        std::string all;
        bool loss = false;
        for (const auto& c : checks) {
            all += (c.ok ? "ok " : "FAIL ") + c.what + " " + c.problem + "\n";
            loss = loss || c.what.rfind("loss window: ", 0) == 0;
            CHECK_MESSAGE(c.ok, c.what << ": " << c.problem);
        }
        INFO(all);
        CHECK(loss);
        CHECK(checks.size() >= 8);
        CHECK(fingerprint(db) == before);
        CHECK(databases(f.admin) == dbs);
        CHECK(util::read_file(f.catalog / (m.id + ".json")) == manifest_text);
        CHECK_FALSE(fs::exists(s.ctx.run_dir));

        Rehearsal r = rehearse_pg_restore(s.pb, s.step, f.runner, "", {}, f.tmp / "state");
        CHECK_MESSAGE(r.ok, util::join(r.problems, "; "));
        CHECK(r.restore_s > 0);
        CHECK(r.backup == m.id);
        save_rehearsal(f.tmp / "state", r);
        auto last = last_rehearsal(f.tmp / "state", "restore-db");
        REQUIRE(last.has_value());
        CHECK(last->restore_s == doctest::Approx(r.restore_s));
        CHECK_FALSE(last_rehearsal(f.tmp / "state", "other-step").has_value());
        CHECK(fingerprint(db) == before);
        CHECK(databases(f.admin) == dbs);

        // A failing assert makes the rehearsal fail, still without leftovers.
        params["assert"] =
            json::array{json::object{{"sql", "SELECT count(*) FROM customers"}, {"expect", 21}}};
        s.step.params = params;
        Rehearsal bad = rehearse_pg_restore(s.pb, s.step, f.runner, "", {}, f.tmp / "state");
        CHECK_FALSE(bad.ok);
        CHECK(databases(f.admin) == dbs);
        exec_sql(f.admin, "DROP DATABASE rbt_pre WITH (FORCE)");
    }

    TEST_CASE("wrong password or unreachable server or missing privileges give clear errors") {
        Fixture f;
        Dsn db = make_shop(f.admin, "rbt_err");
        f.backup(db);
        std::string host = f.admin.host();

        SUBCASE("wrong password: masked, with a hint") {
            Dsn bad = Dsn::parse("host=" + host + " port=" + scalar(f.admin, "SHOW port") +
                                 " user=rb_scram password=Wr0ngSecret dbname=rbt_err");
            try {
                connect(bad);
                FAIL("connected with a wrong password");
            } catch (const ConnectError& e) {
                std::string what = e.what();
                CHECK(what.find("password authentication failed") != std::string::npos);
                CHECK(what.find("Wr0ngSecret") == std::string::npos);
                CHECK(what.find("password=***") != std::string::npos);
                CHECK(e.code() == util::ExitCode::run_failed);
                CHECK(e.hint().find("password") != std::string::npos);
            }
            StepRun s(f, "run-pw", restore_params(bad, f.catalog));
            Result r = s.action().run(s.ctx);
            CHECK(r.status == Status::failed);
            CHECK(r.summary.find("password authentication failed") != std::string::npos);
            CHECK(r.summary.find("Wr0ngSecret") == std::string::npos);
            auto checks = s.action().preflight(s.ctx);
            REQUIRE_FALSE(checks.empty());
            CHECK_FALSE(checks[0].ok);
        }
        SUBCASE("unreachable server") {
            Dsn gone = Dsn::parse(
                "host=/nonexistent-rb port=5999 user=rollback dbname=rbt_err connect_timeout=2");
            CHECK_THROWS_WITH_AS(connect(gone), doctest::Contains("cannot connect to PostgreSQL"),
                                 ConnectError);
            try {
                connect(gone);
            } catch (const ConnectError& e) {
                CHECK(e.hint().find("server running") != std::string::npos);
            }
        }
        SUBCASE("a role without CREATEDB") {
            exec_sql(f.admin,
                     "DROP ROLE IF EXISTS rb_nocreate; CREATE ROLE rb_nocreate LOGIN NOCREATEDB;"
                     "GRANT SELECT ON ALL TABLES IN SCHEMA public TO rb_nocreate");
            exec_sql(db, "GRANT SELECT ON ALL TABLES IN SCHEMA public TO rb_nocreate");
            Dsn weak = db;
            weak = Dsn::parse(db.conninfo() + " user=rb_nocreate");
            auto before = fingerprint(db);
            StepRun s(f, "run-priv", restore_params(weak, f.catalog));
            auto checks = s.action().preflight(s.ctx);
            bool createdb_flagged = false;
            for (const auto& c : checks) {
                if (!c.ok &&
                    c.problem.find("neither CREATEDB nor SUPERUSER") != std::string::npos) {
                    createdb_flagged = true;
                    CHECK(c.hint == "ALTER ROLE rb_nocreate CREATEDB");
                }
            }
            CHECK(createdb_flagged);
            Result r = s.action().run(s.ctx);
            CHECK(r.status == Status::failed);
            CHECK(r.summary.find("permission denied to create database") != std::string::npos);
            CHECK(fingerprint(db) == before);
        }
        exec_sql(f.admin, "DROP DATABASE rbt_err WITH (FORCE)");
    }

    TEST_CASE("sql runs statements in one transaction and sql_assert compares") {
        Fixture f;
        Dsn db = make_shop(f.admin, "rbt_sql");
        StepRun s(f, "run-sql", {});
        s.step.action = "sql";
        s.step.params = {{"dsn", db.conninfo()},
                         {"statements", json::array{"UPDATE customers SET name = 'x' WHERE id = 1",
                                                    "INSERT INTO customers VALUES (999, 'new')"}}};
        Result ok = s.action().run(s.ctx);
        CHECK_MESSAGE(ok.status == Status::succeeded, ok.summary);
        CHECK(scalar(db, "SELECT count(*) FROM customers") == "21");

        // The second statement fails: the first is rolled back with it.
        s.step.params["statements"] =
            json::array{"DELETE FROM customers WHERE id = 999", "SELECT 1/0"};
        Result bad = s.action().run(s.ctx);
        CHECK(bad.status == Status::failed);
        CHECK(bad.summary.find("statement 2 failed") != std::string::npos);
        CHECK(scalar(db, "SELECT count(*) FROM customers") == "21");

        s.step.action = "sql_assert";
        s.step.params = {
            {"dsn", db.conninfo()}, {"query", "SELECT count(*) FROM customers"}, {"expect", 21}};
        CHECK(s.action().run(s.ctx).status == Status::succeeded);
        s.step.params["expect"] = "20";
        Result v = s.action().run(s.ctx);
        CHECK(v.status == Status::verification_failed);
        CHECK(v.summary == "returned \"21\", expected \"20\"");
        s.step.params = {{"dsn", db.conninfo()},
                         {"query", "SELECT id FROM customers WHERE id > 10"},
                         {"expect_rows", 11}};
        CHECK(s.action().run(s.ctx).status == Status::succeeded);
        exec_sql(f.admin, "DROP DATABASE rbt_sql WITH (FORCE)");
    }

    TEST_CASE("a restore killed after each stage finishes from that stage when run again") {
        for (const std::string stage :
             {"side_created", "restored", "verified", "swapping", "swapped", "reconciled"}) {
            CAPTURE(stage);
            Fixture f;
            Dsn db = make_shop(f.admin, "rbt_crash");
            f.backup(db);
            auto at_backup = fingerprint(db);
            exec_sql(db, "INSERT INTO orders (id, customer_id, total) SELECT g, 1, 9.99 FROM "
                         "generate_series(1001, 1003) g");
            auto at_rollback = fingerprint(db);
            json::object params = restore_params(db, f.catalog);
            params["reconcile"] = json::array{json::object{{"table", "orders"}, {"key", "id"}}};
            const std::string run = "20261130T010203Z-c0ffee";
            const std::string side = derived_db_name("rbt_crash", "restore", run);
            const std::string rolled = derived_db_name("rbt_crash", "rolledback", run);
            StepRun s(f, run, params);

            // The first attempt dies by SIGKILL, as with kill -9, right after `stage` is durable.
            pid_t pid = ::fork();
            REQUIRE(pid >= 0);
            if (pid == 0) {
                s.ctx.stage = [&](const std::string& st, const json::object&) {
                    if (st == stage) {
                        ::raise(SIGKILL);
                    }
                };
                s.action().run(s.ctx);
                std::_Exit(0);
            }
            int ws = 0;
            REQUIRE(::waitpid(pid, &ws, 0) == pid);
            REQUIRE((WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL));

            const bool before_swap = stage != "swapped" && stage != "reconciled";
            CHECK(fingerprint(before_swap ? db : db.with_dbname(rolled)) == at_rollback);
            if (stage == "swapping") {
                // As if the engine died after blocking connections to production for the swap.
                exec_sql(f.admin, "ALTER DATABASE rbt_crash ALLOW_CONNECTIONS false");
            }
            if (stage == "swapped") {
                // As if it died before the old database accepted connections again.
                exec_sql(f.admin, "ALTER DATABASE " + rolled + " ALLOW_CONNECTIONS false");
            }
            ProbeAnswer probe = s.action().probe(s.ctx);
            if (before_swap) {
                CHECK(probe.verdict == ProbeAnswer::Verdict::not_done);
                CHECK(probe.state.find("the swap did not happen: rbt_crash is NOT restored") !=
                      std::string::npos);
                CHECK(probe.state.find(side + ", stage " + stage) != std::string::npos);
                CHECK((probe.state.find("does not accept new connections") != std::string::npos) ==
                      (stage == "swapping"));
                CHECK(databases(f.admin).count(rolled) == 0);
            } else if (stage == "swapped") {
                CHECK(probe.verdict == ProbeAnswer::Verdict::not_done);
                CHECK(probe.state == "rbt_crash is restored (swapped in) and the previous database "
                                     "kept as " +
                                         rolled + "; reconciliation is not written yet");
            } else {
                CHECK(probe.verdict == ProbeAnswer::Verdict::done);
            }

            std::vector<std::string> stages;
            s.ctx.stage = [&](const std::string& st, const json::object&) { stages.push_back(st); };
            Result r = s.action().run(s.ctx);
            REQUIRE_MESSAGE(r.status == Status::succeeded, r.summary);
            CHECK(r.details.at("resumed_at_stage").as_string() == stage);
            const auto& t = r.details.at("timings").as_object();
            // Restored once: only a side database that pg_restore may not have finished is
            // restored again; swapped once: never after the swap committed.
            CHECK(t.contains("restore_s") == (stage == "side_created"));
            CHECK(t.contains("verify_s") == (stage == "side_created" || stage == "restored"));
            CHECK(t.contains("swap_s") == before_swap);
            REQUIRE(!stages.empty());
            CHECK(stages.back() == "reconciled");

            CHECK(fingerprint(db) == at_backup);
            CHECK(fingerprint(db.with_dbname(rolled)) == at_rollback);
            auto dbs = databases(f.admin);
            CHECK(dbs.count(side) == 0);
            CHECK(scalar(f.admin, "SELECT string_agg(datname || '=' || datallowconn, ',' ORDER BY "
                                  "datname) FROM pg_database WHERE datname LIKE 'rbt_crash%'") ==
                  "rbt_crash=true," + rolled + "=true");
            auto missing = csv_lines(s.ctx.run_dir / "reconcile" / "orders.missing.csv");
            REQUIRE(missing.size() == 4);
            CHECK(missing[1].rfind("1001,", 0) == 0);
            CHECK(missing[3].rfind("1003,", 0) == 0);
            CHECK(s.action().probe(s.ctx).verdict == ProbeAnswer::Verdict::done);

            exec_sql(f.admin, "DROP DATABASE rbt_crash WITH (FORCE)");
            exec_sql(f.admin, "DROP DATABASE " + rolled + " WITH (FORCE)");
        }
    }

    TEST_CASE("a restore does not guess when its databases were changed by hand") {
        Fixture f;
        Dsn db = make_shop(f.admin, "rbt_odd");
        f.backup(db);
        auto before = fingerprint(db);
        const std::string run = "20261130T010203Z-0dd000";
        const std::string rolled = derived_db_name("rbt_odd", "rolledback", run);
        // A database under the rolled-back name, but production carries no mark of this run.
        exec_sql(f.admin, "CREATE DATABASE " + rolled);
        StepRun s(f, run, restore_params(db, f.catalog));
        ProbeAnswer probe = s.action().probe(s.ctx);
        CHECK(probe.verdict == ProbeAnswer::Verdict::unknown);
        CHECK(probe.state == rolled + " exists but rbt_odd is not marked as restored by run " +
                                 run + "; check by hand which database is which");
        Result r = s.action().run(s.ctx);
        CHECK(r.status == Status::failed);
        CHECK(r.summary == "cannot continue the restore of rbt_odd: " + probe.state);
        CHECK(fingerprint(db) == before);
        exec_sql(f.admin, "DROP DATABASE rbt_odd WITH (FORCE)");
        exec_sql(f.admin, "DROP DATABASE " + rolled + " WITH (FORCE)");
    }

    TEST_CASE("leftover side and rolled-back databases are found with the command to drop them") {
        Fixture f;
        Dsn db = make_shop(f.admin, "rbt_left");
        const std::string dead = "20261129T230000Z-dead01";
        const std::string live = "20261130T000000Z-11fe01";
        const std::string side_dead = derived_db_name("rbt_left", "restore", dead);
        const std::string side_live = derived_db_name("rbt_left", "restore", live);
        const std::string rolled = derived_db_name("rbt_left", "rolledback", dead);
        for (const auto& n :
             {side_dead, side_live, rolled, std::string("rbt_leftover_restore_x")}) {
            exec_sql(f.admin, "CREATE DATABASE " + n);
        }
        exec_sql(f.admin,
                 "COMMENT ON DATABASE " + side_dead + " IS " +
                     quote_literal(format_mark({dead, RestoreStage::verified, "b", true})));
        auto found = find_leftover_databases(db, live); // ordered by name
        REQUIRE(found.size() == 2);
        CHECK(found[0].name == side_dead);
        CHECK(found[0].kind == "side");
        CHECK(found[0].run_id == dead);
        CHECK(found[0].stage == "verified");
        CHECK(found[0].describe() == "side database of run " + dead +
                                         ", stage verified, never swapped in: rbt_left was not "
                                         "restored from it");
        std::string server = maintenance_dsn(db).conninfo_without_password();
        // libpq quotes each value ('...'), so the conninfo goes in double quotes.
        CHECK(server.find("host='") != std::string::npos);
        CHECK(found[0].drop_command ==
              "psql \"" + server + "\" -c 'DROP DATABASE \"" + side_dead + "\"'");
        CHECK(found[1].name == rolled);
        CHECK(found[1].kind == "rolled_back");
        CHECK(found[1].run_id == dead);
        CHECK(found[1].describe() == "the previous rbt_left, kept by run " + dead +
                                         " when it restored rbt_left (drop it once the "
                                         "reconciliation is dealt with)");
        // Without a live run, the live run's side database is a leftover too (no mark: no stage).
        auto all = find_leftover_databases(db, "");
        REQUIRE(all.size() == 3);
        CHECK(all[1].name == side_live);
        CHECK(all[1].run_id == live);
        CHECK(all[1].stage.empty());
        // Nothing was dropped.
        auto dbs = databases(f.admin);
        CHECK(dbs.count(side_dead) + dbs.count(side_live) + dbs.count(rolled) == 3);
        for (const auto& n : {side_dead, side_live, rolled, std::string("rbt_leftover_restore_x"),
                              std::string("rbt_left")}) {
            exec_sql(f.admin, "DROP DATABASE " + n + " WITH (FORCE)");
        }
    }

    TEST_CASE("a restore mark survives its round trip and rejects other comments") {
        RestoreMark m{"20261130T010203Z-abc123", RestoreStage::swapping, "shop-20261130T000000Z",
                      false};
        CHECK(format_mark(m) == "rollback:restore run=20261130T010203Z-abc123 stage=swapping "
                                "backup=shop-20261130T000000Z allow_connections=false");
        auto back = parse_mark(format_mark(m));
        REQUIRE(back.has_value());
        CHECK(back->run_id == m.run_id);
        CHECK(back->stage == RestoreStage::swapping);
        CHECK(back->backup == m.backup);
        CHECK(!back->allow_connections);
        CHECK(!parse_mark("the shop's database").has_value());
        CHECK(!parse_mark("rollback:restore run=x stage=exploded").has_value());
        CHECK(!parse_mark("rollback:restore stage=restored").has_value());
    }

} // TEST_SUITE
