// SPDX-License-Identifier: MIT
// The time the engine did not watch a program does not count against its timeout (issue 11,
// step_engine_stopped): the engine stopped by SIGSTOP, or its thread held by a callback (as a
// frozen VM or a starved machine would hold it), wakes past the deadline; a program it then finds
// still running gets the rest of its timeout, one that ended meanwhile is recorded as it ended,
// and one that outlives its watched timeout is still timed out.
#include "exec/runner.hpp"

#include <chrono>
#include <doctest/doctest.h>
#include <string>
#include <thread>

using namespace rollback;
using namespace std::chrono_literals;

namespace {

/// `script` under `sh -c` with `timeout`; the engine's thread is held `hold` at the program's
/// first output (on_output runs on it: nothing of the runner runs meanwhile).
exec::Outcome held_at_output(const std::string& script, util::Millis timeout, util::Millis hold) {
    exec::Command cmd;
    cmd.argv = {"sh", "-c", script};
    cmd.timeout = timeout;
    cmd.grace = 200ms;
    bool held = false;
    cmd.on_output = [&](std::string_view, bool) {
        if (!held) {
            held = true;
            std::this_thread::sleep_for(hold);
        }
    };
    return exec::RealProcessRunner().run(cmd);
}

} // namespace

TEST_SUITE("exec") {
    TEST_CASE("the engine held past the deadline: a program still running gets the rest of it") {
        // Held 1 s of a 1.5 s timeout; the program needs 1.8 s: 1.5 s watched are not over.
        const auto o = held_at_output("echo up; sleep 1.8", 1500ms, 1000ms);
        CHECK(o.ending == exec::Ending::exited);
        CHECK(o.exit_code == 0);
    }

    TEST_CASE("the engine held past the deadline: a program that ended meanwhile is exited") {
        const auto o = held_at_output("echo up; sleep 0.3; exit 4", 200ms, 1000ms);
        CHECK(o.ending == exec::Ending::exited);
        CHECK(o.exit_code == 4);
    }

    TEST_CASE("the engine held: a program that outlives its watched timeout is timed out") {
        const auto o = held_at_output("echo up; exec sleep 30", 500ms, 1000ms);
        CHECK(o.ending == exec::Ending::timed_out);
        // The deadline moved by the hold (less the 100 ms a tick may be late): not at its end.
        CHECK(o.duration >= 1300ms);
        CHECK(o.duration < 5s);
    }

    TEST_CASE("the engine stopped by SIGSTOP past the deadline: the stop does not count") {
        // The program stops the engine (its parent) for 1 s, has it continued, runs 0.8 s more:
        // 0.8 s of the 1.5 s timeout were watched.
        exec::Command cmd;
        cmd.argv = {"sh", "-c", "kill -STOP $PPID; sleep 1; kill -CONT $PPID; sleep 0.8; exit 3"};
        cmd.timeout = 1500ms;
        cmd.grace = 200ms;
        const auto o = exec::RealProcessRunner().run(cmd);
        CHECK(o.ending == exec::Ending::exited);
        CHECK(o.exit_code == 3);
    }

    TEST_CASE("the engine stopped by SIGSTOP: a program that ended during the stop is exited") {
        // It ends 1 s into the stop; what it leaves behind continues the engine 0.3 s later.
        exec::Command cmd;
        cmd.argv = {"sh", "-c",
                    "kill -STOP $PPID; sleep 1; (sleep 0.3; kill -CONT $PPID) & exit 0"};
        cmd.timeout = 500ms;
        cmd.grace = 200ms;
        const auto o = exec::RealProcessRunner().run(cmd);
        CHECK(o.ending == exec::Ending::exited);
        CHECK(o.exit_code == 0);
    }
}
