// SPDX-License-Identifier: MIT
#include "journal/state.hpp"

#include <doctest/doctest.h>

using namespace rollback::journal;
namespace json = boost::json;

namespace {

/// A journal in memory, records numbered like the writer would.
struct Builder {
    Journal j;
    std::int64_t seq = 0;
    Builder() {
        j.header = read_entry({{"seq", 0},
                               {"type", "header"},
                               {"run_id", "20261126T143500Z-3fa9c1"},
                               {"created", "2026-11-26T14:35:00.000Z"}});
    }
    Builder& add(json::object r) {
        r["seq"] = ++seq;
        r["time"] =
            "2026-11-26T14:35:" + std::string(seq < 10 ? "0" : "") + std::to_string(seq) + ".000Z";
        j.records.push_back(read_entry(r));
        return *this;
    }
    Builder& started() {
        json::array steps{
            json::object{
                {"id", "notify"}, {"phase", "immediate"}, {"action", "hook"}, {"idempotent", true}},
            json::object{{"id", "restore-db"},
                         {"phase", "database"},
                         {"action", "pg_restore"},
                         {"idempotent", false},
                         {"has_probe", true}},
            json::object{{"id", "switch"}, {"phase", "code"}, {"action", "release_switch"}},
            json::object{
                {"id", "reenable"}, {"phase", "finally"}, {"action", "exec"}, {"finally", true}},
        };
        return add(
            {{"type", "run_started"},
             {"run_id", "20261126T143500Z-3fa9c1"},
             {"playbook", "/srv/playbooks/ecommerce.toml"},
             {"playbook_sha256", "ab12"},
             {"playbook_name", "ecommerce"},
             {"reason", "error rate 12%"},
             {"trigger", json::object{{"kind", "condition"},
                                      {"condition", "error-rate"},
                                      {"severity", "critical"},
                                      {"decision_id", "d-7"}}},
             {"user", "oncall"},
             {"host", "web1"},
             {"pid", 4242},
             {"dry_run", false},
             {"steps", steps},
             {"selection",
              json::object{{"only", json::array{}}, {"skip", json::array{}}, {"from", ""}}}});
    }
    Builder& step(const char* type, const char* id, json::object more = {}) {
        more["type"] = type;
        more["step"] = id;
        return add(std::move(more));
    }
};

} // namespace

