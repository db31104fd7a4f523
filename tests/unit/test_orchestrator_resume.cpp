// SPDX-License-Identifier: MIT
// How resume decides each step (docs/resume.md): the pure rules of decide_resume, and the whole
// run → interruption → resume path over a real journal with the fake process runner.
#include "orchestrator/execute.hpp"
#include "orchestrator/resume_decision.hpp"
#include "state/local_store.hpp"

#include "exec/runner.hpp"
#include "journal/reader.hpp"
#include "journal/state.hpp"
#include "playbook/loader.hpp"
#include "support/fake_runner.hpp"
#include "support/temp_dir.hpp"
#include "util/files.hpp"
#include "util/time.hpp"

#include <algorithm>
#include <csignal>
#include <doctest/doctest.h>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>

using namespace rollback;
using orchestrator::decide_resume;
using orchestrator::PlannedStep;
using orchestrator::ProbeFinding;
using orchestrator::Probes;
using orchestrator::StepPlan;

namespace {

journal::StepState interrupted(int attempts) {
    journal::StepState st;
    st.status = journal::StepStatus::running;
    st.in_flight = true;
    st.attempts = attempts;
    return st;
}

// A prober that answers `v` and counts its calls.
struct CountingProbe {
    ProbeFinding::Verdict v;
    std::string state;
    int calls = 0;
    std::function<ProbeFinding(const playbook::Step&)> fn() {
        return [this](const playbook::Step&) {
            ++calls;
            return ProbeFinding{v, state};
        };
    }
};

} // namespace

