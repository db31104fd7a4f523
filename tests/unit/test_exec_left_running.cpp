// SPDX-License-Identifier: MIT
// What a step leaves running after a normal exit keeps running when it writes to the step's
// output after the drain window (a drainer reads it), and the list names what is alive then.
#include "exec/process_group.hpp"
#include "exec/runner.hpp"
#include "support/temp_dir.hpp"
#include "util/files.hpp"
#include "util/strings.hpp"

#include <chrono>
#include <csignal>
#include <doctest/doctest.h>
#include <thread>

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
}
