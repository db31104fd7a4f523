// SPDX-License-Identifier: MIT
#include "journal/paths.hpp"
#include "journal/state.hpp"
#include "journal/writer.hpp"
#include "report/html.hpp"
#include "report/run_report.hpp"
#include "state/local_lock.hpp"
#include "state/local_store.hpp"
#include "support/temp_dir.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <doctest/doctest.h>
#include <fstream>
#include <map>
#include <set>

using namespace rollback;
namespace json = boost::json;

namespace {

const std::string k_run = "20261126T143500Z-3fa9c1";

/// A real journal on disk: a run interrupted in the middle of a non-idempotent step with a probe.
void write_interrupted_run(const std::filesystem::path& state_dir, bool finish) {
    auto w = journal::Writer::create(journal::journal_path(state_dir, k_run),
                                     {{"run_id", k_run}, {"created", "2026-11-26T14:35:00.000Z"}});
    json::array steps{
        json::object{
            {"id", "notify"}, {"phase", "immediate"}, {"action", "hook"}, {"idempotent", true}},
        json::object{{"id", "restore-db"},
                     {"phase", "database"},
                     {"action", "pg_restore"},
                     {"has_probe", true}},
        json::object{
            {"id", "maintenance-off"}, {"phase", "finally"}, {"action", "exec"}, {"finally", true}},
    };
    w.append({{"type", "run_started"},
              {"run_id", k_run},
              {"playbook", "/srv/pb/ecommerce.toml"},
              {"playbook_name", "ecommerce"},
              {"reason", "error rate 12%"},
              {"trigger", json::object{{"kind", "condition"},
                                       {"condition", "error-rate"},
                                       {"severity", "critical"}}},
              {"user", "oncall"},
              {"host", "web1"},
              {"pid", 4242},
              {"steps", steps}});
    w.append({{"type", "step_started"}, {"step", "notify"}, {"attempt", 1}});
    w.append({{"type", "step_finished"},
              {"step", "notify"},
              {"attempt", 1},
              {"status", "succeeded"},
              {"exit_code", 0},
              {"duration_ms", 1500},
              {"summary", "sent to #ops"},
              {"output_tail", "posted\nok\n"}});
    w.append({{"type", "step_started"}, {"step", "restore-db"}, {"attempt", 1}});
    if (finish) {
        w.append({{"type", "step_finished"},
                  {"step", "restore-db"},
                  {"attempt", 1},
                  {"status", "failed"},
                  {"exit_code", 1},
                  {"duration_ms", 2300},
                  {"summary", "pg_restore: error"}});
        w.append({{"type", "step_skipped"}, {"step", "maintenance-off"}, {"why", "test"}});
        w.append({{"type", "run_finished"},
                  {"state", "failed"},
                  {"exit_code", 1},
                  {"duration_ms", 4000}});
    }
}

} // namespace