TEST_SUITE("orchestrator") {
    TEST_CASE("decide_resume: survivors that live on or a host not checked stop the step") {
        playbook::Step step;
        step.id = "deploy";
        step.idempotent = true; // would run again at once without them
        PlannedStep ps{&step, false, true, {}};
        const std::string run = "20261205T000000Z-abcdef";
        Probes probes{nullptr, nullptr};
        journal::StepState st = interrupted(1);
        const auto now = std::chrono::system_clock::now();
        const std::string alive = "processes in the process group 42 of step \"deploy\"'s "
                                  "interrupted attempt 1 are still alive after waiting 2s: pid 43";
        // Alive: whatever a person says, the step neither starts nor is taken as done.
        for (bool mark : {false, true}) {
            for (bool retry : {false, true}) {
                auto d =
                    decide_resume({ps, &st, true, mark, retry, now, alive, ""}, run, "", probes);
                CHECK(d.plan == StepPlan::needs_attention);
                CHECK(d.message.find(alive) == 0);
                CHECK(d.message.find("The step does not start while they live") !=
                      std::string::npos);
                CHECK(d.message.find("then: rollback resume " + run) != std::string::npos);
            }
        }
        // A host that could not be looked at: a person's word goes on, nothing else does.
        const std::string unchecked = "step \"deploy\" was interrupted on host web1 and what its "
                                      "attempt may still run there cannot be checked (down)";
        auto d = decide_resume({ps, &st, false, false, false, now, "", unchecked}, run, "", probes);
        CHECK(d.plan == StepPlan::needs_attention);
        CHECK(d.message.find(unchecked) == 0);
        CHECK(d.message.find("rollback resume " + run + " --mark-done deploy") !=
              std::string::npos);
        d = decide_resume({ps, &st, false, false, true, now, "", unchecked}, run, "", probes);
        CHECK(d.plan == StepPlan::run);
        CHECK(d.first_attempt == 2);
        d = decide_resume({ps, &st, false, true, false, now, "", unchecked}, run, "", probes);
        CHECK(d.plan == StepPlan::already_done);
        // Every command it names finds the run's state from any directory (break-it 43/F2).
        d = decide_resume({ps, &st, false, false, false, now, "", unchecked}, run,
                          " -c /etc/rollback/rollback.toml", probes);
        CHECK(d.message.find("rollback resume " + run +
                             " -c /etc/rollback/rollback.toml --mark-done deploy  (it happened)  "
                             "or  rollback resume " +
                             run + " -c /etc/rollback/rollback.toml --retry deploy") !=
              std::string::npos);
        d = decide_resume({ps, &st, true, false, false, now, alive, ""}, run,
                          " --state-dir /srv/st", probes);
        CHECK(d.message.find("rollback report " + run + " --state-dir /srv/st)") !=
              std::string::npos);
        CHECK(d.message.find("then: rollback resume " + run + " --state-dir /srv/st") !=
              std::string::npos);
    }

    TEST_CASE("decide_resume: the first rule that applies decides") {
        playbook::Step step;
        step.id = "restart";
        PlannedStep ps{&step, false, true, {}};
        const std::string run = "20261205T000000Z-abcdef";
        CountingProbe cmd{ProbeFinding::Verdict::done, {}};
        Probes probes{cmd.fn(), nullptr};

        // never started: run it, or record its skip
        auto d = decide_resume({ps, nullptr}, run, "", probes);
        CHECK(d.plan == StepPlan::run);
        CHECK(d.first_attempt == 1);
        PlannedStep unselected{&step, false, false, "--skip"};
        d = decide_resume({unselected, nullptr}, run, "", probes);
        CHECK(d.plan == StepPlan::record_skip);
        CHECK(d.message == "--skip");

        // finished in an earlier invocation: nothing to do
        for (auto status : {journal::StepStatus::succeeded, journal::StepStatus::skipped,
                            journal::StepStatus::marked_done}) {
            journal::StepState st;
            st.status = status;
            st.attempts = 1;
            CHECK(decide_resume({ps, &st}, run, "", probes).plan == StepPlan::already_done);
        }
        // failed then: nothing runs, and the run goes on as it did then (on_failure decides)
        for (auto status : {journal::StepStatus::failed, journal::StepStatus::timed_out,
                            journal::StepStatus::verification_failed}) {
            journal::StepState st;
            st.status = status;
            st.attempts = 1;
            st.summary = "exit 1";
            d = decide_resume({ps, &st}, run, "", probes);
            CHECK(d.plan == StepPlan::already_failed);
            CHECK(d.message == "exit 1");
        }

        // interrupted, not idempotent, no probe: a person decides, told the two commands
        journal::StepState st = interrupted(2);
        d = decide_resume({ps, &st}, run, "", probes);
        CHECK(d.plan == StepPlan::needs_attention);
        CHECK(d.message.find("rollback resume " + run + " --mark-done restart") !=
              std::string::npos);
        CHECK(d.message.find("--retry restart") != std::string::npos);
        CHECK(cmd.calls == 0); // no probe command on the step: never called

        // what a person said wins over everything but survivors
        d = decide_resume({ps, &st, false, true, false}, run, "", probes);
        CHECK(d.plan == StepPlan::already_done);
        d = decide_resume({ps, &st, false, false, true}, run, "", probes);
        CHECK(d.plan == StepPlan::run);
        CHECK(d.first_attempt == 3);
        d = decide_resume({ps, &st, true, true, true}, run, "", probes);
        CHECK(d.plan == StepPlan::needs_attention);
        CHECK(d.message.find("still alive after SIGKILL") != std::string::npos);

        // idempotent: run again, the next attempt, no probe asked
        step.idempotent = true;
        step.probe = {"test", "-e", "done"};
        d = decide_resume({ps, &st}, run, "", probes);
        CHECK(d.plan == StepPlan::run);
        CHECK(d.first_attempt == 3);
        CHECK(cmd.calls == 0);
        step.idempotent = false;
    }

    TEST_CASE("decide_resume: a failure with retries left is not the step's result") {
        // The engine was killed (or interrupted) during the retry delay after attempt 1 of 3:
        // resume makes attempt 2 after the rest of the delay, idempotent or not, whatever
        // on_failure says; a step whose retries are used up stays failed.
        playbook::Step step;
        step.id = "flaky";
        step.retries = 2;
        step.retry_delay = std::chrono::seconds(3);
        PlannedStep ps{&step, false, true, {}};
        const std::string run = "r";
        CountingProbe cmd{ProbeFinding::Verdict::done, {}};
        Probes probes{cmd.fn(), nullptr};
        journal::StepState st;
        st.status = journal::StepStatus::failed;
        st.attempts = 1;
        st.finished = "2026-12-06T10:00:00Z";
        const auto finished = *util::parse_time(st.finished);
        for (auto on_failure : {playbook::OnFailure::abort, playbook::OnFailure::continue_}) {
            step.on_failure = on_failure;
            auto d =
                decide_resume({ps, &st, false, false, false, finished + std::chrono::seconds(1)},
                              run, "", probes);
            CHECK(d.plan == StepPlan::run);
            CHECK(d.first_attempt == 2);
            CHECK(d.wait_first == std::chrono::seconds(2)); // 3 s delay, 1 s of it passed
            CHECK(cmd.calls == 0);
        }
        // the delay is over: at once
        auto d = decide_resume({ps, &st, false, false, false, finished + std::chrono::minutes(1)},
                               run, "", probes);
        CHECK(d.plan == StepPlan::run);
        CHECK(d.wait_first == util::Millis(0));
        // after attempt 2 the delay doubled
        st.attempts = 2;
        d = decide_resume({ps, &st, false, false, false, finished}, run, "", probes);
        CHECK(d.first_attempt == 3);
        CHECK(d.wait_first == std::chrono::seconds(6));
        // retries used up: the failure is the step's result (nothing runs; on_failure decides)
        st.attempts = 3;
        CHECK(decide_resume({ps, &st, false, false, false, finished}, run, "", probes).plan ==
              StepPlan::already_failed);
        CHECK_FALSE(orchestrator::retries_owed(step, st));
    }

    TEST_CASE("decide_resume: a probe's finding decides an interrupted step") {
        playbook::Step step;
        step.id = "restore-db";
        PlannedStep ps{&step, false, true, {}};
        journal::StepState st = interrupted(1);
        const std::string run = "r";
        struct Case {
            ProbeFinding::Verdict v;
            StepPlan plan;
        };
        for (const Case c : {Case{ProbeFinding::Verdict::done, StepPlan::already_done},
                             Case{ProbeFinding::Verdict::not_done, StepPlan::run},
                             Case{ProbeFinding::Verdict::unknown, StepPlan::needs_attention}}) {
            // the step's probe command...
            step.probe = {"probe"};
            CountingProbe cmd{c.v, {}}, act{ProbeFinding::Verdict::done, {}};
            auto d = decide_resume({ps, &st}, run, "", Probes{cmd.fn(), act.fn()});
            CHECK(d.plan == c.plan);
            CHECK(cmd.calls == 1);
            CHECK(act.calls == 0); // the step's own probe comes first
            if (c.plan == StepPlan::run) {
                CHECK(d.first_attempt == 2);
            }
            // ...else the action's own probe, whose state is shown when it cannot tell
            step.probe.clear();
            CountingProbe act2{c.v, "the swap did not happen", 0};
            d = decide_resume({ps, &st}, run, "", Probes{cmd.fn(), act2.fn()});
            CHECK(d.plan == c.plan);
            CHECK(act2.calls == 1);
            if (c.plan == StepPlan::needs_attention) {
                CHECK(d.message.find("cannot tell how to continue: the swap did not happen") !=
                      std::string::npos);
                CHECK(d.message.find("--mark-done restore-db") != std::string::npos);
            }
        }
    }

    TEST_CASE("resume after an interruption: the journal and the probe decide (the fake "
              "process runner)") {
        test::TempDir dir;
        const auto file = dir.write("pb.toml", R"(
[playbook]
name = "t"
[[step]]
id = "a"
action = "exec"
argv = ["step-a"]
[[step]]
id = "b"
action = "exec"
argv = ["step-b"]
probe = ["probe-b"]
[[step]]
id = "c"
action = "exec"
argv = ["step-c"]
)");
        const auto pb = playbook::load(file, {});
        report::NullObserver quiet;
        // A whole run, then its journal cut right after b's step_started: what a kill -9 of the
        // engine while b ran leaves (every record is on disk before its effect starts).
        auto interrupted_run = [&](const std::string& run_id) {
            test::FakeProcessRunner first;
            orchestrator::RunOptions opts;
            opts.state_dir = dir.path() / run_id;
            auto plan = orchestrator::make_plan(pb, {}, {});
            state::LocalStore store(opts.state_dir);
            auto lease = store.acquire_lease(state::this_process_holder(run_id, "test")).lease;
            REQUIRE(lease);
            auto out = orchestrator::run(plan, opts, store, *lease, run_id, first, quiet);
            REQUIRE(out.status == journal::RunStatus::succeeded);
            CHECK(first.programs() == std::vector<std::string>{"step-a", "step-b", "step-c"});
            std::ifstream in(out.journal);
            std::string kept, line;
            while (std::getline(in, line)) {
                kept += line + "\n";
                if (line.find("\"type\":\"step_started\"") != std::string::npos &&
                    line.find("\"step\":\"b\"") != std::string::npos) {
                    break;
                }
            }
            in.close();
            std::ofstream(out.journal, std::ios::trunc) << kept;
            return out.journal;
        };
        struct Case {
            int probe_exit;
            std::vector<std::string> programs;
            journal::RunStatus status;
        };
        int n = 0;
        for (const Case& c :
             {Case{0, {"probe-b", "step-c"}, journal::RunStatus::succeeded},
              Case{1, {"probe-b", "step-b", "step-c"}, journal::RunStatus::succeeded},
              Case{3, {"probe-b"}, journal::RunStatus::needs_attention}}) {
            CAPTURE(c.probe_exit);
            const std::string run_id = "20261205T12000" + std::to_string(++n) + "Z-abcdef";
            const auto path = interrupted_run(run_id);
            test::FakeProcessRunner again;
            again.outcomes["probe-b"] = test::FakeProcessRunner::exited(c.probe_exit);
            orchestrator::ResumeOptions ro;
            ro.state_dir = dir.path() / run_id;
            ro.user = "test";
            state::LocalStore store(ro.state_dir);
            auto lease = store.acquire_lease(state::this_process_holder(run_id, "test")).lease;
            REQUIRE(lease);
            auto out =
                orchestrator::resume(pb, journal::read(path), ro, store, *lease, again, quiet);
            CHECK(again.programs() == c.programs); // a (finished) never runs again
            CHECK(out.status == c.status);
            if (c.status == journal::RunStatus::needs_attention) {
                CHECK(out.message.find("--mark-done b") != std::string::npos);
                // a person answers: it happened
                test::FakeProcessRunner third;
                ro.mark_done = {"b"};
                out =
                    orchestrator::resume(pb, journal::read(path), ro, store, *lease, third, quiet);
                CHECK(third.programs() == std::vector<std::string>{"step-c"});
                CHECK(out.status == journal::RunStatus::succeeded);
            }
        }
    }

    TEST_CASE("resume of a failed run killed during its finally steps runs them and not the failed "
              "step") {
        // break-it 30/18: step bad failed and aborted the run; the engine was killed while the
        // finally step ran. A bare resume runs the finally step (idempotent: again), never bad
        // nor the step after it, and the run ends failed (exit 1); once it has ended, a bare
        // resume refuses and names --retry.
        test::TempDir dir;
        const auto file = dir.write("pb.toml", R"(
[playbook]
name = "t"
[[step]]
id = "bad"
action = "exec"
argv = ["step-bad"]
[[step]]
id = "after"
action = "exec"
argv = ["step-after"]
[[finally]]
id = "maint-off"
action = "exec"
argv = ["maint-off"]
idempotent = true
)");
        const auto pb = playbook::load(file, {});
        report::NullObserver quiet;
        const std::string run_id = "20261206T120000Z-abcdef";
        orchestrator::RunOptions opts;
        opts.state_dir = dir.path() / "state";
        state::LocalStore store(opts.state_dir);
        auto lease = store.acquire_lease(state::this_process_holder(run_id, "test")).lease;
        REQUIRE(lease);
        test::FakeProcessRunner first;
        first.outcomes["step-bad"] = test::FakeProcessRunner::exited(1);
        auto out = orchestrator::run(orchestrator::make_plan(pb, {}, {}), opts, store, *lease,
                                     run_id, first, quiet);
        REQUIRE(out.status == journal::RunStatus::failed);
        CHECK(first.programs() == std::vector<std::string>{"step-bad", "maint-off"});
        // kill -9 while maint-off ran: the journal ends with its step_started (and process)
        std::ifstream in(out.journal);
        std::string kept, line;
        while (std::getline(in, line)) {
            kept += line + "\n";
            if (line.find("\"type\":\"step_started\"") != std::string::npos &&
                line.find("\"step\":\"maint-off\"") != std::string::npos) {
                break;
            }
        }
        in.close();
        std::ofstream(out.journal, std::ios::trunc) << kept;

        orchestrator::ResumeOptions ro;
        ro.state_dir = opts.state_dir;
        ro.user = "test";
        test::FakeProcessRunner again;
        out = orchestrator::resume(pb, journal::read(out.journal), ro, store, *lease, again, quiet);
        CHECK(again.programs() == std::vector<std::string>{"maint-off"});
        CHECK(out.status == journal::RunStatus::failed);
        CHECK(out.code == util::ExitCode::run_failed);
        const auto state = journal::fold(journal::read(out.journal), false);
        CHECK(state.status == journal::RunStatus::failed);
        REQUIRE(state.step("maint-off") != nullptr);
        CHECK(state.step("maint-off")->status == journal::StepStatus::succeeded);
        CHECK(state.step("bad")->status == journal::StepStatus::failed);
        CHECK(state.step("after")->status == journal::StepStatus::pending);

        // ended now: nothing left for a bare resume, which says how to run bad again
        test::FakeProcessRunner third;
        try {
            orchestrator::resume(pb, journal::read(out.journal), ro, store, *lease, third, quiet);
            FAIL("a resume of an ended failed run must refuse");
        } catch (const util::Error& e) {
            CHECK(std::string(e.what()).find("stopped because step \"bad\" failed") !=
                  std::string::npos);
            CHECK(std::string(e.hint()).find("--retry bad") != std::string::npos);
        }
        CHECK(third.programs().empty());
    }

    TEST_CASE("hand-over: a monitor's run interrupted by SIGTERM leaves its finally steps to the "
              "resume which runs them after the remaining steps (break-it 32/02)") {
        test::TempDir dir;
        const auto file = dir.write("pb.toml", R"(
[playbook]
name = "t"
[[step]]
id = "a"
action = "exec"
argv = ["step-a"]
[[step]]
id = "b"
action = "exec"
argv = ["step-b"]
idempotent = true
[[step]]
id = "c"
action = "exec"
argv = ["step-c"]
[[finally]]
id = "fin1"
action = "exec"
argv = ["fin1"]
idempotent = true
[[finally]]
id = "fin2"
action = "exec"
argv = ["fin2"]
)");
        const auto pb = playbook::load(file, {});
        report::NullObserver quiet;
        exec::install_interrupt_handlers();
        exec::clear_interrupt();
        // The SIGTERM of `systemctl stop` arriving while `program` runs: the engine's handler
        // notes it and the program's group is ended (Ending::interrupted) — or the program ends
        // by itself just before the engine acts on the signal (`ends_by_itself`).
        auto term_during = [](const std::string& program, bool ends_by_itself) {
            auto runner = std::make_unique<test::FakeProcessRunner>();
            runner->responder = [program, ends_by_itself](const exec::Command& cmd) {
                if (cmd.argv.front() == program) {
                    std::raise(SIGTERM);
                    return ends_by_itself
                               ? test::FakeProcessRunner::exited(0)
                               : test::FakeProcessRunner::ended(exec::Ending::interrupted);
                }
                return test::FakeProcessRunner::exited(0);
            };
            return runner;
        };
        auto count_type = [](const journal::Journal& j, journal::RecordType t) {
            return std::count_if(j.records.begin(), j.records.end(),
                                 [t](const journal::Entry& e) { return e.type() == t; });
        };
        struct Case {
            std::string name;
            bool hand_over;
            std::string interrupted;
            bool ends_by_itself;
            std::vector<std::string> first, again;
            std::string during, step; ///< of the run_handed_over record ("" = none written)
        };
        const std::vector<Case> cases{
            // A monitor among monitors (a shared state): nothing of the cleanup runs early.
            {"hand-over",
             true,
             "step-b",
             false,
             {"step-a", "step-b"},
             {"step-b", "step-c", "fin1", "fin2"},
             "steps",
             "b"},
            // The signal came as step a's program ended by itself: no step was interrupted.
            {"hand-over between steps",
             true,
             "step-a",
             true,
             {"step-a"},
             {"step-b", "step-c", "fin1", "fin2"},
             "steps",
             ""},
            // A person's run (or a monitor alone): the finally steps run at the interruption.
            {"a person's run",
             false,
             "step-b",
             false,
             {"step-a", "step-b", "fin1", "fin2"},
             {"step-b", "step-c"},
             "",
             ""},
            // Handed over inside the finally steps: those not finished are the resume's.
            {"hand-over mid-finally",
             true,
             "fin1",
             false,
             {"step-a", "step-b", "step-c", "fin1"},
             {"fin1", "fin2"},
             "finally",
             "fin1"},
        };
        for (const auto& c : cases) {
            SUBCASE(c.name.c_str()) {
                const std::string run_id = "20261206T120000Z-abcdef";
                orchestrator::RunOptions opts;
                opts.state_dir = dir.path() / "state";
                if (c.hand_over) {
                    opts.hand_over = orchestrator::HandOver{
                        7, "rollback resume " + run_id + " -c /etc/rollback/rollback.toml"};
                }
                state::LocalStore store(opts.state_dir);
                auto first = term_during(c.interrupted, c.ends_by_itself);
                std::filesystem::path journal_path;
                {
                    auto lease =
                        store.acquire_lease(state::this_process_holder(run_id, "test")).lease;
                    REQUIRE(lease);
                    auto out = orchestrator::run(orchestrator::make_plan(pb, {}, {}), opts, store,
                                                 *lease, run_id, *first, quiet);
                    CHECK(exec::interrupt_requested() == 0);
                    CHECK(out.status == journal::RunStatus::interrupted);
                    CHECK(first->programs() == c.first);
                    journal_path = out.journal;
                    const journal::Journal j = journal::read(journal_path);
                    // A hand-over is its own record, in place of run_interrupted; the engine
                    // writes no free-form note.
                    CHECK(count_type(j, journal::RecordType::run_interrupted) ==
                          (c.hand_over ? 0 : 1));
                    CHECK(count_type(j, journal::RecordType::run_handed_over) ==
                          (c.hand_over ? 1 : 0));
                    CHECK(count_type(j, journal::RecordType::note) == 0);
                    // Handed over, no finally step is recorded as skipped: none is done.
                    CHECK(count_type(j, journal::RecordType::step_skipped) == 0);
                    const journal::RunState st = journal::fold(j, false);
                    CHECK(st.signal == "SIGTERM");
                    REQUIRE(st.handed_over.has_value() == c.hand_over);
                    if (c.hand_over) {
                        const auto& h = st.handed_over->record;
                        CHECK(h.signal == "SIGTERM");
                        CHECK(h.during == c.during);
                        CHECK(h.step == c.step);
                        CHECK(h.attempt == (c.step.empty() ? std::nullopt : std::optional(1)));
                        CHECK(h.step_status == (c.step.empty() ? "" : "interrupted"));
                        CHECK(h.to == "next_leader");
                        CHECK(h.generation == 7);
                        CHECK(h.resume ==
                              "rollback resume " + run_id + " -c /etc/rollback/rollback.toml");
                        // The record is in the hash chain like any other: changed, the chain
                        // no longer verifies.
                        CHECK(journal::verify(journal_path).ok);
                        std::string text = util::read_file(journal_path);
                        const auto at = text.find("\"generation\":7");
                        REQUIRE(at != std::string::npos);
                        text.replace(at, 14, "\"generation\":8");
                        const auto edited = dir.write("edited.jsonl", text);
                        const auto v = journal::verify(edited);
                        CHECK(!v.ok);
                        CHECK(v.bad_line == 1 + static_cast<std::size_t>(std::count(
                                                    text.begin(), text.begin() + at, '\n')));
                    }
                }
                test::FakeProcessRunner again;
                orchestrator::ResumeOptions ro;
                ro.state_dir = opts.state_dir;
                ro.user = "test";
                auto lease = store.acquire_lease(state::this_process_holder(run_id, "test")).lease;
                REQUIRE(lease);
                auto out = orchestrator::resume(pb, journal::read(journal_path), ro, store, *lease,
                                                again, quiet);
                CHECK(out.status == journal::RunStatus::succeeded);
                CHECK(again.programs() == c.again);
                // Resumed: the run is no longer handed over (status says how it ended).
                CHECK(!journal::fold(journal::read(journal_path), false).handed_over);
            }
        }
    }

    TEST_CASE("a run whose journal holds only the header its dead starter wrote starts in it") {
        test::TempDir dir;
        const auto file = dir.write("pb.toml", R"(
[playbook]
name = "t"
[[step]]
id = "a"
action = "exec"
argv = ["step-a"]
)");
        const auto pb = playbook::load(file, {});
        report::NullObserver quiet;
        const std::string run_id = "20261206T120000Z-dec1de";
        orchestrator::RunOptions opts;
        opts.state_dir = dir.path() / "state";
        state::LocalStore store(opts.state_dir);
        {
            // A leader decided run_id, took the lock, wrote the journal's header and died.
            auto lease = store.acquire_lease(state::this_process_holder(run_id, "dead")).lease;
            REQUIRE(lease);
            store.create_journal(run_id, {{"run_id", run_id}, {"created", "2026-12-06T12:00:00Z"}},
                                 *lease);
        }
        REQUIRE(store.read_journal(run_id).records.empty());
        // The next leader starts the decided run under its id: one run, in that journal.
        test::FakeProcessRunner runner;
        auto lease = store.acquire_lease(state::this_process_holder(run_id, "next")).lease;
        REQUIRE(lease);
        auto out = orchestrator::run(orchestrator::make_plan(pb, {}, {}), opts, store, *lease,
                                     run_id, runner, quiet);
        CHECK(out.status == journal::RunStatus::succeeded);
        CHECK(runner.programs() == std::vector<std::string>{"step-a"});
        const auto jr = store.read_journal(run_id);
        CHECK(jr.chain_problem.empty());
        REQUIRE_FALSE(jr.records.empty());
        CHECK(jr.records.front().type() == journal::RecordType::run_started);
        CHECK(journal::fold(jr, false).status == journal::RunStatus::succeeded);
        CHECK(store.list_runs() == std::vector<std::string>{run_id});
    }
}

