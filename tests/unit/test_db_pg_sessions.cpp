// SPDX-License-Identifier: MIT
// A step's database sessions against a real PostgreSQL 15 (docs/actions.md "Step sessions"):
// named by their attempt, fenced right before their commit, and ended by name before the step
// runs again. Without a server these tests exit 125 (skipped).
#include "db/sessions.hpp"
#include "db/sql_run.hpp"
#include "util/error.hpp"

#include "support/pg_schema_fixture.hpp"

#include <chrono>
#include <doctest/doctest.h>
#include <pqxx/nontransaction>
#include <pqxx/transaction>
#include <thread>

using namespace rollback;
using namespace std::chrono_literals;

namespace {

/// A table of its own per test, dropped at the end.
struct Table {
    std::string name;
    explicit Table(const std::string& n) : name(n) {
        test::pg_test_exec("DROP TABLE IF EXISTS " + name + "; CREATE TABLE " + name + " (v text)");
    }
    ~Table() {
        try {
            test::pg_test_exec("DROP TABLE IF EXISTS " + name);
        } catch (const std::exception&) {
        }
    }
    long long rows() const {
        auto c = db::connect(test::pg_test_dsn());
        pqxx::nontransaction nt(*c);
        return nt.exec1("SELECT count(*) FROM " + name)[0].as<long long>();
    }
};

/// pg_test_dsn() as the unprivileged role of the throwaway cluster (pg_throwaway.sh).
db::Dsn unprivileged() {
    return test::pg_test_dsn().with_param("user", "rb_scram").with_param("password", "rb-scram-pw");
}

std::string unique(const std::string& what) {
    return "rollback/20261207T000000Z-" + std::to_string(::getpid() % 1000000) + "/" + what + "/1";
}

} // namespace

TEST_SUITE("db") {
    TEST_CASE(
        "step sessions: the statements commit past the fence in a session of the attempt's name") {
        Table t("rbtest_sessions_commit");
        const std::string name = unique("commit");
        int asked = 0;
        db::StepSession session{name, [&] { ++asked; }};
        auto o = db::run_statements(
            test::pg_test_dsn().conninfo(),
            {{"INSERT INTO " + t.name + " SELECT current_setting('application_name')", {}}},
            session);
        CHECK(o.ok);
        CHECK(asked == 1);
        auto c = db::connect(test::pg_test_dsn());
        pqxx::nontransaction nt(*c);
        CHECK(nt.exec1("SELECT v FROM " + t.name)[0].as<std::string>() == name);
    }

    TEST_CASE("step sessions: a refused fence commits nothing and is no outcome of the step") {
        Table t("rbtest_sessions_fenced");
        db::StepSession session{unique("fenced"), [] {
                                    throw util::Error("this process lost the run lock",
                                                      util::ExitCode::state_unwritable);
                                }};
        try {
            db::run_statements(test::pg_test_dsn().conninfo(),
                               {{"INSERT INTO " + t.name + " VALUES ('x')", {}}}, session);
            FAIL("the statements ran past a refused fence");
        } catch (const db::Fenced& f) {
            try {
                std::rethrow_exception(f.error);
            } catch (const util::Error& e) {
                CHECK(e.code() == util::ExitCode::state_unwritable);
            }
        }
        CHECK(t.rows() == 0);
    }

    TEST_CASE("step sessions: an attempt's open transaction is ended by name and rolled back") {
        Table t("rbtest_sessions_end");
        const std::string name = unique("end");
        // The attempt of a paused engine: its session named, its INSERT not yet committed.
        auto paused = db::connect(db::StepSession{name}.named(test::pg_test_dsn()));
        pqxx::work tx(*paused);
        tx.exec("INSERT INTO " + t.name + " VALUES ('paused')");
        // Another attempt's and an unnamed session are no business of this sweep.
        auto other = db::connect(db::StepSession{unique("other")}.named(test::pg_test_dsn()));
        auto plain = db::connect(test::pg_test_dsn());

        const db::SessionSweep s = db::end_named_sessions(test::pg_test_dsn(), {name}, 5s);
        CHECK(s.error.empty());
        CHECK(s.refused.empty());
        REQUIRE(s.found.size() == 1);
        CHECK(s.found[0].name == name);
        CHECK(s.found[0].state == "idle in transaction");
        CHECK(s.found[0].database == "postgres");
        CHECK(s.remaining.empty());
        CHECK_THROWS(tx.commit()); // its connection was ended: the commit never reaches the server
        CHECK(t.rows() == 0);
        pqxx::nontransaction alive(*other);
        CHECK_NOTHROW(alive.exec("SELECT 1"));
        pqxx::nontransaction alive2(*plain);
        CHECK_NOTHROW(alive2.exec("SELECT 1"));

        const db::SessionSweep again = db::end_named_sessions(test::pg_test_dsn(), {name}, 1s);
        CHECK(again.error.empty());
        CHECK(again.found.empty()); // nothing left of the attempt
    }

    TEST_CASE("step sessions: a session the role may not end remains and is named with why") {
        const std::string name = unique("refused");
        // A superuser's session: rb_scram may see it, not end it.
        auto su = db::connect(db::StepSession{name}.named(test::pg_test_dsn()));
        const db::SessionSweep s = db::end_named_sessions(unprivileged(), {name}, 300ms);
        CHECK(s.error.empty());
        REQUIRE(s.found.size() == 1);
        REQUIRE(s.remaining.size() == 1);
        CHECK(s.remaining[0].pid == s.found[0].pid);
        CHECK(s.refused.find("pid " + std::to_string(s.found[0].pid) + ": ") == 0);
        CHECK(s.refused.find("must be a superuser to terminate superuser process") !=
              std::string::npos);
        CHECK(s.waited >= 300ms);
        pqxx::nontransaction alive(*su);
        CHECK_NOTHROW(alive.exec("SELECT 1"));
    }

    TEST_CASE("step sessions: a server that cannot be reached is an error and nothing is found") {
        const db::Dsn nowhere = db::Dsn::parse("host=/nonexistent/rbtest port=1 dbname=postgres");
        const db::SessionSweep s = db::end_named_sessions(nowhere, {unique("nowhere")}, 1s);
        CHECK(s.error.find("cannot connect to PostgreSQL") != std::string::npos);
        CHECK(s.found.empty());
        CHECK(s.remaining.empty());
    }
}
