// SPDX-License-Identifier: MIT
// Survivors on hosts (settle_on_hosts): the remote half of trust invariant 4. The wrapper on a
// host ends the program's group when the engine's ssh client goes (TERM, then KILL after its
// grace), but not what left that group, nor anything before its grace is over, nor anything when
// the connection hangs instead of closing: so a resume looks before it starts the step there.
#include "orchestrator/survivors.hpp"

#include "exec/runner.hpp"
#include "util/duration.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

#include <algorithm>

namespace rollback::orchestrator {
namespace {

using Clock = std::chrono::steady_clock;

constexpr util::Millis k_grace{5000};

/// The actions whose programs run on the hosts (http and wait run on the engine's machine).
bool runs_on_hosts(const std::string& action) {
    return action != "http" && action != "wait";
}

std::vector<journal::Process> processes(const std::vector<HostProcess>& procs, bool proof) {
    std::vector<journal::Process> out;
    for (const auto& p : procs) {
        if (p.proof == proof) {
            out.push_back({p.pid, p.command, false});
        }
    }
    return out;
}

std::string listing(const std::vector<HostProcess>& procs) {
    std::string out;
    for (const auto& p : procs) {
        out += (out.empty() ? "" : ", ") + std::string("pid ") + std::to_string(p.pid) + " (" +
               p.command + ")" + (p.proof ? "" : " [no token: not signalled]");
    }
    return out;
}

bool any_proof(const std::vector<HostProcess>& procs) {
    return std::any_of(procs.begin(), procs.end(), [](const HostProcess& p) { return p.proof; });
}

void add_new(std::vector<HostProcess>& into, const std::vector<HostProcess>& more) {
    for (const auto& p : more) {
        if (std::none_of(into.begin(), into.end(), [&](const HostProcess& q) {
                return q.pid == p.pid && q.start == p.start;
            })) {
            into.push_back(p);
        }
    }
}

/// How a person reaches `host` by hand: "ssh [-p PORT] [USER@]ADDRESS".
std::string ssh_to(const remote::Host& host) {
    return "ssh " + (host.port != 0 ? "-p " + std::to_string(host.port) + " " : std::string()) +
           (host.user.empty() ? "" : host.user + "@") +
           (host.address.empty() ? host.name : host.address);
}

journal::StepSurvivors host_record(const journal::StepState& st, const std::string& host,
                                   std::string outcome) {
    return {st.id,        st.attempts,  0,   {}, std::move(outcome), 0, std::nullopt, std::nullopt,
            std::nullopt, std::nullopt, host};
}

class HostSettle {
  public:
    HostSettle(const std::string& run_id, const journal::StepState& st, util::Millis wait,
               const remote::Host& host, const SurvivorHooks& hooks, SurvivorReport& report)
        : m_run_id(run_id), m_st(st), m_wait(wait), m_host(host), m_hooks(hooks), m_report(report),
          m_pattern(host_token_pattern(run_id, st.id, host.name)) {}

    /// `cannot`: why the host cannot be looked at, known beforehand.
    void run(const std::string& cannot = {}) {
        if (!cannot.empty()) {
            return unchecked(cannot);
        }
        if (m_pattern.empty()) {
            return unchecked("its step or host name holds characters no token has");
        }
        if (!m_hooks.scan_host) {
            return unchecked("there is no connection to it");
        }
        HostScan first = m_hooks.scan_host(m_host, HostScanMode::list, m_pattern);
        if (!first.error.empty()) {
            return unchecked(first.error);
        }
        if (first.processes.empty()) {
            return;
        }
        m_seen = first.processes;
        m_hooks.progress(m_st.id, "waiting up to " + util::format_duration(m_wait) + " for " +
                                      std::to_string(first.processes.size()) +
                                      " process(es) of step \"" + m_st.id +
                                      "\"'s interrupted attempt on host " + m_host.name + ": " +
                                      listing(first.processes));
        log::warn("step {} on host {}: survivors: {}", m_st.id, m_host.name,
                  listing(first.processes));
        const auto start = Clock::now();
        m_now = first.processes;
        bool interrupted = !wait_while(start + m_wait);
        std::string how;
        if (!interrupted && !m_error.empty()) {
            return unchecked(m_error);
        }
        if (!interrupted && any_proof(m_now)) {
            // An interrupt stops the wait without a signal: the runner starts nothing once one
            // is pending, and the next resume looks again.
            how = "terminated";
            signal(HostScanMode::term);
            interrupted = !wait_while(Clock::now() + k_grace);
            if (!interrupted && m_error.empty() && any_proof(m_now)) {
                how = "killed";
                signal(HostScanMode::kill);
                interrupted = !wait_while(Clock::now() + std::chrono::seconds(2));
            }
            if (!interrupted && m_error.empty() && !m_now.empty()) {
                // What the carriers started may end with them.
                interrupted = !wait_while(Clock::now() + k_grace);
            }
        }
        const auto waited = std::chrono::duration_cast<util::Millis>(Clock::now() - start);
        journal::StepSurvivors rec = host_record(m_st, m_host.name, how.empty() ? "exited" : how);
        rec.found = processes(m_seen, true);
        rec.waited_ms = waited.count();
        if (const auto others = processes(m_seen, false); !others.empty()) {
            rec.unproven = others;
            rec.why = "they carry no token of the step's attempt: members of the group or "
                      "session of a process that does";
        }
        std::string what = how.empty()           ? "ended by themselves"
                           : how == "terminated" ? "ended by SIGTERM"
                                                 : "ended by SIGKILL";
        if (!m_now.empty() || !m_error.empty()) {
            rec.outcome = std::string(exec::to_string(exec::Settled::remain));
            rec.remaining = processes(m_now, true);
            const auto others = processes(m_now, false);
            rec.remaining->insert(rec.remaining->end(), others.begin(), others.end());
            what = m_error.empty() ? "are still alive: " + listing(m_now)
                                   : "cannot be looked at any more: " + m_error;
            block(m_error.empty()
                      ? "processes of step \"" + m_st.id + "\"'s interrupted attempt on host " +
                            m_host.name + " are still alive after waiting " +
                            util::format_duration(waited) +
                            (any_proof(m_now) ? " and SIGKILL" : "") + ": " + listing(m_now) +
                            " (look: " + ssh_to(m_host) + " ps -o pid,pgid,sid,lstart,args -p " +
                            pids(m_now) + ")"
                      : "step \"" + m_st.id + "\"'s interrupted attempt still ran on host " +
                            m_host.name + " and it cannot be looked at any more: " + m_error);
        }
        m_hooks.record(rec);
        m_hooks.progress(m_st.id, "the process(es) of its interrupted attempt on host " +
                                      m_host.name + " " + what + " after " +
                                      util::format_duration(waited) +
                                      (interrupted ? " (interrupted: nothing else of the run "
                                                     "is done)"
                                                   : ""));
        m_report.interrupted = m_report.interrupted || interrupted;
    }

