// SPDX-License-Identifier: MIT
#include "exec/process_group.hpp"

#include "exec/runner.hpp"

#include <chrono>
#include <csignal>
#include <doctest/doctest.h>
#include <thread>

using namespace rollback;
using namespace std::chrono_literals;

namespace {

/// Runs `script` with sh, returning the token of its group (recorded before it ran).
exec::GroupToken start_group(const std::string& script, exec::Outcome* outcome = nullptr) {
    exec::Command cmd;
    cmd.argv = {"sh", "-c", script};
    exec::GroupToken token;
    cmd.on_started = [&](const exec::GroupToken& g) { token = g; };
    exec::Outcome o = exec::RealProcessRunner().run(cmd);
    REQUIRE(o.ok());
    if (outcome != nullptr) {
        *outcome = o;
    }
    return token;
}

} // namespace

TEST_SUITE("exec") {
    TEST_CASE("group_survivors: a grandchild outlives its leader — the token tells groups apart") {
        exec::Outcome o;
        auto token = start_group("sleep 1000 >/dev/null 2>&1 &", &o);
        auto found = exec::group_survivors(token);
        REQUIRE(found.size() == 1);
        CHECK(found[0].command == "sleep 1000");
        REQUIRE(o.left_running.size() == 1);
        CHECK(o.left_running[0].pid == found[0].pid);

        exec::GroupToken other_boot = token;
        other_boot.boot_id = "00000000-0000-0000-0000-000000000000";
        CHECK(exec::group_survivors(other_boot).empty());
        exec::GroupToken reused = token; // the pgid of a group that started after ours
        reused.leader_start = token.leader_start + 1'000'000;
        CHECK(exec::group_survivors(reused).empty());
        CHECK(exec::group_survivors(exec::GroupToken{}).empty());

        CHECK(::kill(-token.pgid, SIGKILL) == 0);
        for (int i = 0; i < 100 && !exec::group_survivors(token).empty(); ++i) {
            std::this_thread::sleep_for(20ms);
        }
        CHECK(exec::group_survivors(token).empty());
    }

    TEST_CASE("settle_group: waits for survivors — then TERM — then KILL") {
        SUBCASE("survivors that finish within the wait are left to finish") {
            auto token = start_group("sleep 0.4 >/dev/null 2>&1 &");
            REQUIRE_FALSE(exec::group_survivors(token).empty());
            auto s = exec::settle_group(token, 5s, 1s);
            CHECK(s.how == exec::Settled::exited);
            CHECK(exec::to_string(s.how) == "exited");
            CHECK(s.waited >= 200ms);
            CHECK(s.waited < 2s);
            CHECK(exec::group_survivors(token).empty());
        }
        SUBCASE("survivors still there after the wait get TERM") {
            auto token = start_group("sleep 1000 >/dev/null 2>&1 &");
            auto s = exec::settle_group(token, 200ms, 2s);
            CHECK(s.how == exec::Settled::terminated);
            CHECK(s.waited >= 200ms);
            CHECK(s.waited < 1500ms);
            CHECK(exec::group_survivors(token).empty());
        }
        SUBCASE("survivors that ignore TERM get KILL after the grace period") {
            // An ignored signal stays ignored across exec: the sleep ignores TERM too.
            auto token = start_group("trap '' TERM; sleep 1000 >/dev/null 2>&1 &");
            auto s = exec::settle_group(token, 100ms, 300ms);
            CHECK(s.how == exec::Settled::killed);
            CHECK(s.waited >= 400ms);
            CHECK(s.waited < 2s);
            CHECK(s.remaining.empty());
            CHECK(exec::group_survivors(token).empty());
        }
    }
}