namespace {

/// A fleet of fake hosts behind the fake process runner: the ssh master connections open, and
/// each command over ssh is answered as the remote wrapper would (its pgid and exit lines on
/// stderr, under the request's nonce). `exit_of(host, program)` gives the remote exit code;
/// `ran` lists "program@host" in order.
struct FakeFleet {
    std::function<int(const std::string&, const std::string&)> exit_of =
        [](const std::string&, const std::string&) { return 0; };
    std::vector<std::string> ran;
    std::mutex ran_mutex; ///< the hosts of a batch answer from threads of their own
    test::FakeProcessRunner runner;

    FakeFleet() {
        runner.responder = [this](const exec::Command& cmd) {
            const auto& a = cmd.argv;
            const auto dash = std::find(a.begin(), a.end(), "--");
            if (std::find(a.begin(), a.end(), "-N") != a.end() ||
                std::find(a.begin(), a.end(), "-O") != a.end() || dash == a.end() ||
                dash + 1 == a.end()) {
                return test::FakeProcessRunner::exited(0); // a master opened or closed
            }
            const std::string address = *(dash + 1);
            std::istringstream in(cmd.stdin_data);
            std::string header, word, nonce, line, program;
            std::getline(in, header);
            std::istringstream(header) >> word >> word >> nonce;
            while (std::getline(in, line)) {
                if (program.empty() && line.rfind("a ", 0) == 0) {
                    program = line.substr(2); // plain names: no octal escapes to undo
                }
            }
            {
                std::lock_guard lock(ran_mutex);
                ran.push_back(program + "@" + address);
            }
            const std::string m = "@rollback-remote:" + nonce + " ";
            return test::FakeProcessRunner::exited(
                0, "",
                m + "pgid 4242\n" + m + "exit " + std::to_string(exit_of(address, program)) + "\n");
        };
    }
};

} // namespace

