// SPDX-License-Identifier: MIT
#include "orchestrator/survivors.hpp"

#include "exec/process_group.hpp"
#include "util/duration.hpp"
#include "util/log.hpp"

namespace rollback::orchestrator {
namespace {

constexpr util::Millis k_grace{5000};
constexpr util::Millis k_default_wait{5 * 60 * 1000};

std::vector<journal::Process> processes(const std::vector<exec::ProcessInfo>& procs) {
    std::vector<journal::Process> out;
    out.reserve(procs.size());
    for (const auto& p : procs) {
        out.push_back({p.pid, p.command, !p.in_group}); // left_group: found by the token
    }
    return out;
}

std::string listing(const std::vector<exec::ProcessInfo>& procs) {
    std::string out;
    for (const auto& p : procs) {
        out += (out.empty() ? "" : ", ") + std::string("pid ") + std::to_string(p.pid) + " (" +
               p.command + ")" + (p.in_group ? "" : " [left the group]");
    }
    return out;
}

} // namespace

std::set<std::string> settle_survivors(const journal::RunState& state, const playbook::Playbook& pb,
                                       const SurvivorHooks& hooks) {
    std::set<std::string> blocked;
    for (const auto& st : state.steps) {
        if (st.groups.empty()) {
            continue; // the common case: no lookup by id, so a long run stays linear
        }
        const playbook::Step* step = pb.find_step(st.id);
        const util::Millis wait = step != nullptr ? step->timeout : k_default_wait;
        for (const auto& g : st.groups) {
            exec::GroupToken token{g.pgid, g.leader_start, g.boot_id, g.token};
            auto found = exec::group_survivors(token);
            if (found.empty()) {
                continue;
            }
            std::string who = std::to_string(found.size()) + " process(es) of attempt " +
                              std::to_string(g.attempt) + " of step \"" + st.id + "\"";
            hooks.progress(st.id, "waiting up to " + util::format_duration(wait) + " for " + who +
                                      " still running from the interrupted run: " + listing(found));
            log::warn("step {}: {} survive in group {}: {}", st.id, found.size(), g.pgid,
                      listing(found));
            exec::Settlement s = exec::settle_group(token, wait, k_grace);
            journal::StepSurvivors rec{st.id,
                                       g.attempt,
                                       g.pgid,
                                       processes(found),
                                       std::string(exec::to_string(s.how)),
                                       s.waited.count(),
                                       std::nullopt};
            if (s.how == exec::Settled::remain) {
                rec.remaining = processes(s.remaining);
                blocked.insert(st.id);
            }
            hooks.record(rec);
            std::string what = s.how == exec::Settled::exited       ? "ended by themselves"
                               : s.how == exec::Settled::terminated ? "ended by SIGTERM"
                               : s.how == exec::Settled::killed     ? "ended by SIGKILL"
                                                                    : "are still alive";
            hooks.progress(st.id, who + " " + what + " after " + util::format_duration(s.waited));
        }
    }
    return blocked;
}

} // namespace rollback::orchestrator