  private:
    /// Looks again until nothing is found or `end` passes (every 200 ms-1 s); false on an
    /// interrupt. A look that fails stops the wait (m_error).
    bool wait_while(Clock::time_point end) {
        util::Millis nap(200);
        while (!m_now.empty()) {
            const auto left = std::chrono::duration_cast<util::Millis>(end - Clock::now());
            if (left <= util::Millis(0)) {
                return true;
            }
            if (!exec::sleep_unless_interrupted(std::min(nap, left))) {
                return false;
            }
            nap = std::min(nap * 2, util::Millis(1000));
            HostScan again = m_hooks.scan_host(m_host, HostScanMode::list, m_pattern);
            if (!again.error.empty()) {
                if (exec::interrupt_requested() != 0) {
                    return false; // the runner refused to start the look
                }
                m_error = again.error;
                return true;
            }
            m_now = std::move(again.processes);
            add_new(m_seen, m_now);
        }
        return true;
    }

    void signal(HostScanMode mode) {
        HostScan s = m_hooks.scan_host(m_host, mode, m_pattern);
        if (!s.error.empty()) {
            log::warn("step {} on host {}: signalling its survivors: {}", m_st.id, m_host.name,
                      s.error);
        }
    }

    static std::string pids(const std::vector<HostProcess>& procs) {
        std::string out;
        for (const auto& p : procs) {
            out += (out.empty() ? "" : ",") + std::to_string(p.pid);
        }
        return out;
    }

    void block(const std::string& why) {
        auto& b = m_report.blocked[m_st.id];
        b += (b.empty() ? "" : "; ") + why;
    }

    void unchecked(const std::string& why) {
        const std::string text = "step \"" + m_st.id + "\" was interrupted on host " + m_host.name +
                                 " and what its attempt may still run there cannot be checked (" +
                                 why + "); look by hand: " + ssh_to(m_host) + " grep -lsF " +
                                 std::string(exec::k_attempt_env) + "=" + m_run_id + "/" + m_st.id +
                                 "/ '/proc/[0-9]*/environ'";
        journal::StepSurvivors rec = host_record(m_st, m_host.name, "not_proven");
        rec.why = "host " + m_host.name + " cannot be checked: " + why;
        m_hooks.record(rec);
        m_hooks.progress(m_st.id, text);
        log::warn("{}", text);
        auto& u = m_report.unchecked[m_st.id];
        u += (u.empty() ? "" : "; ") + text;
    }

    const std::string& m_run_id;
    const journal::StepState& m_st;
    util::Millis m_wait;
    const remote::Host& m_host;
    const SurvivorHooks& m_hooks;
    SurvivorReport& m_report;
    std::string m_pattern;
    std::vector<HostProcess> m_seen; ///< everything found, first look and later ones
    std::vector<HostProcess> m_now;  ///< the last look
    std::string m_error;             ///< a look that failed after the first
};

} // namespace

void settle_on_hosts(const journal::RunState& state, const playbook::Playbook& pb,
                     const SurvivorHooks& hooks, SurvivorReport& report) {
    for (const auto& st : state.steps) {
        if (!st.in_flight || st.hosts.empty()) {
            continue;
        }
        const playbook::Step* step = pb.find_step(st.id);
        if (step == nullptr || step->hosts.empty() || !runs_on_hosts(step->action)) {
            continue;
        }
        for (const auto& [name, status] : st.hosts) {
            if (report.interrupted) {
                return; // the rest is looked at again by the next resume
            }
            if (status != "running") {
                continue; // finished there: what it left running was left on purpose
            }
            const remote::Host* host = pb.inventory.find(name);
            if (host == nullptr) {
                remote::Host gone;
                gone.name = name;
                HostSettle(state.run_id, st, step->timeout, gone, hooks, report)
                    .run("it is not in the inventory any more");
                continue;
            }
            HostSettle(state.run_id, st, step->timeout, *host, hooks, report).run();
        }
    }
}

} // namespace rollback::orchestrator
