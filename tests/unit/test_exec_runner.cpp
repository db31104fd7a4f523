// SPDX-License-Identifier: MIT
#include "exec/runner.hpp"

#include "support/temp_dir.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace rollback;
using namespace std::chrono_literals;
using exec::Command;
using exec::Ending;
using exec::Outcome;

namespace {

Outcome run(std::vector<std::string> argv, util::Millis timeout = 0ms, util::Millis grace = 200ms) {
    Command cmd;
    cmd.argv = std::move(argv);
    cmd.timeout = timeout;
    cmd.grace = grace;
    return exec::RealProcessRunner().run(cmd);
}

Outcome sh(const std::string& script, util::Millis timeout = 0ms, util::Millis grace = 200ms) {
    return run({"sh", "-c", script}, timeout, grace);
}

/// Like a step's program: on_started names the group (the orchestrator journals it there).
Outcome sh_step(const std::string& script) {
    Command cmd;
    cmd.argv = {"sh", "-c", script};
    cmd.grace = 200ms;
    cmd.on_started = [](const exec::GroupToken&) {};
    return exec::RealProcessRunner().run(cmd);
}

/// Processes of group `pgid` that are still running (zombies waiting for init don't count).
std::vector<int> live_members(int pgid) {
    std::vector<int> pids;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        std::string name = entry.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) {
            continue;
        }
        std::ifstream in(entry.path() / "stat");
        std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        auto close = stat.rfind(')');
        if (close == std::string::npos) {
            continue; // the process ended while we looked
        }
        std::istringstream fields(stat.substr(close + 2));
        char state = 0;
        int ppid = 0;
        int pgrp = 0;
        fields >> state >> ppid >> pgrp;
        if (pgrp == pgid && state != 'Z' && state != 'X') {
            pids.push_back(std::stoi(name));
        }
    }
    return pids;
}

/// The first line of the output as a pid (scripts print `$$` = their process group).
int first_pid(const Outcome& o) {
    return std::stoi(o.stdout_tail.substr(0, o.stdout_tail.find('\n')));
}

/// Sends `sig` to this process from another thread after `delay`.
std::thread signal_later(int sig, util::Millis delay) {
    return std::thread([=] {
        std::this_thread::sleep_for(delay);
        ::kill(::getpid(), sig);
    });
}

} // namespace

