// SPDX-License-Identifier: MIT
// What a step leaves running after a normal exit keeps running when it writes to the step's
// output after the drain window (a drainer reads it), and the list names what is alive then.
// The engine's plumbing never kills it (break-it 37/08, issue 11): not when the engine dies in
// the exit window before its drain (kill -9 at the exit record), not when it dies while the
// program runs, not when a timeout closes the pipes under a process out of the engine's sight.
#include "exec/process_group.hpp"
#include "exec/runner.hpp"
#include "support/temp_dir.hpp"
#include "util/files.hpp"
#include "util/strings.hpp"

#include <chrono>
#include <csignal>
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace rollback;
using namespace std::chrono_literals;

namespace {

size_t lines_in(const std::filesystem::path& p) {
    std::error_code ec;
    if (!std::filesystem::exists(p, ec)) {
        return 0;
    }
    return util::split(util::read_file(p), '\n').size() - 1;
}

/// A loop that writes a line to stdout and one to stderr every 100 ms, and one to `ticks`;
/// its pid in `pid`.
const std::string k_ticker = "echo $$ >pid; while :; do echo tick; echo tock >&2; "
                             "echo t >>ticks; sleep 0.1; done";

/// Runs `cmd` as a step of an engine that is a fork of this test, SIGKILLed by itself at
/// `kill_at` ("exited": the program's exit record, before the drain; "started": as soon as the
/// program runs). Returns once that engine is dead.
void run_in_killed_engine(exec::Command cmd, const std::string& kill_at) {
    const pid_t engine = ::fork();
    if (engine == 0) {
        if (kill_at == "exited") {
            cmd.on_exited = [](const exec::Outcome&) { ::kill(::getpid(), SIGKILL); };
        } else {
            cmd.on_started = [](const exec::GroupToken&) {};
            cmd.on_output = [](std::string_view, bool) { ::kill(::getpid(), SIGKILL); };
        }
        exec::RealProcessRunner().run(cmd);
        ::_exit(0); // never reached: killed before
    }
    REQUIRE(engine > 0);
    int status = 0;
    ::waitpid(engine, &status, 0);
    REQUIRE(WIFSIGNALED(status));
    REQUIRE(WTERMSIG(status) == SIGKILL);
}

/// The ticker of `dir` (its pid file) is alive and still writing 2 s from now; then stopped.
void ticker_lives_on(const test::TempDir& dir) {
    int pid = 0;
    for (int i = 0; i < 50 && pid == 0; ++i) {
        std::error_code ec;
        if (std::filesystem::exists(dir / "pid", ec)) {
            pid = std::atoi(util::read_file(dir / "pid").c_str());
        }
        std::this_thread::sleep_for(20ms);
    }
    REQUIRE(pid > 0);
    const size_t before = lines_in(dir / "ticks");
    std::this_thread::sleep_for(2s);
    CHECK(test::running(pid)); // not killed by SIGPIPE at its next write
    CHECK(lines_in(dir / "ticks") >= before + 10);
    // The ticker and what else is left of its group (a dead engine's `sleep 30`).
    const pid_t group = ::getpgid(pid);
    if (group > 0 && group != ::getpgrp()) {
        ::kill(-group, SIGKILL);
    }
    ::kill(pid, SIGKILL);
}

} // namespace

TEST_SUITE("exec") {
    TEST_CASE("left running: a daemon writing to the step's stdout outlives the drain window") {
        test::TempDir dir;
        exec::Command cmd;
        cmd.argv = {
            "sh", "-c",
            "sh -c 'while :; do echo tick; echo t >>ticks; sleep 0.1; done' & echo started"};
        cmd.cwd = dir.path().string();
        cmd.attempt_token = "1/left-running-" + std::to_string(::getpid());
        exec::GroupToken token;
        cmd.on_started = [&](const exec::GroupToken& g) { token = g; };
        exec::Outcome o = exec::RealProcessRunner().run(cmd);
        REQUIRE(o.ok());
        // The loop may write its first tick before "started": both are the step's output.
        CHECK(o.stdout_tail.find("started\n") != std::string::npos);
        REQUIRE_FALSE(o.left_running.empty());
        int loop = 0;
        for (const auto& p : o.left_running) {
            if (p.command.find("while") != std::string::npos) {
                loop = p.pid;
            }
        }
        REQUIRE(loop > 0);
        const size_t before = lines_in(dir / "ticks");
        std::this_thread::sleep_for(1s);
        CHECK(test::running(loop)); // not killed by SIGPIPE at its next write
        CHECK(lines_in(dir / "ticks") >= before + 5);
        auto s = exec::settle_group(token, 10ms, 2s);
        CHECK(s.how != exec::Settled::remain);
    }

    TEST_CASE(
        "left running: the engine killed at the program's exit record — the daemon writes on") {
        test::TempDir dir;
        exec::Command cmd;
        cmd.argv = {"sh", "-c", "sh -c '" + k_ticker + "' & sleep 0.3; echo started"};
        cmd.cwd = dir.path().string();
        cmd.attempt_token = "1/exit-window-" + std::to_string(::getpid());
        cmd.on_started = [](const exec::GroupToken&) {};
        run_in_killed_engine(cmd, "exited");
        ticker_lives_on(dir);
    }

    TEST_CASE("left running: the engine killed while the program runs — its daemon writes on") {
        test::TempDir dir;
        exec::Command cmd;
        cmd.argv = {"sh", "-c", "sh -c '" + k_ticker + "' & sleep 30"};
        cmd.cwd = dir.path().string();
        cmd.attempt_token = "1/mid-program-" + std::to_string(::getpid());
        run_in_killed_engine(cmd, "started"); // at its first output: the ticker's
        ticker_lives_on(dir);
    }

    TEST_CASE("a timeout: a writer out of the engine's sight is not killed by a closed pipe") {
        // It left the group (setsid), cleared its environment and closed every inherited
        // descriptor but 0-2: the engine cannot see it, so the timeout does not end it — and
        // closing the step's pipes must not either. (SIGPIPE's default action back: Python
        // ignores it, and an ignored SIGPIPE survives exec.)
        test::TempDir dir;
        exec::Command cmd;
        cmd.argv = {"sh", "-c",
                    "setsid env -i PATH=\"$PATH\" python3 -c 'import os, signal, sys; "
                    "os.closerange(3, 65536); signal.signal(signal.SIGPIPE, signal.SIG_DFL); "
                    "os.execvp(\"sh\", [\"sh\", \"-c\", "
                    "sys.argv[1]])' '" +
                        k_ticker + "' & exec sleep 30"};
        cmd.cwd = dir.path().string();
        cmd.timeout = 700ms;
        cmd.grace = 200ms;
        cmd.attempt_token = "1/out-of-sight-" + std::to_string(::getpid());
        cmd.on_started = [](const exec::GroupToken&) {};
        exec::Outcome o = exec::RealProcessRunner().run(cmd);
        CHECK(o.ending == exec::Ending::timed_out);
        ticker_lives_on(dir);
    }
}
