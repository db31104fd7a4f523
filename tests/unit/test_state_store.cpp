// SPDX-License-Identifier: MIT
#include "state/local_store.hpp"
#include "state/memory_store.hpp"
#include "state/policy_memory.hpp"
#include "state/step_gate.hpp"

#include "journal/state.hpp"

#include "support/store_contract.hpp"
#include "support/temp_dir.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/time.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <memory>
#include <sys/stat.h>

using namespace rollback;
namespace fs = std::filesystem;

using test::at;
using test::check_contract;
using test::record_at;
using test::request;

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
              "\"state\":\"pending\",\"approved_by\":\"\",\"approved_at\":\"\","
              "\"answer_reason\":\"\",\"run_id\":\"\",\"withdrawn_at\":\"\","
              "\"withdrawn_reason\":\"\",\"told\":[],\"announced\":false}\n");

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

    TEST_CASE("LocalStore keeps the gates and the policy memory in their files byte for byte") {
        test::TempDir dir;
        state::LocalStore store(dir.path());
        const std::string run = "20261126T100000Z-aaaaaa";
        const state::StepGates gates(store);
        gates.open({run,
                    "deploy",
                    at("2026-11-26T10:00:00Z"),
                    at("2026-11-26T10:30:00Z"),
                    "go?",
                    {"ana"},
                    false});
        CHECK(util::read_file(dir / ("runs/" + run + "/gates/deploy.request.json")) ==
              "{\"version\":1,\"run_id\":\"20261126T100000Z-aaaaaa\",\"step\":\"deploy\","
              "\"requested_at\":\"2026-11-26T10:00:00.000Z\",\"expires_at\":\"2026-11-26T10:30:"
              "00.000Z\",\"message\":\"go?\",\"approvers\":[\"ana\"],\"on_timeout\":\"reject\"}"
              "\n");
        gates.give(run, "deploy", {true, "ana", at("2026-11-26T10:05:00Z"), "ok"});
        CHECK(util::read_file(dir / ("runs/" + run + "/gates/deploy.answer.json")) ==
              "{\"version\":1,\"answer\":\"approved\",\"by\":\"ana\",\"at\":\"2026-11-26T10:"
              "05:00.000Z\",\"note\":\"ok\"}\n");
        // The path constructor (callers that know only the directory) reads the same files.
        CHECK(state::StepGates(dir.path()).answer(run, "deploy")->note == "ok");
        decision::Evaluator::PolicyMemory kept{at("2026-11-26T11:00:00Z"), std::nullopt};
        kept.evaluated_until = at("2026-11-26T10:00:00Z");
        kept.shadow_cooldown_until = at("2026-11-26T10:30:00Z");
        decision::Evaluator::ConditionMemory open;
        open.incident_since = at("2026-11-26T09:50:00Z");
        open.breached_at = at("2026-11-26T09:59:00Z");
        open.silence_escalated = at("2026-11-26T09:58:00Z");
        kept.conditions["err"] = open;
        state::save_policy_memory(dir.path(), kept);
        CHECK(util::read_file(dir / "monitor-policy.json") ==
              "{\"version\":3,\"cooldown_until\":\"2026-11-26T11:00:00.000Z\","
              "\"watch_until\":\"\",\"evaluated_until\":\"2026-11-26T10:00:00.000Z\","
              "\"watch_since\":\"\",\"shadow_cooldown_until\":\"2026-11-26T10:30:00.000Z\","
              "\"conditions\":{\"err\":{\"incident_since\":\"2026-11-26T09:50:00.000Z\","
              "\"ok_since\":\"\",\"breached_at\":\"2026-11-26T09:59:00.000Z\",\"acted\":false,"
              "\"shadow_acted\":false,"
              "\"last_escalated\":\"\",\"silence_escalated\":\"2026-11-26T09:58:00.000Z\","
              "\"noted_cooldown\":\"\","
              "\"missing_verdict\":\"\","
              "\"approval_id\":\"\",\"approval_expires\":\"\",\"approval_expired\":false,"
              "\"approval_escalated\":false,\"fail_since\":\"\",\"fail_last\":\"\","
              "\"judged_until\":\"\"}}}\n");
        CHECK(state::load_policy_memory(store) == kept);
        CHECK(state::load_policy_memory(store)->cooldown_until == at("2026-11-26T11:00:00Z"));
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
        const auto read = store.read_journal(run);
        REQUIRE(read.records.size() == 2);
        CHECK(read.object(2).at("text") == "after");
        CHECK(read.object(2).at("time") == "2026-11-26T10:01:00.000Z");
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

    TEST_CASE("LocalStore: active alerts are alerts.json written whole — a malformed one is an "
              "error naming it") {
        test::TempDir dir;
        state::LocalStore store(dir.path());
        store.put_active_alerts({{"f1",
                                  {{"alertname", "HighErrorRate"}},
                                  "",
                                  at("2026-12-05T17:00:00Z"),
                                  "",
                                  std::nullopt}});
        CHECK(
            util::read_file(dir.path() / "alerts.json") ==
            "{\"version\":1,\"alerts\":[{\"fingerprint\":\"f1\",\"labels\":{\"alertname\":"
            "\"HighErrorRate\"},\"starts_at\":\"\",\"received\":\"2026-12-05T17:00:00.000Z\"}]}\n");
        for (const char* bad : {"{", "{\"version\":2,\"alerts\":[]}",
                                "{\"version\":1,\"alerts\":[{\"fingerprint\":\"f1\"}]}",
                                "{\"version\":1,\"alerts\":[{\"fingerprint\":\"f1\",\"labels\":{},"
                                "\"starts_at\":\"\",\"received\":\"yesterday\"}]}"}) {
            CAPTURE(bad);
            util::write_file_atomic(dir.path() / "alerts.json", bad);
            try {
                store.active_alerts();
                FAIL("no error for a malformed alerts.json");
            } catch (const util::Error& e) {
                CHECK(std::string(e.what()).find("alerts.json") != std::string::npos);
            }
        }
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
        dir.write("decisions/x.json", "not json\n");
        CHECK_THROWS(store.record("x"));
    }

    TEST_CASE("LocalStore: requests that cannot be read are passed over and named — the others "
              "are listed and a new one is filed") {
        // break-it 42/01: one unreadable file in approvals/ failed every listing, so a monitor
        // in mode confirm could file no request and `approve --list` showed nothing.
        test::TempDir dir;
        state::LocalStore store(dir.path());
        store.put_approval(request("20261126T100000.000Z-0000000a", "2026-11-26T10:00:00Z"));
        const auto malformed =
            dir.write("approvals/20261126T100100.000Z-0000000b.json", "{\"version\":1}\n");
        const auto dangling = dir / "approvals/20261126T100200.000Z-0000000c.json";
        fs::create_symlink("/nonexistent/request.json", dangling);
        const auto fifo = dir / "approvals/20261126T100300.000Z-0000000d.json";
        REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
        fs::create_directory(dir / "approvals/not-a-request.json"); // a directory: no request

        std::vector<std::string> skipped;
        const auto all = store.approvals(&skipped);
        REQUIRE(all.size() == 1);
        CHECK(all[0].decision_id == "20261126T100000.000Z-0000000a");
        REQUIRE(skipped.size() == 3); // those it cannot read, then those it cannot parse
        CHECK(skipped[0] == "cannot read " + dangling.string() + ": No such file or directory");
        CHECK(skipped[1] == "cannot read " + fifo.string() +
                                ": not a regular file (a FIFO, a device or a socket)");
        CHECK(skipped[2].rfind(malformed.string() + ": malformed approval request", 0) == 0);
        CHECK(store.approvals().size() == 1); // without `skipped`: the same, logged

        // A new request of another incident is filed beside them.
        auto next = request("20261126T110000.000Z-0000000e", "2026-11-26T11:00:00Z");
        next.condition = "latency";
        store.request_approval(next, 0);
        CHECK(store.approvals().size() == 2);
    }

    TEST_CASE("LocalStore: the newest decision record is a regular file") {
        test::TempDir dir;
        state::LocalStore store(dir.path());
        const auto r = record_at("2026-11-26T10:00:00Z", decision::Action::notify);
        store.put_record(r);
        // Named like newer records, neither is one: explain --last shows the record above.
        std::filesystem::create_symlink("/nonexistent/x.json",
                                        dir / "decisions/29991231T000000.000Z-0000000f.json");
        REQUIRE(::mkfifo((dir / "decisions/29991231T000001.000Z-0000000e.json").c_str(), 0600) ==
                0);
        CHECK(store.newest_record_id() == decision::record_id(r));
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

TEST_SUITE("state") {
    TEST_CASE("LocalStore: a state directory it cannot write is exit 7 with the hint") {
        test::TempDir dir;
        state::LocalStore store(dir.path());
        // Files where its directories go: every write fails, as on a full or read-only disk.
        util::write_file_atomic(dir / "approvals", "not a directory\n");
        util::write_file_atomic(dir / "decisions", "not a directory\n");
        fs::create_directories(dir / "deploy.json");
        state::ApprovalRequest a;
        a.decision_id = "d1";
        auto expect_unwritable = [&](auto write) {
            try {
                write();
                FAIL("the write did not fail");
            } catch (const util::Error& e) {
                CHECK(e.code() == util::ExitCode::state_unwritable);
                CHECK(std::string(e.what()).rfind("the state directory cannot be written: ", 0) ==
                      0);
                CHECK(e.hint().find("--state-dir") != std::string::npos);
            }
        };
        expect_unwritable([&] { store.put_approval(a); });
        expect_unwritable([&] { store.put_deploy_marker(state::DeployMarker{}); });
        expect_unwritable([&] { store.put_record(decision::DecisionRecord{}); });
    }
}
