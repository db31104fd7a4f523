// SPDX-License-Identifier: MIT
#include "orchestrator/survivors.hpp"

#include "util/duration.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"
#include "util/time.hpp"

namespace rollback::orchestrator {
namespace {

constexpr util::Millis k_grace{5000};
constexpr util::Millis k_default_wait{5 * 60 * 1000};
// Journal times and a process's start time come from two clocks (the wall clock then, the boot
// clock now): a clock slewed or stepped a little since the run must not make a record suspect.
constexpr std::chrono::seconds k_clock_slack{30};

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

bool hex16(std::string_view s) {
    return s.size() == 16 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

/// A group whose program ended by itself: what carries its proof was left running on purpose.
/// (The record's line is what the person sees: report::describe_record.)
void leave_alone(const journal::StepState& st, const journal::ProcessGroup& g,
                 const exec::GroupToken& token, bool trusted, const SurvivorHooks& hooks,
                 SurvivorReport& report) {
    auto found =
        trusted ? exec::recorded_survivors(token).proven : std::vector<exec::ProcessInfo>{};
    if (found.empty()) {
        return;
    }
    journal::StepSurvivors rec{st.id, g.attempt,    g.pgid,       processes(found), "left_alone",
                               0,     std::nullopt, std::nullopt, std::nullopt,     std::nullopt};
    rec.exit = g.exit;
    hooks.record(rec);
    auto& left = report.left_alone[st.id];
    left.insert(left.end(), found.begin(), found.end());
}

/// Nothing of the group is signalled: the record, or its processes, prove nothing. (The
/// record's line is what the person sees: report::describe_record.)
void refuse(const journal::StepState& st, const journal::ProcessGroup& g, const std::string& why,
            const std::vector<exec::ProcessInfo>& seen, const SurvivorHooks& hooks) {
    log::warn("step {}: group {} not signalled: {}: {}", st.id, g.pgid, why, listing(seen));
    journal::StepSurvivors rec{st.id, g.attempt,    g.pgid,       {},           "not_proven",
                               0,     std::nullopt, std::nullopt, std::nullopt, std::nullopt};
    rec.unproven = processes(seen);
    rec.why = why;
    hooks.record(rec);
}

} // namespace

std::string implausible(const std::string& run_id, const journal::StepState& st,
                        const journal::ProcessGroup& g,
                        std::optional<std::chrono::system_clock::time_point> leader_started) {
    if (g.token.empty()) {
        return "its record carries no attempt token (a journal written before tokens), so "
               "nothing proves a process is the step's";
    }
    const std::string prefix = run_id + "/" + st.id + "/" + std::to_string(g.attempt) + "/";
    if (g.token.size() != prefix.size() + 16 || g.token.compare(0, prefix.size(), prefix) != 0 ||
        !hex16(std::string_view(g.token).substr(prefix.size()))) {
        return "its attempt token " + util::quoted(g.token) + " is not one of this attempt (" +
               prefix + "<16 hex digits>)";
    }
    const auto from = util::parse_time(st.started);
    const auto to = util::parse_time(g.written);
    if (g.leader_start == 0 || !leader_started || !from || !to ||
        *leader_started < *from - k_clock_slack || *leader_started > *to + k_clock_slack) {
        return "its leader's start time (" + std::to_string(g.leader_start) + " ticks after boot" +
               (g.leader_start != 0 && leader_started ? ", " + util::format_time(*leader_started)
                                                      : std::string()) +
               ") is not between the attempt's start (" + st.started + ") and the record (" +
               g.written + ")";
    }
    return {};
}

SurvivorReport settle_survivors(const journal::RunState& state, const playbook::Playbook& pb,
                                const SurvivorHooks& hooks) {
    SurvivorReport report;
    for (const auto& st : state.steps) {
        if (st.groups.empty()) {
            continue; // the common case: no lookup by id, so a long run stays linear
        }
        const playbook::Step* step = pb.find_step(st.id);
        const util::Millis wait = step != nullptr ? step->timeout : k_default_wait;
        for (const auto& g : st.groups) {
            exec::GroupToken token{g.pgid, g.leader_start, g.boot_id, g.token};
            if (token.boot_id != exec::boot_id()) {
                continue; // another boot: every process of that group is gone
            }
            const std::string why =
                implausible(state.run_id, st, g, exec::started_at(g.leader_start));
            if (g.exited) {
                leave_alone(st, g, token, why.empty(), hooks, report);
                continue;
            }
            exec::Recorded seen = exec::recorded_survivors(token);
            if (!why.empty()) {
                std::vector<exec::ProcessInfo> all = seen.unproven;
                all.insert(all.end(), seen.proven.begin(), seen.proven.end());
                if (!all.empty()) {
                    refuse(st, g, why, all, hooks);
                }
                continue;
            }
            if (seen.proven.empty()) {
                if (!seen.unproven.empty()) {
                    refuse(st, g, "its processes carry neither the attempt's token nor its mark",
                           seen.unproven, hooks);
                }
                continue;
            }
            const auto& found = seen.proven;
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
                                       std::nullopt,
                                       std::nullopt,
                                       std::nullopt,
                                       std::nullopt};
            if (!seen.unproven.empty()) {
                rec.unproven = processes(seen.unproven); // in the group, never signalled
            }
            if (s.how == exec::Settled::remain) {
                rec.remaining = processes(s.remaining);
                report.blocked.insert(st.id);
            }
            hooks.record(rec);
            std::string what = s.how == exec::Settled::exited       ? "ended by themselves"
                               : s.how == exec::Settled::terminated ? "ended by SIGTERM"
                               : s.how == exec::Settled::killed     ? "ended by SIGKILL"
                                                                    : "are still alive";
            hooks.progress(st.id, who + " " + what + " after " + util::format_duration(s.waited));
            if (!seen.unproven.empty()) {
                hooks.progress(st.id, "in its group without the attempt's token or mark, not "
                                      "signalled: " +
                                          listing(seen.unproven));
            }
        }
    }
    return report;
}

} // namespace rollback::orchestrator
