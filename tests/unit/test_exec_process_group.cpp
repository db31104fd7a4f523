// SPDX-License-Identifier: MIT
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

/// Runs `script` with sh (with `attempt_token` when given), returning the token of its group
/// (recorded before it ran).
exec::GroupToken start_group(const std::string& script, exec::Outcome* outcome = nullptr,
                             const std::string& attempt_token = {}, const std::string& cwd = {}) {
    exec::Command cmd;
    cmd.argv = {"sh", "-c", script};
    cmd.attempt_token = attempt_token;
    cmd.cwd = cwd;
    exec::GroupToken token;
    cmd.on_started = [&](const exec::GroupToken& g) { token = g; };
    exec::Outcome o = exec::RealProcessRunner().run(cmd);
    REQUIRE(o.ok());
    if (outcome != nullptr) {
        *outcome = o;
    }
    return token;
}

/// A token no other test (or process) carries.
std::string fresh_token(const char* what) {
    static int n = 0;
    return std::string("test/") + what + "/" + std::to_string(::getpid()) + "/" +
           std::to_string(++n);
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
            auto token = start_group("sleep 0.4 >/dev/null 2>&1 &", nullptr, fresh_token("w"));
            REQUIRE_FALSE(exec::group_survivors(token).empty());
            auto s = exec::settle_group(token, 5s, 1s);
            CHECK(s.how == exec::Settled::exited);
            CHECK(exec::to_string(s.how) == "exited");
            CHECK(s.waited >= 200ms);
            CHECK(s.waited < 2s);
            CHECK(exec::group_survivors(token).empty());
        }
        SUBCASE("survivors still there after the wait get TERM") {
            auto token = start_group("sleep 1000 >/dev/null 2>&1 &", nullptr, fresh_token("t"));
            auto s = exec::settle_group(token, 200ms, 2s);
            CHECK(s.how == exec::Settled::terminated);
            CHECK(s.waited >= 200ms);
            CHECK(s.waited < 1500ms);
            CHECK(exec::group_survivors(token).empty());
        }
        SUBCASE("survivors that ignore TERM get KILL after the grace period") {
            // An ignored signal stays ignored across exec: the sleep ignores TERM too.
            auto token = start_group("trap '' TERM; sleep 1000 >/dev/null 2>&1 &", nullptr,
                                     fresh_token("k"));
            auto s = exec::settle_group(token, 100ms, 300ms);
            CHECK(s.how == exec::Settled::killed);
            CHECK(s.waited >= 400ms);
            CHECK(s.waited < 2s);
            CHECK(s.remaining.empty());
            CHECK(exec::group_survivors(token).empty());
        }
    }

    TEST_CASE("attempt token: a setsid grandchild is found outside the group — left running") {
        exec::Command cmd;
        // The shell waits until setsid has left the group and become `sleep` (under load it
        // could exit while its child was still `setsid`, in the group: a flaky test).
        cmd.argv = {"sh", "-c",
                    "setsid sleep 1000 >/dev/null 2>&1 & p=$!; "
                    "while [ \"$(cat /proc/$p/comm 2>/dev/null)\" != sleep ]; do sleep 0.01; done"};
        cmd.attempt_token = fresh_token("setsid");
        exec::GroupToken token;
        cmd.on_started = [&](const exec::GroupToken& g) { token = g; };
        exec::Outcome o = exec::RealProcessRunner().run(cmd);
        REQUIRE(o.ok());
        CHECK(token.attempt_token == cmd.attempt_token);
        REQUIRE(o.left_running.size() == 1);
        CHECK_FALSE(o.left_running[0].in_group);
        CHECK(o.left_running[0].command == "sleep 1000");
        auto found = exec::group_survivors(token);
        REQUIRE(found.size() == 1);
        CHECK(found[0].pid == o.left_running[0].pid);
        CHECK_FALSE(found[0].in_group);
        CHECK(found[0].start >= token.leader_start);

        exec::GroupToken without = token; // a journal written before tokens: the group only
        without.attempt_token.clear();
        CHECK(exec::group_survivors(without).empty());
        exec::GroupToken other = token; // the token must match whole, not as a prefix
        other.attempt_token += "0";
        CHECK(exec::group_survivors(other).empty());
        other.attempt_token = token.attempt_token.substr(0, token.attempt_token.size() - 1);
        CHECK(exec::group_survivors(other).empty());

        // A pid whose start time changed is another process: never signalled.
        auto stale = found;
        stale[0].start += 1;
        exec::signal_survivors(token, stale, SIGKILL);
        std::this_thread::sleep_for(100ms);
        CHECK(exec::group_survivors(token).size() == 1);

        auto s = exec::settle_group(token, 100ms, 2s);
        CHECK(s.how == exec::Settled::terminated);
        CHECK(exec::group_survivors(token).empty());
    }

    TEST_CASE("attempt token: a timeout ends the processes that left the group too") {
        test::TempDir dir;
        exec::Command cmd;
        cmd.argv = {"sh", "-c", "setsid sleep 1000 >/dev/null 2>&1 & echo $! > escaped.pid; wait"};
        cmd.cwd = dir.path().string();
        cmd.timeout = 300ms;
        cmd.grace = 1s;
        cmd.attempt_token = fresh_token("timeout");
        exec::GroupToken token;
        cmd.on_started = [&](const exec::GroupToken& g) { token = g; };
        exec::Outcome o = exec::RealProcessRunner().run(cmd);
        CHECK(o.ending == exec::Ending::timed_out);
        CHECK(o.left_running.empty());
        CHECK(o.duration < 1500ms); // TERM reached the escaped sleep: no wait for KILL
        const int escaped =
            std::stoi(std::string(util::trim(util::read_file(dir / "escaped.pid"))));
        CHECK(escaped > 0);
        CHECK(exec::group_survivors(token).empty());
        if (!exec::group_survivors(token).empty()) {
            ::kill(escaped, SIGKILL);
        }
    }

    TEST_CASE("attempt token: without one a setsid grandchild is out of sight") {
        exec::Command cmd;
        cmd.argv = {"sh", "-c", "setsid sleep 0.5 >/dev/null 2>&1 &"};
        exec::GroupToken token;
        cmd.on_started = [&](const exec::GroupToken& g) { token = g; };
        exec::Outcome o = exec::RealProcessRunner().run(cmd);
        REQUIRE(o.ok());
        CHECK(token.attempt_token.empty());
        CHECK(o.left_running.empty());
    }

    TEST_CASE("recorded_survivors: only what carries the attempt's proof is ever signalled") {
        // The group holds two sleeps: one inherited the token and the mark; the other was
        // started with `env -i` after closing every inherited descriptor (the mark too): it is
        // in the group, but nothing proves it is the attempt's.
        test::TempDir dir;
        const std::string script =
            "sleep 1000 >/dev/null 2>&1 & echo $! >proven.pid; "
            "env -i /bin/bash -c 'for n in $(ls /proc/$$/fd); do [ \"$n\" -gt 2 ] && "
            "eval \"exec $n>&-\"; done; exec sleep 1000' >/dev/null 2>&1 </dev/null & "
            "echo $! >unproven.pid";
        auto token = start_group(script, nullptr, fresh_token("proof"), dir.path().string());
        auto pid_in = [&](const char* name) {
            return std::stoi(std::string(util::trim(util::read_file(dir / name))));
        };
        const int proven = pid_in("proven.pid");
        const int unproven = pid_in("unproven.pid");
        std::this_thread::sleep_for(200ms); // the env -i bash has closed its descriptors
        exec::Recorded r = exec::recorded_survivors(token);
        REQUIRE(r.proven.size() == 1);
        CHECK(r.proven[0].pid == proven);
        CHECK(r.proven[0].in_group);
        REQUIRE(r.unproven.size() == 1);
        CHECK(r.unproven[0].pid == unproven);
        CHECK(r.unproven[0].command == "sleep 1000");

        auto s = exec::settle_group(token, 50ms, 2s);
        CHECK(s.how == exec::Settled::terminated);
        CHECK_FALSE(test::running(proven));
        CHECK(test::running(unproven)); // same group, never signalled
        ::kill(unproven, SIGKILL);

        exec::GroupToken other_boot = token;
        other_boot.boot_id = "00000000-0000-0000-0000-000000000000";
        CHECK(exec::recorded_survivors(other_boot).unproven.empty());
    }

    TEST_CASE("recorded_survivors: a record naming an unrelated group proves nothing") {
        // Like a forged journal: the pgid of a group the engine never started, its leader's
        // start time 0, a token of the right shape. Nothing there is signalled.
        test::TempDir dir;
        exec::Command cmd;
        cmd.argv = {"sh", "-c", "setsid sleep 1000 >/dev/null 2>&1 & echo $! >victim.pid"};
        cmd.cwd = dir.path().string();
        cmd.on_started = [](const exec::GroupToken&) {};
        REQUIRE(exec::RealProcessRunner().run(cmd).ok());
        const int victim = std::stoi(std::string(util::trim(util::read_file(dir / "victim.pid"))));
        for (int i = 0; i < 100 && exec::live_members(victim).empty(); ++i) {
            std::this_thread::sleep_for(10ms); // setsid has made it a group leader
        }
        for (const std::string& attempt_token :
             {std::string(), fresh_token("forged"), std::string("run/a/1/0123456789abcdef")}) {
            exec::GroupToken forged{victim, 0, exec::boot_id(), attempt_token};
            exec::Recorded r = exec::recorded_survivors(forged);
            CHECK(r.proven.empty());
            REQUIRE(r.unproven.size() == 1);
            CHECK(r.unproven[0].pid == victim);
            auto s = exec::settle_group(forged, 10ms, 100ms);
            CHECK(s.how == exec::Settled::exited);
            CHECK(test::running(victim));
        }
        ::kill(victim, SIGKILL);
    }

    TEST_CASE("started_at: a process's start time on the wall clock") {
        const auto now = std::chrono::system_clock::now();
        auto token = exec::token_of(::getpid()); // this test binary started a moment ago
        REQUIRE(token.leader_start > 0);
        auto at = exec::started_at(token.leader_start);
        REQUIRE(at);
        CHECK(*at <= now + 1s);
        CHECK(*at > now - std::chrono::hours(24));
        CHECK_FALSE(exec::started_at(std::uint64_t{1} << 50));
    }
}