TEST_SUITE("exec") {
    TEST_CASE("exit code and both streams are captured") {
        Outcome o = sh("echo out; echo err >&2; exit 3");
        CHECK(o.ending == Ending::exited);
        CHECK(o.exit_code == 3);
        CHECK_FALSE(o.ok());
        CHECK(o.stdout_tail == "out\n");
        CHECK(o.stderr_tail == "err\n");
        CHECK(o.stdout_bytes == 4);
        CHECK(o.stderr_bytes == 4);
        CHECK(o.error.empty());

        Outcome ok = run({"true"});
        CHECK(ok.ok());
        CHECK(ok.stdout_tail.empty());
    }

    TEST_CASE("a child killed by a signal it was not sent by us is 'signaled'") {
        Outcome o = sh("kill -USR1 $$");
        CHECK(o.ending == Ending::signaled);
        CHECK(o.signal == SIGUSR1);
        CHECK(exec::to_string(o.ending) == "signaled");
    }

    TEST_CASE("megabytes on both streams: no deadlock — the tail is kept within the limit") {
        Command cmd;
        cmd.argv = {"sh", "-c", "seq 1 500000 >&2 & seq 1 1000000; wait"};
        cmd.capture_limit = 1000;
        size_t streamed_out = 0;
        size_t streamed_err = 0;
        std::string last_out;
        cmd.on_output = [&](std::string_view chunk, bool is_stderr) {
            (is_stderr ? streamed_err : streamed_out) += chunk.size();
            if (!is_stderr) {
                last_out = chunk;
            }
        };
        Outcome o = exec::RealProcessRunner().run(cmd);
        CHECK(o.ok());
        CHECK(o.stdout_bytes == 6'888'896); // the size of `seq 1 1000000`
        CHECK(o.stderr_bytes == 3'388'895);
        CHECK(streamed_out == o.stdout_bytes);
        CHECK(streamed_err == o.stderr_bytes);
        REQUIRE(o.stdout_tail.size() == 1000);
        REQUIRE(o.stderr_tail.size() == 1000);
        CHECK(o.stdout_tail.substr(o.stdout_tail.size() - 15) == "999999\n1000000\n");
        CHECK(o.stderr_tail.substr(o.stderr_tail.size() - 14) == "499999\n500000\n");
        CHECK(last_out.size() <= o.stdout_tail.size() + 64 * 1024);
        CHECK(o.stdout_tail.substr(o.stdout_tail.size() - 8) ==
              last_out.substr(last_out.size() - 8));
    }

    TEST_CASE("a program gets no descriptor of the engine but 0 1 2 and its attempt mark") {
        // break-it 37/01, 37/09: rollback.log and the monitor's listening socket reached every
        // step, hook and daemon. Descriptors opened without close-on-exec on purpose: the
        // runner's child must not pass them on, however the engine opened them.
        test::TempDir dir;
        const int file = ::open((dir.path() / "engine.log").c_str(), O_WRONLY | O_CREAT, 0600);
        const int sock = ::socket(AF_INET, SOCK_STREAM, 0);
        REQUIRE(file >= 3);
        REQUIRE(sock >= 3);
        for (const bool with_mark : {false, true}) {
            Command cmd;
            // The shell's descriptors listed by a child (a glob would list its own directory
            // descriptor; a command substitution its pipe).
            cmd.argv = {"sh", "-c", "ls -1 /proc/$$/fd"};
            if (with_mark) {
                cmd.attempt_token = "t-fds";
                cmd.on_started = [](const exec::GroupToken&) {};
            }
            const Outcome o = exec::RealProcessRunner().run(cmd);
            CAPTURE(o.stdout_tail);
            REQUIRE(o.ok());
            std::istringstream lines(o.stdout_tail);
            std::vector<int> fds;
            for (int fd = 0; lines >> fd;) {
                fds.push_back(fd);
            }
            std::sort(fds.begin(), fds.end()); // ls sorts by name: 100 before 2
            REQUIRE(fds.size() == (with_mark ? 4U : 3U));
            CHECK(fds[0] == 0);
            CHECK(fds[1] == 1);
            CHECK(fds[2] == 2);
            if (with_mark) {
                CHECK(fds[3] >= 100); // the attempt mark
            }
        }
        ::close(file);
        ::close(sock);
    }

    TEST_CASE("stdin is /dev/null unless stdin_data is given") {
        Outcome o = sh("readlink /proc/$$/fd/0; cat");
        CHECK(o.ok());
        CHECK(o.stdout_tail == "/dev/null\n");

        Command cmd;
        cmd.argv = {"cat"};
        cmd.stdin_data = "hello\nworld\n";
        Outcome echoed = exec::RealProcessRunner().run(cmd);
        CHECK(echoed.ok());
        CHECK(echoed.stdout_tail == "hello\nworld\n");

        SUBCASE("more than a pipe holds, while the child writes it back") {
            cmd.stdin_data = std::string(1'000'000, 'x');
            cmd.capture_limit = 10;
            Outcome big = exec::RealProcessRunner().run(cmd);
            CHECK(big.ok());
            CHECK(big.stdout_bytes == 1'000'000);
            CHECK(big.stdout_tail == std::string(10, 'x'));
        }
        SUBCASE("a child that never reads it: no SIGPIPE for us") {
            cmd.argv = {"true"};
            cmd.stdin_data = std::string(1'000'000, 'x');
            Outcome ignored = exec::RealProcessRunner().run(cmd);
            CHECK(ignored.ok());
        }
    }

    TEST_CASE("env is laid over the inherited environment — cwd is applied") {
        test::TempDir tmp;
        Command cmd;
        cmd.argv = {"sh", "-c", "echo \"$RB_TEST_VAR|$HOME\"; test -n \"$PATH\" && pwd"};
        cmd.env = {{"RB_TEST_VAR", "a b"}, {"HOME", "/override"}};
        cmd.cwd = tmp.path().string();
        Outcome o = exec::RealProcessRunner().run(cmd);
        CHECK(o.ok());
        CHECK(o.stdout_tail ==
              "a b|/override\n" + std::filesystem::canonical(tmp.path()).string() + "\n");

        SUBCASE("a relative program path is relative to cwd") {
            auto script = tmp.write("bin/hello.sh", "#!/bin/sh\necho \"hello $1\"\n");
            std::filesystem::permissions(script, std::filesystem::perms::owner_all);
            cmd.argv = {"./bin/hello.sh", "there"};
            cmd.env.clear();
            Outcome hello = exec::RealProcessRunner().run(cmd);
            CHECK(hello.ok());
            CHECK(hello.stdout_tail == "hello there\n");
        }
        SUBCASE("argv[0] reaches the child as written") {
            cmd.argv = {"cat", "/proc/self/cmdline"};
            Outcome self = exec::RealProcessRunner().run(cmd);
            CHECK(self.ok());
            CHECK(self.stdout_tail == std::string("cat\0/proc/self/cmdline\0", 23));
        }
    }

    TEST_CASE("children start with default signal dispositions and an empty mask") {
        // The engine ignores SIGPIPE; SIG_IGN would otherwise survive execve into every hook.
        auto* old = std::signal(SIGPIPE, SIG_IGN);
        Outcome o = run({"grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"});
        std::signal(SIGPIPE, old);
        CHECK(o.ok());
        CHECK(o.stdout_tail == "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
    }

    TEST_CASE("a program that cannot start is failed_to_start with a clear error — never a throw") {
        test::TempDir tmp;
        Outcome missing = run({"no-such-program-rb"});
        CHECK(missing.ending == Ending::failed_to_start);
        CHECK_FALSE(missing.ok());
        CHECK(missing.error ==
              "cannot execute 'no-such-program-rb': No such file or directory (not found in PATH)");

        Outcome missing_path = run({(tmp / "nope").string()});
        CHECK(missing_path.ending == Ending::failed_to_start);
        CHECK(missing_path.error ==
              "cannot execute '" + (tmp / "nope").string() + "': No such file or directory");

        auto plain = tmp.write("plain.txt", "not a program\n");
        Outcome not_exec = run({plain.string()});
        CHECK(not_exec.ending == Ending::failed_to_start);
        CHECK(not_exec.error == "cannot execute '" + plain.string() + "': Permission denied");

        Outcome dir = run({tmp.path().string()});
        CHECK(dir.ending == Ending::failed_to_start);
        CHECK(dir.error == "cannot execute '" + tmp.path().string() + "': Is a directory");

        // Passes our checks, fails in execve: the launcher's error path, child reaped.
        auto garbage = tmp.write("garbage", std::string("\x7f"
                                                        "ELF\x01\x01",
                                                        6));
        std::filesystem::permissions(garbage, std::filesystem::perms::owner_all);
        Outcome bad_format = run({garbage.string()});
        CHECK(bad_format.ending == Ending::failed_to_start);
        CHECK(bad_format.error == "cannot execute '" + garbage.string() + "': Exec format error");
        CHECK(::waitpid(-1, nullptr, WNOHANG) == -1); // no zombie child left behind
        CHECK(errno == ECHILD);

        Command in_missing_dir;
        in_missing_dir.argv = {"true"};
        in_missing_dir.cwd = (tmp / "no-dir").string();
        Outcome no_cwd = exec::RealProcessRunner().run(in_missing_dir);
        CHECK(no_cwd.ending == Ending::failed_to_start);
        CHECK(no_cwd.error ==
              "cannot change directory to '" + in_missing_dir.cwd + "': No such file or directory");

        Outcome empty = run({});
        CHECK(empty.ending == Ending::failed_to_start);
        CHECK(empty.error == "cannot execute an empty command");
    }

    TEST_CASE("timeout: TERM to the whole group — grandchildren included") {
        auto start = std::chrono::steady_clock::now();
        Outcome o = sh("echo $$; sleep 1000 & sleep 1000", 300ms, 200ms);
        auto took = std::chrono::steady_clock::now() - start;
        CHECK(o.ending == Ending::timed_out);
        CHECK(exec::to_string(o.ending) == "timed_out");
        CHECK(o.duration >= 300ms);
        CHECK(took < 300ms + 200ms + 1500ms); // sleep dies of TERM: no need to wait for grace
        int pgid = first_pid(o);
        CHECK(live_members(pgid).empty());
    }

    TEST_CASE("timeout: a group that ignores TERM is KILLed after grace") {
        Outcome o = sh("trap '' TERM; echo $$; sleep 1000 & sleep 1000", 200ms, 200ms);
        CHECK(o.ending == Ending::timed_out);
        CHECK(o.signal == SIGKILL);
        CHECK(o.duration >= 400ms);
        CHECK(o.duration < 400ms + 1500ms);
        CHECK(live_members(first_pid(o)).empty());
    }

    TEST_CASE("what a step leaves running survives its exit and is listed — escaped ones too") {
        SUBCASE("a background job still in the group") {
            Outcome o = sh_step("echo $$; exec sleep 1000 >/dev/null 2>&1 &");
            CHECK(o.ok());
            CHECK(o.duration < 1500ms);
            int pgid = first_pid(o);
            auto live = live_members(pgid);
            REQUIRE(live.size() == 1);
            REQUIRE(o.left_running.size() == 1);
            CHECK(o.left_running[0].pid == live[0]);
            // The snapshot is taken when the step's program exits: on a loaded machine the job may
            // still be between fork and exec ("[sleep]" from its comm, empty cmdline).
            const auto& cmd = o.left_running[0].command;
            CHECK_MESSAGE((cmd == "sleep 1000" || cmd == "[sleep]" || cmd.rfind("sh ", 0) == 0),
                          cmd);
            CHECK(::kill(-pgid, SIGKILL) == 0); // the test cleans up what the step left
        }
        SUBCASE("a daemon that left the group but holds the pipes") {
            // Wait until the background job has left our group (field 5 of stat: pgrp).
            Outcome o =
                sh("setsid sleep 1000 & p=$!; echo $p; "
                   "while [ \"$(cut -d' ' -f5 /proc/$p/stat)\" = $$ ]; do sleep 0.01; done");
            CHECK(o.ok());
            CHECK(o.duration >= 200ms); // the drain window
            CHECK(o.duration < 1500ms);
            CHECK(o.left_running.empty()); // not in the group: out of sight, as documented
            int daemon = first_pid(o);
            CHECK(::kill(daemon, SIGKILL) == 0); // it did escape: clean up after the test
        }
        SUBCASE("nothing left: nothing listed") {
            Outcome o = sh_step("sleep 0.05 & wait");
            CHECK(o.ok());
            CHECK(o.left_running.empty());
        }
    }

    TEST_CASE("a program nobody journaled (probe — source — hook): its leftovers are terminated") {
        Outcome o = sh("echo $$; sleep 1000 >/dev/null 2>&1 &");
        CHECK(o.ok());
        CHECK(o.duration < 1500ms);
        CHECK(o.left_running.empty());
        CHECK(live_members(first_pid(o)).empty());
    }

    TEST_CASE("on_started: the group is known before the program runs") {
        test::TempDir dir;
        const auto marker = dir.path() / "ran";
        Command cmd;
        cmd.argv = {"sh", "-c", "echo $$; touch '" + marker.string() + "'"};
        exec::GroupToken seen;
        bool ran_before = true;
        std::string stat_before;
        cmd.on_started = [&](const exec::GroupToken& g) {
            seen = g;
            std::this_thread::sleep_for(100ms); // a program already running would have touched it
            ran_before = std::filesystem::exists(marker);
            std::ifstream in("/proc/" + std::to_string(g.pgid) + "/stat");
            std::getline(in, stat_before);
        };
        Outcome o = exec::RealProcessRunner().run(cmd);
        CHECK(o.ok());
        CHECK_FALSE(ran_before);
        CHECK(std::filesystem::exists(marker));
        CHECK(seen.pgid == first_pid(o)); // the shell is the group leader
        CHECK(seen.boot_id == exec::boot_id());
        CHECK(seen.boot_id.size() == 36);
        // Field 22 of the leader's stat: its start time, the token's defence against pid reuse.
        std::istringstream fields(stat_before.substr(stat_before.rfind(')') + 2));
        std::string field;
        for (int i = 3; i <= 22; ++i) {
            fields >> field;
        }
        CHECK(std::to_string(seen.leader_start) == field);

        SUBCASE("on_started throws: the program never runs, run() rethrows, no zombie") {
            std::filesystem::remove(marker);
            cmd.on_started = [](const exec::GroupToken&) {
                throw std::runtime_error("journal full");
            };
            CHECK_THROWS_WITH(exec::RealProcessRunner().run(cmd), "journal full");
            std::this_thread::sleep_for(100ms);
            CHECK_FALSE(std::filesystem::exists(marker));
            CHECK(::waitpid(-1, nullptr, WNOHANG) == -1);
        }
        SUBCASE("a program that cannot be executed is failed_to_start") {
            const auto bad = dir.path() / "not-a-program";
            std::ofstream(bad) << "\x7f garbage, no #! line\n";
            std::filesystem::permissions(bad, std::filesystem::perms::owner_all);
            cmd.argv = {bad.string()};
            Outcome bo = exec::RealProcessRunner().run(cmd);
            CHECK(bo.ending == Ending::failed_to_start);
            CHECK(bo.error == "cannot execute '" + bad.string() + "': Exec format error");
            CHECK(::waitpid(-1, nullptr, WNOHANG) == -1);
        }
        SUBCASE("a timeout still ends the whole group") {
            cmd.argv = {"sh", "-c", "echo $$; sleep 1000 & sleep 1000"};
            cmd.timeout = 300ms;
            cmd.grace = 200ms;
            Outcome to = exec::RealProcessRunner().run(cmd);
            CHECK(to.ending == Ending::timed_out);
            CHECK(to.left_running.empty());
            CHECK(live_members(first_pid(to)).empty());
        }
    }

    TEST_CASE("interrupt: the same signal goes to the child's group — run returns interrupted") {
        exec::install_interrupt_handlers();
        exec::clear_interrupt();
        auto sender = signal_later(SIGINT, 150ms);
        Outcome o = sh("echo $$; sleep 1000 & sleep 1000", 0ms, 200ms);
        sender.join();
        CHECK(exec::interrupt_requested() == SIGINT);
        exec::clear_interrupt();
        CHECK(exec::interrupt_requested() == 0);
        CHECK(o.ending == Ending::interrupted);
        CHECK(o.duration >= 150ms);
        CHECK(o.duration < 150ms + 1500ms);
        CHECK(live_members(first_pid(o)).empty());
    }

    TEST_CASE("interrupt: a child that ignores it is KILLed after grace") {
        exec::install_interrupt_handlers();
        exec::clear_interrupt();
        auto sender = signal_later(SIGTERM, 100ms);
        Outcome o = sh("trap '' TERM; echo $$; sleep 1000", 0ms, 200ms);
        sender.join();
        CHECK(exec::interrupt_requested() == SIGTERM);
        exec::clear_interrupt();
        CHECK(o.ending == Ending::interrupted);
        CHECK(o.signal == SIGKILL);
        CHECK(o.duration >= 300ms);
        CHECK(live_members(first_pid(o)).empty());
    }

    TEST_CASE("a pending interrupt: nothing is started") {
        exec::install_interrupt_handlers();
        exec::clear_interrupt();
        ::kill(::getpid(), SIGHUP);
        CHECK(exec::interrupt_requested() == SIGHUP);
        test::TempDir tmp;
        Outcome o = sh("touch '" + (tmp / "ran").string() + "'");
        exec::clear_interrupt();
        CHECK(o.ending == Ending::interrupted);
        CHECK(o.error == "not started: interrupted by SIGHUP");
        CHECK_FALSE(std::filesystem::exists(tmp / "ran"));
    }

    TEST_CASE("sleep_unless_interrupted returns early on an interrupt") {
        exec::install_interrupt_handlers();
        exec::clear_interrupt();
        auto start = std::chrono::steady_clock::now();
        CHECK(exec::sleep_unless_interrupted(50ms));
        CHECK(std::chrono::steady_clock::now() - start >= 50ms);

        start = std::chrono::steady_clock::now();
        auto sender = signal_later(SIGINT, 100ms);
        CHECK_FALSE(exec::sleep_unless_interrupted(10s));
        sender.join();
        CHECK(std::chrono::steady_clock::now() - start < 2s);
        CHECK(exec::interrupt_requested() == SIGINT);

        exec::clear_interrupt();
        CHECK(exec::sleep_unless_interrupted(10ms));
    }

    TEST_CASE("concurrent runs on one runner are independent") {
        exec::RealProcessRunner runner;
        std::vector<Outcome> outcomes(4);
        std::vector<std::thread> threads;
        for (size_t i = 0; i < outcomes.size(); ++i) {
            threads.emplace_back([&, i] {
                Command cmd;
                cmd.argv = {"sh", "-c", "sleep 0.1; echo $N; echo e$N >&2; exit $N"};
                cmd.env = {{"N", std::to_string(i)}};
                outcomes[i] = runner.run(cmd);
            });
        }
        for (auto& t : threads) {
            t.join();
        }
        for (size_t i = 0; i < outcomes.size(); ++i) {
            CHECK(outcomes[i].ending == Ending::exited);
            CHECK(outcomes[i].exit_code == static_cast<int>(i));
            CHECK(outcomes[i].stdout_tail == std::to_string(i) + "\n");
            CHECK(outcomes[i].stderr_tail == "e" + std::to_string(i) + "\n");
        }
    }

    TEST_CASE("duration is measured — to_string names every ending") {
        Outcome o = sh("sleep 0.2");
        CHECK(o.ok());
        CHECK(o.duration >= 200ms);
        CHECK(exec::to_string(Ending::exited) == "exited");
        CHECK(exec::to_string(Ending::interrupted) == "interrupted");
        CHECK(exec::to_string(Ending::failed_to_start) == "failed_to_start");
    }

    TEST_CASE("on_exited: the program's own end is told before the leftovers are looked at") {
        // `sleep &` keeps the output pipe open: run() returns only after the leftovers settled
        // (30-200 ms) and the drain window (200 ms). on_exited comes before both — what a
        // journal records there survives an engine killed in that window.
        test::TempDir dir;
        Command cmd;
        cmd.argv = {"sh", "-c", "sleep 1000 & echo $! >left.pid; exit 3"};
        cmd.cwd = dir.path().string();
        cmd.on_started = [](const exec::GroupToken&) {};
        int calls = 0;
        Outcome seen;
        std::chrono::steady_clock::time_point told;
        cmd.on_exited = [&](const Outcome& o) {
            ++calls;
            seen = o;
            told = std::chrono::steady_clock::now();
        };
        Outcome o = exec::RealProcessRunner().run(cmd);
        const auto returned = std::chrono::steady_clock::now();
        std::ifstream pid_file(dir / "left.pid");
        int left = 0;
        pid_file >> left;
        REQUIRE(left > 0);
        CHECK(calls == 1);
        CHECK(seen.ending == Ending::exited);
        CHECK(seen.exit_code == 3);
        CHECK(seen.left_running.empty());
        CHECK(seen.stdout_tail.empty());
        CHECK(o.exit_code == 3);
        REQUIRE(o.left_running.size() == 1);
        CHECK(o.left_running[0].pid == left);
        CHECK(returned - told >= 150ms);
        CHECK(test::running(left));
        ::kill(left, SIGKILL);
    }

    TEST_CASE("on_exited: not called when the engine ended the program") {
        int calls = 0;
        SUBCASE("timeout") {
            Command cmd;
            cmd.argv = {"sleep", "10"};
            cmd.timeout = 100ms;
            cmd.grace = 200ms;
            cmd.on_started = [](const exec::GroupToken&) {};
            cmd.on_exited = [&](const Outcome&) { ++calls; };
            CHECK(exec::RealProcessRunner().run(cmd).ending == Ending::timed_out);
        }
        SUBCASE("a program that never started") {
            Command cmd;
            cmd.argv = {"/nonexistent/program"};
            cmd.on_started = [](const exec::GroupToken&) {};
            cmd.on_exited = [&](const Outcome&) { ++calls; };
            CHECK(exec::RealProcessRunner().run(cmd).ending == Ending::failed_to_start);
        }
        CHECK(calls == 0);
    }

    TEST_CASE("on_exited: a killed program is told as signaled") {
        Command cmd;
        cmd.argv = {"sh", "-c", "kill -9 $$"};
        cmd.on_started = [](const exec::GroupToken&) {};
        Outcome seen;
        cmd.on_exited = [&](const Outcome& o) { seen = o; };
        Outcome o = exec::RealProcessRunner().run(cmd);
        CHECK(o.ending == Ending::signaled);
        CHECK(seen.ending == Ending::signaled);
        CHECK(seen.signal == SIGKILL);
    }

    TEST_CASE("on_exited: what it throws comes out of run() once the program is settled") {
        test::TempDir dir;
        Command cmd;
        cmd.argv = {"sh", "-c", "sleep 1000 & echo $! >left.pid"};
        cmd.cwd = dir.path().string();
        cmd.on_started = [](const exec::GroupToken&) {};
        cmd.on_exited = [](const Outcome&) { throw std::runtime_error("journal refused"); };
        CHECK_THROWS_WITH_AS(exec::RealProcessRunner().run(cmd), "journal refused",
                             std::runtime_error);
        std::ifstream pid_file(dir / "left.pid");
        int left = 0;
        pid_file >> left;
        REQUIRE(left > 0);
        CHECK(test::running(left)); // left running as usual: the program ended by itself
        ::kill(left, SIGKILL);
    }
}
