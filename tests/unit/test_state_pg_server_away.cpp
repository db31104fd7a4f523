// SPDX-License-Identifier: MIT
// state::PgStore when the server ends its sessions (a restart, an administrator's
// pg_terminate_backend, a pooler cutting idle connections) and what a command that only reads
// may do to the schema, against a real PostgreSQL 15 (the CTest fixture `pg`; docs/config.md
// "The server going away", "Privileges"; break-it 43/F1, F7).
#include "state/pg_store.hpp"

#include "state/pg_schema.hpp"
#include "support/pg_schema_fixture.hpp"
#include "support/temp_dir.hpp"
#include "util/error.hpp"

#include <chrono>
#include <doctest/doctest.h>
#include <pqxx/nontransaction>
#include <string>

using namespace rollback;
using namespace std::chrono_literals;

namespace {

const std::string k_run = "20261207T100000Z-aaaaaa";

/// Ends every session of the engine (application_name 'rollback') but the caller's: what a
/// server restart does to them. Returns how many.
int end_sessions() {
    auto conn = db::connect(test::pg_test_dsn());
    pqxx::nontransaction tx(*conn);
    return tx
        .exec("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
              " WHERE application_name = 'rollback' AND pid <> pg_backend_pid()")[0][0]
        .as<int>();
}

int rows(const std::string& sql) {
    auto conn = db::connect(test::pg_test_dsn());
    return pqxx::nontransaction(*conn).exec(sql)[0][0].as<int>();
}

/// The test server as another role (trust authentication: pg_throwaway.sh).
db::Dsn as_role(const std::string& role) {
    const auto dsn = test::pg_test_dsn();
    return db::Dsn::parse("host=" + dsn.param("host") + " port=" + dsn.param("port") +
                          " user=" + role + " dbname=postgres");
}

} // namespace

TEST_SUITE("state") {
    TEST_CASE("PgStore: every operation goes on after the server ended the sessions") {
        test::PgTestSchema schema;
        test::TempDir dir;
        state::PgStore store(test::pg_test_dsn(), dir.path(), schema.options(15s));
        auto lease = store.acquire_lease(state::this_process_holder(k_run, "a")).lease;
        REQUIRE(lease);
        auto journal = store.create_journal(k_run, {{"run_id", k_run}}, *lease);
        CHECK(journal->append({{"type", "note"}, {"text", "before"}}) == 1);
        REQUIRE(end_sessions() >= 3); // the store's, the lease's, the appender's
        // Each is opened again at once: nothing fails, nothing is lost or written twice.
        CHECK(store.list_runs() == std::vector<std::string>{k_run});
        REQUIRE(end_sessions() >= 1);
        CHECK(lease->renew());
        REQUIRE(end_sessions() >= 1);
        CHECK(journal->append({{"type", "note"}, {"text", "after"}}) == 2);
        REQUIRE(end_sessions() >= 1);
        decision::DecisionRecord r;
        r.time = std::chrono::time_point_cast<util::Millis>(std::chrono::system_clock::now());
        CHECK_NOTHROW(store.put_record(r));
        CHECK(store.read_journal(k_run).records.size() == 2);
        REQUIRE(end_sessions() >= 1);
        lease->release(); // released for real, not left to expire
        CHECK_FALSE(store.lease_row().held);
        CHECK(rows("SELECT count(*) FROM " + schema.name + ".journal") == 3);
    }

    TEST_CASE("PgStore: a reader creates no schema and says what does") {
        test::PgTestSchema schema;
        test::TempDir dir;
        auto reader = schema.options();
        reader.access = state::SchemaAccess::read;
        try {
            state::PgStore store(test::pg_test_dsn(), dir.path(), reader);
            FAIL("a reader opened a schema that does not exist");
        } catch (const util::Error& e) {
            CHECK(e.code() == util::ExitCode::invalid);
            CHECK(std::string(e.what()).find("the shared state's schema " + schema.name +
                                             " does not exist") != std::string::npos);
            CHECK(std::string(e.hint()).find("rollback state init") != std::string::npos);
        }
        CHECK(rows("SELECT count(*) FROM pg_namespace WHERE nspname = '" + schema.name + "'") == 0);
        state::init_pg_schema(test::pg_test_dsn(), schema.options());
        CHECK_NOTHROW(state::PgStore(test::pg_test_dsn(), dir.path(), reader));
        // An older schema is not read as if it were this build's.
        test::pg_test_exec("DELETE FROM " + schema.name + ".schema_version WHERE version = " +
                           std::to_string(state::pg_schema_version()));
        try {
            state::PgStore store(test::pg_test_dsn(), dir.path(), reader);
            FAIL("a reader opened an older schema");
        } catch (const util::Error& e) {
            CHECK(e.code() == util::ExitCode::invalid);
            CHECK(std::string(e.what()).find("this rollback reads version") != std::string::npos);
        }
    }

    TEST_CASE("PgStore: a role without CREATE reads and writes a schema at this version") {
        test::PgTestSchema schema;
        test::TempDir dir;
        state::init_pg_schema(test::pg_test_dsn(), schema.options());
        const std::string role = "rbtest_dml_" + std::to_string(::getpid());
        test::pg_test_exec("CREATE ROLE " + role + " LOGIN");
        struct DropRole {
            std::string role;
            ~DropRole() {
                try {
                    test::pg_test_exec("DROP OWNED BY " + role + "; DROP ROLE " + role);
                } catch (const std::exception&) {
                }
            }
        } drop{role};
        test::pg_test_exec("GRANT USAGE ON SCHEMA " + schema.name + " TO " + role +
                           "; GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA " +
                           schema.name + " TO " + role +
                           "; GRANT USAGE ON ALL SEQUENCES IN SCHEMA " + schema.name + " TO " +
                           role);
        const int versions = rows("SELECT count(*) FROM " + schema.name + ".schema_version");
        for (auto access : {state::SchemaAccess::read, state::SchemaAccess::write}) {
            auto o = schema.options();
            o.access = access;
            state::PgStore store(as_role(role), dir.path(), o);
            CHECK(store.list_runs().empty());
            if (access == state::SchemaAccess::write) {
                auto lease = store.acquire_lease(state::this_process_holder(k_run, "a")).lease;
                REQUIRE(lease);
                store.create_journal(k_run, {{"run_id", k_run}}, *lease)
                    ->append({{"type", "note"}, {"text", "kept"}});
                lease->release();
            }
        }
        CHECK(rows("SELECT count(*) FROM " + schema.name + ".schema_version") == versions);
        CHECK(rows("SELECT count(*) FROM " + schema.name + ".journal") == 2);
    }
}
