// SPDX-License-Identifier: MIT
#include "state/local_store.hpp"
#include "state/memory_store.hpp"

#include "journal/state.hpp"

#include "support/temp_dir.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/time.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <memory>

using namespace rollback;
namespace fs = std::filesystem;

namespace {

util::SystemTime at(const char* text) {
    auto t = util::parse_time(text);
    REQUIRE(t);
    return *t;
}

decision::DecisionRecord record_at(const char* time, decision::Action action) {
    decision::DecisionRecord r;
    r.time = at(time);
    r.target = "shop";
    r.release = "v42";
    r.action = action;
    r.cause = "errors";
    r.reason = "errors above 5%";
    decision::ConditionRecord c;
    c.name = "errors";
    c.observed = 0.25;
    c.verdict = decision::Verdict::firing;
    r.conditions.push_back(c);
    return r;
}

state::ApprovalRequest request(std::string id, const char* requested) {
    state::ApprovalRequest a;
    a.decision_id = std::move(id);
    a.requested_at = at(requested);
    a.expires_at = a.requested_at + std::chrono::minutes(30);
    a.condition = "errors";
    a.severity = "high";
    a.reason = "errors above 5%";
    return a;
}

/// The contract every Store keeps, whatever keeps it.
void check_contract(state::Store& store) {
    SUBCASE("a record read back is the record written; an unknown id is exit 2") {
        auto r = record_at("2026-11-26T10:00:00Z", decision::Action::trigger);
        store.put_record(r);
        const auto back = store.record(decision::record_id(r));
        CHECK(decision::to_json(back) == decision::to_json(r));
        try {
            store.record("20261126T000000.000Z-00000000");
            FAIL("an unknown record was read");
        } catch (const util::Error& e) {
            CHECK(e.code() == util::ExitCode::invalid);
        }
    }
    SUBCASE("the newest record is the one of the latest time; ticks read back by day") {
        CHECK_FALSE(store.newest_record_id());
        auto later = record_at("2026-11-26T11:00:00Z", decision::Action::none);
        auto earlier = record_at("2026-11-26T10:00:00Z", decision::Action::trigger);
        store.put_record(later);
        store.put_record(earlier);
        CHECK(store.newest_record_id() == decision::record_id(later));
        CHECK(store.ticks_of_day("2026-11-26").empty());
        store.append_tick(earlier, decision::record_id(earlier), 14);
        store.append_tick(later, "", 14);
        const auto lines = store.ticks_of_day("2026-11-26");
        REQUIRE(lines.size() == 2);
        CHECK(lines[0] == state::tick_line(earlier, decision::record_id(earlier)));
        CHECK(lines[1] == state::tick_line(later, ""));
    }
    SUBCASE("approval requests: replaced by id, listed oldest first, bad ids refused") {
        CHECK_FALSE(store.approval("20261126T100000.000Z-0000000b"));
        store.put_approval(request("20261126T100000.000Z-0000000b", "2026-11-26T10:00:00Z"));
        store.put_approval(request("20261126T090000.000Z-0000000a", "2026-11-26T09:00:00Z"));
        auto approved = request("20261126T100000.000Z-0000000b", "2026-11-26T10:00:00Z");
        approved.state = "approved";
        approved.approved_by = "ana";
        approved.approved_at = at("2026-11-26T10:05:00Z");
        approved.run_id = "run-1";
        store.put_approval(approved);
        auto all = store.approvals();
        REQUIRE(all.size() == 2);
        CHECK(all[0].decision_id == "20261126T090000.000Z-0000000a");
        CHECK(all[0].state == "pending");
        CHECK_FALSE(all[0].approved_at);
        CHECK(all[1].state == "approved");
        CHECK(all[1].approved_by == "ana");
        CHECK(all[1].approved_at == approved.approved_at);
        CHECK(all[1].run_id == "run-1");
        CHECK(all[1].expires_at == approved.expires_at);
        CHECK_THROWS_AS(store.put_approval(request("../escape", "2026-11-26T10:00:00Z")),
                        util::Error);
        CHECK_THROWS_AS(store.approval("a/b"), util::Error);
        CHECK_THROWS_AS(store.approval(""), util::Error);
    }
    SUBCASE("baselines: none until saved, then what was saved") {
        CHECK_FALSE(store.baselines());
        decision::BaselineBook book;
        decision::ReleaseBaseline b;
        b.release = "v41";
        b.values["errors"] = 0.01;
        b.ticks["errors"] = 12;
        book.releases.push_back(b);
        store.put_baselines(book);
        auto back = store.baselines();
        REQUIRE(back);
        CHECK(back->to_json() == book.to_json());
    }
    SUBCASE("deploy markers: the latest one, and the history of a target in time order") {
        CHECK_FALSE(store.deploy_marker());
        CHECK(store.deploy_history("shop").empty());
        store.put_deploy_marker({"v2", at("2026-11-26T12:00:00Z"), "shop"});
        store.put_deploy_marker({"x9", at("2026-11-26T12:30:00Z"), "blog"});
        store.put_deploy_marker({"v1", at("2026-11-26T11:00:00Z"), "shop"}); // recorded late
        auto latest = store.deploy_marker();
        REQUIRE(latest);
        CHECK(latest->release == "v1");
        CHECK(latest->target == "shop");
        auto shop = store.deploy_history("shop");
        REQUIRE(shop.size() == 2);
        CHECK(shop[0].release == "v1"); // by time, not by the order they were recorded
        CHECK(shop[1].release == "v2");
        CHECK(shop[1].time == at("2026-11-26T12:00:00Z"));
        CHECK(store.deploy_history("").size() == 3);
    }
    SUBCASE("the run lock: one holder at a time, each acquisition a greater generation") {
        CHECK_FALSE(store.lease_holder());
        auto a = store.acquire_lease(state::this_process_holder("20261126T100000Z-aaaaaa", "a"));
        REQUIRE(a.lease);
        CHECK_FALSE(a.stale);
        const auto first = a.lease->generation();
        CHECK(first > 0);
        CHECK_FALSE(a.lease->expires_at());
        CHECK(store.is_run_live("20261126T100000Z-aaaaaa"));
        auto b = store.acquire_lease(state::this_process_holder("20261126T100001Z-bbbbbb", "b"));
        CHECK_FALSE(b.lease);
        REQUIRE(b.holder);
        CHECK(b.holder->run_id == "20261126T100000Z-aaaaaa");
        CHECK(b.holder->reason == "a");
        a.lease->set_run_id("20261126T100000Z-cccccc");
        CHECK(store.lease_holder()->run_id == "20261126T100000Z-cccccc");
        a.lease->release();
        CHECK_FALSE(store.lease_holder());
        CHECK_FALSE(store.dead_holder());

        auto c = store.acquire_lease(state::this_process_holder("20261126T100002Z-dddddd", "c"));
        REQUIRE(c.lease);
        CHECK(c.lease->generation() > first);
        CHECK_FALSE(c.stale);
        // A starter that refuses to start over a dead run leaves that run recorded as the holder.
        state::Holder dead = state::this_process_holder("20261126T090000Z-eeeeee", "died");
        c.lease->release_leaving(dead);
        CHECK_FALSE(store.lease_holder());
        REQUIRE(store.dead_holder());
        CHECK(store.dead_holder()->run_id == "20261126T090000Z-eeeeee");
        auto d = store.acquire_lease(state::this_process_holder("20261126T100003Z-ffffff", "d"));
        REQUIRE(d.lease);
        REQUIRE(d.stale);
        CHECK(d.stale->run_id == "20261126T090000Z-eeeeee");
        CHECK_FALSE(store.dead_holder());
    }
    SUBCASE("runs: journals created under the lease, listed newest first, continued in order") {
        CHECK(store.list_runs().empty());
        CHECK_FALSE(store.latest_run());
        const std::string first = "20261126T100000Z-aaaaaa", second = "20261126T110000Z-bbbbbb";
        auto lease = store.acquire_lease(state::this_process_holder(first, "test")).lease;
        REQUIRE(lease);
        {
            auto j = store.create_journal(first, {{"run_id", first}, {"created", "t"}}, *lease);
            CHECK(j->append({{"type", "run_started"}, {"playbook", "p.toml"}}) == 1);
            CHECK(j->append({{"type", "note"}, {"text", "one"}}) == 2);
            CHECK(j->location() == store.journal_location(first));
        }
        store.create_journal(second, {{"run_id", second}}, *lease)
            ->append({{"type", "note"}, {"text", "x"}});
        CHECK(store.list_runs() == std::vector<std::string>{second, first});
        CHECK(store.latest_run() == second);
        std::vector<std::string> warnings;
        auto more = store.open_journal(first, *lease, &warnings);
        CHECK(warnings.empty());
        CHECK(more->append({{"type", "note"}, {"text", "two"}}) == 3);
        const auto j = store.read_journal(first);
        CHECK(j.run_id() == first);
        REQUIRE(j.records.size() == 3);
        CHECK(j.records[0].at("type") == "run_started");
        CHECK(j.records[2].at("text") == "two");
        CHECK(j.records[2].at("seq") == 3);
        // Each line names the hash of the line before it: the chain continues across the reopen.
        CHECK(j.records[2].at("prev") != j.records[1].at("prev"));
        CHECK(journal::fold(j, false).playbook == "p.toml");
        try {
            store.read_journal("../../etc/passwd");
            FAIL("a path was read as a run");
        } catch (const util::Error& e) {
            CHECK(e.code() == util::ExitCode::invalid);
        }
        CHECK_THROWS_AS(store.read_journal("20261126T120000Z-cccccc"), util::Error);
        CHECK(store.artifacts_dir(first).filename() == first);
    }
    SUBCASE("bad releases: none, then each location and release once, the latest record kept") {
        CHECK(store.bad_releases().empty());
        store.record_bad_release({"v2", "/srv/shop", "t1", "run-1", "v1"});
        store.record_bad_release({"v3", "/srv/shop", "t2", "run-2", "v1"});
        store.record_bad_release({"v2", "/srv/blog", "t2", "run-2", "v1"});
        store.record_bad_release({"v2", "/srv/shop", "t3", "run-3", "v1"});
        auto bad = store.bad_releases();
        REQUIRE(bad.size() == 3);
        CHECK(bad[0].release == "v3");
        CHECK(bad[1].location == "/srv/blog");
        CHECK(bad[2].release == "v2");
        CHECK(bad[2].location == "/srv/shop");
        CHECK(bad[2].run_id == "run-3");
        CHECK(bad[2].marked_bad_at == "t3");
        CHECK(bad[2].switched_to == "v1");
    }
}

} // namespace

