// SPDX-License-Identifier: MIT
// Reconciliation against a real PostgreSQL 15: two databases compared table by table, the
// differences exported to CSV. Without a server these tests exit 125 (skipped).
#include "db/names.hpp"
#include "db/reconcile.hpp"
#include "support/temp_dir.hpp"

#include <cstdlib>
#include <doctest/doctest.h>
#include <fstream>
#include <pqxx/connection_base>
#include <pqxx/nontransaction>

using namespace rollback;
using namespace rollback::db;
namespace fs = std::filesystem;

namespace {

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

// A fresh database `name` holding `sql`.
Dsn make_db(const Dsn& admin, const std::string& name, const std::string& sql) {
    exec_sql(admin, "DROP DATABASE IF EXISTS " + quote_ident(name) + " WITH (FORCE)");
    exec_sql(admin, "CREATE DATABASE " + quote_ident(name));
    Dsn db = admin.with_dbname(name);
    exec_sql(db, sql);
    return db;
}

std::vector<std::string> csv_lines(const fs::path& file) {
    std::ifstream in(file);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) {
        out.push_back(line);
    }
    return out;
}

struct Compared {
    ReconcileCounts counts;
    std::vector<std::string> missing;
    std::vector<std::string> changed;
};

Compared compare(const Dsn& rolled_back, const Dsn& restored, const ReconcileSpec& spec,
                 const fs::path& out) {
    auto a = connect(rolled_back);
    auto b = connect(restored);
    Compared c;
    c.counts = reconcile_table(*a, *b, spec, out);
    c.missing = csv_lines(c.counts.missing_csv);
    c.changed = csv_lines(c.counts.changed_csv);
    return c;
}

// 30,000 orders (three cursor batches) with a NULL-able note.
const char* const k_orders =
    "CREATE TABLE orders (id bigint PRIMARY KEY, total numeric(10,2), note text);"
    "INSERT INTO orders SELECT g, g * 1.5, CASE WHEN g % 3 = 0 THEN 'n' || g END"
    " FROM generate_series(1, 30000) g;";

} // namespace

