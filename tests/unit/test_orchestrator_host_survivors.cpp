// SPDX-License-Identifier: MIT
// Survivors on hosts (docs/actions.md, "Steps on hosts"): the token of an attempt on a host, the
// scan program (run here with /bin/sh against real processes, as a host runs it), and
// settle_on_hosts against a scripted host.
#include "orchestrator/host_survivors.hpp"
#include "orchestrator/survivors.hpp"

#include "exec/runner.hpp"

#include <doctest/doctest.h>

#include <csignal>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace rollback;
using namespace std::chrono_literals;
using orchestrator::HostProcess;
using orchestrator::HostScan;
using orchestrator::HostScanMode;

namespace {

const std::string k_run = "20261206T002707Z-cfa053";

/// Runs the scan program locally (this machine as the host).
HostScan scan_here(HostScanMode mode, const std::string& pattern) {
    exec::Command cmd;
    cmd.argv = {"/bin/sh",
                "-c",
                std::string(orchestrator::scan_script()),
                "rollback-survivors",
                mode == HostScanMode::list   ? "list"
                : mode == HostScanMode::term ? "TERM"
                                             : "KILL",
                pattern};
    cmd.timeout = 30s;
    cmd.capture_limit = 1 << 20;
    const exec::Outcome o = exec::RealProcessRunner().run(cmd);
    HostScan out;
    if (!o.ok()) {
        out.error = o.stderr_tail + o.error;
    } else {
        out.processes = orchestrator::parse_host_scan(o.stdout_tail);
    }
    return out;
}

/// `script` under sh, in a session of its own, with `token` in its environment.
pid_t spawn(const std::string& script, const std::string& token) {
    const std::string env_token = std::string(exec::k_attempt_env) + "=" + token;
    const char* envp[] = {"PATH=/usr/bin:/bin", env_token.c_str(), nullptr};
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::setsid();
        ::execle("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr), envp);
        ::_exit(127);
    }
    return pid;
}

const HostProcess* find(const HostScan& s, int pid) {
    for (const auto& p : s.processes) {
        if (p.pid == pid) {
            return &p;
        }
    }
    return nullptr;
}

/// A scripted host: each look returns the next answer (the last one again when they run out);
/// signals are counted.
struct ScriptedHost {
    std::vector<HostScan> answers;
    size_t next = 0;
    int terms = 0;
    int kills = 0;
    orchestrator::HostScanner scanner() {
        return [this](const remote::Host&, HostScanMode mode, const std::string& pattern) {
            CHECK(pattern == orchestrator::host_token_pattern(k_run, "deploy", "web1"));
            if (mode == HostScanMode::term) {
                ++terms;
                return HostScan{};
            }
            if (mode == HostScanMode::kill) {
                ++kills;
                return HostScan{};
            }
            const HostScan& a = answers[std::min(next, answers.size() - 1)];
            ++next;
            return a;
        };
    }
};

journal::RunState in_flight_on_web1() {
    journal::RunState state;
    state.run_id = k_run;
    journal::StepState st;
    st.id = "deploy";
    st.attempts = 1;
    st.in_flight = true;
    st.hosts = {{"web1", "running"}, {"web2", "succeeded"}};
    state.steps.push_back(st);
    return state;
}

playbook::Playbook hosts_playbook(util::Millis timeout) {
    playbook::Playbook pb;
    for (const char* name : {"web1", "web2"}) {
        remote::Host h;
        h.name = name;
        h.address = "127.0.0.1";
        pb.inventory.hosts.push_back(h);
    }
    pb.inventory.groups["web"] = {"web1", "web2"};
    playbook::Step step;
    step.id = "deploy";
    step.action = "exec";
    step.hosts = "web";
    step.timeout = timeout;
    pb.steps.push_back(step);
    return pb;
}

struct Seen {
    std::vector<journal::StepSurvivors> records;
    std::vector<std::string> lines;
    orchestrator::SurvivorHooks hooks(orchestrator::HostScanner scanner) {
        return {[this](const journal::Record& r) {
                    records.push_back(std::get<journal::StepSurvivors>(r));
                },
                [this](const std::string&, const std::string& line) { lines.push_back(line); },
                std::move(scanner)};
    }
};

} // namespace

