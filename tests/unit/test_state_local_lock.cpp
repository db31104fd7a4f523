// SPDX-License-Identifier: MIT
#include "state/holder_alive.hpp"
#include "state/local_lock.hpp"
#include "support/temp_dir.hpp"
#include "util/files.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <csignal>
#include <doctest/doctest.h>
#include <fstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace rollback;
using namespace rollback::state;
using namespace rollback::state::local;

namespace {

/// Waits for `pred` up to 10 s.
template <typename F>
bool eventually(F pred) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred()) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return pred();
}

/// A child process that takes the lock, says so on a pipe, and then blocks until killed.
pid_t spawn_holder(const std::filesystem::path& state_dir, const std::string& run_id) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(fds[0]);
        auto attempt = acquire(state_dir, this_process_holder(run_id, "test holder"));
        char c = attempt.lock ? 'y' : 'n';
        (void)::write(fds[1], &c, 1);
        for (;;) {
            ::pause();
        }
    }
    ::close(fds[1]);
    char c = 0;
    REQUIRE(::read(fds[0], &c, 1) == 1);
    ::close(fds[0]);
    REQUIRE(c == 'y');
    return pid;
}

void kill_and_reap(pid_t pid) {
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
}

} // namespace

TEST_SUITE("state") {
    TEST_CASE("10 concurrent processes: exactly one gets the lock — the others name it") {
        test::TempDir tmp;
        auto state_dir = tmp / "state";
        constexpr int n = 10;
        int go[2];
        REQUIRE(::pipe(go) == 0);
        std::vector<pid_t> pids;
        for (int i = 0; i < n; ++i) {
            pid_t pid = ::fork();
            REQUIRE(pid >= 0);
            if (pid == 0) {
                ::close(go[1]);
                char c;
                (void)::read(go[0], &c, 1); // returns 0 when the parent closes: all start at once
                std::string run_id = "20261126T143500Z-00000" + std::to_string(i);
                auto attempt = acquire(
                    state_dir, this_process_holder(run_id, "contender " + std::to_string(i)));
                std::string result;
                if (attempt.lock) {
                    result = "won " + run_id + " " + std::to_string(::getpid());
                } else {
                    const Holder& h = *attempt.holder;
                    result = "lost " + h.run_id + " " + std::to_string(h.pid) + " " + h.reason;
                }
                std::ofstream(state_dir / ("result." + std::to_string(i))) << result;
                if (attempt.lock) {
                    // Hold until every loser has reported, so none could have got it later.
                    for (int tries = 0; tries < 2000; ++tries) {
                        int done = 0;
                        for (int k = 0; k < n; ++k) {
                            done += std::filesystem::exists(state_dir /
                                                            ("result." + std::to_string(k)));
                        }
                        if (done == n) {
                            break;
                        }
                        ::usleep(5000);
                    }
                    attempt.lock->release(); // _exit skips destructors
                }
                ::_exit(0);
            }
            pids.push_back(pid);
        }
        std::filesystem::create_directories(state_dir);
        ::close(go[0]);
        ::close(go[1]);
        for (pid_t pid : pids) {
            int status = 0;
            REQUIRE(::waitpid(pid, &status, 0) == pid);
            CHECK(WIFEXITED(status));
        }
        std::vector<std::string> winners;
        std::vector<std::string> losers;
        for (int i = 0; i < n; ++i) {
            std::string r = util::read_file(state_dir / ("result." + std::to_string(i)));
            (r.rfind("won ", 0) == 0 ? winners : losers).push_back(r);
        }
        REQUIRE(winners.size() == 1);
        CHECK(losers.size() == n - 1);
        // "won RUN PID" → every loser names that run, that pid, and its reason.
        std::string winner = winners[0].substr(4);
        std::string run_id = winner.substr(0, winner.find(' '));
        std::string pid = winner.substr(winner.find(' ') + 1);
        std::string index = run_id.substr(run_id.size() - 1);
        for (const auto& l : losers) {
            CHECK(l == "lost " + run_id + " " + pid + " contender " + index);
        }
        // The winner released the lock: nothing left behind.
        CHECK_FALSE(std::filesystem::exists(state_dir / "lock.json"));
        CHECK_FALSE(stale_holder(state_dir));
    }

    TEST_CASE("a live holder is reported — after it dies its lock is stale — never silently gone") {
        test::TempDir tmp;
        auto state_dir = tmp.path();
        const std::string run_id = "20261126T143500Z-abcdef";
        pid_t pid = spawn_holder(state_dir, run_id);

        auto live = live_holder(state_dir);
        REQUIRE(live);
        CHECK(live->pid == pid);
        CHECK(live->run_id == run_id);
        CHECK(live->reason == "test holder");
        CHECK_FALSE(live->host.empty());
        CHECK_FALSE(live->started.empty());
        CHECK(is_run_live(state_dir, run_id));
        CHECK_FALSE(is_run_live(state_dir, "20261126T143500Z-000000"));
        CHECK_FALSE(stale_holder(state_dir));
        auto refused = acquire(state_dir, this_process_holder("20261126T150000Z-111111", "second"));
        CHECK_FALSE(refused.lock);
        REQUIRE(refused.holder);
        CHECK(refused.holder->pid == pid);
        CHECK(refused.holder->run_id == run_id);

        kill_and_reap(pid);

        CHECK_FALSE(live_holder(state_dir));
        CHECK_FALSE(is_run_live(state_dir, run_id));
        auto stale = stale_holder(state_dir);
        REQUIRE(stale);
        CHECK(stale->pid == pid);
        CHECK(stale->run_id == run_id);
        // Reading is side-effect free: still there.
        CHECK(stale_holder(state_dir));

        auto taken =
            acquire(state_dir, this_process_holder("20261126T150000Z-222222", "after crash"));
        REQUIRE(taken.lock);
        REQUIRE(taken.stale);
        CHECK(taken.stale->pid == pid);
        CHECK(taken.stale->run_id == run_id);
        CHECK(is_run_live(state_dir, "20261126T150000Z-222222"));
        auto on_disk = holder_from_json(
            boost::json::parse(util::read_file(state_dir / "lock.json")).as_object());
        CHECK(on_disk.run_id == "20261126T150000Z-222222");
        CHECK(on_disk.pid == ::getpid());

        taken.lock->set_run_id("20261126T150000Z-333333");
        CHECK(is_run_live(state_dir, "20261126T150000Z-333333"));
        taken.lock->release();
        CHECK_FALSE(std::filesystem::exists(state_dir / "lock.json"));
        CHECK_FALSE(live_holder(state_dir));
        CHECK_FALSE(stale_holder(state_dir));
    }

    TEST_CASE("a left-behind lock.json is stale even when it shows our own pid (pid reuse)") {
        test::TempDir tmp;
        Holder old = this_process_holder("20261126T143500Z-eeeeee", "previous boot");
        util::write_file_atomic(tmp / "lock.json", boost::json::serialize(to_json(old)));
        auto stale = stale_holder(tmp.path());
        REQUIRE(stale);
        CHECK(stale->run_id == "20261126T143500Z-eeeeee");
        auto a = acquire(tmp.path(), this_process_holder("20261126T150000Z-ffffff", "now"));
        REQUIRE(a.lock);
        REQUIRE(a.stale);
        CHECK(a.stale->run_id == "20261126T143500Z-eeeeee");
        CHECK(a.stale->reason == "previous boot");
    }

    TEST_CASE("a lock taken and released in the same process can be taken again") {
        test::TempDir tmp;
        {
            auto a = acquire(tmp.path(), this_process_holder("20261126T143500Z-aaaaaa", "a"));
            REQUIRE(a.lock);
            CHECK_FALSE(a.stale);
            RunLock moved = std::move(*a.lock);
            CHECK(moved.holder().run_id == "20261126T143500Z-aaaaaa");
        }
        auto b = acquire(tmp.path(), this_process_holder("20261126T143500Z-bbbbbb", "b"));
        CHECK(b.lock);
        CHECK_FALSE(b.stale);
    }

    TEST_CASE("a holder that has not published lock.json yet is still reported as a holder") {
        test::TempDir tmp;
        // A process holds the flock but lock.json is missing: acquire must refuse (after waiting
        // a little for it), reporting an unknown holder rather than breaking the lock.
        int fds[2];
        REQUIRE(::pipe(fds) == 0);
        pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            auto a = acquire(tmp.path(), this_process_holder("20261126T143500Z-cccccc", "c"));
            std::filesystem::remove(tmp / "lock.json");
            char c = 'y';
            (void)::write(fds[1], &c, 1);
            for (;;) {
                ::pause();
            }
        }
        char c = 0;
        REQUIRE(::read(fds[0], &c, 1) == 1);
        auto t0 = std::chrono::steady_clock::now();
        auto refused = acquire(tmp.path(), this_process_holder("20261126T143500Z-dddddd", "d"));
        auto waited = std::chrono::steady_clock::now() - t0;
        CHECK_FALSE(refused.lock);
        REQUIRE(refused.holder);
        CHECK(refused.holder->pid == 0);
        CHECK(waited >= std::chrono::seconds(1));
        CHECK(live_holder(tmp.path()));
        kill_and_reap(pid);
        ::close(fds[0]);
        ::close(fds[1]);
        CHECK(eventually([&] { return !live_holder(tmp.path()); }));
    }
}

