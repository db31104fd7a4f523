// SPDX-License-Identifier: MIT
// settle_survivors with real processes (docs/actions.md, "Step processes"): a step's process
// group as kill -9 of the engine leaves it — its leader (the step's program) gone, what it
// started alive — and what a resume then waits for, ends, or refuses to start beside.
#include "orchestrator/survivors.hpp"

#include "exec/runner.hpp"
#include "util/time.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace rollback;
using namespace std::chrono_literals;

namespace {

const std::string k_run = "20261206T002707Z-cfa053";
const std::string k_token = k_run + "/work/1/0123456789abcdef";

/// A step's group after the engine died: `script` run by sh as the leader of a new group with
/// the attempt token in its environment; once `members` processes are in the group, the leader
/// is killed (as PDEATHSIG does) and reaped.
struct DeadStepGroup {
    exec::GroupToken token;
    explicit DeadStepGroup(const std::string& script, size_t members) {
        const std::string env_token = std::string(exec::k_attempt_env) + "=" + k_token;
        const char* envp[] = {"PATH=/usr/bin:/bin", env_token.c_str(), nullptr};
        const pid_t pid = ::fork();
        if (pid == 0) {
            ::setpgid(0, 0);
            ::execle("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr), envp);
            ::_exit(127);
        }
        ::setpgid(pid, pid);
        token = exec::token_of(pid);
        token.attempt_token = k_token;
        for (int i = 0; i < 200 && exec::live_members(pid).size() < members + 1; ++i) {
            std::this_thread::sleep_for(10ms);
        }
        REQUIRE(exec::live_members(pid).size() >= members + 1);
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    }
    ~DeadStepGroup() { ::kill(-token.pgid, SIGKILL); }
    DeadStepGroup(const DeadStepGroup&) = delete;
    DeadStepGroup& operator=(const DeadStepGroup&) = delete;
    std::vector<exec::ProcessInfo> alive() const { return exec::live_members(token.pgid); }
};

/// The journal's view of that attempt: in flight, its group recorded (plausibly).
journal::RunState state_of(const exec::GroupToken& t) {
    journal::RunState state;
    state.run_id = k_run;
    journal::StepState st;
    st.id = "work";
    st.attempts = 1;
    st.in_flight = true;
    const auto now = std::chrono::system_clock::now();
    st.started = util::format_time(now - 10s);
    journal::ProcessGroup g;
    g.attempt = 1;
    g.pgid = t.pgid;
    g.leader_start = t.leader_start;
    g.boot_id = t.boot_id;
    g.token = t.attempt_token;
    g.written = util::format_time(now);
    st.groups.push_back(g);
    state.steps.push_back(st);
    return state;
}

playbook::Playbook playbook_with(util::Millis timeout) {
    playbook::Playbook pb;
    playbook::Step step;
    step.id = "work";
    step.action = "exec";
    step.timeout = timeout;
    pb.steps.push_back(step);
    return pb;
}

struct Seen {
    std::vector<journal::StepSurvivors> records;
    std::vector<std::string> lines;
    orchestrator::SurvivorHooks hooks() {
        return {[this](const journal::Record& r) {
                    records.push_back(std::get<journal::StepSurvivors>(r));
                },
                [this](const std::string&, const std::string& line) { lines.push_back(line); }};
    }
};

bool has_pid(const std::vector<journal::Process>& list, int pid) {
    return std::any_of(list.begin(), list.end(), [&](const auto& p) { return p.pid == pid; });
}

int first_other(const std::vector<exec::ProcessInfo>& alive, int leader) {
    for (const auto& p : alive) {
        if (p.pid != leader) {
            return p.pid;
        }
    }
    return 0;
}

} // namespace

TEST_SUITE("orchestrator") {
    TEST_CASE("settle_survivors: a group member without the token or mark is waited for") {
        // `env -i`: the member keeps no token; no mark was ever given. It lives ~1 s more.
        DeadStepGroup group("env -i /bin/sleep 1.2 & wait", 1);
        const int member = first_other(group.alive(), group.token.pgid);
        REQUIRE(member != 0);
        Seen seen;
        const auto start = std::chrono::steady_clock::now();
        auto report =
            orchestrator::settle_survivors(state_of(group.token), playbook_with(20s), seen.hooks());
        CHECK(std::chrono::steady_clock::now() - start >= 500ms);
        CHECK(group.alive().empty()); // it ended by itself before the step could start again
        CHECK(report.blocked.empty());
        CHECK_FALSE(report.interrupted);
        REQUIRE(seen.records.size() == 1);
        CHECK(seen.records[0].outcome == "exited");
        CHECK(seen.records[0].found.empty());
        CHECK(has_pid(seen.records[0].unproven.value_or(std::vector<journal::Process>{}), member));
        CHECK(seen.records[0].waited_ms >= 500);
        REQUIRE_FALSE(seen.lines.empty());
        CHECK(seen.lines[0].find("[no token or mark: not signalled]") != std::string::npos);
    }

    TEST_CASE("settle_survivors: a member without the proof that outlives the wait blocks") {
        DeadStepGroup group("env -i /bin/sleep 30 & wait", 1);
        const int member = first_other(group.alive(), group.token.pgid);
        REQUIRE(member != 0);
        Seen seen;
        auto report = orchestrator::settle_survivors(state_of(group.token), playbook_with(300ms),
                                                     seen.hooks());
        CHECK(::kill(member, 0) == 0); // never signalled: nothing proves it is the step's
        REQUIRE(report.blocked.count("work") == 1);
        const std::string& why = report.blocked["work"];
        CHECK(why.find("pid " + std::to_string(member) + " (/bin/sleep 30)") != std::string::npos);
        CHECK(why.find("they were not signalled") != std::string::npos);
        CHECK(why.find("ps -o pid,pgid,lstart,args -p " + std::to_string(member)) !=
              std::string::npos);
        REQUIRE(seen.records.size() == 1);
        CHECK(seen.records[0].outcome == "remain"); // the fold keeps the group: looked at again
        CHECK(has_pid(seen.records[0].remaining.value_or(std::vector<journal::Process>{}), member));
    }

    TEST_CASE(
        "settle_survivors: proven survivors past the wait get TERM and the others are waited for") {
        // The token-carrying sleep is proven; its sibling without the token is not.
        DeadStepGroup group("/bin/sleep 30 & env -i /bin/sleep 1.5 & wait", 2);
        Seen seen;
        auto report = orchestrator::settle_survivors(state_of(group.token), playbook_with(200ms),
                                                     seen.hooks());
        CHECK(group.alive().empty());
        CHECK(report.blocked.empty());
        REQUIRE(seen.records.size() == 1);
        CHECK(seen.records[0].outcome == "terminated");
        CHECK(seen.records[0].found.size() == 1);
        CHECK(seen.records[0].unproven.value_or(std::vector<journal::Process>{}).size() == 1);
    }

    TEST_CASE("settle_survivors: a record whose leader pid is another process now waits for none") {
        // A live group whose leader started at another time than the record says: the recorded
        // group ended and its id was given to this one.
        const pid_t leader = ::fork();
        if (leader == 0) {
            ::setpgid(0, 0);
            ::execl("/bin/sleep", "sleep", "30", static_cast<char*>(nullptr));
            ::_exit(127);
        }
        ::setpgid(leader, leader);
        std::this_thread::sleep_for(50ms);
        // No process carries k_token now: only the group is looked at.
        exec::GroupToken other{leader, exec::token_of(leader).leader_start - 1, exec::boot_id(),
                               k_token};
        Seen seen;
        const auto start = std::chrono::steady_clock::now();
        journal::RunState state = state_of(other);
        auto report = orchestrator::settle_survivors(state, playbook_with(20s), seen.hooks());
        CHECK(std::chrono::steady_clock::now() - start < 5s);
        CHECK(::kill(leader, 0) == 0);
        CHECK(report.blocked.empty());
        REQUIRE(seen.records.size() == 1);
        CHECK(seen.records[0].outcome == "not_proven");
        CHECK(seen.records[0].why.value_or("").find("is another process now") != std::string::npos);
        ::kill(leader, SIGKILL);
        ::waitpid(leader, nullptr, 0);
    }

    TEST_CASE("settle_survivors: the caller's own process group is never a step's") {
        exec::GroupToken own{::getpgrp(), 0, exec::boot_id(), k_run + "/work/1/fedcba9876543210"};
        Seen seen;
        const auto start = std::chrono::steady_clock::now();
        auto report =
            orchestrator::settle_survivors(state_of(own), playbook_with(20s), seen.hooks());
        CHECK(std::chrono::steady_clock::now() - start < 5s);
        CHECK(report.blocked.empty());
    }

    TEST_CASE("settle_survivors: an interrupt during the wait ends the proven and says so") {
        DeadStepGroup group("/bin/sleep 30 & wait", 1);
        exec::install_interrupt_handlers();
        exec::clear_interrupt();
        std::thread sender([] {
            std::this_thread::sleep_for(300ms);
            ::kill(::getpid(), SIGINT);
        });
        Seen seen;
        const auto start = std::chrono::steady_clock::now();
        auto report =
            orchestrator::settle_survivors(state_of(group.token), playbook_with(60s), seen.hooks());
        sender.join();
        exec::clear_interrupt();
        CHECK(std::chrono::steady_clock::now() - start < 10s);
        CHECK(report.interrupted);
        CHECK(group.alive().empty());
        REQUIRE(seen.records.size() == 1);
        CHECK(seen.records[0].outcome == "terminated");
        CHECK(seen.lines.back().find("interrupted") != std::string::npos);
    }
}