TEST_SUITE("orchestrator") {
    TEST_CASE("resume of a step on hosts: the probe asks only the host left running and the "
              "rest of the hosts follow (the fake process runner)") {
        test::TempDir dir;
        dir.write("known_hosts", "");
        const auto file = dir.write("pb.toml", R"(
[remote]
known_hosts = "known_hosts"
[hosts]
web = [{ name = "web1", address = "h1" }, { name = "web2", address = "h2" },
       { name = "web3", address = "h3" }]
[[step]]
id = "b"
action = "exec"
hosts = "web"
batch = 1
argv = ["step-b"]
probe = ["probe-b"]
[[step]]
id = "c"
action = "exec"
argv = ["step-c"]
)");
        const auto pb = playbook::load(file, {});
        report::NullObserver quiet;
        // The whole run, then its journal cut right after web2's step_host_started: a kill -9
        // of the engine while b ran on web2 (web1 done, web3 not started).
        auto interrupted_run = [&](const std::string& run_id) {
            FakeFleet fleet;
            orchestrator::RunOptions opts;
            opts.state_dir = dir.path() / run_id;
            auto plan = orchestrator::make_plan(pb, {}, {});
            state::LocalStore store(opts.state_dir);
            auto lease = store.acquire_lease(state::this_process_holder(run_id, "test")).lease;
            REQUIRE(lease);
            auto out = orchestrator::run(plan, opts, store, *lease, run_id, fleet.runner, quiet);
            REQUIRE(out.status == journal::RunStatus::succeeded);
            CHECK(fleet.ran == std::vector<std::string>{"step-b@h1", "step-b@h2", "step-b@h3"});
            std::ifstream in(out.journal);
            std::string kept, line;
            bool cut = false;
            while (!cut && std::getline(in, line)) {
                kept += line + "\n";
                cut = line.find("\"type\":\"step_host_started\"") != std::string::npos &&
                      line.find("\"host\":\"web2\"") != std::string::npos;
            }
            REQUIRE(cut);
            in.close();
            std::ofstream(out.journal, std::ios::trunc) << kept;
            return out.journal;
        };
        struct Case {
            int probe_exit;
            std::vector<std::string> remote;
            std::vector<std::string> local;
            journal::RunStatus status;
        };
        int n = 0;
        for (const Case& c :
             // First the look for what the interrupted attempt still runs on web2 (/bin/sh:
             // the scan program, survivors_hosts.cpp); this fleet has nothing left there.
             {Case{0,
                   {"/bin/sh@h2", "probe-b@h2", "step-b@h3"},
                   {"step-c"},
                   journal::RunStatus::succeeded},
              Case{1,
                   {"/bin/sh@h2", "probe-b@h2", "step-b@h2", "step-b@h3"},
                   {"step-c"},
                   journal::RunStatus::succeeded},
              Case{3, {"/bin/sh@h2", "probe-b@h2"}, {}, journal::RunStatus::needs_attention}}) {
            CAPTURE(c.probe_exit);
            const std::string run_id = "20261206T12000" + std::to_string(++n) + "Z-abcdef";
            const auto path = interrupted_run(run_id);
            FakeFleet again;
            again.exit_of = [&](const std::string&, const std::string& program) {
                return program == "probe-b" ? c.probe_exit : 0;
            };
            orchestrator::ResumeOptions ro;
            ro.state_dir = dir.path() / run_id;
            ro.user = "test";
            state::LocalStore store(ro.state_dir);
            auto lease = store.acquire_lease(state::this_process_holder(run_id, "test")).lease;
            REQUIRE(lease);
            auto out = orchestrator::resume(pb, journal::read(path), ro, store, *lease,
                                            again.runner, quiet);
            CHECK(again.ran == c.remote); // web1 (finished) is never asked nor run again
            std::vector<std::string> local;
            for (const auto& call : again.runner.calls) {
                if (call.argv.front() != "ssh") {
                    local.push_back(call.argv.front());
                }
            }
            CHECK(local == c.local);
            CHECK(out.status == c.status);
            if (c.status == journal::RunStatus::needs_attention) {
                CHECK(out.message.find("--mark-done b") != std::string::npos);
            }
        }
    }

    TEST_CASE("max_failures as a percentage rounds down and a step failed on every host fails "
              "(the fake process runner)") {
        struct Case {
            std::string max_failures;
            std::vector<std::string> failing;
            journal::RunStatus status;
        };
        int n = 0;
        for (const Case& c :
             {Case{"\"30%\"", {"h1", "h2"}, journal::RunStatus::failed},
              Case{"\"30%\"", {"h1"}, journal::RunStatus::succeeded},
              Case{"\"100%\"", {"h1", "h2", "h3", "h4"}, journal::RunStatus::failed},
              Case{"4", {"h1", "h2", "h3", "h4"}, journal::RunStatus::failed},
              Case{"\"100%\"", {"h1", "h2", "h3"}, journal::RunStatus::succeeded}}) {
            CAPTURE(c.max_failures);
            CAPTURE(c.failing.size());
            test::TempDir dir;
            dir.write("known_hosts", "");
            const auto file = dir.write("pb.toml", R"(
[remote]
known_hosts = "known_hosts"
[hosts]
web = [{ name = "web1", address = "h1" }, { name = "web2", address = "h2" },
       { name = "web3", address = "h3" }, { name = "web4", address = "h4" }]
[[step]]
id = "b"
action = "exec"
hosts = "web"
max_failures = )" + c.max_failures + R"(
argv = ["step-b"]
)");
            const auto pb = playbook::load(file, {});
            report::NullObserver quiet;
            FakeFleet fleet;
            fleet.exit_of = [&](const std::string& address, const std::string&) {
                return std::find(c.failing.begin(), c.failing.end(), address) != c.failing.end()
                           ? 1
                           : 0;
            };
            const std::string run_id = "20261206T13000" + std::to_string(++n) + "Z-abcdef";
            orchestrator::RunOptions opts;
            opts.state_dir = dir.path() / run_id;
            auto plan = orchestrator::make_plan(pb, {}, {});
            state::LocalStore store(opts.state_dir);
            auto lease = store.acquire_lease(state::this_process_holder(run_id, "test")).lease;
            REQUIRE(lease);
            auto out = orchestrator::run(plan, opts, store, *lease, run_id, fleet.runner, quiet);
            CHECK(out.status == c.status);
        }
    }

    TEST_CASE("a step on hosts: every program there carries a token of its attempt and host "
              "(the fake process runner)") {
        test::TempDir dir;
        dir.write("known_hosts", "");
        const auto file = dir.write("pb.toml", R"(
[remote]
known_hosts = "known_hosts"
[hosts]
web = [{ name = "web1", address = "h1" }, { name = "web2", address = "h2" }]
[[step]]
id = "b"
action = "exec"
hosts = "web"
argv = ["step-b"]
)");
        const auto pb = playbook::load(file, {});
        report::NullObserver quiet;
        const std::string run_id = "20261206T150001Z-abcdef";
        FakeFleet fleet;
        orchestrator::RunOptions opts;
        opts.state_dir = dir.path() / run_id;
        state::LocalStore store(opts.state_dir);
        auto lease = store.acquire_lease(state::this_process_holder(run_id, "test")).lease;
        REQUIRE(lease);
        auto out = orchestrator::run(orchestrator::make_plan(pb, {}, {}), opts, store, *lease,
                                     run_id, fleet.runner, quiet);
        REQUIRE(out.status == journal::RunStatus::succeeded);
        int programs = 0;
        for (const auto& call : fleet.runner.calls) {
            const auto dash = std::find(call.argv.begin(), call.argv.end(), "--");
            if (dash == call.argv.end() || dash + 2 >= call.argv.end()) {
                continue; // a master connection
            }
            const std::string host = *(dash + 1) == "h1" ? "web1" : "web2";
            const std::string token = "ROLLBACK_STEP_ATTEMPT=" + run_id + "/b/1@" + host + "/";
            ++programs;
            // In the program's environment (the request) and the wrapper's (the command line),
            // never in the local ssh client's.
            CHECK(call.stdin_data.find("\ne " + token) != std::string::npos);
            CHECK(call.argv.back().rfind("exec env " + token, 0) == 0);
            CHECK(call.attempt_token.empty());
        }
        CHECK(programs == 2);
    }

    TEST_CASE("resume --mark-done of a step on hosts marks the hosts where it started and runs "
              "it on the hosts where it never started (the fake process runner)") {
        test::TempDir dir;
        dir.write("known_hosts", "");
        const auto file = dir.write("pb.toml", R"(
[remote]
known_hosts = "known_hosts"
[hosts]
web = [{ name = "web1", address = "h1" }, { name = "web2", address = "h2" },
       { name = "web3", address = "h3" }]
[[step]]
id = "b"
action = "exec"
hosts = "web"
batch = 1
argv = ["step-b"]
)");
        const auto pb = playbook::load(file, {});
        report::NullObserver quiet;
        const std::string run_id = "20261206T140001Z-abcdef";
        std::filesystem::path path;
        {
            FakeFleet fleet;
            orchestrator::RunOptions opts;
            opts.state_dir = dir.path() / run_id;
            auto plan = orchestrator::make_plan(pb, {}, {});
            state::LocalStore store(opts.state_dir);
            auto lease = store.acquire_lease(state::this_process_holder(run_id, "test")).lease;
            REQUIRE(lease);
            auto out = orchestrator::run(plan, opts, store, *lease, run_id, fleet.runner, quiet);
            REQUIRE(out.status == journal::RunStatus::succeeded);
            // cut right after web2's step_host_started: web1 done, web2 running, web3 never
            std::ifstream in(out.journal);
            std::string kept, line;
            bool cut = false;
            while (!cut && std::getline(in, line)) {
                kept += line + "\n";
                cut = line.find("\"type\":\"step_host_started\"") != std::string::npos &&
                      line.find("\"host\":\"web2\"") != std::string::npos;
            }
            REQUIRE(cut);
            in.close();
            std::ofstream(out.journal, std::ios::trunc) << kept;
            path = out.journal;
        }
        FakeFleet again;
        orchestrator::ResumeOptions ro;
        ro.state_dir = dir.path() / run_id;
        ro.user = "test";
        state::LocalStore store(ro.state_dir);
        auto lease = store.acquire_lease(state::this_process_holder(run_id, "test")).lease;
        REQUIRE(lease);
        // without a person's word: the message names the host to check
        auto first =
            orchestrator::resume(pb, journal::read(path), ro, store, *lease, again.runner, quiet);
        CHECK(first.status == journal::RunStatus::needs_attention);
        CHECK(first.message.find("was started on host web2 but did not finish") !=
              std::string::npos);
        CHECK(again.ran == std::vector<std::string>{"/bin/sh@h2"}); // the look at web2 only
        ro.mark_done = {"b"};
        auto out =
            orchestrator::resume(pb, journal::read(path), ro, store, *lease, again.runner, quiet);
        // web2 looked at again (nothing left there), then web3 is rolled back too
        CHECK(again.ran == std::vector<std::string>{"/bin/sh@h2", "/bin/sh@h2", "step-b@h3"});
        CHECK(out.status == journal::RunStatus::succeeded);
        const auto st = journal::fold(journal::read(path), false);
        const auto* b = st.step("b");
        REQUIRE(b != nullptr);
        CHECK(b->hosts.at("web1") == "succeeded");
        CHECK(b->hosts.at("web2") == "marked_done");
        CHECK(b->hosts.at("web3") == "succeeded");
    }
}