TEST_SUITE("journal") {
    TEST_CASE("a finished run folds to its final state with every step") {
        Builder b;
        b.started()
            .step("step_started", "notify", {{"attempt", 1}})
            .step("step_finished", "notify",
                  {{"attempt", 1},
                   {"status", "succeeded"},
                   {"exit_code", 0},
                   {"duration_ms", 30},
                   {"summary", "sent"},
                   {"output_tail", "ok\n"}})
            .step("step_started", "restore-db", {{"attempt", 1}})
            .step("step_finished", "restore-db",
                  {{"attempt", 1},
                   {"status", "failed"},
                   {"exit_code", 1},
                   {"duration_ms", 900},
                   {"summary", "exit 1"}})
            .step("step_started", "restore-db", {{"attempt", 2}})
            .step("step_finished", "restore-db",
                  {{"attempt", 2}, {"status", "succeeded"}, {"exit_code", 0}, {"duration_ms", 800}})
            .step("step_skipped", "switch", {{"why", "--skip switch"}})
            .step("step_started", "reenable", {{"attempt", 1}})
            .step("step_finished", "reenable",
                  {{"attempt", 1}, {"status", "succeeded"}, {"exit_code", 0}})
            .add({{"type", "note"}, {"text", "done"}})
            .add({{"type", "run_finished"},
                  {"state", "succeeded"},
                  {"exit_code", 0},
                  {"duration_ms", 2000}});
        for (bool live : {true, false}) {
            RunState s = fold(b.j, live);
            CHECK(s.status == RunStatus::succeeded);
        }
        RunState s = fold(b.j, false);
        CHECK(s.run_id == "20261126T143500Z-3fa9c1");
        CHECK(s.created == "2026-11-26T14:35:00.000Z");
        CHECK(s.playbook == "/srv/playbooks/ecommerce.toml");
        CHECK(s.playbook_name == "ecommerce");
        CHECK(s.reason == "error rate 12%");
        CHECK(s.trigger.kind == "condition");
        CHECK(s.trigger.condition == "error-rate");
        CHECK(s.trigger.severity == "critical");
        CHECK(s.trigger.decision_id == "d-7");
        CHECK(s.user == "oncall");
        CHECK(s.host == "web1");
        CHECK(s.pid == 4242);
        CHECK(s.started == "2026-11-26T14:35:01.000Z");
        CHECK(s.finished == "2026-11-26T14:35:12.000Z");
        CHECK(s.exit_code == 0);
        CHECK(s.duration_ms == 2000);
        REQUIRE(s.steps.size() == 4);
        CHECK(s.steps[0].status == StepStatus::succeeded);
        CHECK(s.steps[0].summary == "sent");
        CHECK(s.steps[0].output_tail == "ok\n");
        CHECK(s.steps[0].duration_ms == 30);
        CHECK(s.steps[0].idempotent);
        const StepState* db = s.step("restore-db");
        REQUIRE(db != nullptr);
        CHECK(db->status == StepStatus::succeeded);
        CHECK(db->attempts == 2);
        CHECK(db->exit_code == 0);
        CHECK(db->has_probe);
        CHECK_FALSE(db->idempotent);
        CHECK(s.step("switch")->status == StepStatus::skipped);
        CHECK(s.step("switch")->why == "--skip switch");
        CHECK(s.step("reenable")->is_finally);
        CHECK(s.finally_done());
        CHECK(s.in_flight_steps().empty());
        CHECK(s.warnings.empty());
    }

    TEST_CASE("a run without run_finished is running while its holder lives — else interrupted") {
        Builder b;
        b.started()
            .step("step_started", "notify", {{"attempt", 1}})
            .step("step_finished", "notify",
                  {{"attempt", 1}, {"status", "succeeded"}, {"exit_code", 0}})
            .step("step_started", "restore-db", {{"attempt", 1}});
        RunState live = fold(b.j, true);
        CHECK(live.status == RunStatus::running);
        CHECK(live.step("restore-db")->status == StepStatus::running);
        CHECK(live.finished.empty());

        RunState dead = fold(b.j, false);
        CHECK(dead.status == RunStatus::interrupted);
        CHECK(dead.step("restore-db")->status == StepStatus::interrupted);
        CHECK(dead.step("restore-db")->in_flight);
        CHECK(dead.in_flight_steps() == std::vector<std::string>{"restore-db"});
        CHECK(dead.step("switch")->status == StepStatus::pending);
        CHECK_FALSE(dead.finally_done());
    }

    TEST_CASE("a step left running by a resume interrupted before it ran it shows interrupted") {
        // break-it 30/08: kill -9 during restore-db, then a resume interrupted (SIGTERM) while it
        // waited for that attempt's survivors: run_resumed, run_interrupted, run_finished
        // (interrupted) follow restore-db's step_started. Nothing runs: the step is interrupted
        // (in_flight still true), live holder or not.
        Builder b;
        b.started()
            .step("step_started", "restore-db", {{"attempt", 1}})
            .add({{"type", "run_resumed"}, {"by", "oncall"}, {"pid", 4243}, {"host", "web1"}})
            .add({{"type", "run_interrupted"}, {"signal", "SIGTERM"}})
            .add({{"type", "run_finished"},
                  {"state", "interrupted"},
                  {"exit_code", 130},
                  {"duration_ms", 500}});
        for (bool live : {false, true}) {
            RunState s = fold(b.j, live);
            CHECK(s.status == RunStatus::interrupted);
            CHECK(s.step("restore-db")->status == StepStatus::interrupted);
            CHECK(s.step("restore-db")->in_flight);
        }
    }

    TEST_CASE("step_progress keeps the last stage of the attempt — a new attempt clears it") {
        Builder b;
        b.started()
            .step("step_started", "restore-db", {{"attempt", 1}})
            .step("step_progress", "restore-db", {{"stage", "side_created"}})
            .step("step_progress", "restore-db", {{"stage", "restored"}});
        RunState dead = fold(b.j, false);
        CHECK(dead.warnings.empty());
        CHECK(dead.step("restore-db")->status == StepStatus::interrupted);
        CHECK(dead.step("restore-db")->in_flight);
        CHECK(dead.step("restore-db")->stage == "restored");

        b.step("step_probe", "restore-db",
               {{"by", "action"}, {"verdict", "not_done"}, {"state", "the swap did not happen"}})
            .step("step_started", "restore-db", {{"attempt", 2}});
        RunState again = fold(b.j, false);
        CHECK(again.step("restore-db")->probe_verdict == "not_done");
        CHECK(again.step("restore-db")->stage.empty());
        CHECK(again.step("restore-db")->attempts == 2);
    }

    TEST_CASE(
        "resume records: probe — mark-done — retry — needs_attention — resumed — finished again") {
        Builder b;
        b.started()
            .step("step_started", "restore-db", {{"attempt", 1}})
            .add({{"type", "run_interrupted"}, {"signal", "SIGTERM"}})
            .add({{"type", "run_finished"}, {"state", "interrupted"}, {"exit_code", 130}});
        RunState s = fold(b.j, false);
        CHECK(s.status == RunStatus::interrupted);
        CHECK(s.signal == "SIGTERM");
        CHECK(s.exit_code == 130);
        CHECK(s.in_flight_steps() == std::vector<std::string>{"restore-db"});

        b.add({{"type", "run_resumed"}, {"by", "alice"}, {"pid", 5000}, {"host", "web2"}})
            .step("step_probe", "restore-db", {{"exit_code", 2}, {"verdict", "error"}})
            .step("needs_attention", "restore-db", {{"message", "probe failed; decide"}})
            .add({{"type", "run_finished"}, {"state", "needs_attention"}, {"exit_code", 6}});
        s = fold(b.j, false);
        CHECK(s.status == RunStatus::needs_attention);
        CHECK(s.resumes == 1);
        CHECK(s.pid == 5000);
        CHECK(s.host == "web2");
        CHECK(s.signal.empty());
        CHECK(s.attention == "probe failed; decide");
        CHECK(s.step("restore-db")->probe_verdict == "error");
        CHECK(s.step("restore-db")->in_flight);

        SUBCASE("marked done") {
            b.add({{"type", "run_resumed"}, {"by", "alice"}, {"pid", 5001}, {"host", "web2"}})
                .step("step_marked_done", "restore-db",
                      {{"by", "alice"}, {"why", "checked by hand"}});
            s = fold(b.j, true);
            CHECK(s.status == RunStatus::running);
            CHECK(s.attention.empty());
            CHECK(s.step("restore-db")->status == StepStatus::marked_done);
            CHECK(s.step("restore-db")->why == "marked done by alice (checked by hand)");
            CHECK(s.in_flight_steps().empty());
        }
        SUBCASE("a check forced past is NOT verified until it runs again") {
            b.add({{"type", "run_resumed"}, {"by", "alice"}, {"pid", 5001}, {"host", "web2"}})
                .step("step_marked_done", "restore-db",
                      {{"by", "alice"}, {"why", "checked by hand"}, {"unverified", true}});
            s = fold(b.j, true);
            REQUIRE(s.not_verified.size() == 1);
            CHECK(s.not_verified[0].step == "restore-db");
            CHECK(s.not_verified[0].by == "alice");
            CHECK(s.not_verified[0].why == "checked by hand");
            CHECK(s.not_verified[0].at == b.j.records.back().time);
            CHECK(s.step("restore-db")->why ==
                  "marked done by alice (checked by hand) with --force: the check never passed, "
                  "NOT verified");
            b.add({{"type", "run_finished"},
                   {"state", "succeeded"},
                   {"exit_code", 0},
                   {"duration_ms", 10},
                   {"not_verified", json::array{"restore-db"}}});
            s = fold(b.j, false);
            CHECK(s.status == RunStatus::succeeded);
            CHECK(s.not_verified.size() == 1);
            CHECK(std::get<RunFinished>(b.j.records.back().record).not_verified ==
                  std::vector<std::string>{"restore-db"});
            b.add({{"type", "run_resumed"}, {"by", "bob"}, {"pid", 5002}, {"host", "web2"}})
                .step("step_retry_requested", "restore-db", {{"by", "bob"}, {"why", "--retry"}});
            CHECK(fold(b.j, true).not_verified.empty());
        }
        SUBCASE("a plain mark-done is no unverified check") {
            b.step("step_marked_done", "restore-db", {{"by", "alice"}});
            s = fold(b.j, true);
            CHECK(s.not_verified.empty());
            CHECK_FALSE(std::get<StepMarkedDone>(b.j.records.back().record).unverified);
        }
        SUBCASE("marked done against its probe, with no reason: said whole") {
            b.add({{"type", "run_resumed"}, {"by", "alice"}, {"pid", 5001}, {"host", "web2"}})
                .step("step_marked_done", "restore-db",
                      {{"by", "alice"}, {"probe_state", "shop is NOT restored"}});
            s = fold(b.j, true);
            CHECK(s.step("restore-db")->why ==
                  "marked done by alice although its probe said: shop is NOT restored");
        }
        SUBCASE("retry requested, then timed out") {
            b.add({{"type", "run_resumed"}, {"by", "alice"}, {"pid", 5001}, {"host", "web2"}})
                .step("step_retry_requested", "restore-db", {{"by", "alice"}, {"why", "--retry"}});
            s = fold(b.j, true);
            CHECK(s.step("restore-db")->status == StepStatus::pending);
            CHECK_FALSE(s.step("restore-db")->in_flight);
            b.step("step_started", "restore-db", {{"attempt", 2}})
                .step("step_finished", "restore-db",
                      {{"attempt", 2}, {"status", "timed_out"}, {"duration_ms", 5000}})
                .add({{"type", "run_finished"}, {"state", "failed"}, {"exit_code", 1}});
            s = fold(b.j, false);
            CHECK(s.status == RunStatus::failed);
            CHECK(s.step("restore-db")->status == StepStatus::timed_out);
            CHECK(s.step("restore-db")->attempts == 2);
            CHECK_FALSE(s.step("restore-db")->exit_code);
        }
    }

    TEST_CASE("process groups of an unfinished attempt stay until settled — left_running is kept") {
        Builder b;
        json::object group{{"attempt", 1},
                           {"pgid", 4321},
                           {"leader_start", 987654},
                           {"boot_id", "b-1"},
                           {"command", "sh -c ./start"}};
        b.started()
            .step("step_started", "switch", {{"attempt", 1}})
            .step("step_process", "switch", group);
        RunState s = fold(b.j, false);
        const StepState* st = s.step("switch");
        REQUIRE(st->groups.size() == 1);
        CHECK(st->groups[0].pgid == 4321);
        CHECK(st->groups[0].leader_start == 987654u);
        CHECK(st->groups[0].boot_id == "b-1");
        CHECK(st->groups[0].command == "sh -c ./start");
        CHECK(st->in_flight);

        SUBCASE("a resume that could not end them keeps them; one that did clears them") {
            b.add({{"type", "run_resumed"}, {"by", "alice"}, {"pid", 5001}, {"host", "web2"}})
                .step("step_survivors", "switch",
                      {{"attempt", 1}, {"pgid", 4321}, {"outcome", "remain"}});
            CHECK(fold(b.j, false).step("switch")->groups.size() == 1);
            b.step("step_survivors", "switch",
                   {{"attempt", 1}, {"pgid", 4321}, {"outcome", "terminated"}});
            CHECK(fold(b.j, false).step("switch")->groups.empty());
            CHECK(fold(b.j, false).step("switch")->in_flight); // still for resume to decide
        }
        SUBCASE("a finished attempt has no groups to settle; what it left running is listed") {
            b.step("step_finished", "switch",
                   {{"attempt", 1},
                    {"status", "succeeded"},
                    {"left_running", json::array{json::object{
                                         {"pid", 4400}, {"command", "python3 -m http.server"}}}}});
            s = fold(b.j, false);
            st = s.step("switch");
            CHECK(st->groups.empty());
            REQUIRE(st->left_running.size() == 1);
            CHECK(st->left_running[0].pid == 4400);
            CHECK(st->left_running[0].command == "python3 -m http.server");
            b.step("step_started", "switch", {{"attempt", 2}});
            CHECK(fold(b.j, false).step("switch")->left_running.empty());
        }
        SUBCASE("a program that ended by itself: its group is left alone, the step goes on") {
            b.step("step_process_exited", "switch",
                   {{"attempt", 1}, {"pgid", 4321}, {"ending", "exited"}, {"exit_code", 0}});
            s = fold(b.j, false);
            st = s.step("switch");
            REQUIRE(st->groups.size() == 1);
            CHECK(st->groups[0].exited);
            CHECK(st->groups[0].exit == "exit 0");
            CHECK(st->groups[0].written == "2026-11-26T14:35:03.000Z");
            CHECK(st->in_flight); // the action may have had more to do: resume decides
            CHECK(st->status == StepStatus::interrupted);
            CHECK_FALSE(st->finished_by_exit);
            CHECK(s.warnings.empty());
        }
        SUBCASE("a program whose exit is the step's result finishes the step") {
            b.step("step_process_exited", "switch",
                   {{"attempt", 1},
                    {"pgid", 4321},
                    {"ending", "exited"},
                    {"exit_code", 3},
                    {"step_status", "failed"},
                    {"summary", "exit 3"}});
            s = fold(b.j, false);
            st = s.step("switch");
            CHECK_FALSE(st->in_flight);
            CHECK(st->finished_by_exit);
            CHECK(st->status == StepStatus::failed);
            CHECK(st->exit_code == 3);
            CHECK(st->summary == "exit 3");
            REQUIRE(st->groups.size() == 1); // listed by resume, never signalled
            CHECK(st->groups[0].exited);
            CHECK(s.in_flight_steps().empty());
            b.step("step_finished", "switch", {{"attempt", 1}, {"status", "failed"}});
            CHECK_FALSE(fold(b.j, false).step("switch")->finished_by_exit);
            CHECK(fold(b.j, false).step("switch")->groups.empty());
        }
        SUBCASE("an exit record for another group or attempt is a warning and changes nothing") {
            b.step("step_process_exited", "switch",
                   {{"attempt", 1},
                    {"pgid", 999},
                    {"ending", "exited"},
                    {"step_status", "succeeded"}})
                .step("step_process_exited", "switch",
                      {{"attempt", 2}, {"pgid", 4321}, {"step_status", "succeeded"}})
                .step("step_process_exited", "switch",
                      {{"attempt", 1}, {"pgid", 4321}, {"step_status", "running"}});
            s = fold(b.j, false);
            st = s.step("switch");
            CHECK(st->in_flight);
            CHECK_FALSE(st->finished_by_exit);
            REQUIRE(s.warnings.size() == 3);
            CHECK(s.warnings[0] == "record 4 (step_process_exited) names no process group of the "
                                   "step's attempt in flight; ignored");
            CHECK(s.warnings[1] == "record 5 (step_process_exited) names no process group of the "
                                   "step's attempt in flight; ignored");
            CHECK(s.warnings[2] == "record 6 (step_process_exited) has an unknown step_status "
                                   "\"running\"");
        }
        SUBCASE("a group record without a token is a warning, not a group") {
            b.step("step_process", "switch", {{"attempt", 1}, {"pgid", 0}});
            s = fold(b.j, false);
            CHECK(s.step("switch")->groups.size() == 1);
            REQUIRE(s.warnings.size() == 1);
            CHECK(s.warnings[0] == "record 4 (step_process) has no valid \"pgid\" and \"boot_id\"");
        }
    }

    TEST_CASE("odd records are kept visible as warnings — not crashes") {
        Builder b;
        b.step("step_started", "ghost", {{"attempt", 1}}) // no run_started: step appended
            .add({{"type", "step_finished"}})             // no step
            .add({{"type", "from_the_future"}})
            .step("step_finished", "ghost", {{"status", "exploded"}})
            .add({{"type", "run_finished"}, {"state", "bogus"}});
        RunState s = fold(b.j, false);
        REQUIRE(s.steps.size() == 1);
        CHECK(s.steps[0].id == "ghost");
        CHECK(s.steps[0].status == StepStatus::failed);
        CHECK(s.status == RunStatus::interrupted);
        REQUIRE(s.warnings.size() == 4);
        CHECK(s.warnings[0] == "record 2 (step_finished) has no \"step\"");
        CHECK(s.warnings[1] == "record 3 (from_the_future) is of an unknown type; ignored");
        CHECK(s.warnings[2] == "record 4 (step_finished) has an unknown status \"exploded\"");
        CHECK(s.warnings[3] == "record 5 (run_finished) has an unknown state \"bogus\"");
    }

    TEST_CASE("status names round-trip") {
        for (auto s :
             {RunStatus::running, RunStatus::succeeded, RunStatus::failed,
              RunStatus::verification_failed, RunStatus::interrupted, RunStatus::needs_attention}) {
            CHECK(parse_run_status(to_string(s)) == s);
        }
        for (int i = 0; i <= static_cast<int>(StepStatus::verification_failed); ++i) {
            auto s = static_cast<StepStatus>(i);
            CHECK(parse_step_status(to_string(s)) == s);
        }
        CHECK_FALSE(parse_step_status("done"));
    }
}

