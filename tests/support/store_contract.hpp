// SPDX-License-Identifier: MIT
#pragma once

// The contract every state::Store keeps, whatever keeps it: the same doctest SUBCASEs run over
// MemoryStore, LocalStore (test_state_store.cpp) and PgStore (test_state_pg_store.cpp). Each
// SUBCASE starts from an empty store (the TEST_CASE that calls check_contract makes a new one
// on every pass).

#include "state/approval_answer.hpp"
#include "state/policy_memory.hpp"
#include "state/step_gate.hpp"
#include "state/store.hpp"

#include "journal/reader.hpp"
#include "journal/state.hpp"
#include "journal/writer.hpp"
#include "util/error.hpp"
#include "util/sha256.hpp"
#include "util/time.hpp"

#include <doctest/doctest.h>

namespace rollback::test {

struct StoreTraits {
    /// A lease ends by itself unless renewed (a store shared between hosts).
    bool leases_expire = false;
};

inline util::SystemTime at(const char* text) {
    auto t = util::parse_time(text);
    REQUIRE(t);
    return *t;
}

inline decision::DecisionRecord record_at(const char* time, decision::Action action) {
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

inline state::ApprovalRequest request(std::string id, const char* requested) {
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
inline void check_contract(state::Store& store, StoreTraits traits = {}) {
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
        // Withdrawn by the monitor (its incident ended): the state, when and why come back.
        auto withdrawn = request("20261126T090000.000Z-0000000a", "2026-11-26T09:00:00Z");
        withdrawn.state = "withdrawn";
        withdrawn.withdrawn_at = at("2026-11-26T09:20:00Z");
        withdrawn.withdrawn_reason = "the incident of condition \"err\" resolved";
        store.put_approval(withdrawn);
        auto back = store.approval(withdrawn.decision_id);
        REQUIRE(back);
        CHECK(back->state == "withdrawn");
        CHECK(back->withdrawn_at == withdrawn.withdrawn_at);
        CHECK(back->withdrawn_reason == withdrawn.withdrawn_reason);
        CHECK_FALSE(store.approval("20261126T100000.000Z-0000000b")->withdrawn_at);
        CHECK_THROWS_AS(store.put_approval(request("../escape", "2026-11-26T10:00:00Z")),
                        util::Error);
        CHECK_THROWS_AS(store.approval("a/b"), util::Error);
        CHECK_THROWS_AS(store.approval(""), util::Error);
    }
    SUBCASE("approval answers: a compare-and-set on pending with no run, one winner ever") {
        const std::string id = "20261126T100000.000Z-0000000c";
        auto first = request(id, "2026-11-26T10:00:00Z");
        first.state = "approved";
        first.approved_by = "ann";
        first.run_id = "20261126T100500Z-aaaaaa";
        CHECK_FALSE(store.answer_pending_approval(first)); // no request: nothing written
        CHECK_FALSE(store.approval(id));
        store.put_approval(request(id, "2026-11-26T10:00:00Z"));
        CHECK(store.answer_pending_approval(first));
        auto second = first;
        second.approved_by = "bob";
        second.run_id = "20261126T100600Z-bbbbbb";
        CHECK_FALSE(store.answer_pending_approval(second)); // answered: the first one stays
        CHECK(store.approval(id)->approved_by == "ann");
        CHECK(store.approval(id)->run_id == "20261126T100500Z-aaaaaa");
        auto withdrawn = request(id, "2026-11-26T10:00:00Z");
        withdrawn.state = "withdrawn";
        store.put_approval(withdrawn);
        CHECK_FALSE(store.answer_pending_approval(second)); // withdrawn: stays withdrawn
        CHECK(store.approval(id)->state == "withdrawn");
    }
    SUBCASE("approval answers interleaved: the monitor's withdrawal and a person's answers") {
        const std::string id = "20261126T100000.000Z-0000000d";
        store.put_approval(request(id, "2026-11-26T10:00:00Z"));
        // Both read the request pending, then both write: the first write wins, the second
        // changes nothing and learns what won.
        auto monitor_copy = *store.approval(id);
        auto person_copy = *store.approval(id);
        person_copy.state = "approved";
        person_copy.approved_by = "ann";
        person_copy.approved_at = at("2026-11-26T10:05:00Z");
        person_copy.run_id = "20261126T100500Z-aaaaaa";
        monitor_copy.state = "withdrawn";
        monitor_copy.withdrawn_at = at("2026-11-26T10:05:01Z");
        monitor_copy.withdrawn_reason = "the incident resolved";
        SUBCASE("the person first: the withdrawal is refused and says who approved") {
            CHECK(state::answer_approval(store, person_copy).kept);
            const auto lost = state::answer_approval(store, monitor_copy);
            CHECK_FALSE(lost.kept);
            CHECK(state::answered_how(lost.first) ==
                  "approved by ann at 2026-11-26T10:05:00.000Z (its run: 20261126T100500Z-aaaaaa)");
            CHECK(store.approval(id)->state == "approved");
            CHECK(store.approval(id)->run_id == "20261126T100500Z-aaaaaa");
        }
        SUBCASE("the monitor first: the approval is refused and says why it was withdrawn") {
            CHECK(state::answer_approval(store, monitor_copy).kept);
            const auto lost = state::answer_approval(store, person_copy);
            CHECK_FALSE(lost.kept);
            CHECK(state::answered_how(lost.first) ==
                  "withdrawn at 2026-11-26T10:05:01.000Z because the incident resolved");
            CHECK(store.approval(id)->state == "withdrawn");
            CHECK(store.approval(id)->run_id.empty());
            auto reject = person_copy;
            reject.state = "rejected";
            reject.run_id.clear();
            CHECK_FALSE(state::answer_approval(store, reject).kept); // nor a rejection
            CHECK(store.approval(id)->state == "withdrawn");
        }
        SUBCASE("a rejection first: neither the approval nor the withdrawal changes it") {
            auto reject = person_copy;
            reject.state = "rejected";
            reject.approved_by = "bob";
            reject.answer_reason = "a false alarm";
            reject.run_id.clear();
            CHECK(state::answer_approval(store, reject).kept);
            CHECK_FALSE(state::answer_approval(store, person_copy).kept);
            const auto lost = state::answer_approval(store, monitor_copy);
            CHECK(state::answered_how(lost.first) ==
                  "rejected by bob at 2026-11-26T10:05:00.000Z (a false alarm)");
            CHECK(store.approval(id)->state == "rejected");
        }
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
        CHECK_FALSE(shop[0].recorded_at); // none given: none kept
        // When it was written comes back, in the latest marker and in the history.
        store.put_deploy_marker(
            {"v3", at("2026-11-26T13:00:00Z"), "shop", at("2026-11-26T13:05:00.250Z")});
        REQUIRE(store.deploy_marker());
        CHECK(store.deploy_marker()->recorded_at == at("2026-11-26T13:05:00.250Z"));
        CHECK(store.deploy_marker()->known_at() == at("2026-11-26T13:05:00.250Z"));
        CHECK(store.deploy_history("shop").back().recorded_at == at("2026-11-26T13:05:00.250Z"));
    }
    SUBCASE("the run lock: one holder at a time, each acquisition a greater generation") {
        CHECK_FALSE(store.lease_holder());
        auto a = store.acquire_lease(state::this_process_holder("20261126T100000Z-aaaaaa", "a"));
        REQUIRE(a.lease);
        CHECK_FALSE(a.stale);
        const auto first = a.lease->generation();
        CHECK(first > 0);
        CHECK(a.lease->expires_at().has_value() == traits.leases_expire);
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
        CHECK(j.object(1).at("type") == "run_started");
        CHECK(j.object(3).at("text") == "two");
        CHECK(j.object(3).at("seq") == 3);
        // Each line names the hash of the line before it: the chain continues across the reopen.
        CHECK(j.object(3).at("prev") != j.object(2).at("prev"));
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
    SUBCASE("runs: the last record of a journal is its last line typed") {
        const std::string run = "20261126T100000Z-aaaaaa";
        auto lease = store.acquire_lease(state::this_process_holder(run, "test")).lease;
        REQUIRE(lease);
        auto j = store.create_journal(run, {{"run_id", run}}, *lease);
        CHECK_FALSE(store.last_record(run)); // the header is no record
        j->append(journal::to_json(journal::Note{"one"}));
        auto last = store.last_record(run);
        REQUIRE(last);
        CHECK(last->seq == 1);
        REQUIRE(last->type() == journal::RecordType::note);
        CHECK(std::get<journal::Note>(last->record).text == "one");
        j->append(journal::to_json(journal::RunFinished{"succeeded", 0, 12, std::nullopt}));
        last = store.last_record(run);
        REQUIRE(last);
        CHECK(last->seq == 2);
        REQUIRE(last->type() == journal::RecordType::run_finished);
        CHECK(std::get<journal::RunFinished>(last->record).duration_ms == 12);
    }
    SUBCASE("journals: exported as the JSON Lines file and imported as they are") {
        const std::string run = "20261126T100000Z-aaaaaa", moved = "20261126T090000Z-0d0d0d";
        auto lease = store.acquire_lease(state::this_process_holder(run, "test")).lease;
        REQUIRE(lease);
        store.create_journal(run, {{"run_id", run}}, *lease)
            ->append({{"type", "note"}, {"text", "one"}});
        const std::string text = store.journal_text(run);
        CHECK(text.back() == '\n');
        CHECK(journal::verify_content(text, "exported").ok);
        CHECK(journal::verify_content(text, "exported").lines == 2);
        try {
            store.import_journal(run, text, " --state-dir /x");
            FAIL("a run was imported over its own journal");
        } catch (const util::Error& e) {
            CHECK(e.code() == util::ExitCode::invalid);
            // The printed command finds this store again from any directory (break-it 46 F4).
            CHECK(e.hint() == "a run is imported once; compare with: rollback state export " + run +
                                  " --state-dir /x");
        }
        const std::string header =
            journal::header_line({{"run_id", moved}}, "2026-11-26T09:00:00Z");
        const std::string imported =
            header + "\n" +
            journal::record_line({{"type", "note"}, {"text", "moved"}}, 1, "2026-11-26T09:00:01Z",
                                 util::sha256_hex(header)) +
            "\n";
        store.import_journal(moved, imported, "");
        CHECK(store.journal_text(moved) == imported);
        CHECK(store.read_journal(moved).object(1).at("text") == "moved");
        CHECK(store.list_runs() == std::vector<std::string>{run, moved});
        CHECK_THROWS_AS(store.journal_text("20261126T120000Z-cccccc"), util::Error);
    }
    SUBCASE("approval gates: a request and an answer each written once and retired aside") {
        const std::string run = "20261126T100000Z-aaaaaa";
        const state::StepGates gates(store);
        CHECK_FALSE(gates.request(run, "deploy"));
        CHECK(gates.requests(run).empty());
        state::GateRequest want{
            run,     "deploy", at("2026-11-26T10:00:00Z"), at("2026-11-26T10:30:00Z"), "go?",
            {"ana"}, false};
        const auto first = gates.open(want);
        want.expires_at = at("2026-11-26T11:00:00Z"); // a resumed gate keeps the first expiry
        CHECK(gates.open(want).expires_at == first.expires_at);
        CHECK(first.approvers == std::vector<std::string>{"ana"});
        CHECK_FALSE(gates.answer(run, "deploy"));
        CHECK(gates.give(run, "deploy", {true, "ana", at("2026-11-26T10:05:00Z"), "ok"}));
        CHECK_FALSE(gates.give(run, "deploy", {false, "bob", at("2026-11-26T10:06:00Z"), ""}));
        REQUIRE(gates.answer(run, "deploy"));
        CHECK(gates.answer(run, "deploy")->by == "ana");
        gates.open({run,
                    "approve-db",
                    at("2026-11-26T10:01:00Z"),
                    at("2026-11-26T10:31:00Z"),
                    "db?",
                    {},
                    true});
        const auto listed = gates.requests(run);
        REQUIRE(listed.size() == 2);
        CHECK(listed[0].step == "approve-db");
        CHECK(listed[0].approve_on_timeout);
        gates.retire(run, "deploy"); // `resume --retry deploy`: the next attempt asks again
        CHECK_FALSE(gates.request(run, "deploy"));
        CHECK_FALSE(gates.answer(run, "deploy"));
        CHECK(store.gate_documents(run) == std::vector<std::string>{"approve-db.request",
                                                                    "deploy.answer.1",
                                                                    "deploy.request.1"});
        CHECK_THROWS_AS(gates.request("../x", "deploy"), util::Error);
    }
    SUBCASE("active alerts: none, then what was put, replaced as a whole") {
        CHECK(store.active_alerts().empty());
        state::ActiveAlert a{"f1",
                             {{"alertname", "HighErrorRate"}, {"service", "shop \"eu\""}},
                             "2026-12-05T17:00:00Z",
                             at("2026-12-05T17:00:03.250Z"),
                             "2026-12-05T17:10:00Z",
                             std::nullopt};
        state::ActiveAlert b{
            "f2", {{"alertname", "Down"}}, "", at("2026-12-05T17:01:00Z"), "", std::nullopt};
        store.put_active_alerts({a, b});
        auto back = store.active_alerts();
        REQUIRE(back.size() == 2);
        CHECK(back[0].fingerprint == "f1");
        CHECK(back[0].labels == a.labels);
        CHECK(back[0].starts_at == a.starts_at);
        CHECK(back[0].received == a.received);
        CHECK(back[1].fingerprint == "f2");
        CHECK(back[1].starts_at.empty());
        CHECK(back[0].ends_at == "2026-12-05T17:10:00Z");
        CHECK(back[1].ends_at.empty());
        state::ActiveAlert r{"f3", {}, "2026-12-05T16:00:00Z", {}, "", at("2026-12-05T16:30:00Z")};
        store.put_active_alerts({a, r});
        back = store.active_alerts();
        REQUIRE(back.size() == 2);
        CHECK(!back[0].resolved);
        REQUIRE(back[1].resolved);
        CHECK(back[1].fingerprint == "f3");
        CHECK(back[1].starts_at == "2026-12-05T16:00:00Z");
        CHECK(*back[1].resolved == at("2026-12-05T16:30:00Z"));
        store.put_active_alerts({b});
        back = store.active_alerts();
        REQUIRE(back.size() == 1);
        CHECK(back[0].fingerprint == "f2");
        store.put_active_alerts({});
        CHECK(store.active_alerts().empty());
    }
    SUBCASE("policy memory: none until saved, then what was saved") {
        CHECK_FALSE(state::load_policy_memory(store));
        const decision::Evaluator::PolicyMemory memory{
            at("2026-11-26T11:00:00Z"), std::nullopt, {}, at("2026-11-26T10:59:50Z")};
        state::save_policy_memory(store, memory);
        const auto back = state::load_policy_memory(store);
        REQUIRE(back);
        CHECK(*back == memory);
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

} // namespace rollback::test
