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
}
