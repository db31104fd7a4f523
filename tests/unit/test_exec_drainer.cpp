// SPDX-License-Identifier: MIT
// The drainer of programs' output pipes (engine/exec/drainer.hpp, break-it 37/08): one process per
// engine, of its own session, adopted by init, with an empty environment and no descriptor of the
// engine's but its socket to the engine, /dev/null and the programs' read ends; it reads nothing
// while the engine reads, lets go of a pipe once every writer closed it, and exits once the
// engine is gone and it holds nothing.
#include "exec/runner.hpp"
#include "support/temp_dir.hpp"
#include "util/files.hpp"
#include "util/strings.hpp"

#include <chrono>
#include <csignal>
#include <dirent.h>
#include <doctest/doctest.h>
#include <map>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace rollback;
using namespace std::chrono_literals;

namespace {

/// What /proc/PID/fd/FD links to ("pipe:[123]", "/dev/null"); "" when it cannot be read.
std::string link_of(int pid, int fd) {
    char buf[512];
    const std::string path = "/proc/" + std::to_string(pid) + "/fd/" + std::to_string(fd);
    const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
    std::string link = n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
    // /dev/null replaced since it was opened (by whatever else runs on this machine).
    if (link == "/dev/null (deleted)") {
        link = "/dev/null";
    }
    return link;
}

std::string read_proc(int pid, const char* what) {
    try {
        return util::read_file("/proc/" + std::to_string(pid) + "/" + what);
    } catch (const std::exception&) {
        return {};
    }
}

std::map<int, std::string> descriptors_of(int pid);

/// Every live drainer (by its command line) that holds `pipe`.
std::vector<int> drainers_of(const std::string& pipe) {
    static const char k_cmdline[] = "rollback-drain\0--step-output"; // and its final NUL
    const std::string cmdline(k_cmdline, sizeof k_cmdline);
    std::vector<int> out;
    DIR* proc = ::opendir("/proc");
    REQUIRE(proc != nullptr);
    while (dirent* e = ::readdir(proc)) {
        const int pid = std::atoi(e->d_name);
        if (pid <= 0 || read_proc(pid, "cmdline") != cmdline || !test::running(pid)) {
            continue;
        }
        for (const auto& [fd, link] : descriptors_of(pid)) {
            if (link == pipe) {
                out.push_back(pid);
                break;
            }
        }
    }
    ::closedir(proc);
    return out;
}

/// Descriptor number -> link, of every open descriptor of `pid`.
std::map<int, std::string> descriptors_of(int pid) {
    std::map<int, std::string> out;
    DIR* dir = ::opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
    if (dir == nullptr) {
        return out; // gone
    }
    while (dirent* e = ::readdir(dir)) {
        if (e->d_name[0] != '.') {
            out[std::atoi(e->d_name)] = link_of(pid, std::atoi(e->d_name));
        }
    }
    ::closedir(dir);
    return out;
}

/// Waits up to `limit` for `pred`.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > end) {
            return false;
        }
        std::this_thread::sleep_for(20ms);
    }
    return true;
}

struct Seen {
    std::string out_pipe, err_pipe;
    std::vector<int> drainers;
    std::map<int, std::string> fds;
    int sid = 0, pgid = 0, ppid = 0;
    std::string environ;
};

} // namespace