TEST_SUITE("state") {
    TEST_CASE("MemoryStore keeps the Store contract") {
        state::MemoryStore store;
        check_contract(store);
    }

    TEST_CASE("LocalStore keeps the Store contract") {
        test::TempDir dir;
        state::LocalStore store(dir.path());
        check_contract(store);
    }

    TEST_CASE("LocalStore keeps the documented files byte for byte") {
        test::TempDir dir;
        state::LocalStore store(dir.path());
        auto r = record_at("2026-11-26T10:00:00Z", decision::Action::trigger);
        const std::string where = store.put_record(r);
        CHECK(where == (dir / ("decisions/" + decision::record_id(r) + ".json")).string());
        CHECK(util::read_file(where) == decision::to_json(r) + "\n");

        auto a = request("20261126T100000.000Z-0000000b", "2026-11-26T10:00:00Z");
        store.put_approval(a);
        CHECK(util::read_file(dir / "approvals/20261126T100000.000Z-0000000b.json") ==
              "{\"version\":1,\"decision_id\":\"20261126T100000.000Z-0000000b\","
              "\"requested_at\":\"2026-11-26T10:00:00.000Z\",\"expires_at\":\"2026-11-26T10:30:00."
              "000Z\","
              "\"condition\":\"errors\",\"severity\":\"high\",\"reason\":\"errors above 5%\","
              "\"state\":\"pending\",\"approved_by\":\"\",\"approved_at\":\"\",\"run_id\":\"\"}\n");

        decision::BaselineBook book;
        store.put_baselines(book);
        CHECK(util::read_file(dir / "baselines.json") == book.to_json() + "\n");

        const std::string marker_where =
            store.put_deploy_marker({"v2", at("2026-11-26T12:00:00Z"), "shop"});
        const std::string marker = "{\"version\":1,\"kind\":\"deploy\",\"release\":\"v2\","
                                   "\"time\":\"2026-11-26T12:00:00.000Z\",\"target\":\"shop\"}";
        CHECK(marker_where == (dir / "deploy.json").string());
        CHECK(util::read_file(dir / "deploy.json") == marker + "\n");
        store.put_deploy_marker({"v3", at("2026-11-26T13:00:00Z"), "shop"});
        CHECK(util::read_file(dir / "deploys.jsonl").rfind(marker + "\n", 0) == 0);
        CHECK(store.deploy_history_location() == (dir / "deploys.jsonl").string());

        store.record_bad_release({"v2", "/srv/shop", "2026-11-26T12:05:00.000Z", "run-1", "v1"});
        CHECK(util::read_file(dir / "releases.json") ==
              "{\"version\":1,\"bad_releases\":[{\"release\":\"v2\",\"location\":\"/srv/shop\","
              "\"marked_bad_at\":\"2026-11-26T12:05:00.000Z\",\"run_id\":\"run-1\","
              "\"switched_to\":\"v1\"}]}\n");
    }

    TEST_CASE("LocalStore: a run's journal is runs/RUN_ID.jsonl and its hash chain verifies") {
        test::TempDir dir;
        state::LocalStore store(dir.path());
        const std::string run = "20261126T100000Z-aaaaaa";
        auto lease = store.acquire_lease(state::this_process_holder(run, "test")).lease;
        REQUIRE(lease);
        store.create_journal(run, {{"run_id", run}}, *lease)->append({{"type", "note"}});
        store.open_journal(run, *lease, nullptr)->append({{"type", "note"}, {"text", "again"}});
        const fs::path file = dir / ("runs/" + run + ".jsonl");
        CHECK(store.journal_location(run) == file.string());
        CHECK(store.artifacts_dir(run) == dir / ("runs/" + run));
        const auto v = journal::verify(file);
        CHECK(v.ok);
        CHECK(v.lines == 3);
    }

    TEST_CASE("LocalStore: the lock file counts acquisitions and lock.json names the holder") {
        test::TempDir dir;
        state::LocalStore store(dir.path());
        state::Holder h{"20261126T100000Z-aaaaaa",  4242,     "web1",
                        "2026-11-26T10:00:00.000Z", "errors", "oncall"};
        {
            auto a = store.acquire_lease(h);
            REQUIRE(a.lease);
            CHECK(a.lease->generation() == 1);
            CHECK(util::read_file(dir / "lock") == "1\n");
            CHECK(util::read_file(dir / "lock.json") ==
                  "{\"run_id\":\"20261126T100000Z-aaaaaa\",\"pid\":4242,\"host\":\"web1\","
                  "\"started\":\"2026-11-26T10:00:00.000Z\",\"reason\":\"errors\","
                  "\"user\":\"oncall\"}\n");
        } // released by its destructor: lock.json goes, the count stays
        CHECK_FALSE(fs::exists(dir / "lock.json"));
        auto b = store.acquire_lease(h);
        REQUIRE(b.lease);
        CHECK(b.lease->generation() == 2);
        CHECK(util::read_file(dir / "lock") == "2\n");
    }

    TEST_CASE("MemoryStore: a lease that was not renewed in time is lost to the next holder") {
        struct Clock final : util::Clock {
            util::SystemTime t;
            util::SystemTime now() const override { return t; }
        } clock;
        clock.t = at("2026-11-26T10:00:00Z");
        state::MemoryStore store(clock, std::chrono::seconds(30));
        auto a = store.acquire_lease(state::this_process_holder("20261126T100000Z-aaaaaa", "a"));
        REQUIRE(a.lease);
        REQUIRE(a.lease->expires_at());
        CHECK(*a.lease->expires_at() == at("2026-11-26T10:00:30Z"));
        clock.t = at("2026-11-26T10:00:20Z");
        CHECK(a.lease->renew()); // a heartbeat in time: good until 10:00:50
        clock.t = at("2026-11-26T10:00:45Z");
        CHECK(store.is_run_live("20261126T100000Z-aaaaaa"));
        clock.t = at("2026-11-26T10:00:51Z"); // silent past its expiry: it may have died
        CHECK_FALSE(store.lease_holder());
        CHECK(store.dead_holder()->run_id == "20261126T100000Z-aaaaaa");
        auto b = store.acquire_lease(state::this_process_holder("20261126T100051Z-bbbbbb", "b"));
        REQUIRE(b.lease);
        REQUIRE(b.stale);
        CHECK(b.stale->run_id == "20261126T100000Z-aaaaaa");
        CHECK(b.lease->generation() == a.lease->generation() + 1);
        // The old holder comes back: its lease is gone and it can change nothing.
        CHECK_FALSE(a.lease->renew());
        a.lease->release();
        a.lease->set_run_id("20261126T100000Z-0a1b2c");
        CHECK(store.lease_holder()->run_id == "20261126T100051Z-bbbbbb");
    }

    TEST_CASE("MemoryStore: a holder that lost its lease appends nothing more to its journal") {
        struct Clock final : util::Clock {
            util::SystemTime t;
            util::SystemTime now() const override { return t; }
        } clock;
        clock.t = at("2026-11-26T10:00:00Z");
        state::MemoryStore store(clock, std::chrono::seconds(30));
        const std::string run = "20261126T100000Z-aaaaaa";
        auto a = store.acquire_lease(state::this_process_holder(run, "a")).lease;
        REQUIRE(a);
        auto journal = store.create_journal(run, {{"run_id", run}}, *a);
        journal->append({{"type", "note"}, {"text", "before"}});
        clock.t = at("2026-11-26T10:01:00Z"); // a's lease ran out; b takes over the run
        auto b = store.acquire_lease(state::this_process_holder(run, "b")).lease;
        REQUIRE(b);
        try {
            journal->append({{"type", "step_started"}, {"step", "restore"}});
            FAIL("a fenced-off holder appended");
        } catch (const util::Error& e) {
            CHECK(e.code() == util::ExitCode::state_unwritable);
        }
        auto continued = store.open_journal(run, *b, nullptr);
        CHECK(continued->append({{"type", "note"}, {"text", "after"}}) == 2);
        const auto records = store.read_journal(run).records;
        REQUIRE(records.size() == 2);
        CHECK(records[1].at("text") == "after");
        CHECK(records[1].at("time") == "2026-11-26T10:01:00.000Z");
    }

    TEST_CASE("LocalStore: deploy markers before the history file and malformed history lines") {
        test::TempDir dir;
        state::LocalStore store(dir.path());
        // A state directory from before deploys.jsonl: the one marker is the history.
        dir.write("deploy.json", "{\"release\":\"v7\",\"time\":\"2026-11-26T12:00:00Z\"}\n");
        auto history = store.deploy_history("shop");
        REQUIRE(history.size() == 1);
        CHECK(history[0].release == "v7");
        dir.write("deploys.jsonl", "{\"release\":\"v7\",\"time\":\"2026-11-26T12:00:00Z\"}\n"
                                   "not json\n{\"release\":\"v8\"}\n");
        try {
            store.deploy_history("shop");
            FAIL("a malformed history was read");
        } catch (const util::InvalidInput& e) {
            REQUIRE(e.diagnostics().size() == 2);
            CHECK(e.diagnostics()[0].where.line == 2);
            CHECK(e.diagnostics()[1].problem == "malformed: no \"time\"");
        }
        dir.write("deploy.json", "{}");
        CHECK_THROWS_AS(store.deploy_marker(), util::Error);
        dir.write("releases.json", "{\"version\":1}");
        CHECK_THROWS_AS(store.bad_releases(), util::Error);
    }

    TEST_CASE("LocalStore: a malformed approval request or record is an error naming its file") {
        test::TempDir dir;
        dir.write("approvals/20261126T100000.000Z-0000000b.json", "{\"version\":1}\n");
        state::LocalStore store(dir.path());
        try {
            store.approval("20261126T100000.000Z-0000000b");
            FAIL("a malformed request was read");
        } catch (const util::Error& e) {
            CHECK(std::string(e.what()).find("20261126T100000.000Z-0000000b.json") !=
                  std::string::npos);
        }
        CHECK_THROWS_AS(store.approvals(), util::Error);
        dir.write("decisions/x.json", "not json\n");
        CHECK_THROWS(store.record("x"));
    }

    TEST_CASE(
        "MemoryStore ticks: one line per tick by day and a new day drops days past the keep") {
        state::MemoryStore store;
        store.append_tick(record_at("2026-11-01T10:00:00Z", decision::Action::none), "", 14);
        store.append_tick(record_at("2026-11-20T10:00:00Z", decision::Action::none), "", 14);
        store.append_tick(record_at("2026-11-20T10:00:10Z", decision::Action::none), "", 14);
        CHECK(store.ticks().size() == 1); // 2026-11-20 started a day: 2026-11-01 is past the keep
        auto r = record_at("2026-11-26T10:00:00Z", decision::Action::trigger);
        store.append_tick(r, decision::record_id(r), 14);
        REQUIRE(store.ticks().size() == 2);
        CHECK(store.ticks().begin()->first == "2026-11-20");
        CHECK(store.ticks().at("2026-11-20").size() == 2);
        const auto& line = store.ticks().at("2026-11-26").at(0);
        CHECK(line == state::tick_line(r, decision::record_id(r)));
        CHECK(line.find("\"record\":\"" + decision::record_id(r) + "\"") != std::string::npos);
    }
}