TEST_SUITE("report") {
    TEST_CASE("status of an interrupted run says what resume will do") {
        test::TempDir tmp;
        write_interrupted_run(tmp.path(), false);
        auto view = report::load_run(state::LocalStore(tmp.path()), k_run, "");
        CHECK_FALSE(view.ctx.live);
        CHECK(view.state.status == journal::RunStatus::interrupted);
        std::string text = report::format_status(view.state, view.ctx);
        CHECK(text.rfind("run " + k_run + ": interrupted\n", 0) == 0);
        CHECK(text.find("  playbook  ecommerce (/srv/pb/ecommerce.toml)\n") != std::string::npos);
        CHECK(text.find("  reason    error rate 12%\n") != std::string::npos);
        CHECK(text.find("  trigger   condition error-rate (severity critical)\n") !=
              std::string::npos);
        CHECK(text.find("  by        oncall@web1 (pid 4242)\n") != std::string::npos);
        CHECK(
            text.find(
                "notify           immediate  succeeded    1      0     1.5s     sent to #ops\n") !=
            std::string::npos);
        CHECK(text.find("restore-db       database   interrupted  1      -     -        started, "
                        "not finished: "
                        "resume runs its probe first\n") != std::string::npos);
        CHECK(text.find(
                  "maintenance-off  finally    pending      0      -     -        not started\n") !=
              std::string::npos);
        CHECK(text.find("  next: rollback resume " + k_run + "\n") != std::string::npos);

        auto j = report::status_json(view.state, view.ctx);
        CHECK(j.at("state").as_string() == "interrupted");
        CHECK(j.at("in_flight").as_array().size() == 1);
        CHECK(j.at("steps").as_array().at(1).as_object().at("state").as_string() == "interrupted");
        CHECK(j.at("steps").as_array().at(1).as_object().at("exit_code").is_null());
        CHECK(j.at("trigger").as_object().at("severity").as_string() == "critical");
    }

    TEST_CASE("a live run shows as running — a dead holder's lock is shown") {
        test::TempDir tmp;
        write_interrupted_run(tmp.path(), false);
        {
            auto lock =
                state::local::acquire(tmp.path(), state::this_process_holder(k_run, "test"));
            REQUIRE(lock.lock);
            auto view = report::load_run(state::LocalStore(tmp.path()), k_run, "");
            CHECK(view.ctx.live);
            CHECK(view.state.status == journal::RunStatus::running);
            CHECK(report::format_status(view.state, view.ctx).find("next:") == std::string::npos);
        }
        // A dead holder: lock.json left behind, flock free.
        state::Holder dead{k_run, 999999, "web1", "2026-11-26T14:35:00.000Z", "p95", "oncall"};
        std::ofstream(tmp / "lock.json") << json::serialize(state::to_json(dead));
        auto view = report::load_run(state::LocalStore(tmp.path()), k_run, "");
        REQUIRE(view.ctx.stale_lock);
        std::string text = report::format_status(view.state, view.ctx);
        CHECK(text.find(
                  "  lock: run " + k_run +
                  " (pid 999999 on web1) died without finishing; its lock was left in place\n") !=
              std::string::npos);
        CHECK(report::status_json(view.state, view.ctx)
                  .at("stale_lock")
                  .as_object()
                  .at("pid")
                  .as_int64() == 999999);
    }

    TEST_CASE("a finished run whose process died before releasing its lock is said finished") {
        // break-it 46 F5: killed after run_finished, before the lock's release.
        test::TempDir tmp;
        write_interrupted_run(tmp.path(), true);
        state::Holder dead{k_run, 999999, "web1", "2026-11-26T14:35:00.000Z", "p95", "oncall"};
        std::ofstream(tmp / "lock.json") << json::serialize(state::to_json(dead));
        auto view = report::load_run(state::LocalStore(tmp.path()), k_run, "");
        REQUIRE(view.ctx.stale_lock);
        const std::string text = report::format_status(view.state, view.ctx);
        CAPTURE(text);
        CHECK(text.find("died without finishing") == std::string::npos);
        CHECK(text.find("  lock: run " + k_run +
                        " (pid 999999 on web1) died after the run finished, before releasing its "
                        "lock; the lock it left blocks no next run\n") != std::string::npos);
    }

    TEST_CASE("the next command of status and report finds the same state from any directory") {
        // break-it 46 F3: `next: rollback resume RUN` carries state::state_args.
        test::TempDir tmp;
        write_interrupted_run(tmp.path(), false);
        const std::string args = " --state-dir /srv/rollback\\ state";
        auto view = report::load_run(state::LocalStore(tmp.path()), k_run, args);
        CHECK(report::format_status(view.state, view.ctx)
                  .find("  next: rollback resume " + k_run + args + "\n") != std::string::npos);
        CHECK(report::report_text(state::LocalStore(tmp.path()), k_run, args)
                  .find("  next: rollback resume " + k_run + args + "\n") != std::string::npos);

        test::TempDir ended;
        write_interrupted_run(ended.path(), true);
        auto failed = report::load_run(state::LocalStore(ended.path()), k_run, " -c /etc/rb.toml");
        CHECK(report::format_status(failed.state, failed.ctx)
                  .find("  next: fix the cause, then: rollback resume " + k_run +
                        " -c /etc/rb.toml --retry restore-db   (or --mark-done restore-db if it "
                        "was done by hand)\n") != std::string::npos);
    }

    TEST_CASE("status of a running restore shows its stage and how long it runs") {
        test::TempDir tmp;
        write_interrupted_run(tmp.path(), false);
        {
            auto w = journal::Writer::open_existing(journal::journal_path(tmp.path(), k_run));
            w.append({{"type", "step_progress"},
                      {"step", "restore-db"},
                      {"stage", "side_created"},
                      {"database", "shop"}});
        }
        auto lock = state::local::acquire(tmp.path(), state::this_process_holder(k_run, "test"));
        REQUIRE(lock.lock);
        auto view = report::load_run(state::LocalStore(tmp.path()), k_run, "");
        REQUIRE(view.ctx.live);
        const std::string text = report::format_status(view.state, view.ctx);
        CAPTURE(text);
        CHECK(text.find(" ago), stage side_created") != std::string::npos);
    }

    TEST_CASE("report: the full timeline from the journal alone") {
        test::TempDir tmp;
        write_interrupted_run(tmp.path(), true);
        auto view = report::load_run(state::LocalStore(tmp.path()), k_run, "");
        CHECK(view.state.status == journal::RunStatus::failed);
        std::string text = report::format_report(view.journal, view.state, view.ctx);
        CHECK(text.find("journal created (format rollback-journal v1)") != std::string::npos);
        CHECK(text.find("run started: playbook ecommerce (/srv/pb/ecommerce.toml), reason \"error "
                        "rate 12%\", "
                        "trigger condition error-rate (severity critical), by oncall@web1 pid "
                        "4242, 3 steps") != std::string::npos);
        CHECK(text.find("step notify: started (attempt 1)") != std::string::npos);
        CHECK(text.find("step notify: succeeded (exit 0, 1.5s): sent to #ops") !=
              std::string::npos);
        CHECK(text.find("| posted\n") != std::string::npos);
        CHECK(text.find("step restore-db: failed (exit 1, 2.3s): pg_restore: error") !=
              std::string::npos);
        CHECK(text.find("step maintenance-off: skipped (test)") != std::string::npos);
        CHECK(text.find("run finished: failed (exit 1, 4s)") != std::string::npos);

        auto j = report::report_json(view.journal, view.state, view.ctx);
        CHECK(j.at("timeline").as_array().size() == 8);
        CHECK(j.at("run").as_object().at("state").as_string() == "failed");

        CHECK(report::format_history_line(view.state).rfind(k_run + "  failed", 0) == 0);
        CHECK(report::history_json(view.state).at("exit_code").as_int64() == 1);
    }

    TEST_CASE("status of a handed-over run says who resumes it and what becomes of its step") {
        test::TempDir tmp;
        write_interrupted_run(tmp.path(), false);
        {
            auto w = journal::Writer::open_existing(journal::journal_path(tmp.path(), k_run));
            journal::StepFinished f;
            f.step = "restore-db";
            f.attempt = 1;
            f.status = "interrupted";
            f.summary = "interrupted";
            w.append(journal::to_json(f));
            w.append(journal::to_json(journal::RunHandedOver{
                "SIGTERM", "steps", "restore-db", 1, "interrupted", "interrupted", "next_leader", 4,
                "rollback resume " + k_run + " -c /etc/rollback.toml"}));
            w.append(journal::to_json(journal::RunFinished{"interrupted", 130, 10, std::nullopt}));
        }
        auto view = report::load_run(state::LocalStore(tmp.path()), k_run, "");
        const std::string text = report::format_status(view.state, view.ctx);
        CHECK(text.find("  signal    SIGTERM\n") != std::string::npos);
        CHECK(text.find("  hand-over to the next leader (from generation 4) on SIGTERM during step "
                        "restore-db (attempt 1: interrupted); its resume runs the remaining "
                        "steps, then the finally steps (") != std::string::npos);
        // restore-db is not idempotent and has a probe: the resume asks it.
        CHECK(text.find("  next: the next leader resumes it (step restore-db's probe tells "
                        "whether it took effect); with no leader left: rollback resume " +
                        k_run + " -c /etc/rollback.toml\n") != std::string::npos);
        CHECK(report::format_history_line(view.state)
                  .find("[handed over to the next leader on SIGTERM]") != std::string::npos);
        const auto j = report::status_json(view.state, view.ctx);
        CHECK(j.at("handed_over").at("during").as_string() == "steps");
        CHECK(j.at("handed_over").at("attempt").as_int64() == 1);
        CHECK(j.at("handed_over").at("resume").as_string() ==
              "rollback resume " + k_run + " -c /etc/rollback.toml");
        // A run that was not handed over has no such key: its JSON reads as before.
        test::TempDir other;
        write_interrupted_run(other.path(), true);
        auto plain = report::load_run(state::LocalStore(other.path()), k_run, "");
        CHECK(!report::status_json(plain.state, plain.ctx).contains("handed_over"));
        CHECK(!report::status_json(plain.state, plain.ctx).contains("abandoned"));
    }

    TEST_CASE("load_run refuses bad ids and missing journals") {
        test::TempDir tmp;
        CHECK_THROWS_AS(report::load_run(state::LocalStore(tmp.path()), "../../etc/passwd", ""),
                        util::Error);
        CHECK_THROWS_AS(report::load_run(state::LocalStore(tmp.path()), k_run, ""), util::Error);
    }
}