TEST_SUITE("journal") {
    TEST_CASE("a hand-over is folded with its step and signal — a resume clears it") {
        Builder b;
        b.started()
            .step("step_started", "restore-db", {{"attempt", 1}})
            .step("step_finished", "restore-db",
                  {{"attempt", 1}, {"status", "interrupted"}, {"summary", "interrupted"}})
            .add({{"type", "run_handed_over"},
                  {"signal", "SIGTERM"},
                  {"during", "steps"},
                  {"step", "restore-db"},
                  {"attempt", 1},
                  {"step_status", "interrupted"},
                  {"step_summary", "interrupted"},
                  {"to", "next_leader"},
                  {"generation", 4},
                  {"resume", "rollback resume R -c /etc/rollback.toml"}})
            .add({{"type", "run_finished"}, {"state", "interrupted"}, {"exit_code", 130}});
        RunState s = fold(b.j, false);
        CHECK(s.warnings.empty());
        CHECK(s.status == RunStatus::interrupted);
        CHECK(s.signal == "SIGTERM");
        REQUIRE(s.handed_over);
        CHECK(s.handed_over->at == "2026-11-26T14:35:04.000Z");
        CHECK(s.handed_over->record.step == "restore-db");
        CHECK(s.handed_over->record.generation == 4);
        CHECK(s.step("restore-db")->status == StepStatus::interrupted);
        CHECK_FALSE(s.finally_done()); // the finally steps are the next leader's
        CHECK_FALSE(s.abandoned);

        b.add({{"type", "run_resumed"}, {"by", "monitor"}, {"pid", 5000}, {"host", "web2"}});
        s = fold(b.j, false);
        CHECK_FALSE(s.handed_over);
        CHECK(s.signal.empty());
    }

    TEST_CASE("an abandoned run is folded with the run started in its place") {
        Builder b;
        b.started()
            .step("step_started", "restore-db", {{"attempt", 1}})
            .add({{"type", "run_abandoned"},
                  {"new_run", "20261126T150000Z-0a0b0c"},
                  {"by", "alice"},
                  {"host", "web1"},
                  {"pid", 77}});
        RunState s = fold(b.j, false);
        CHECK(s.warnings.empty());
        CHECK(s.status == RunStatus::interrupted);
        REQUIRE(s.abandoned);
        CHECK(s.abandoned->record.new_run == "20261126T150000Z-0a0b0c");
        CHECK(s.abandoned->record.by == "alice");
        CHECK(s.abandoned->at == "2026-11-26T14:35:03.000Z");
        b.add({{"type", "run_resumed"}, {"by", "bob"}, {"pid", 5000}, {"host", "web2"}});
        CHECK_FALSE(fold(b.j, false).abandoned);
    }

    TEST_CASE("an older engine's note is read and shown — no state comes of it") {
        Builder b;
        b.started().add({{"type", "note"},
                         {"text", "run handed over to the next leader: its finally steps "
                                  "run at the end of its resume"}});
        RunState s = fold(b.j, false);
        CHECK(s.warnings.empty());
        CHECK(b.j.records.back().type() == RecordType::note);
        CHECK(std::get<Note>(b.j.records.back().record).text.rfind("run handed over", 0) == 0);
        CHECK_FALSE(s.handed_over);
    }
}