TEST_SUITE("db") {
    TEST_CASE("pg reconcile: differences at the first and a middle and the last key") {
        Dsn admin = admin_dsn();
        test::TempDir tmp;
        Dsn restored = make_db(admin, "rbt_rec_new", k_orders);
        Dsn rolled = make_db(admin, "rbt_rec_old", k_orders);
        // Changed: the first key, one across a batch edge, the last; a NULL note that became ''
        // (row text "(…,)" vs "(…,\"\")": a change). Missing: a middle key and one past the end.
        // Restored only: a deleted middle key.
        exec_sql(rolled, "UPDATE orders SET total = 0 WHERE id IN (1, 10001, 30000);"
                         "UPDATE orders SET note = '' WHERE id = 20000;"
                         "DELETE FROM orders WHERE id = 15000;"
                         "INSERT INTO orders VALUES (30001, 1, 'late, \"quoted\"');");
        exec_sql(restored, "DELETE FROM orders WHERE id = 25000;");
        exec_sql(rolled, "DELETE FROM orders WHERE id = 25000;"
                         "INSERT INTO orders VALUES (25000, 37500, NULL);");
        exec_sql(restored, "INSERT INTO orders VALUES (40000, 1, NULL);");
        exec_sql(restored, "UPDATE orders SET note = 'x' WHERE id = 20001;");
        Compared c = compare(rolled, restored, {"orders", {"id"}}, tmp / "out");

        CHECK(c.counts.missing == 2);       // 25000, 30001
        CHECK(c.counts.changed == 5);       // 1, 10001, 20000, 20001, 30000
        CHECK(c.counts.restored_only == 2); // 15000, 40000
        CHECK(c.missing == std::vector<std::string>{"id,total,note", "25000,37500.00,",
                                                    "30001,1.00,\"late, \"\"quoted\"\"\""});
        REQUIRE(c.changed.size() == 11);
        CHECK(c.changed[0] == "_side,id,total,note");
        CHECK(c.changed[1] == "rolled_back,1,0.00,");
        CHECK(c.changed[2] == "restored,1,1.50,");
        CHECK(c.changed[3] == "rolled_back,10001,0.00,");
        CHECK(c.changed[4] == "restored,10001,15001.50,");
        CHECK(c.changed[5] == "rolled_back,20000,30000.00,\"\"");
        CHECK(c.changed[6] == "restored,20000,30000.00,");
        CHECK(c.changed[7] == "rolled_back,20001,30001.50,n20001");
        CHECK(c.changed[8] == "restored,20001,30001.50,x");
        CHECK(c.changed[9] == "rolled_back,30000,0.00,n30000");
        CHECK(c.changed[10] == "restored,30000,45000.00,n30000");
        CHECK(c.counts.missing_csv == tmp / "out" / "orders.missing.csv");
        exec_sql(admin, "DROP DATABASE rbt_rec_old WITH (FORCE)");
        exec_sql(admin, "DROP DATABASE rbt_rec_new WITH (FORCE)");
    }

    TEST_CASE("pg reconcile: a table name with a slash is exported into the directory") {
        Dsn admin = admin_dsn();
        test::TempDir tmp;
        const std::string schema = "CREATE TABLE \"orders/2026\" (id int PRIMARY KEY, v text);"
                                   "INSERT INTO \"orders/2026\" SELECT g, 'v' FROM "
                                   "generate_series(1, 50) g;";
        Dsn restored = make_db(admin, "rbt_rec_new", schema);
        Dsn rolled = make_db(admin, "rbt_rec_old", schema);
        exec_sql(rolled, "INSERT INTO \"orders/2026\" VALUES (1000, 'after the backup')");
        Compared c = compare(rolled, restored, {"orders/2026", {"id"}}, tmp / "out");
        CHECK(c.counts.missing == 1);
        CHECK(c.counts.missing_csv == tmp / "out" / "orders%2F2026.missing.csv");
        CHECK(c.counts.changed_csv == tmp / "out" / "orders%2F2026.changed.csv");
        CHECK(c.missing == std::vector<std::string>{"id,v", "1000,after the backup"});
        exec_sql(admin, "DROP DATABASE rbt_rec_old WITH (FORCE)");
        exec_sql(admin, "DROP DATABASE rbt_rec_new WITH (FORCE)");
    }

    TEST_CASE("pg reconcile: keys that sort differently as text and as numbers") {
        Dsn admin = admin_dsn();
        test::TempDir tmp;
        const std::string schema =
            "CREATE TABLE n (k numeric PRIMARY KEY, v text);"
            "CREATE TABLE t (k text PRIMARY KEY, v text);"
            "CREATE TABLE pair (a int, b text, v text, PRIMARY KEY (a, b));"
            "INSERT INTO n SELECT g, 'v' FROM generate_series(1, 120) g;"
            "INSERT INTO t SELECT g::text, 'v' FROM generate_series(1, 120) g;"
            "INSERT INTO pair SELECT g % 12, (g / 12)::text, 'v' FROM generate_series(1, 120) g;";
        Dsn restored = make_db(admin, "rbt_rec_new", schema);
        Dsn rolled = make_db(admin, "rbt_rec_old", schema);
        exec_sql(rolled, "UPDATE n SET v = 'w' WHERE k IN (9, 10, 100);"
                         "INSERT INTO n VALUES (1000, 'new'), (99.5, 'new');"
                         "UPDATE t SET v = 'w' WHERE k IN ('9', '10', '100');"
                         "INSERT INTO t VALUES ('1000', 'new'), ('Z', 'new');"
                         "UPDATE pair SET v = 'w' WHERE (a, b) IN ((9, '1'), (10, '9'));"
                         "INSERT INTO pair VALUES (2, '10', 'new');");
        exec_sql(rolled, "DELETE FROM n WHERE k = 11; DELETE FROM t WHERE k = '11';");

        Compared n = compare(rolled, restored, {"n", {"k"}}, tmp / "out");
        CHECK(n.counts.missing == 2);
        CHECK(n.counts.changed == 3);
        CHECK(n.counts.restored_only == 1);
        // Exported in the column's own order (numeric): 99.5 before 1000.
        CHECK(n.missing == std::vector<std::string>{"k,v", "99.5,new", "1000,new"});
        CHECK(n.changed == std::vector<std::string>{"_side,k,v", "rolled_back,9,w", "restored,9,v",
                                                    "rolled_back,10,w", "restored,10,v",
                                                    "rolled_back,100,w", "restored,100,v"});
        Compared t = compare(rolled, restored, {"t", {"k"}}, tmp / "out");
        CHECK(t.counts.missing == 2);
        CHECK(t.counts.changed == 3);
        CHECK(t.counts.restored_only == 1);
        CHECK(t.missing.size() == 3);
        CHECK(t.changed.size() == 7);
        Compared p = compare(rolled, restored, {"pair", {"a", "b"}}, tmp / "out");
        CHECK(p.counts.missing == 1);
        CHECK(p.counts.changed == 2);
        CHECK(p.missing == std::vector<std::string>{"a,b,v", "2,10,new"});
        CHECK(p.changed == std::vector<std::string>{"_side,a,b,v", "rolled_back,9,1,w",
                                                    "restored,9,1,v", "rolled_back,10,9,w",
                                                    "restored,10,9,v"});
        exec_sql(admin, "DROP DATABASE rbt_rec_old WITH (FORCE)");
        exec_sql(admin, "DROP DATABASE rbt_rec_new WITH (FORCE)");
    }

    TEST_CASE(
        "pg reconcile: long rows compare by a hash of their text and short ones by the text") {
        Dsn admin = admin_dsn();
        test::TempDir tmp;
        const std::string schema = "CREATE TABLE docs (id int PRIMARY KEY, body text);"
                                   "INSERT INTO docs SELECT g, repeat('x', g * 10)"
                                   " FROM generate_series(1, 40) g;";
        Dsn restored = make_db(admin, "rbt_rec_new", schema);
        Dsn rolled = make_db(admin, "rbt_rec_old", schema);
        // One character changed at the end of a 300-byte row and of a 50-byte row; a 120-byte row
        // grown past 128 bytes.
        exec_sql(rolled, "UPDATE docs SET body = repeat('x', 299) || 'y' WHERE id = 30;"
                         "UPDATE docs SET body = repeat('x', 49) || 'y' WHERE id = 5;"
                         "UPDATE docs SET body = repeat('x', 200) WHERE id = 12;");
        Compared c = compare(rolled, restored, {"docs", {"id"}}, tmp / "out");
        CHECK(c.counts.changed == 3);
        CHECK(c.counts.missing == 0);
        CHECK(c.counts.restored_only == 0);
        REQUIRE(c.changed.size() == 7);
        CHECK(c.changed[1].rfind("rolled_back,5,", 0) == 0);
        CHECK(c.changed[3].rfind("rolled_back,12,", 0) == 0);
        CHECK(c.changed[5] == "rolled_back,30," + std::string(299, 'x') + "y");
        exec_sql(admin, "DROP DATABASE rbt_rec_old WITH (FORCE)");
        exec_sql(admin, "DROP DATABASE rbt_rec_new WITH (FORCE)");
    }

    TEST_CASE("pg reconcile: a key column the table does not have is an error") {
        Dsn admin = admin_dsn();
        test::TempDir tmp;
        Dsn restored = make_db(admin, "rbt_rec_new", k_orders);
        Dsn rolled = make_db(admin, "rbt_rec_old", k_orders);
        CHECK_THROWS_WITH(compare(rolled, restored, {"orders", {"nope"}}, tmp / "out"),
                          "reconcile: table public.orders has no column \"nope\"");
        exec_sql(admin, "DROP DATABASE rbt_rec_old WITH (FORCE)");
        exec_sql(admin, "DROP DATABASE rbt_rec_new WITH (FORCE)");
    }

    TEST_CASE("pg reconcile: a scan that fails stops the other and the error reaches the caller") {
        // The restored side is read by a role without SELECT on orders: its scan fails at once
        // while the rolled-back side's scan (100,000 rows: more batches than the queue holds) is
        // blocked on a full queue; it must be stopped, not waited for forever.
        Dsn admin = admin_dsn();
        test::TempDir tmp;
        const std::string big = "CREATE TABLE orders (id bigint PRIMARY KEY, total numeric);"
                                "INSERT INTO orders SELECT g, g FROM generate_series(1, 100000) g;";
        Dsn restored = make_db(admin, "rbt_rec_new", big);
        Dsn rolled = make_db(admin, "rbt_rec_old", big);
        Dsn unprivileged =
            Dsn::parse(admin.conninfo_without_password() + " user=rb_scram password=rb-scram-pw")
                .with_dbname("rbt_rec_new");
        std::string error;
        try {
            compare(rolled, unprivileged, {"orders", {"id"}}, tmp / "out");
        } catch (const std::exception& e) {
            error = e.what();
        }
        CHECK_MESSAGE(error.find("permission denied for table orders") != std::string::npos, error);
        exec_sql(admin, "DROP DATABASE rbt_rec_old WITH (FORCE)");
        exec_sql(admin, "DROP DATABASE rbt_rec_new WITH (FORCE)");
    }
}