TEST_SUITE("exec") {
    TEST_CASE("the drainer holds only its socket and the programs' read ends") {
        test::TempDir dir;
        exec::Command cmd;
        // The program names its pipes, then runs on while the test looks at the drainer.
        cmd.argv = {"sh", "-c",
                    "o=$(readlink /proc/$$/fd/1); e=$(readlink /proc/$$/fd/2); "
                    "printf '%s\\n%s\\n' \"$o\" \"$e\" >pipes.tmp; "
                    "mv pipes.tmp pipes; echo ready; while [ ! -e done ]; do sleep 0.02; done"};
        cmd.cwd = dir.path().string();
        cmd.attempt_token = "1/drainer-fds-" + std::to_string(::getpid());
        cmd.on_started = [](const exec::GroupToken&) {};
        exec::Outcome o;
        std::thread engine([&] { o = exec::RealProcessRunner().run(cmd); });
        Seen seen;
        if (eventually([&] { return std::filesystem::exists(dir / "pipes"); }, 10s)) {
            // While the program runs (the engine reads): the drainer already holds the pipes.
            const auto pipes = util::split(util::read_file(dir / "pipes"), '\n');
            seen.out_pipe = pipes.at(0);
            seen.err_pipe = pipes.at(1);
            seen.drainers = drainers_of(seen.out_pipe);
            if (seen.drainers.size() == 1) {
                const int d = seen.drainers[0];
                seen.fds = descriptors_of(d);
                seen.sid = ::getsid(d);
                seen.pgid = ::getpgid(d);
                auto stat = read_proc(d, "stat");
                std::sscanf(stat.c_str() + stat.rfind(')') + 1, " %*c %d", &seen.ppid);
                seen.environ = read_proc(d, "environ");
            }
        }
        dir.write("done", "");
        engine.join();
        REQUIRE(o.ok());
        CHECK(o.stdout_tail == "ready\n");
        REQUIRE(seen.out_pipe.rfind("pipe:", 0) == 0);
        REQUIRE(seen.drainers.size() == 1);
        const int d = seen.drainers[0];
        // Its session and group are its own: no group kill of a step's or ours reaches it.
        CHECK(seen.sid == d);
        CHECK(seen.pgid == d);
        CHECK(seen.ppid != ::getpid()); // adopted at once: never our child, never our zombie
        CHECK(seen.environ.empty());    // no token, no secret of the engine's environment
        CHECK(seen.fds[0].rfind("socket:", 0) == 0); // to the engine
        CHECK(seen.fds[1] == "/dev/null");
        CHECK(seen.fds[2] == "/dev/null");
        bool out = false;
        bool err = false;
        for (const auto& [fd, link] : seen.fds) {
            out = out || link == seen.out_pipe;
            err = err || link == seen.err_pipe;
            if (fd > 2) { // no file, socket or attempt mark of ours: only programs' pipes
                CHECK_MESSAGE(link.rfind("pipe:", 0) == 0, "descriptor ", fd, ": ", link);
            }
        }
        CHECK(out);
        CHECK(err);
        // Nothing holds the pipes any more: the drainer lets go of them.
        CHECK(eventually([&] { return drainers_of(seen.out_pipe).empty(); }, 5s));
        CHECK(::waitpid(-1, nullptr, WNOHANG) == -1); // no child of ours left behind
    }

    TEST_CASE("a step's drainer reads nothing while the engine reads") {
        exec::Command cmd;
        cmd.argv = {"sh", "-c", "head -c 4194304 /dev/zero; head -c 1048576 /dev/zero >&2"};
        cmd.attempt_token = "1/drainer-reads-" + std::to_string(::getpid());
        cmd.on_started = [](const exec::GroupToken&) {};
        exec::Outcome o = exec::RealProcessRunner().run(cmd);
        REQUIRE(o.ok());
        CHECK(o.stdout_bytes == 4194304);
        CHECK(o.stderr_bytes == 1048576);
    }

    TEST_CASE("the drainer reads what a process left running writes and lets go when it ends") {
        test::TempDir dir;
        exec::Command cmd;
        cmd.argv = {"sh", "-c", "sleep 2 & echo $! >pid; echo started"};
        cmd.cwd = dir.path().string();
        cmd.attempt_token = "1/drainer-ends-" + std::to_string(::getpid());
        cmd.on_started = [](const exec::GroupToken&) {};
        exec::Outcome o = exec::RealProcessRunner().run(cmd);
        REQUIRE(o.ok());
        REQUIRE_FALSE(o.left_running.empty());
        const int sleeper = std::atoi(util::read_file(dir / "pid").c_str());
        REQUIRE(sleeper > 0);
        const std::string pipe = link_of(sleeper, 1);
        REQUIRE(pipe.rfind("pipe:", 0) == 0);
        CHECK(drainers_of(pipe).size() == 1); // the engine let go: the drainer reads
        ::kill(sleeper, SIGKILL);
        CHECK(eventually([&] { return drainers_of(pipe).empty(); }, 5s));
    }

    TEST_CASE("the drainer of a dead engine exits once what it holds is at end of file") {
        // The engine is a fork of this test (its own drainer: the one it inherited is ours),
        // SIGKILLed while its program runs; the program's background `sleep` holds the pipes.
        test::TempDir dir;
        const pid_t engine = ::fork();
        if (engine == 0) {
            exec::Command cmd;
            cmd.argv = {"sh", "-c", "sleep 1.5 & echo $! >pid; sleep 30"};
            cmd.cwd = dir.path().string();
            cmd.attempt_token = "1/drainer-dead-engine-" + std::to_string(::getpid());
            cmd.on_started = [](const exec::GroupToken&) {};
            cmd.on_output = [](std::string_view, bool) {};
            std::thread([] {
                std::this_thread::sleep_for(500ms);
                ::kill(::getpid(), SIGKILL);
            }).detach();
            exec::RealProcessRunner().run(cmd);
            ::_exit(0); // not reached: killed before
        }
        REQUIRE(engine > 0);
        int status = 0;
        ::waitpid(engine, &status, 0);
        REQUIRE(WIFSIGNALED(status));
        const int sleeper = std::atoi(util::read_file(dir / "pid").c_str());
        REQUIRE(sleeper > 0);
        const std::string pipe = link_of(sleeper, 1);
        const auto drainers = drainers_of(pipe);
        REQUIRE(drainers.size() == 1);
        // The dead engine's socket is at end of file: closed, everything held is read.
        CHECK(eventually([&] { return descriptors_of(drainers[0]).count(0) == 0; }, 5s));
        const pid_t group = ::getpgid(sleeper);
        if (group > 0 && group != ::getpgrp()) {
            ::kill(-group, SIGKILL); // the sleeps, the last writers
        }
        CHECK(eventually([&] { return !test::running(drainers[0]); }, 5s));
    }

    TEST_CASE("a program that is no step: what escaped its group with its output is drained") {
        // A probe's or a hook's program (no on_started) gets no drainer up front; a process that
        // left its group (out of the engine's sight, not ended) and keeps the pipes is handed to
        // one after the drain window, and its next write does not kill it.
        test::TempDir dir;
        exec::Command cmd;
        cmd.argv = {"sh", "-c",
                    "setsid sh -c 'echo $$ >pid; while :; do echo tick; echo t >>ticks; "
                    "sleep 0.1; done' & sleep 0.2"};
        cmd.cwd = dir.path().string();
        exec::Outcome o = exec::RealProcessRunner().run(cmd);
        REQUIRE(o.ok());
        const int loop = std::atoi(util::read_file(dir / "pid").c_str());
        REQUIRE(loop > 0);
        const auto ticks = [&] { return util::split(util::read_file(dir / "ticks"), '\n').size(); };
        const size_t before = ticks();
        std::this_thread::sleep_for(1s);
        CHECK(test::running(loop));
        CHECK(ticks() >= before + 5);
        ::kill(loop, SIGKILL);
    }
}
