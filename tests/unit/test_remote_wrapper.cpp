// SPDX-License-Identifier: MIT
// Break-it round 34 (findings 02, 08, 11): the remote wrapper run here by /bin/sh, its request
// on stdin as the engine writes it (the ssh client kept out: the wrapper's behaviour only).
#include "remote/wrapper.hpp"

#include "support/temp_dir.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <doctest/doctest.h>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>

using namespace rollback;

namespace {

std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Runs the wrapper with `r` on stdin, stdin kept open `open_s` seconds after the request (the
// engine's session); returns the wrapper's stdout, its stderr in `err`.
std::string run_wrapper(test::TempDir& dir, const remote::Request& r, int open_s,
                        std::string& err) {
    dir.write("req", remote::encode_request(r));
    dir.write("cmd.sh", remote::wrapper_command() + "\n");
    const std::string d = dir.path().string();
    const std::string line = "{ cat '" + d + "/req'; sleep " + std::to_string(open_s) +
                             "; } | /bin/sh '" + d + "/cmd.sh' >'" + d + "/out' 2>'" + d + "/err'";
    CHECK(std::system(line.c_str()) != -1);
    err = slurp(dir.path() / "err");
    return slurp(dir.path() / "out");
}

// Whether `pid` ends within `seconds` (a program the wrapper must end); KILLed if not.
bool ends_within(int pid, int seconds) {
    for (int i = 0; i < seconds * 10; ++i) {
        if (::kill(pid, 0) != 0) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ::kill(pid, SIGKILL);
    return false;
}

} // namespace

TEST_SUITE("remote") {
    TEST_CASE("a step's env reaches only the program: the wrapper's cwd marker and grace stay") {
        test::TempDir dir;
        const auto sub = dir.path() / "work";
        std::filesystem::create_directories(sub);
        remote::Request r;
        r.nonce = "N1";
        r.cwd = sub.string();
        r.env = {{"c", "/"}, {"m", "1"}, {"g", "600"}, {"h", "x"}, {"x", "y"}};
        r.argv = {"sh", "-c", "pwd; echo \"$c $m $g $h $x\""};
        std::string err;
        const std::string out = run_wrapper(dir, r, 2, err);
        CHECK(out == sub.string() + "\n/ 1 600 x y\n");
        CHECK(err.find("@rollback-remote:N1 exit 0") != std::string::npos);
    }

    TEST_CASE("end of stdin ends the program's whole group: KILL after the grace although the "
              "leader died on TERM") {
        test::TempDir dir;
        const std::string pidfile = (dir.path() / "pid").string();
        remote::Request r;
        r.nonce = "N2";
        r.grace = std::chrono::seconds(1);
        r.argv = {"sh", "-c",
                  "(trap '' TERM; exec sleep 60) & echo $! > '" + pidfile + "'; sleep 61"};
        std::string err;
        run_wrapper(dir, r, 1, err);
        CHECK(err.find("@rollback-remote:N2 exit 143") != std::string::npos);
        const int pid = std::atoi(slurp(pidfile).c_str());
        REQUIRE(pid > 0);
        bool alive = true;
        for (int i = 0; i < 50 && alive; ++i) { // the grace (1 s) and some slack
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            alive = ::kill(pid, 0) == 0;
        }
        if (alive) {
            ::kill(pid, SIGKILL);
        }
        CHECK_FALSE(alive);
    }

    TEST_CASE("a program that is not an executable regular file is not started") {
        test::TempDir dir;
        std::filesystem::create_directories(dir.path() / "adir");
        const auto plain = dir.write("plain", "#!/bin/sh\necho ran\n"); // mode 0644
        for (const std::string& program :
             {(dir.path() / "adir").string(), plain.string(), std::string("cd")}) {
            CAPTURE(program);
            remote::Request r;
            r.nonce = "N3";
            r.argv = {program};
            std::string err;
            run_wrapper(dir, r, 0, err);
            CHECK(err.find("@rollback-remote:N3 not-started cannot execute") != std::string::npos);
            CHECK(err.find("@rollback-remote:N3 pgid") == std::string::npos);
        }
    }
    // Issue 11 ("the remote group outlived the timeout"): the connection may end at any moment of
    // the wrapper's start, and each order must still end the program's group.
    TEST_CASE("end of stdin before the program's group exists: the group is ended once it does") {
        test::TempDir dir;
        // A setsid that takes 0.5 s to make the group: the end of stdin comes first.
        const auto bin = dir.path() / "bin";
        std::filesystem::create_directories(bin);
        dir.write("bin/setsid", "#!/bin/sh\nsleep 0.5\nexec /usr/bin/setsid \"$@\"\n");
        std::filesystem::permissions(bin / "setsid", std::filesystem::perms::owner_all);
        const std::string pidfile = (dir.path() / "pid").string();
        remote::Request r;
        r.nonce = "N4";
        r.grace = std::chrono::seconds(1);
        r.argv = {"sh", "-c", "echo $$ > '" + pidfile + "'; sleep 6"};
        dir.write("req", remote::encode_request(r));
        dir.write("cmd.sh", remote::wrapper_command() + "\n");
        const std::string d = dir.path().string();
        const std::string line = "cat '" + d + "/req' | PATH='" + bin.string() +
                                 "':\"$PATH\" /bin/sh '" + d + "/cmd.sh' 2>'" + d + "/err'";
        CHECK(std::system(line.c_str()) != -1);
        const std::string err = slurp(dir.path() / "err");
        CHECK(err.find("@rollback-remote:N4 exit 143") != std::string::npos); // TERM, not exit 0
        const int pid = std::atoi(slurp(pidfile).c_str());
        REQUIRE(pid > 0);
        CHECK(ends_within(pid, 3));
    }

    TEST_CASE("the channel closed before the wrapper reports: SIGPIPE spares the watcher") {
        test::TempDir dir;
        const std::string pidfile = (dir.path() / "pid").string();
        remote::Request r;
        r.nonce = "N5";
        r.grace = std::chrono::seconds(1);
        r.argv = {"sh", "-c", "echo $$ > '" + pidfile + "'; sleep 8"};
        dir.write("req", remote::encode_request(r));
        dir.write("cmd.sh", remote::wrapper_command() + "\n");
        const std::string d = dir.path().string();
        // The wrapper's stderr is a pipe nobody reads any more (its reader closed it before the
        // request came), with SIGPIPE's default action (sshd's children have it); stdin ends 1 s
        // after the request.
        const std::string line = "{ sleep 0.5; cat '" + d + "/req'; sleep 1; } | env " +
                                 "--default-signal=PIPE /bin/sh '" + d + "/cmd.sh' 2>&1 " +
                                 ">/dev/null | { exec 0<&-; sleep 3; }";
        CHECK(std::system(line.c_str()) != -1);
        const int pid = std::atoi(slurp(pidfile).c_str());
        REQUIRE(pid > 0);
        CHECK(ends_within(pid, 3)); // TERM at the end of stdin, not 8 s later
    }

    TEST_CASE("a request cut before its end line starts nothing") {
        test::TempDir dir;
        const auto made = dir.path() / "made";
        remote::Request r;
        r.nonce = "N6";
        r.argv = {"touch", made.string()};
        std::string request = remote::encode_request(r);
        REQUIRE(request.size() > 4);
        request.resize(request.size() - 4); // "end\n"
        dir.write("req", request);
        dir.write("cmd.sh", remote::wrapper_command() + "\n");
        const std::string d = dir.path().string();
        const std::string line =
            "/bin/sh '" + d + "/cmd.sh' <'" + d + "/req' >/dev/null 2>'" + d + "/err'";
        const int rc = std::system(line.c_str());
        CHECK(WEXITSTATUS(rc) == 97);
        CHECK(slurp(dir.path() / "err").find("bad request") != std::string::npos);
        CHECK_FALSE(std::filesystem::exists(made));
    }
}
