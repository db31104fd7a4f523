// SPDX-License-Identifier: MIT
// state::PgStore against a real PostgreSQL 15 (the CTest fixture `pg`; ROLLBACK_TEST_PG is its
// superuser DSN): the Store contract the other stores keep, the schema's versions, the lease row
// and the fencing of journal appends. Without a server these tests exit 125 (skipped).
#include "state/pg_schema.hpp"
#include "state/pg_store.hpp"

#include "journal/reader.hpp"
#include "support/pg_schema_fixture.hpp"
#include "support/store_contract.hpp"
#include "support/temp_dir.hpp"
#include "util/error.hpp"
#include "util/files.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <doctest/doctest.h>
#include <filesystem>
#include <pqxx/connection_base>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>
#include <thread>
#include <unistd.h>

using namespace rollback;
using namespace std::chrono_literals;

namespace {

using test::pg_test_dsn;
using FreshSchema = test::PgTestSchema;

/// The journal table's lines, as a file would hold them.
std::string journal_lines(const std::string& schema) {
    auto conn = db::connect(pg_test_dsn());
    pqxx::nontransaction tx(*conn);
    std::string out;
    for (const auto& row : tx.exec("SELECT line FROM " + schema + ".journal ORDER BY seq")) {
        out += row[0].as<std::string>() + "\n";
    }
    return out;
}

const std::string k_run_a = "20261126T100000Z-aaaaaa";
const std::string k_run_b = "20261126T100100Z-bbbbbb";

} // namespace

