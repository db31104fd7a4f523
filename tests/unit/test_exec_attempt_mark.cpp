// SPDX-License-Identifier: MIT
// The attempt mark (an inherited memfd): it names the processes of an attempt that left the group
// AND rewrote their process title (perl `$0 = ...`, setproctitle), which overwrites
// /proc/<pid>/environ and with it the attempt token.
#include "exec/process_group.hpp"

#include "exec/runner.hpp"
#include "support/temp_dir.hpp"
#include "util/files.hpp"
#include "util/strings.hpp"

#include <chrono>
#include <csignal>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <string>
#include <thread>
#include <unistd.h>

using namespace rollback;
using namespace std::chrono_literals;

namespace {

std::string fresh_token(const char* what) {
    static int n = 0;
    return std::to_string(++n) + "/mark-" + what + "-" + std::to_string(::getpid());
}

/// A perl daemon in a session of its own whose title rewrite wipes its environment; writes its pid
/// to `pidfile` once the title is rewritten, then sleeps `secs`.
std::string title_daemon(const std::string& pidfile, int secs) {
    return "setsid perl -e '$0 = \"worker \" . \"x\" x 3000; open P, \">" + pidfile +
           ".tmp\"; print P $$; close P; rename \"" + pidfile + ".tmp\", \"" + pidfile +
           "\"; sleep " + std::to_string(secs) + "' >/dev/null 2>&1 </dev/null &";
}

int wait_pid_file(const std::filesystem::path& p) {
    for (int i = 0; i < 300 && !std::filesystem::exists(p); ++i) {
        std::this_thread::sleep_for(10ms);
    }
    REQUIRE(std::filesystem::exists(p));
    return std::stoi(std::string(util::trim(util::read_file(p))));
}

bool environ_mentions(int pid, const std::string& text) {
    std::string path = "/proc/" + std::to_string(pid) + "/environ";
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    std::string all(1 << 16, '\0');
    ssize_t n = ::read(fd, all.data(), all.size());
    ::close(fd);
    all.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return all.find(text) != std::string::npos;
}

} // namespace

TEST_SUITE("exec") {
    TEST_CASE("attempt mark: a name of plain characters and one per token") {
        CHECK(exec::attempt_mark_name("2/abc") == "rollback-attempt-2_abc");
        CHECK(exec::attempt_mark_name("1/x") != exec::attempt_mark_name("1/y"));
        CHECK(exec::attempt_mark_name(std::string(400, 'a')).size() <= 249);
        const int fd = exec::open_attempt_mark("1/fd");
        REQUIRE(fd >= 100);
        CHECK((::fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0); // the engine's other children never get it
        ::close(fd);
    }

    TEST_CASE("attempt mark: a setsid daemon that rewrote its title is left running and listed") {
        test::TempDir dir;
        const std::string pidfile = (dir / "daemon.pid").string();
        exec::Command cmd;
        cmd.argv = {"sh", "-c",
                    title_daemon(pidfile, 1000) + " while [ ! -e " + pidfile +
                        " ]; do sleep 0.01; done"};
        cmd.attempt_token = fresh_token("left");
        exec::GroupToken token;
        cmd.on_started = [&](const exec::GroupToken& g) { token = g; };
        exec::Outcome o = exec::RealProcessRunner().run(cmd);
        REQUIRE(o.ok());
        const int daemon = wait_pid_file(pidfile);
        // The scenario: the token is gone from its environment, and it left the group.
        CHECK_FALSE(environ_mentions(daemon, cmd.attempt_token));
        REQUIRE(o.left_running.size() == 1);
        CHECK(o.left_running[0].pid == daemon);
        CHECK_FALSE(o.left_running[0].in_group);
        CHECK(o.left_running[0].command.rfind("worker xxx", 0) == 0);
        auto found = exec::group_survivors(token);
        REQUIRE(found.size() == 1);
        CHECK(found[0].pid == daemon);
        // Resume's view: the same survivor through the journal's token; settling ends it.
        auto s = exec::settle_group(token, 100ms, 2s);
        CHECK(s.how == exec::Settled::terminated);
        CHECK(exec::group_survivors(token).empty());
        if (test::running(daemon)) {
            ::kill(daemon, SIGKILL);
        }
    }

    TEST_CASE("attempt mark: a timeout ends a setsid daemon that rewrote its title") {
        test::TempDir dir;
        const std::string pidfile = (dir / "daemon.pid").string();
        exec::Command cmd;
        cmd.argv = {"sh", "-c", title_daemon(pidfile, 1000) + " sleep 100"};
        cmd.timeout = 600ms;
        cmd.grace = 1s;
        cmd.attempt_token = fresh_token("timeout");
        exec::GroupToken token;
        cmd.on_started = [&](const exec::GroupToken& g) { token = g; };
        exec::Outcome o = exec::RealProcessRunner().run(cmd);
        CHECK(o.ending == exec::Ending::timed_out);
        const int daemon = wait_pid_file(pidfile);
        CHECK(exec::group_survivors(token).empty());
        std::this_thread::sleep_for(50ms);
        const bool alive = test::running(daemon);
        CHECK_FALSE(alive);
        if (alive) {
            ::kill(daemon, SIGKILL);
        }
    }

    TEST_CASE("attempt mark: a child that closes the inherited descriptor keeps the token only") {
        exec::Command cmd;
        // Closing fds 100-109 drops the mark; the environment still carries the token.
        cmd.argv = {"sh", "-c",
                    "setsid perl -e 'use POSIX; POSIX::close($_) for 100..109; sleep 1000' "
                    ">/dev/null 2>&1 </dev/null & sleep 0.3"};
        cmd.attempt_token = fresh_token("closed");
        exec::GroupToken token;
        cmd.on_started = [&](const exec::GroupToken& g) { token = g; };
        exec::Outcome o = exec::RealProcessRunner().run(cmd);
        REQUIRE(o.ok());
        REQUIRE(o.left_running.size() == 1);
        auto s = exec::settle_group(token, 50ms, 2s);
        CHECK(s.how == exec::Settled::terminated);
    }
}
