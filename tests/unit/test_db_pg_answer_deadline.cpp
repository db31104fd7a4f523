// SPDX-License-Identifier: MIT
// db::AnswerDeadline against a real PostgreSQL 15 (the CTest fixture `pg`): a call whose answer
// does not come in time is cut, and one that answers in time is not touched.
#include "db/answer_deadline.hpp"

#include "db/connection.hpp"
#include "support/pg_schema_fixture.hpp"

#include <chrono>
#include <doctest/doctest.h>
#include <pqxx/nontransaction>
#include <thread>

using namespace rollback;
using namespace std::chrono_literals;

TEST_SUITE("db") {
    TEST_CASE("AnswerDeadline: a call still waiting for the server at its limit is cut") {
        auto conn = db::connect(test::pg_test_dsn());
        bool cut = false;
        const auto t0 = std::chrono::steady_clock::now();
        try {
            const db::AnswerDeadline bound(*conn, 300ms, &cut);
            pqxx::nontransaction(*conn).exec("SELECT pg_sleep(20)"); // a server that says nothing
            FAIL("the call was not cut");
        } catch (const std::exception& e) {
            CHECK(db::server_went_away(e)); // a lost connection: the caller opens another
        }
        CHECK(cut);
        CHECK(std::chrono::steady_clock::now() - t0 < 5s);
    }

    TEST_CASE("AnswerDeadline: a call answered in time is left alone") {
        auto conn = db::connect(test::pg_test_dsn());
        bool cut = true;
        {
            const db::AnswerDeadline bound(*conn, 5s, &cut);
            CHECK(pqxx::nontransaction(*conn).exec("SELECT 1")[0][0].as<int>() == 1);
        }
        CHECK_FALSE(cut);
        // The connection is as good as before: nothing fires later on it.
        std::this_thread::sleep_for(50ms);
        CHECK(pqxx::nontransaction(*conn).exec("SELECT 2")[0][0].as<int>() == 2);
        // And a connect bounded the same way works.
        auto bounded = db::connect(test::pg_test_dsn(), 5s);
        CHECK(pqxx::nontransaction(*bounded).exec("SELECT 3")[0][0].as<int>() == 3);
    }
}
