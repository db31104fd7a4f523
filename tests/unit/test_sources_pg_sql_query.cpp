// SPDX-License-Identifier: MIT
// The sql source against a real PostgreSQL 15 (the CTest fixture `pg`; ROLLBACK_TEST_PG is its
// superuser DSN). Without a server these tests exit 125 (skipped).
#include "sources/sql_query.hpp"

#include "support/http_test_server.hpp"
#include "util/secrets.hpp"

#include <cstdio>
#include <cstdlib>
#include <doctest/doctest.h>
#include <filesystem>

using namespace rollback;
using namespace std::chrono_literals;
using decision::SampleKind;

namespace {

const decision::SystemTime k_now{std::chrono::seconds(1'800'000'000)};

std::string test_dsn() {
    const char* env = std::getenv("ROLLBACK_TEST_PG");
    if (env == nullptr || *env == '\0' ||
        !std::filesystem::exists("/usr/lib/postgresql/15/bin/pg_ctl")) {
        std::fprintf(stderr, "ROLLBACK_TEST_PG not set or PostgreSQL 15 missing: skipping\n");
        std::exit(125);
    }
    return env;
}

decision::Sample run(const std::string& sql, util::Millis timeout = 1s) {
    return sources::run_sql_query(test_dsn(), sql, timeout, k_now);
}

} // namespace

TEST_SUITE("sources") {
    TEST_CASE("sql: one row of one number is a value") {
        auto s = run("SELECT 42");
        CHECK(s.kind == SampleKind::value);
        CHECK(s.value == 42);
        CHECK(s.time == k_now);
        s = run("SELECT count(*) FROM pg_database WHERE datname = 'postgres'");
        CHECK(s.kind == SampleKind::value);
        CHECK(s.value == 1);
        s = run("SELECT 0.125::numeric");
        CHECK(s.kind == SampleKind::value);
        CHECK(s.value == 0.125);
        s = run("SELECT -2.5e-3::float8");
        CHECK(s.kind == SampleKind::value);
        CHECK(s.value == -0.0025);
    }

    TEST_CASE("sql: answers that are not one number are errors") {
        SUBCASE("NULL") {
            auto s = run("SELECT NULL::int");
            CHECK(s.kind == SampleKind::error);
            CHECK(s.detail == "query returned NULL (coalesce(...) when NULL means 0); expected "
                              "one row with one number");
        }
        SUBCASE("zero rows") {
            auto s = run("SELECT 1 WHERE false");
            CHECK(s.kind == SampleKind::error);
            CHECK(s.detail.find("query returned no rows") == 0);
        }
        SUBCASE("two rows") {
            auto s = run("SELECT * FROM (VALUES (1), (2)) v");
            CHECK(s.kind == SampleKind::error);
            CHECK(s.detail.find("query returned 2 rows") == 0);
        }
        SUBCASE("two columns") {
            auto s = run("SELECT 1, 2");
            CHECK(s.kind == SampleKind::error);
            CHECK(s.detail == "query returned 2 columns; expected one row with one number");
        }
        SUBCASE("text") {
            auto s = run("SELECT 'many'");
            CHECK(s.kind == SampleKind::error);
            CHECK(s.detail ==
                  "query returned \"many\", not a finite number; expected one row with one number");
        }
        SUBCASE("NaN") {
            auto s = run("SELECT 'NaN'::float8");
            CHECK(s.kind == SampleKind::error);
            CHECK(s.detail.find("not a finite number") != std::string::npos);
        }
        SUBCASE("an SQL error") {
            auto s = run("SELECT count(*) FROM no_such_table");
            CHECK(s.kind == SampleKind::error);
            CHECK(s.detail.find("query failed: ") == 0);
            CHECK(s.detail.find("no_such_table") != std::string::npos);
        }
        SUBCASE("a check that writes: the transaction is read-only") {
            auto s = run("CREATE TABLE sql_source_must_not_write (x int)");
            CHECK(s.kind == SampleKind::error);
            CHECK(s.detail.find("read-only transaction") != std::string::npos);
        }
        SUBCASE("statement timeout") {
            auto start = std::chrono::steady_clock::now();
            auto s = run("SELECT pg_sleep(3)", 300ms);
            CHECK(std::chrono::steady_clock::now() - start < 2s);
            CHECK(s.kind == SampleKind::error);
            CHECK(s.detail == "query timed out after 300ms (statement_timeout)");
        }
        SUBCASE("a DSN libpq cannot parse") {
            auto s = sources::run_sql_query("host=x port", "SELECT 1", 1s, k_now);
            CHECK(s.kind == SampleKind::error);
            CHECK(s.detail.find("invalid DSN") != std::string::npos);
        }
    }

    TEST_CASE("sql: a server that cannot be reached is no data — the password masked") {
        const std::string dsn = "host=127.0.0.1 port=" + std::to_string(test::free_tcp_port()) +
                                " user=monitor password=s3cret-pw dbname=shop";
        auto s = sources::run_sql_query(dsn, "SELECT 1", 1s, k_now);
        CHECK(s.kind == SampleKind::unavailable);
        CHECK(s.detail.find("cannot connect to PostgreSQL") == 0);
        CHECK(s.detail.find("password=***") != std::string::npos);
        CHECK(s.detail.find("s3cret-pw") == std::string::npos);

        // A wrong database on a running server: the monitor cannot read, no data.
        s = sources::run_sql_query(test_dsn() + " dbname=no_such_database", "SELECT 1", 1s, k_now);
        CHECK(s.kind == SampleKind::unavailable);
        CHECK(s.detail.find("no_such_database") != std::string::npos);
    }
}
