// SPDX-License-Identifier: MIT
// The approval requests of state::PgStore against a real PostgreSQL 15 (the CTest fixture `pg`;
// ROLLBACK_TEST_PG is its superuser DSN): what the [decision] hooks were told of a request is
// kept only under the live leadership, in the transaction that checks it. Without a server
// these tests exit 125 (skipped).
#include "db/connection.hpp"
#include "state/leadership.hpp"
#include "state/pg_store.hpp"

#include "support/pg_schema_fixture.hpp"
#include "support/temp_dir.hpp"
#include "util/error.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <doctest/doctest.h>
#include <filesystem>
#include <pqxx/nontransaction>
#include <thread>
#include <unistd.h>

using namespace rollback;
using namespace std::chrono_literals;

namespace {

using test::pg_test_dsn;
struct Schema : test::PgTestSchema {
    Schema() : test::PgTestSchema("rbappr") {}
};

} // namespace

TEST_SUITE("state") {
    TEST_CASE("PgStore: what the hooks were told of a request is kept under the live leadership") {
        Schema schema;
        test::TempDir dir;
        state::PgStore store(pg_test_dsn(), dir.path(), schema.options(300ms));
        auto first = store.leadership(state::this_process_holder("", "monitor a"));
        REQUIRE(first->may_act());
        const auto g = first->generation();
        state::ApprovalRequest req;
        req.decision_id = "20261126T100000.000Z-0000abcd";
        req.requested_at =
            std::chrono::time_point_cast<util::Millis>(std::chrono::system_clock::now());
        req.expires_at = req.requested_at + 30min;
        req.condition = "corruption";
        store.request_approval(req, g);
        CHECK_FALSE(store.approval(req.decision_id)->announced);

        auto told = req;
        told.told = {"notify"};
        told.reason = "not written: only the announcement is";
        CHECK(store.note_told(told, g));
        auto kept = store.approval(req.decision_id);
        CHECK(kept->told == std::vector<std::string>{"notify"});
        CHECK_FALSE(kept->announced);
        CHECK(kept->reason.empty());

        // The leader is paused past its lease and another monitor takes over: what the paused
        // one says it told is kept no more, whatever it read before.
        std::this_thread::sleep_for(450ms);
        state::PgStore other_host(pg_test_dsn(), dir.path(), schema.options(300ms));
        auto second = other_host.leadership(state::this_process_holder("", "monitor b"));
        REQUIRE(second->may_act());
        const auto g2 = second->generation();
        REQUIRE(g2 > g);
        auto stale = req;
        stale.told = {"notify", "page"};
        stale.announced = true;
        try {
            store.note_told(stale, g);
            FAIL("a deposed leader's announcement was kept");
        } catch (const util::Error& e) {
            CHECK(e.code() == util::ExitCode::locked);
            CHECK(std::string(e.what()) ==
                  "what the [decision] hooks were told of " + req.decision_id +
                      " was not kept: this monitor no longer leads (its leadership of "
                      "generation " +
                      std::to_string(g) + " was taken over: generation " + std::to_string(g2) +
                      ")");
        }
        CHECK(store.approval(req.decision_id)->told == std::vector<std::string>{"notify"});

        // The new leader's adds to it; an answered request takes nothing more.
        auto next = req;
        next.told = {"page"};
        next.announced = true;
        CHECK(other_host.note_told(next, g2));
        kept = other_host.approval(req.decision_id);
        CHECK(kept->told == std::vector<std::string>{"notify", "page"});
        CHECK(kept->announced);
        auto approved = *kept;
        approved.state = "approved";
        approved.approved_by = "ann";
        approved.run_id = "20261126T100500Z-aaaaaa";
        REQUIRE(other_host.answer_pending_approval(approved));
        next.told = {"ticket"};
        CHECK_FALSE(other_host.note_told(next, g2));
        CHECK(other_host.approval(req.decision_id)->state == "approved");
        CHECK(other_host.approval(req.decision_id)->told ==
              std::vector<std::string>{"notify", "page"});
    }
}