TEST_SUITE("orchestrator") {
    TEST_CASE("host survivors: the token of an attempt on a host and the pattern that finds it") {
        CHECK(orchestrator::host_attempt(k_run, "deploy", 2, "web1") == k_run + "/deploy/2@web1");
        CHECK(orchestrator::host_token_pattern(k_run, "db.migrate", "web-1.example") ==
              "^ROLLBACK_STEP_ATTEMPT=" + k_run +
                  "/db[.]migrate/[0-9]+@web-1[.]example/[0-9a-f]{16}$");
        // A journal is untrusted: a name a playbook could not have given is never a pattern.
        for (const std::string bad : {"a b", "a/b", "a$", "", "x\ny", "a*", "[a]"}) {
            CHECK(orchestrator::host_token_pattern(k_run, bad, "web1").empty());
            CHECK(orchestrator::host_token_pattern(k_run, "deploy", bad).empty());
        }
    }

    TEST_CASE("host survivors: the scan's lines are read and anything else is skipped") {
        auto got = orchestrator::parse_host_scan("12 345 1 sh -c sleep 5\n"
                                                 "13 346 0 [kworker]\n"
                                                 "x 1 1 nope\n14 1 2 bad proof\n"
                                                 "15 9\n-3 1 1 negative\n16 7 0 \n");
        REQUIRE(got.size() == 3);
        CHECK(got[0].pid == 12);
        CHECK(got[0].start == 345);
        CHECK(got[0].proof);
        CHECK(got[0].command == "sh -c sleep 5");
        CHECK_FALSE(got[1].proof);
        CHECK(got[1].command == "[kworker]");
        CHECK(got[2].pid == 16);
    }

    TEST_CASE("host survivors: the scan program finds the carriers and their groups and sessions") {
        const std::string token =
            orchestrator::host_attempt(k_run, "deploy", 1, "web1") + "/0123456789abcdef";
        const std::string pattern = orchestrator::host_token_pattern(k_run, "deploy", "web1");
        // A carrier leading its session, a member that dropped the token, and a process of
        // another attempt's host token (web2): not found.
        const pid_t carrier = spawn("env -i /bin/sleep 30 & exec /bin/sleep 31", token);
        const pid_t other =
            spawn("exec /bin/sleep 32",
                  orchestrator::host_attempt(k_run, "deploy", 1, "web2") + "/0123456789abcdef");
        // Until both programs run (the shell forks, then each exec's its program).
        auto settled = [&](const HostScan& s) {
            return s.processes.size() == 2 &&
                   s.processes[0].command.rfind("/bin/sleep 3", 0) == 0 &&
                   s.processes[1].command.rfind("/bin/sleep 3", 0) == 0;
        };
        HostScan s;
        for (int i = 0; i < 500; ++i) { // up to 10 s on a loaded machine
            s = scan_here(HostScanMode::list, pattern);
            if (settled(s)) {
                break;
            }
            std::this_thread::sleep_for(20ms);
        }
        REQUIRE(s.error == "");
        REQUIRE(settled(s));
        const HostProcess* c = find(s, carrier);
        REQUIRE(c != nullptr);
        CHECK(c->proof);
        CHECK(c->command == "/bin/sleep 31");
        const HostProcess* m = s.processes[0].pid == carrier ? &s.processes[1] : &s.processes[0];
        CHECK_FALSE(m->proof); // it dropped the token: found as a member of the carrier's group
        CHECK(m->command == "/bin/sleep 30");
        CHECK(find(s, other) == nullptr);
        // TERM reaches the carrier only.
        CHECK(scan_here(HostScanMode::term, pattern).error == "");
        ::waitpid(carrier, nullptr, 0);
        CHECK(::kill(m->pid, 0) == 0);
        ::kill(m->pid, SIGKILL);
        ::kill(other, SIGKILL);
        ::waitpid(other, nullptr, 0);
        // The member is not this process's child: its SIGKILL lands, and init reaps it, a little
        // later (a loaded machine made the scan right after it flaky).
        HostScan after;
        for (int i = 0; i < 250; ++i) {
            after = scan_here(HostScanMode::list, pattern);
            if (after.processes.empty()) {
                break;
            }
            std::this_thread::sleep_for(20ms);
        }
        CHECK(after.error == "");
        CHECK(after.processes.empty());
    }

    TEST_CASE("settle_on_hosts: a carrier that ends by itself is waited for and the step goes on") {
        ScriptedHost host;
        host.answers = {HostScan{"", {{41, 7, true, "sh -c deploy"}}},
                        HostScan{"", {{41, 7, true, "sh -c deploy"}}}, HostScan{}};
        Seen seen;
        orchestrator::SurvivorReport report;
        orchestrator::settle_on_hosts(in_flight_on_web1(), hosts_playbook(20s),
                                      seen.hooks(host.scanner()), report);
        CHECK(report.blocked.empty());
        CHECK(report.unchecked.empty());
        CHECK(host.terms == 0);
        CHECK(host.next >= 3); // looked again until it was gone; web2 (finished) not looked at
        REQUIRE(seen.records.size() == 1);
        CHECK(seen.records[0].host == std::optional<std::string>("web1"));
        CHECK(seen.records[0].outcome == "exited");
        CHECK(seen.records[0].pgid == 0);
        REQUIRE(seen.records[0].found.size() == 1);
        CHECK(seen.records[0].found[0].pid == 41);
        CHECK(seen.lines[0].find("on host web1") != std::string::npos);
    }

    TEST_CASE("settle_on_hosts: past the step's timeout the carriers get TERM and then KILL") {
        ScriptedHost host;
        host.answers = {HostScan{"", {{41, 7, true, "sleep 100"}, {42, 8, false, "sleep 99"}}}};
        Seen seen;
        orchestrator::SurvivorReport report;
        orchestrator::settle_on_hosts(in_flight_on_web1(), hosts_playbook(300ms),
                                      seen.hooks(host.scanner()), report);
        CHECK(host.terms == 1);
        CHECK(host.kills == 1);
        REQUIRE(report.blocked.count("deploy") == 1);
        CHECK(report.blocked["deploy"].find("on host web1 are still alive") != std::string::npos);
        CHECK(report.blocked["deploy"].find("pid 42 (sleep 99) [no token: not signalled]") !=
              std::string::npos);
        REQUIRE(seen.records.size() == 1);
        CHECK(seen.records[0].outcome == "remain");
        CHECK(seen.records[0].remaining.value_or(std::vector<journal::Process>{}).size() == 2);
    }

    TEST_CASE("settle_on_hosts: a host that cannot be looked at is unchecked and not run blindly") {
        SUBCASE("the look fails") {
            ScriptedHost host;
            host.answers = {HostScan{"no /proc on the host", {}}};
            Seen seen;
            orchestrator::SurvivorReport report;
            orchestrator::settle_on_hosts(in_flight_on_web1(), hosts_playbook(20s),
                                          seen.hooks(host.scanner()), report);
            REQUIRE(report.unchecked.count("deploy") == 1);
            CHECK(report.unchecked["deploy"].find("cannot be checked (no /proc on the host)") !=
                  std::string::npos);
            CHECK(report.unchecked["deploy"].find("grep -lsF ROLLBACK_STEP_ATTEMPT=" + k_run +
                                                  "/deploy/") != std::string::npos);
            REQUIRE(seen.records.size() == 1);
            CHECK(seen.records[0].outcome == "not_proven");
        }
        SUBCASE("no scanner") {
            Seen seen;
            orchestrator::SurvivorReport report;
            orchestrator::settle_on_hosts(in_flight_on_web1(), hosts_playbook(20s),
                                          seen.hooks(nullptr), report);
            CHECK(report.unchecked.count("deploy") == 1);
        }
        SUBCASE("a host no longer in the inventory") {
            auto pb = hosts_playbook(20s);
            pb.inventory.hosts.erase(pb.inventory.hosts.begin());
            ScriptedHost host;
            host.answers = {HostScan{}};
            Seen seen;
            orchestrator::SurvivorReport report;
            orchestrator::settle_on_hosts(in_flight_on_web1(), pb, seen.hooks(host.scanner()),
                                          report);
            REQUIRE(report.unchecked.count("deploy") == 1);
            CHECK(report.unchecked["deploy"].find("not in the inventory") != std::string::npos);
            CHECK(host.next == 0);
        }
    }

    TEST_CASE("settle_on_hosts: steps that run nothing on the hosts are not looked at") {
        ScriptedHost host;
        host.answers = {HostScan{"must not be asked", {}}};
        for (const char* action : {"http", "wait"}) {
            auto pb = hosts_playbook(20s);
            pb.steps[0].action = action;
            Seen seen;
            orchestrator::SurvivorReport report;
            orchestrator::settle_on_hosts(in_flight_on_web1(), pb, seen.hooks(host.scanner()),
                                          report);
            CHECK(report.unchecked.empty());
        }
        CHECK(host.next == 0);
    }
}
