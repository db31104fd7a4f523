// SPDX-License-Identifier: MIT
#include "journal/records.hpp"

#include "journal/writer.hpp"

#include <boost/json/serialize.hpp>
#include <doctest/doctest.h>

using namespace rollback::journal;
namespace json = boost::json;

namespace {

/// The record as a journal line's JSON, read back.
Record round_trip(const Record& r) {
    return read_entry(to_json(r)).record;
}

} // namespace

TEST_SUITE("journal") {
    TEST_CASE("records: every type has its name and back") {
        for (auto t = RecordType::header; t != RecordType::unknown;
             t = static_cast<RecordType>(static_cast<int>(t) + 1)) {
            INFO(static_cast<int>(t));
            CHECK(!to_string(t).empty());
            CHECK(record_type(to_string(t)) == t);
        }
        CHECK(record_type("step_teleported") == RecordType::unknown);
        CHECK(record_type("") == RecordType::unknown);
        CHECK(to_string(RecordType::unknown).empty());
    }

    TEST_CASE("records: JSON keys in the documented order") {
        StepFinished f;
        f.step = "restore";
        f.attempt = 2;
        f.status = "failed";
        f.exit_code = 1;
        f.duration_ms = 40;
        f.summary = "exit 1";
        f.left_running = {{42, "sleep 100", false}};
        CHECK(json::serialize(to_json(f)) ==
              R"({"type":"step_finished","step":"restore","attempt":2,"status":"failed",)"
              R"("exit_code":1,"duration_ms":40,"summary":"exit 1","output_tail":"",)"
              R"("details":{},"left_running":[{"pid":42,"command":"sleep 100"}]})");
        f.exit_code.reset();
        f.left_running.clear();
        CHECK(json::serialize(to_json(f)).find("exit_code") == std::string::npos);
        CHECK(json::serialize(to_json(f)).find("left_running") == std::string::npos);

        StepProbe by_command;
        by_command.step = "s";
        by_command.exit_code = 1;
        by_command.verdict = "not_done";
        CHECK(
            json::serialize(to_json(by_command)) ==
            R"({"type":"step_probe","step":"s","exit_code":1,"verdict":"not_done","output_tail":""})");
        StepProbe by_action;
        by_action.step = "s";
        by_action.by = "action";
        by_action.verdict = "done";
        by_action.state = "swapped";
        CHECK(
            json::serialize(to_json(by_action)) ==
            R"({"type":"step_probe","step":"s","by":"action","verdict":"done","state":"swapped"})");

        RunHandedOver h;
        h.signal = "SIGTERM";
        h.during = "steps";
        h.step = "restore";
        h.attempt = 2;
        h.step_status = "interrupted";
        h.step_summary = "interrupted";
        h.generation = 5;
        h.resume = "rollback resume R -c /etc/rollback.toml";
        CHECK(
            json::serialize(to_json(h)) ==
            R"({"type":"run_handed_over","signal":"SIGTERM","during":"steps","step":"restore",)"
            R"("attempt":2,"step_status":"interrupted","step_summary":"interrupted",)"
            R"("to":"next_leader","generation":5,"resume":"rollback resume R -c /etc/rollback.toml"})");
        RunHandedOver between;
        between.signal = "SIGINT";
        between.during = "finally";
        between.generation = 5;
        between.resume = "rollback resume R";
        CHECK(json::serialize(to_json(between)) ==
              R"({"type":"run_handed_over","signal":"SIGINT","during":"finally",)"
              R"("to":"next_leader","generation":5,"resume":"rollback resume R"})");
        CHECK(json::serialize(to_json(RunAbandoned{"R2", "alice", "web1", 42})) ==
              R"({"type":"run_abandoned","new_run":"R2","by":"alice","host":"web1","pid":42})");

        StepProgress p{"restore", "restored", {{"database", "shop"}, {"backup", "b1"}}};
        CHECK(
            json::serialize(to_json(p)) ==
            R"({"type":"step_progress","step":"restore","stage":"restored","database":"shop","backup":"b1"})");
    }

    TEST_CASE("records: read back as written") {
        RunStarted s;
        s.run_id = "20261126T143500Z-3fa9c1";
        s.playbook = "pb.toml";
        s.playbook_name = "shop";
        s.trigger = {"condition", "error-rate", "critical", "checkout errors", "d-1"};
        s.user = "alice";
        s.pid = 7;
        s.steps = {{"a", "code", "exec", true, false, false},
                   {"z", "finally", "exec", false, true, true}};
        s.selection = {{"a"}, {}, ""};
        const auto back = std::get<RunStarted>(round_trip(s));
        CHECK(back.trigger.kind == "condition");
        CHECK(back.trigger.reason == "checkout errors");
        CHECK(back.trigger.decision_id == "d-1");
        REQUIRE(back.steps.size() == 2);
        CHECK(back.steps[1].is_finally);
        CHECK(back.steps[1].has_probe);
        CHECK(back.selection.only == std::vector<std::string>{"a"});
        CHECK(to_json(back) == to_json(s));

        StepSurvivors v{"s",
                        1,
                        99,
                        {{100, "sleep 5", false}},
                        "remain",
                        300,
                        {{{100, "sleep 5", true}}},
                        std::nullopt,
                        std::nullopt,
                        std::nullopt,
                        std::nullopt};
        const auto vb = std::get<StepSurvivors>(round_trip(v));
        REQUIRE(vb.remaining);
        CHECK(vb.remaining->at(0).pid == 100);
        CHECK(vb.remaining->at(0).left_group);
        CHECK(!vb.found.at(0).left_group);
        CHECK(to_json(vb) == to_json(v));

        NeedsAttention run_level{std::nullopt, "look"};
        CHECK(!std::get<NeedsAttention>(round_trip(run_level)).step);
        StepMarkedDone m{"s", "bob", "by hand", std::string("side database exists")};
        CHECK(std::get<StepMarkedDone>(round_trip(m)).probe_state == "side database exists");
        RunFinished fin{"failed", 1, 1234, 2};
        CHECK(to_json(round_trip(fin)) == to_json(fin));

        // What resume writes about a group it did not signal, and a program's own exit.
        StepSurvivors refused{
            "s",
            1,
            99,
            {},
            "not_proven",
            0,
            std::nullopt,
            std::vector<Process>{{4242, "sleep 120", false}},
            std::string("its processes carry neither the attempt's token nor its mark"),
            std::nullopt,
            std::nullopt};
        const auto rb = std::get<StepSurvivors>(round_trip(refused));
        REQUIRE(rb.unproven);
        CHECK(rb.unproven->at(0).pid == 4242);
        CHECK(rb.why == refused.why);
        CHECK_FALSE(rb.host);
        CHECK(to_json(rb) == to_json(refused));
        StepSurvivors on_host = refused; // what a resume found on a host
        on_host.pgid = 0;
        on_host.host = "web1";
        const auto hb = std::get<StepSurvivors>(round_trip(on_host));
        CHECK(hb.host == std::optional<std::string>("web1"));
        CHECK(to_json(hb) == to_json(on_host));
        StepProcessExited exited{"s",          1,           99,      "exited", 0, std::nullopt,
                                 std::nullopt, "succeeded", "exit 0"};
        const auto eb = std::get<StepProcessExited>(round_trip(exited));
        CHECK(eb.step_status == "succeeded");
        CHECK(eb.exit_code == 0);
        CHECK(!eb.signal);
        CHECK(to_json(eb) == to_json(exited));
        StepFinished recovered;
        recovered.step = "s";
        recovered.attempt = 1;
        recovered.status = "succeeded";
        recovered.recovered = true;
        CHECK(std::get<StepFinished>(round_trip(recovered)).recovered);
        CHECK(to_json(round_trip(recovered)) == to_json(recovered));

        // A hand-over, with the step it interrupted and without; an abandoned run.
        RunHandedOver h{"SIGTERM",
                        "steps",
                        "restore-db",
                        3,
                        "interrupted",
                        "interrupted",
                        "next_leader",
                        9,
                        "rollback resume R --state-dir /var/lib/rb"};
        const auto handed = std::get<RunHandedOver>(round_trip(h));
        CHECK(handed.step == "restore-db");
        CHECK(handed.attempt == 3);
        CHECK(handed.generation == 9);
        CHECK(handed.resume == h.resume);
        CHECK(to_json(handed) == to_json(h));
        RunHandedOver none{"SIGTERM", "finally", "", std::nullopt, "", "", "next_leader", 9, ""};
        const auto nb = std::get<RunHandedOver>(round_trip(none));
        CHECK(nb.step.empty());
        CHECK(!nb.attempt);
        CHECK(to_json(nb) == to_json(none));
        RunAbandoned a{"20261126T150000Z-0a0b0c", "bob", "web2", 99};
        const auto ab = std::get<RunAbandoned>(round_trip(a));
        CHECK(ab.new_run == a.new_run);
        CHECK(ab.pid == 99);
        CHECK(to_json(ab) == to_json(a));

        // The database sessions of an interrupted attempt: ended, and still open with why.
        const DbSession open{25240, "rollback/R/orders-off/1", "shop", "shop", "active"};
        StepSessions ended{"orders-off", 1,  "dbname=shop", {open},
                           "ended",      40, std::nullopt,  std::nullopt};
        CHECK(json::serialize(to_json(ended)) ==
              R"({"type":"step_sessions","step":"orders-off","attempt":1,"server":"dbname=shop",)"
              R"("found":[{"pid":25240,"name":"rollback/R/orders-off/1","database":"shop",)"
              R"("user":"shop","state":"active"}],"outcome":"ended","waited_ms":40})");
        CHECK(to_json(round_trip(ended)) == to_json(ended));
        StepSessions remain{"orders-off",
                            2,
                            "dbname=shop",
                            {open},
                            "remain",
                            10000,
                            std::vector<DbSession>{open},
                            "pid 25240: permission denied to terminate process"};
        const auto rs = std::get<StepSessions>(round_trip(remain));
        REQUIRE(rs.remaining);
        CHECK(rs.remaining->front().state == "active");
        CHECK(rs.why == remain.why);
        CHECK(to_json(rs) == to_json(remain));
    }

    TEST_CASE("records: a field of the wrong type reads as absent and an unknown type is kept") {
        const Entry e = read_entry({{"seq", 4},
                                    {"time", "2026-11-26T14:35:00.000Z"},
                                    {"type", "step_finished"},
                                    {"step", 12},
                                    {"exit_code", "one"},
                                    {"left_running", "none"}});
        CHECK(e.seq == 4);
        REQUIRE(e.type() == RecordType::step_finished);
        const auto& f = std::get<StepFinished>(e.record);
        CHECK(f.step.empty());
        CHECK(!f.exit_code);
        CHECK(f.left_running.empty());
        CHECK(e.step().empty());

        const Entry u = read_entry({{"type", "step_teleported"}, {"step", "s"}});
        CHECK(u.type() == RecordType::unknown);
        CHECK(std::get<Unknown>(u.record).type == "step_teleported");
        CHECK(u.seq == -1);
        CHECK(read_entry({{"seq", 1}}).type() == RecordType::unknown);
    }
}