TEST_SUITE("state") {
    TEST_CASE("a starter that refuses to start over a dead run leaves its lock.json as it was") {
        test::TempDir tmp;
        Holder dead = this_process_holder("20261126T143500Z-dddddd", "died at step 3");
        dead.pid = 999999; // not a live process
        util::write_file_atomic(tmp / "lock.json", boost::json::serialize(to_json(dead)));
        auto a = acquire(tmp.path(), this_process_holder("20261126T150000Z-ffffff", "new"));
        REQUIRE(a.lock);
        REQUIRE(a.stale);
        a.lock->release_leaving(*a.stale);
        CHECK_FALSE(live_holder(tmp.path()));
        auto stale = stale_holder(tmp.path());
        REQUIRE(stale);
        CHECK(stale->run_id == "20261126T143500Z-dddddd");
        CHECK(stale->reason == "died at step 3");
        CHECK(stale->pid == 999999);
        // The next starter is told about the dead run too.
        auto b = acquire(tmp.path(), this_process_holder("20261126T150001Z-eeeeee", "next"));
        REQUIRE(b.lock);
        REQUIRE(b.stale);
        CHECK(b.stale->run_id == "20261126T143500Z-dddddd");
    }
}

TEST_SUITE("state") {
    TEST_CASE("the lock file removed under a live holder: still live and never offered as dead") {
        test::TempDir tmp;
        auto state_dir = tmp.path();
        const std::string run_id = "20261206T180000Z-aaaaaa";
        pid_t pid = spawn_holder(state_dir, run_id);
        std::filesystem::remove(state_dir / "lock"); // an operator's "rm stale lock"

        auto live = live_holder(state_dir);
        REQUIRE(live);
        CHECK(live->pid == pid);
        CHECK(is_run_live(state_dir, run_id));
        CHECK_FALSE(stale_holder(state_dir));
        auto refused = acquire(state_dir, this_process_holder("20261206T180001Z-bbbbbb", "next"));
        CHECK_FALSE(refused.lock);
        CHECK_FALSE(refused.stale);
        REQUIRE(refused.holder);
        CHECK(refused.holder->pid == pid);
        CHECK(refused.holder->run_id == run_id);

        kill_and_reap(pid); // now it is dead: its lock.json is the evidence of an unfinished run
        CHECK_FALSE(live_holder(state_dir));
        auto taken = acquire(state_dir, this_process_holder("20261206T180002Z-cccccc", "after"));
        REQUIRE(taken.lock);
        REQUIRE(taken.stale);
        CHECK(taken.stale->run_id == run_id);
    }

    TEST_CASE("a dead holder whose pid now belongs to another process is dead") {
        test::TempDir tmp;
        pid_t other = ::fork(); // stands for the process that got the dead holder's pid
        REQUIRE(other >= 0);
        if (other == 0) {
            for (;;) {
                ::pause();
            }
        }
        Holder dead = this_process_holder("20261206T170000Z-dead01", "old dead run");
        dead.pid = other; // a lock.json without proc_start: `started` decides
        dead.started = "2026-12-06T17:00:00.000Z";
        util::write_file_atomic(tmp / "lock.json", boost::json::serialize(to_json(dead)));
        CHECK_FALSE(holder_alive_here(dead, 0));
        CHECK_FALSE(live_holder(tmp.path()));
        REQUIRE(stale_holder(tmp.path()));

        Holder recorded = this_process_holder("20261206T170000Z-dead02", "recorded start");
        recorded.pid = other;
        const auto ticks = process_start_ticks(other);
        REQUIRE(ticks);
        CHECK_FALSE(holder_alive_here(recorded, *ticks + 1)); // another process
        CHECK(holder_alive_here(recorded, *ticks));           // the very process: alive

        // A starter facing a busy flock and the dead lock.json does not name the dead run.
        pid_t holder = spawn_holder(tmp / "busy", "20261206T180000Z-live00");
        util::write_file_atomic(tmp / "busy" / "lock.json", boost::json::serialize(to_json(dead)));
        auto refused = acquire(tmp / "busy", this_process_holder("20261206T180001Z-b0b0b0", "x"));
        CHECK_FALSE(refused.lock);
        REQUIRE(refused.holder);
        CHECK(refused.holder->run_id != "20261206T170000Z-dead01");
        CHECK(refused.holder->pid != other);
        kill_and_reap(holder);
        kill_and_reap(other);
    }
}