TEST_SUITE("report") {
    TEST_CASE("every record type the orchestrator writes is read back without a warning") {
        // The orchestrator builds typed records (journal/records.hpp), whose RecordType the fold
        // and the report switch on: its sources hold no ad-hoc `{"type", "..."}` record. And no
        // engine source writes a free-form note (an older engine's record, read only): what
        // the engine does has its own type (a hand-over, an abandoned run).
        const std::string marker = "{\"type\", \"";
        for (const auto& e :
             std::filesystem::directory_iterator(test::source_dir() / "engine/orchestrator")) {
            std::ifstream in(e.path());
            std::string text((std::istreambuf_iterator<char>(in)), {});
            INFO(e.path().string());
            CHECK(text.find(marker) == std::string::npos);
        }
        for (const auto& e :
             std::filesystem::recursive_directory_iterator(test::source_dir() / "engine")) {
            if (!e.is_regular_file() || e.path().parent_path().filename() == "journal") {
                continue;
            }
            std::ifstream in(e.path());
            std::string text((std::istreambuf_iterator<char>(in)), {});
            INFO(e.path().string());
            CHECK(text.find("journal::Note{") == std::string::npos);
            CHECK(text.find("Note{\"") == std::string::npos);
        }
        const auto& known = journal::record_types();
        CHECK(known.size() == static_cast<size_t>(journal::RecordType::unknown));

        // One record of every known type, written and read back through load_run.
        test::TempDir tmp;
        {
            auto w = journal::Writer::create(
                journal::journal_path(tmp.path(), k_run),
                {{"run_id", k_run}, {"created", "2026-11-26T14:35:00.000Z"}});
            json::array steps{
                json::object{{"id", "s"}, {"phase", "immediate"}, {"action", "exec"}}};
            const std::map<std::string, json::object> fields = {
                {"run_started", {{"run_id", k_run}, {"playbook_name", "pb"}, {"steps", steps}}},
                {"run_resumed", {{"by", "oncall"}, {"pid", 7}, {"host", "h"}}},
                {"step_skipped", {{"step", "s"}, {"why", "--skip"}}},
                {"step_started", {{"step", "s"}, {"attempt", 1}}},
                {"step_process",
                 {{"step", "s"},
                  {"attempt", 1},
                  {"pgid", 4242},
                  {"leader_start", 123456},
                  {"boot_id", "b"},
                  {"command", "sh -c x"}}},
                {"step_process_exited",
                 {{"step", "s"},
                  {"attempt", 1},
                  {"pgid", 4242},
                  {"ending", "exited"},
                  {"exit_code", 0},
                  {"step_status", "succeeded"},
                  {"summary", "exit 0"}}},
                {"step_progress",
                 {{"step", "s"}, {"stage", "restored"}, {"database", "shop"}, {"backup", "b1"}}},
                {"step_survivors",
                 {{"step", "s"},
                  {"attempt", 1},
                  {"pgid", 4242},
                  {"found", json::array{}},
                  {"outcome", "exited"},
                  {"waited_ms", 5}}},
                {"step_host_started",
                 {{"step", "s"}, {"attempt", 1}, {"host", "web1"}, {"batch", 1}}},
                {"step_host_finished",
                 {{"step", "s"},
                  {"attempt", 1},
                  {"host", "web1"},
                  {"status", "succeeded"},
                  {"exit_code", 0},
                  {"duration_ms", 3},
                  {"summary", "exit 0"},
                  {"output_tail", ""},
                  {"remote_groups", json::array{4243}}}},
                {"step_finished", {{"step", "s"}, {"attempt", 1}, {"status", "succeeded"}}},
                {"step_probe", {{"step", "s"}, {"exit_code", 0}, {"verdict", "done"}}},
                {"step_marked_done", {{"step", "s"}, {"by", "oncall"}, {"why", "checked"}}},
                {"step_retry_requested", {{"step", "s"}, {"by", "oncall"}, {"why", "again"}}},
                {"needs_attention", {{"step", "s"}, {"message", "look at it"}}},
                {"hook",
                 {{"event", "on-failure"},
                  {"hook", "page-oncall"},
                  {"step", ""},
                  {"status", "failed"},
                  {"summary", "exit 1"},
                  {"reason", "page-oncall: PAGE_WEBHOOK_URL is not set: nobody was paged"}}},
                {"run_interrupted", {{"signal", "SIGTERM"}}},
                {"run_stopped", {{"why", "cannot write journal x: No space left on device"}}},
                {"run_finished", {{"state", "interrupted"}, {"exit_code", 7}}},
                {"note", {{"text", "hello"}}},
                {"run_handed_over",
                 {{"signal", "SIGTERM"},
                  {"during", "steps"},
                  {"step", "s"},
                  {"attempt", 1},
                  {"step_status", "interrupted"},
                  {"step_summary", "interrupted"},
                  {"to", "next_leader"},
                  {"generation", 3},
                  {"resume", "rollback resume " + k_run + " -c /etc/rollback.toml"}}},
                {"run_abandoned",
                 {{"new_run", "20261126T150000Z-0a0b0c"},
                  {"by", "alice"},
                  {"host", "web1"},
                  {"pid", 77}}},
                {"step_sessions",
                 {{"step", "s"},
                  {"attempt", 1},
                  {"server", "dbname=shop host=/run/postgresql"},
                  {"found", json::array{json::object{{"pid", 25240},
                                                     {"name", "rollback/" + k_run + "/s/1"},
                                                     {"database", "shop"},
                                                     {"user", "shop"},
                                                     {"state", "idle in transaction"}}}},
                  {"outcome", "ended"},
                  {"waited_ms", 40}}},
            };
            CHECK(fields.size() + 1 == known.size()); // every type but the header
            // A program's exit belongs right after its group's record (before step_finished).
            std::vector<std::string_view> order;
            for (const auto& t : known) {
                if (t != "header" && t != "step_process_exited") {
                    order.push_back(t);
                }
                if (t == "step_process") {
                    order.push_back("step_process_exited");
                }
            }
            for (const auto& t : order) {
                INFO("record type " << t);
                REQUIRE(fields.count(std::string(t)) == 1);
                json::object r = fields.at(std::string(t));
                r["type"] = t;
                w.append(r);
            }
        }
        auto view = report::load_run(state::LocalStore(tmp.path()), k_run, "");
        CHECK(view.state.warnings.empty());
        std::string text = report::format_report(view.journal, view.state, view.ctx);
        CHECK(text.find("unknown") == std::string::npos);
        CHECK(text.find("hook: page-oncall (on-failure): failed: page-oncall: PAGE_WEBHOOK_URL is "
                        "not set: nobody was paged") != std::string::npos);
        CHECK(text.find("run stopped: cannot write journal x: No space left on device") !=
              std::string::npos);
        CHECK(view.state.stopped == "cannot write journal x: No space left on device");
        CHECK(text.find("step s: process group 4242 ended by itself (exited 0): the step "
                        "succeeded") != std::string::npos);
        CHECK(text.find("run handed over to the next leader (from generation 3) on SIGTERM "
                        "during step s (attempt 1: interrupted); its resume runs the remaining "
                        "steps, then the finally steps; by hand: rollback resume " +
                        k_run + " -c /etc/rollback.toml") != std::string::npos);
        CHECK(text.find("run abandoned for run 20261126T150000Z-0a0b0c, started with "
                        "--abandon-stale by alice@web1 (pid 77)") != std::string::npos);
        // Each record is one timeline line, the header's too (after the heading's two newlines).
        const std::string timeline = text.substr(text.find("\ntimeline ("));
        CHECK(std::count(timeline.begin(), timeline.end(), '\n') ==
              static_cast<std::ptrdiff_t>(known.size()) + 2);
        // The run's last records: the fold shows both (status text, JSON and the HTML page).
        REQUIRE(view.state.handed_over);
        CHECK(view.state.handed_over->record.step == "s");
        REQUIRE(view.state.abandoned);
        CHECK(view.state.abandoned->record.new_run == "20261126T150000Z-0a0b0c");
        const std::string status = report::format_status(view.state, view.ctx);
        CHECK(status.find("  hand-over to the next leader (from generation 3) on SIGTERM during "
                          "step s (attempt 1: interrupted)") != std::string::npos);
        CHECK(status.find("  abandoned for run 20261126T150000Z-0a0b0c") != std::string::npos);
        const auto j = report::report_json(view.journal, view.state, view.ctx);
        CHECK(j.at("timeline").as_array().size() == known.size());
        const auto& run = j.at("run").as_object();
        CHECK(run.at("handed_over").at("step").as_string() == "s");
        CHECK(run.at("handed_over").at("generation").as_int64() == 3);
        CHECK(run.at("abandoned").at("by").as_string() == "alice");
        const std::string html = report::run_html(view.journal, view.state, view.ctx, {});
        CHECK(html.find("<dt>handed over</dt><dd>to the next leader (from generation 3) on "
                        "SIGTERM during step s") != std::string::npos);
        CHECK(html.find("<dt>abandoned</dt><dd>for run 20261126T150000Z-0a0b0c") !=
              std::string::npos);
    }
}