namespace {

/// Keeps each progress line with the host it was given for ("" for a step's own).
struct ProgressLines final : report::Observer {
    std::vector<std::string> lines; // "step@host: line" or "step: line"
    void on_record(const journal::Entry&, std::string_view) override {}
    void on_progress(std::string_view step, std::string_view line) override {
        lines.push_back(std::string(step) + ": " + std::string(line));
    }
    void on_host_progress(std::string_view step, std::string_view host,
                          std::string_view line) override {
        lines.push_back(std::string(step) + "@" + std::string(host) + ": " + std::string(line));
    }
};

} // namespace

TEST_SUITE("orchestrator") {
    TEST_CASE("a progress line of a step on hosts names its host (brk34 14)") {
        test::TempDir dir;
        dir.write("known_hosts", "");
        const auto file = dir.write("pb.toml", R"(
[remote]
known_hosts = "known_hosts"
[hosts]
web = [{ name = "web1", address = "h1" }, { name = "web2", address = "h2" }]
[[step]]
id = "say"
action = "exec"
hosts = "web"
argv = ["say-hello"]
)");
        const auto pb = playbook::load(file, {});
        FakeFleet fleet;
        auto answer = fleet.runner.responder;
        fleet.runner.responder = [answer](const exec::Command& cmd) {
            auto out = answer(cmd);
            out.stdout_tail = "hello\n"; // the program's output (a master's is not read)
            return out;
        };
        ProgressLines seen;
        orchestrator::RunOptions opts;
        opts.state_dir = dir.path() / "state";
        opts.verbose = true; // an exec's output lines are its progress
        state::LocalStore store(opts.state_dir);
        const std::string run_id = "20261206T130000Z-abcdef";
        auto lease = store.acquire_lease(state::this_process_holder(run_id, "test")).lease;
        REQUIRE(lease);
        auto out = orchestrator::run(orchestrator::make_plan(pb, {}, {}), opts, store, *lease,
                                     run_id, fleet.runner, seen);
        REQUIRE(out.status == journal::RunStatus::succeeded);
        std::vector<std::string> hello;
        for (const auto& l : seen.lines) {
            if (l.find("hello") != std::string::npos) {
                hello.push_back(l);
            }
        }
        std::sort(hello.begin(), hello.end());
        CHECK(hello == std::vector<std::string>{"say@web1: hello", "say@web2: hello"});
    }
}
