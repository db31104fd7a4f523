// SPDX-License-Identifier: MIT
// A run's lifecycle hooks under the run lock's fence (docs/config.md "Fencing"): the hook's
// child is held after its fork until a fence check made then passed (break-it 38/04).
#include "orchestrator/hook_runner.hpp"

#include "actions/load.hpp"
#include "exec/runner.hpp"
#include "journal/paths.hpp"
#include "journal/state.hpp"
#include "orchestrator/execute.hpp"
#include "orchestrator/plan.hpp"
#include "report/observer.hpp"
#include "state/memory_store.hpp"
#include "util/error.hpp"
#include "util/files.hpp"

#include "support/fake_runner.hpp"
#include "support/temp_dir.hpp"

#include <chrono>
#include <csignal>
#include <doctest/doctest.h>
#include <filesystem>
#include <stdexcept>
#include <thread>

using namespace rollback;
namespace fs = std::filesystem;

namespace {

class FakeClock final : public util::Clock {
  public:
    util::SystemTime now() const override { return t; }
    util::SystemTime t =
        std::chrono::time_point_cast<util::Millis>(std::chrono::system_clock::now());
};

fs::path executable(const test::TempDir& dir, const std::string& name, const std::string& text) {
    auto p = dir.write(name, text);
    fs::permissions(p, fs::perms::owner_all);
    return p;
}

/// Gone, or a zombie nobody reaped yet (its parent exited: init reaps it when it will).
bool ended(int pid) {
    const fs::path stat = "/proc/" + std::to_string(pid) + "/stat";
    std::string text;
    try {
        text = util::read_file(stat);
    } catch (const std::exception&) {
        return true;
    }
    const auto paren = text.rfind(')');
    return text.empty() ||
           (paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] == 'Z');
}

} // namespace

TEST_SUITE("orchestrator") {
    TEST_CASE("hooks: a holder deposed between the fence check and the hook's spawn runs no hook") {
        test::TempDir dir;
        dir.write("pb.toml", R"([playbook]
name = "three"
[playbook.hooks]
before-step = ["trace"]
[[step]]
id = "s1"
action = "exec"
argv = ["s1"]
[[step]]
id = "s2"
action = "exec"
argv = ["s2"]
)");
        const std::string trace = executable(dir, "hooks/trace", "#!/bin/sh\nexit 0\n").string();
        FakeClock clock;
        state::MemoryStore store(clock, std::chrono::seconds(5));
        const auto pb = actions::load_playbook(dir / "pb.toml");
        actions::Trigger trigger;
        trigger.reason = "test";
        const std::string run_id = journal::new_run_id();
        auto attempt = store.acquire_lease(state::this_process_holder(run_id, "test"));
        REQUIRE(attempt.lease);

        // The fake runner starts a program as the real one does: a Command with on_started is
        // forked held, on_started runs, and its program is released only if that returned.
        std::vector<std::string> released;
        int traces = 0;
        test::FakeProcessRunner runner;
        runner.responder = [&](const exec::Command& cmd) {
            if (cmd.argv[0] == trace && ++traces == 2) {
                // The engine paused right after lifecycle's fence check for s2's hook, past its
                // lease: another process took the run lock over before the hook's fork.
                clock.t += std::chrono::seconds(10);
                REQUIRE(store.acquire_lease(state::this_process_holder(run_id, "other")).lease);
            }
            if (cmd.on_started) {
                cmd.on_started(exec::GroupToken{});
            }
            released.push_back(cmd.argv[0]);
            return test::FakeProcessRunner::exited(0);
        };
        orchestrator::RunOptions ro{dir.path(), trigger, {}, false, "test"};
        report::NullObserver quiet;
        orchestrator::RunOutcome outcome;
        try {
            outcome = orchestrator::run(orchestrator::make_plan(pb, {}, trigger), ro, store,
                                        *attempt.lease, run_id, runner, quiet);
        } catch (const util::Error& e) {
            outcome.code = e.code(); // the journal could not be written: also a stop
        }

        CHECK(traces == 2);                                       // s2's hook was forked...
        CHECK(released == std::vector<std::string>{trace, "s1"}); // ...and never released
        CHECK(outcome.code == util::ExitCode::state_unwritable);
        CHECK(outcome.status != journal::RunStatus::succeeded);
    }

    TEST_CASE("hooks: HookRunner releases a real program only after its gate passed") {
        test::TempDir dir;
        exec::RealProcessRunner real;
        const fs::path ran = dir / "ran";
        exec::Command cmd;
        cmd.argv = {"/bin/sh", "-c", "touch " + ran.string()};
        cmd.grace = std::chrono::milliseconds(500);

        SUBCASE("refused after the fork: the program never runs") {
            bool asked = false;
            orchestrator::HookRunner held(real, [&] {
                asked = true;
                throw util::Error("the run lock of generation 1 was lost",
                                  util::ExitCode::state_unwritable);
            });
            CHECK_THROWS_AS(held.run(cmd), util::Error);
            CHECK(asked);
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            CHECK_FALSE(fs::exists(ran));
        }
        SUBCASE("passed: it runs, and what it left in its group is ended") {
            const fs::path pid_file = dir / "pid";
            cmd.argv = {"/bin/sh", "-c",
                        "touch " + ran.string() + "; sleep 30 & echo $! > " + pid_file.string()};
            orchestrator::HookRunner held(real, [] {});
            const auto outcome = held.run(cmd);
            CHECK(outcome.ok());
            CHECK(outcome.left_running.empty());
            CHECK(fs::exists(ran));
            const int pid = std::stoi(util::read_file(pid_file));
            bool gone = false;
            for (int i = 0; i < 100 && !gone; ++i) {
                gone = ended(pid);
                if (!gone) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(20));
                }
            }
            CHECK(gone);
        }
    }
}