TEST_SUITE("state") {
    TEST_CASE("PgStore keeps the Store contract") {
        FreshSchema schema;
        test::TempDir dir;
        state::PgStore store(pg_test_dsn(), dir.path(), schema.options());
        test::check_contract(store, {.leases_expire = true});
    }

    TEST_CASE("PgStore: the schema is created once and versioned and a newer one is refused") {
        FreshSchema schema;
        const auto first = state::init_pg_schema(pg_test_dsn(), schema.options());
        CHECK(first.from == 0);
        CHECK(first.to == state::pg_schema_version());
        const auto again = state::init_pg_schema(pg_test_dsn(), schema.options());
        CHECK(again.from == state::pg_schema_version());
        CHECK(again.to == state::pg_schema_version());
        test::pg_test_exec("INSERT INTO " + schema.name + ".schema_version (version) VALUES (" +
                           std::to_string(state::pg_schema_version() + 1) + ")");
        test::TempDir dir;
        try {
            state::PgStore store(pg_test_dsn(), dir.path(), schema.options());
            FAIL("a store opened a schema newer than it knows");
        } catch (const util::Error& e) {
            CHECK(e.code() == util::ExitCode::invalid);
            CHECK(std::string(e.what()).find("use a newer rollback") != std::string::npos);
        }
    }

    TEST_CASE("PgStore: two hosts on one database see one lock and each other's records") {
        FreshSchema schema;
        test::TempDir a_dir, b_dir;
        state::PgStore a(pg_test_dsn(), a_dir.path(), schema.options());
        state::PgStore b(pg_test_dsn(), b_dir.path(), schema.options());
        auto r = test::record_at("2026-11-26T10:00:00Z", decision::Action::trigger);
        a.put_record(r);
        CHECK(decision::to_json(b.record(decision::record_id(r))) == decision::to_json(r));
        auto lease = a.acquire_lease(state::this_process_holder(k_run_a, "errors")).lease;
        REQUIRE(lease);
        auto refused = b.acquire_lease(state::this_process_holder(k_run_b, "manual"));
        CHECK_FALSE(refused.lease);
        REQUIRE(refused.holder);
        CHECK(refused.holder->run_id == k_run_a);
        CHECK(refused.holder->reason == "errors");
        a.create_journal(k_run_a, {{"run_id", k_run_a}}, *lease)
            ->append({{"type", "note"}, {"text", "from a"}});
        CHECK(b.list_runs() == std::vector<std::string>{k_run_a});
        CHECK(b.read_journal(k_run_a).object(1).at("text") == "from a");
        CHECK(b.artifacts_dir(k_run_a) == b_dir / ("runs/" + k_run_a));
    }

    TEST_CASE("PgStore: a silent holder loses the lease and its next append is fenced") {
        FreshSchema schema;
        test::TempDir dir;
        state::PgStore store(pg_test_dsn(), dir.path(), schema.options(300ms));
        auto a = store.acquire_lease(state::this_process_holder(k_run_a, "a")).lease;
        REQUIRE(a);
        REQUIRE(a->expires_at());
        auto journal = store.create_journal(k_run_a, {{"run_id", k_run_a}}, *a);
        CHECK(journal->append({{"type", "note"}, {"text", "before"}}) == 1);
        CHECK(a->renew()); // a heartbeat in time
        std::this_thread::sleep_for(450ms);
        CHECK_FALSE(store.lease_holder()); // silent past its expiry: it may have died
        REQUIRE(store.dead_holder());
        CHECK(store.dead_holder()->run_id == k_run_a);

        auto b = store.acquire_lease(state::this_process_holder(k_run_a, "b"));
        REQUIRE(b.lease);
        REQUIRE(b.stale);
        CHECK(b.stale->run_id == k_run_a);
        CHECK(b.lease->generation() == a->generation() + 1);
        try {
            journal->append({{"type", "step_started"}, {"step", "restore"}});
            FAIL("a fenced-off holder appended");
        } catch (const util::Error& e) {
            CHECK(e.code() == util::ExitCode::state_unwritable);
            const std::string what = e.what();
            CHECK(what.find("lost the run lock of generation " + std::to_string(a->generation())) !=
                  std::string::npos);
            CHECK(what.find("now generation " + std::to_string(b.lease->generation())) !=
                  std::string::npos);
        }
        CHECK(journal->broken());
        CHECK_THROWS_AS(journal->append({{"type", "note"}}), util::Error);
        // The old holder comes back: it can renew, rename or release nothing of b's.
        CHECK_FALSE(a->renew());
        a->set_run_id("20261126T100000Z-0a1b2c");
        a->release();
        REQUIRE(store.lease_holder());
        CHECK(store.lease_holder()->reason == "b");

        auto continued = store.open_journal(k_run_a, *b.lease, nullptr);
        CHECK(continued->append({{"type", "note"}, {"text", "after"}}) == 2);
        const auto read = store.read_journal(k_run_a);
        REQUIRE(read.records.size() == 2);
        CHECK(read.object(2).at("text") == "after");
    }

    TEST_CASE("PgStore: a holder silent past its lease appends nothing though nobody took it") {
        FreshSchema schema;
        test::TempDir dir;
        state::PgStore store(pg_test_dsn(), dir.path(), schema.options(300ms));
        auto a = store.acquire_lease(state::this_process_holder(k_run_a, "a")).lease;
        REQUIRE(a);
        auto journal = store.create_journal(k_run_a, {{"run_id", k_run_a}}, *a);
        CHECK(journal->append({{"type", "note"}, {"text", "in time"}}) == 1);
        std::this_thread::sleep_for(450ms); // silent past its expiry; the generation unmoved
        try {
            journal->append({{"type", "step_started"}, {"step", "restore"}});
            FAIL("a holder past its lease appended");
        } catch (const util::Error& e) {
            CHECK(e.code() == util::ExitCode::state_unwritable);
            CHECK(std::string(e.what()).find("it expired") != std::string::npos);
        }
        CHECK(journal->fenced());
        CHECK_FALSE(a->renew()); // lost: it renews nothing either
        a->release();
        REQUIRE(store.dead_holder()); // the row still names the run for the next starter
        CHECK(store.dead_holder()->run_id == k_run_a);
        CHECK(store.read_journal(k_run_a).records.size() == 1);
    }

    TEST_CASE("PgStore: a fenced run lock needs the live leadership and the decided run") {
        FreshSchema schema;
        test::TempDir dir;
        state::PgStore store(pg_test_dsn(), dir.path(), schema.options(1000ms));
        auto leadership = store.leadership(state::this_process_holder("", "monitor"));
        REQUIRE(leadership->may_act());
        const auto g = leadership->generation();
        REQUIRE(g > 0);
        store.put_policy_memory_document(R"({"version":3,"decided_run":{"run_id":")" + k_run_a +
                                         R"(","decision_id":"d","condition":"c"}})");
        const auto me = state::this_process_holder(k_run_a, "monitor");
        try {
            store.acquire_fenced_lease(me, state::RunFence{g + 1, k_run_a});
            FAIL("a run started under another leadership");
        } catch (const util::Error& e) {
            CHECK(e.code() == util::ExitCode::locked);
            CHECK(std::string(e.what()).find("no longer leads") != std::string::npos);
        }
        try {
            store.acquire_fenced_lease(me, state::RunFence{g, k_run_b});
            FAIL("a run started that the policy memory does not name");
        } catch (const util::Error& e) {
            CHECK(e.code() == util::ExitCode::state_unwritable);
            CHECK(std::string(e.what()).find("names run " + k_run_a) != std::string::npos);
        }
        CHECK_FALSE(store.lease_holder()); // neither took the run lock
        auto ok = store.acquire_fenced_lease(me, state::RunFence{g, k_run_a});
        REQUIRE(ok.lease);
        ok.lease->release();
        // The leadership silent past its lease (no heartbeat here), nobody else leading yet:
        // neither a run start nor the policy memory is this monitor's any more.
        std::this_thread::sleep_for(1200ms);
        try {
            store.acquire_fenced_lease(me, state::RunFence{g, k_run_a});
            FAIL("a run started under an expired leadership");
        } catch (const util::Error& e) {
            CHECK(e.code() == util::ExitCode::locked);
            CHECK(std::string(e.what()).find("expired") != std::string::npos);
        }
        CHECK_THROWS_AS(store.put_policy_memory_document("{}"), util::Error);
        CHECK(store.policy_memory_document()->find(k_run_a) != std::string::npos);
    }

    TEST_CASE("PgStore: a holder taken over fails the fence check before a hook (32/04)") {
        FreshSchema schema;
        test::TempDir dir;
        state::PgStore store(pg_test_dsn(), dir.path(), schema.options(300ms));
        auto a = store.acquire_lease(state::this_process_holder(k_run_a, "a")).lease;
        REQUIRE(a);
        auto journal = store.create_journal(k_run_a, {{"run_id", k_run_a}}, *a);
        CHECK_NOTHROW(journal->check_fence("a hook")); // live: the hook may run
        std::this_thread::sleep_for(450ms);
        auto b = store.acquire_lease(state::this_process_holder(k_run_a, "b"));
        REQUIRE(b.lease);
        try {
            journal->check_fence("a hook");
            FAIL("a holder taken over passed the fence before a hook");
        } catch (const util::Error& e) {
            CHECK(e.code() == util::ExitCode::state_unwritable);
            const std::string what = e.what();
            CHECK(what.find("lost the run lock of generation " + std::to_string(a->generation()) +
                            " (now generation " + std::to_string(b.lease->generation()) + ", run " +
                            k_run_a) != std::string::npos);
            CHECK(what.find("; it records and starts nothing more (checked before a hook)") !=
                  std::string::npos);
        }
        CHECK(journal->fenced());
        CHECK(store.read_journal(k_run_a).records.empty()); // it appended nothing
    }

    TEST_CASE("PgStore: a fence check the server does not answer stops the run and runs no hook") {
        FreshSchema schema;
        test::TempDir dir;
        // lock_timeout (the lease) 1 s, reconnect_for 2 s: the check's statement is refused by
        // the lock held below at least twice before the bound.
        state::PgStore store(pg_test_dsn(), dir.path(), schema.options(1s, 200ms));
        auto a = store.acquire_lease(state::this_process_holder(k_run_a, "a")).lease;
        REQUIRE(a);
        auto journal = store.create_journal(k_run_a, {{"run_id", k_run_a}}, *a);
        CHECK(journal->append({{"type", "note"}, {"text", "before the hook"}}) == 1);
        // The lease row cannot be read (a server stalled on it): the check cannot tell.
        auto conn = db::connect(pg_test_dsn());
        pqxx::work stall(*conn);
        stall.exec("LOCK TABLE " + schema.name + ".lease IN ACCESS EXCLUSIVE MODE");
        const auto t0 = std::chrono::steady_clock::now();
        try {
            journal->check_fence("a hook");
            FAIL("a hook would have run without its fence checked");
        } catch (const util::Error& e) {
            CHECK(e.code() == util::ExitCode::state_unwritable);
            CHECK(std::string(e.what()).find("the run lock could not be checked before a hook") !=
                  std::string::npos);
        }
        CHECK(std::chrono::steady_clock::now() - t0 >= 2s); // waited for the server first
        stall.abort();
        CHECK(journal->broken());
        CHECK_FALSE(journal->fenced()); // the server, not another holder
        CHECK_THROWS_AS(journal->append({{"type", "note"}, {"text", "after"}}), util::Error);
    }

    TEST_CASE(
        "PgStore: a deposed leader files no approval request and one incident gets one request") {
        FreshSchema schema;
        test::TempDir dir;
        state::PgStore a(pg_test_dsn(), dir.path(), schema.options(1000ms));
        state::PgStore b(pg_test_dsn(), dir.path(), schema.options(1000ms));
        auto la = a.leadership(state::this_process_holder("", "monitor"));
        const auto holder_b = state::this_process_holder("", "monitor"); // b starts now
        auto lb = b.leadership(holder_b);
        REQUIRE(la->may_act());
        CHECK(la->leads_now());
        std::this_thread::sleep_for(1200ms); // a paused past its lease
        REQUIRE(lb->may_act());              // b took over
        // `status`'s "since" is when b took the lead, not when its process started (32/07).
        REQUIRE(a.leader());
        CHECK(a.leader()->holder.started > holder_b.started);
        CHECK(a.leader()->holder.started == a.lease_row("leader").acquired_at);
        CHECK_FALSE(la->leads_now());
        CHECK(lb->leads_now());
        const auto now =
            std::chrono::time_point_cast<util::Millis>(std::chrono::system_clock::now());
        state::ApprovalRequest rb;
        rb.decision_id = "20261206T135924.000Z-7933fb01";
        rb.requested_at = now;
        rb.expires_at = now + std::chrono::minutes(30);
        rb.condition = "corruption";
        b.request_approval(rb, lb->generation());
        auto ra = rb;
        ra.decision_id = "20261206T135920.000Z-cc64582a";
        try {
            a.request_approval(ra, la->generation());
            FAIL("a deposed leader filed an approval request");
        } catch (const util::Error& e) {
            CHECK(e.code() == util::ExitCode::locked);
            CHECK(std::string(e.what()).find("no longer leads") != std::string::npos);
        }
        // The leader itself: a second request while the first is pending is the same incident.
        try {
            b.request_approval(ra, lb->generation());
            FAIL("two pending requests for one incident");
        } catch (const util::Error& e) {
            CHECK(e.code() == util::ExitCode::locked);
            CHECK(std::string(e.what()).find("request " + rb.decision_id +
                                             " of condition corruption is pending") !=
                  std::string::npos);
        }
        REQUIRE(a.approvals().size() == 1);
        CHECK(a.approvals()[0].decision_id == rb.decision_id);
    }

    TEST_CASE("PgStore: a session the server ended is a connection error and not an internal one") {
        // A monitor started as the server shut down died with "internal error: Could not obtain
        // client encoding" (CI, stop 24): quoting the schema name on a session the server had
        // ended threw libpqxx's own error, which nothing above it waits out.
        auto conn = db::connect(pg_test_dsn());
        const auto pid =
            pqxx::nontransaction(*conn).exec("SELECT pg_backend_pid()")[0][0].as<int>();
        test::pg_test_exec("SELECT pg_terminate_backend(" + std::to_string(pid) + ")");
        bool went_away = false;
        for (int i = 0; i < 50 && !went_away; ++i) {
            try {
                pqxx::nontransaction(*conn).exec("SELECT 1");
                std::this_thread::sleep_for(20ms);
            } catch (const std::exception& e) {
                went_away = db::server_went_away(e);
                REQUIRE_MESSAGE(went_away, e.what());
            }
        }
        REQUIRE(went_away);
        CHECK_THROWS_AS(state::schema_prefix(*conn, "rollback"), db::ConnectError);
        try {
            state::schema_prefix(*conn, "rollback");
        } catch (const db::ConnectError& e) {
            CHECK_FALSE(db::refused_for_good(e.what())); // waited out like a server down
        }
    }

    TEST_CASE("PgStore: taking the run lock does not wait on a silent transaction") {
        FreshSchema schema;
        test::TempDir dir;
        state::PgStore store(pg_test_dsn(), dir.path(), schema.options(15s));
        auto conn = db::connect(pg_test_dsn());
        pqxx::work silent(*conn); // an appender paused inside its transaction
        silent.exec("SELECT 1 FROM " + schema.name + ".lease WHERE name = 'run' FOR SHARE");
        const auto t0 = std::chrono::steady_clock::now();
        CHECK_THROWS_AS(store.acquire_lease(state::this_process_holder(k_run_a, "a")), util::Error);
        CHECK(std::chrono::steady_clock::now() - t0 < 3s);
        silent.commit();
        CHECK(store.acquire_lease(state::this_process_holder(k_run_a, "a")).lease);
    }

    TEST_CASE("PgStore: a record the server acknowledged and then lost stops the appender") {
        FreshSchema schema;
        test::TempDir dir;
        state::PgStore store(pg_test_dsn(), dir.path(), schema.options());
        auto lease = store.acquire_lease(state::this_process_holder(k_run_a, "a")).lease;
        REQUIRE(lease);
        auto journal = store.create_journal(k_run_a, {{"run_id", k_run_a}}, *lease);
        CHECK(journal->append({{"type", "note"}, {"text", "one"}}) == 1);
        CHECK(journal->append({{"type", "note"}, {"text", "two"}}) == 2);
        // What a server without synchronous commits loses in a crash: the last records.
        test::pg_test_exec("DELETE FROM " + schema.name + ".journal WHERE seq = 2");
        try {
            journal->append({{"type", "step_started"}, {"step", "restore"}});
            FAIL("an append went on after a hole in the chain");
        } catch (const util::Error& e) {
            CHECK(e.code() == util::ExitCode::state_unwritable);
            CHECK(std::string(e.what()).find("record 2, acknowledged by the server, is gone") !=
                  std::string::npos);
        }
        CHECK(journal->broken());
        CHECK(store.read_journal(k_run_a).records.size() == 1);
    }

    TEST_CASE("PgStore: the heartbeat keeps a live holder's lease past its ttl") {
        FreshSchema schema;
        test::TempDir dir;
        state::PgStore store(pg_test_dsn(), dir.path(), schema.options(400ms, 100ms));
        auto a = store.acquire_lease(state::this_process_holder(k_run_a, "a")).lease;
        REQUIRE(a);
        std::this_thread::sleep_for(1200ms);
        CHECK(store.is_run_live(k_run_a));
        CHECK_FALSE(store.acquire_lease(state::this_process_holder(k_run_b, "b")).lease);
        a->release();
        CHECK_FALSE(store.lease_holder());
        CHECK_FALSE(store.dead_holder());
    }

    TEST_CASE("PgStore: one leader at a time and a silent leader is followed after its lease") {
        FreshSchema schema;
        test::TempDir dir;
        state::PgStore a(pg_test_dsn(), dir.path(), schema.options(1000ms));
        state::PgStore b(pg_test_dsn(), dir.path(), schema.options(1000ms));
        CHECK_FALSE(a.leader());
        auto holder_a = state::this_process_holder("", "monitor");
        holder_a.host = "host-a";
        auto holder_b = state::this_process_holder("", "monitor");
        holder_b.host = "host-b";
        auto la = a.leadership(holder_a);
        auto lb = b.leadership(holder_b);
        CHECK(la->may_act());
        CHECK_FALSE(lb->may_act());
        REQUIRE(b.leader());
        CHECK(b.leader()->holder.host == "host-a");
        const auto first = b.leader()->generation;
        CHECK_FALSE(b.leader()->expires_at.empty());
        std::this_thread::sleep_for(500ms);
        CHECK(la->may_act()); // each evaluation renews it
        std::this_thread::sleep_for(400ms);
        CHECK_FALSE(lb->may_act());         // renewed 400 ms ago: still a's
        std::this_thread::sleep_for(800ms); // a silent for 1.2 s > its 1 s lease
        CHECK(lb->may_act());
        CHECK(a.leader()->holder.host == "host-b");
        CHECK(a.leader()->generation == first + 1);
        CHECK_FALSE(la->may_act()); // deposed: b leads
        CHECK_FALSE(la->may_act());
        lb->step_down(); // a clean exit: the follower takes over at its next evaluation
        CHECK_FALSE(a.leader());
        CHECK(la->may_act());
        CHECK(a.leader()->generation == first + 2);
        // The run lock is another row: leading and holding the run lock are separate.
        CHECK(a.acquire_lease(state::this_process_holder(k_run_a, "run")).lease);
    }

    TEST_CASE("PgStore: records committed without waiting and lost with the server come back") {
        FreshSchema schema;
        test::TempDir dir;
        state::PgStore store(pg_test_dsn(), dir.path(), schema.options());
        auto lease = store.acquire_lease(state::this_process_holder(k_run_a, "a")).lease;
        REQUIRE(lease);
        auto journal = store.create_journal(k_run_a, {{"run_id", k_run_a}}, *lease);
        CHECK(journal->append({{"type", "step_started"}, {"step", "s"}}) == 1);
        CHECK(journal->append({{"type", "step_finished"}, {"step", "s"}},
                              journal::Durability::with_next) == 2);
        const std::string before = journal_lines(schema.name);
        // A server crash before the WAL flush of record 2: the record and the connections go.
        test::pg_test_exec("DELETE FROM " + schema.name + ".journal WHERE seq = 2");
        test::pg_test_exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> "
                           "pg_backend_pid() AND datname = current_database()");
        CHECK(journal->append({{"type", "step_started"}, {"step", "t"}}) == 3);
        CHECK_FALSE(journal->broken());
        const std::string after = journal_lines(schema.name);
        CHECK(after.rfind(before, 0) == 0); // the same bytes where they were
        dir.write("run.jsonl", after);
        const auto v = journal::verify(dir / "run.jsonl");
        CHECK(v.ok);
        CHECK(v.lines == 4);
    }

    TEST_CASE("PgStore: a journal kept in PostgreSQL verifies as the same JSON Lines file") {
        FreshSchema schema;
        test::TempDir dir;
        state::PgStore store(pg_test_dsn(), dir.path(), schema.options());
        auto lease = store.acquire_lease(state::this_process_holder(k_run_a, "test")).lease;
        REQUIRE(lease);
        store.create_journal(k_run_a, {{"run_id", k_run_a}}, *lease)
            ->append({{"type", "note"}, {"text", "one"}});
        store.open_journal(k_run_a, *lease, nullptr)->append({{"type", "note"}, {"text", "two"}});
        const auto j = store.read_journal(k_run_a);
        REQUIRE(j.records.size() == 2);
        dir.write("run.jsonl", journal_lines(schema.name));
        const auto v = journal::verify(dir / "run.jsonl");
        CHECK(v.ok);
        CHECK(v.lines == 3);
        // A changed byte in the table is seen like a changed byte in a file.
        test::pg_test_exec("UPDATE " + schema.name +
                           ".journal SET line = replace(line, '\"two\"', '\"TWO\"') WHERE seq = 2");
        dir.write("changed.jsonl", journal_lines(schema.name));
        const auto bad = journal::verify(dir / "changed.jsonl");
        CHECK_FALSE(bad.ok);
        CHECK(bad.bad_line == 3);
    }
}
