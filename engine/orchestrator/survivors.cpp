// SPDX-License-Identifier: MIT
#include "orchestrator/survivors.hpp"

#include "orchestrator/step_sessions.hpp"

#include "exec/runner.hpp"
#include "util/duration.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"
#include "util/time.hpp"

#include <algorithm>
#include <thread>
#include <unistd.h>

namespace rollback::orchestrator {
namespace {

using Clock = std::chrono::steady_clock;

constexpr util::Millis k_grace{5000};
constexpr util::Millis k_default_wait{5 * 60 * 1000};
// Journal times and a process's start time come from two clocks (the wall clock then, the boot
// clock now): a clock slewed or stepped a little since the run must not make a record suspect.
constexpr std::chrono::seconds k_clock_slack{30};
constexpr std::string_view k_not_signalled = " [no token or mark: not signalled]";

std::vector<journal::Process> processes(const std::vector<exec::ProcessInfo>& procs) {
    std::vector<journal::Process> out;
    out.reserve(procs.size());
    for (const auto& p : procs) {
        out.push_back({p.pid, p.command, !p.in_group}); // left_group: found by the token
    }
    return out;
}

std::string listing(const std::vector<exec::ProcessInfo>& procs, std::string_view note = {}) {
    std::string out;
    for (const auto& p : procs) {
        out += (out.empty() ? "" : ", ") + std::string("pid ") + std::to_string(p.pid) + " (" +
               p.command + ")" + (p.in_group ? "" : " [left the group]") + std::string(note);
    }
    return out;
}

/// The proven ones, then the others (marked: never signalled).
std::string listing(const GroupNow& n) {
    const std::string proven = listing(n.proven);
    const std::string others = listing(n.others, k_not_signalled);
    return proven + (proven.empty() || others.empty() ? "" : ", ") + others;
}

std::string pids_of(const std::vector<exec::ProcessInfo>& procs) {
    std::string out;
    for (const auto& p : procs) {
        out += (out.empty() ? "" : ",") + std::to_string(p.pid);
    }
    return out;
}

std::vector<exec::ProcessInfo> all_of(const GroupNow& n) {
    std::vector<exec::ProcessInfo> out = n.proven;
    out.insert(out.end(), n.others.begin(), n.others.end());
    return out;
}

/// Adds to `into` what `more` holds that it does not (by pid and start time).
void add_new(std::vector<exec::ProcessInfo>& into, const std::vector<exec::ProcessInfo>& more) {
    for (const auto& p : more) {
        if (std::none_of(into.begin(), into.end(), [&](const exec::ProcessInfo& q) {
                return q.pid == p.pid && q.start == p.start;
            })) {
            into.push_back(p);
        }
    }
}

bool hex16(std::string_view s) {
    return s.size() == 16 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

/// Polls `look` every 20-100 ms until it finds nothing or `end` passes. False when an interrupt
/// cut the wait short (with `interruptible`).
template <typename Look>
bool wait_while(Look&& look, Clock::time_point end, bool interruptible, util::Millis first_nap,
                util::Millis max_nap) {
    util::Millis nap = first_nap;
    while (look()) {
        const auto left = std::chrono::duration_cast<util::Millis>(end - Clock::now());
        if (left <= util::Millis(0)) {
            return true;
        }
        const util::Millis d = std::min(nap, left);
        if (interruptible) {
            if (!exec::sleep_unless_interrupted(d)) {
                return false;
            }
        } else {
            std::this_thread::sleep_for(d);
        }
        nap = std::min(nap * 2, max_nap);
    }
    return true;
}

journal::StepSurvivors survivors_record(const journal::StepState& st, int attempt, int pgid,
                                        std::string outcome) {
    return {st.id,        attempt,      pgid,         {},           std::move(outcome), 0,
            std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt};
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
    journal::StepSurvivors rec = survivors_record(st, g.attempt, g.pgid, "left_alone");
    rec.found = processes(found);
    rec.exit = g.exit;
    hooks.record(rec);
    auto& left = report.left_alone[st.id];
    left.insert(left.end(), found.begin(), found.end());
}

/// One recorded group of an attempt that has no step_finished: wait for what it names, end the
/// proven, block the step on whatever still lives.
void settle_recorded(const std::string& run_id, const journal::StepState& st,
                     const journal::ProcessGroup& g, util::Millis wait, const SurvivorHooks& hooks,
                     SurvivorReport& report) {
    const exec::GroupToken token{g.pgid, g.leader_start, g.boot_id, g.token};
    const std::string implausible_why =
        implausible(run_id, st, g, exec::started_at(g.leader_start));
    const bool believed = implausible_why.empty();
    const GroupNow first = group_now(token, believed);
    if (first.empty()) {
        if (!first.unrelated.empty()) {
            // The journal names a group that is not the attempt's (any more): nothing of it is
            // waited for or signalled. (The record's line is what the person sees.)
            journal::StepSurvivors rec = survivors_record(st, g.attempt, g.pgid, "not_proven");
            rec.unproven = processes(first.unrelated);
            rec.why = believed ? "its leader's pid " + std::to_string(g.pgid) +
                                     " is another process now (the group id was reused)"
                               : implausible_why;
            log::warn("step {}: group {} not signalled: {}: {}", st.id, g.pgid, *rec.why,
                      listing(first.unrelated));
            hooks.record(rec);
        }
        return;
    }
    // Why the others are only waited for: the record is not believed, or they carry no proof.
    const std::string why =
        !believed ? implausible_why
                  : "they carry neither the attempt's token nor its mark (they may have cleared "
                    "their environment and closed the descriptors they inherited)";
    const std::string who =
        "process(es) of attempt " + std::to_string(g.attempt) + " of step \"" + st.id + "\"";
    hooks.progress(st.id, "waiting up to " + util::format_duration(wait) + " for " +
                              std::to_string(first.proven.size() + first.others.size()) + " " +
                              who + " still running from the interrupted run: " + listing(first));
    log::warn("step {}: survivors of group {}: {}", st.id, g.pgid, listing(first));

    const auto start = Clock::now();
    std::vector<exec::ProcessInfo> seen_others = first.others;
    GroupNow now = first;
    auto look = [&] {
        now = group_now(token, believed);
        add_new(seen_others, now.others);
        return !now.empty();
    };
    bool interrupted = !wait_while(look, start + wait, true, util::Millis(20), util::Millis(100));
    std::optional<exec::Settlement> ended;
    if (!now.proven.empty()) {
        // The wait is over (or a person interrupted it: ending them is then what was asked):
        // TERM, grace, KILL to each proven one, never to the group.
        ended = exec::settle_group(token, util::Millis(0), k_grace);
        if (!interrupted && look()) {
            // What the proven ones started may end with them (a closed pipe, a hangup).
            const auto grace_end = Clock::now() + k_grace;
            interrupted = !wait_while(look, grace_end, true, util::Millis(20), util::Millis(100));
        }
    }
    look();
    interrupted = interrupted || exec::interrupt_requested() != 0;
    const auto waited = std::chrono::duration_cast<util::Millis>(Clock::now() - start);

    journal::StepSurvivors rec = survivors_record(st, g.attempt, g.pgid, "exited");
    rec.found = processes(first.proven);
    rec.waited_ms = waited.count();
    if (!seen_others.empty()) {
        rec.unproven = processes(seen_others); // in the group (or not believed): never signalled
        rec.why = why;
    }
    std::string what = "ended by themselves";
    if (!now.empty()) {
        rec.outcome = std::string(exec::to_string(exec::Settled::remain));
        rec.remaining = processes(all_of(now));
        what = "are still alive: " + listing(now);
        std::string block =
            !now.proven.empty()
                ? "processes of step \"" + st.id +
                      "\" from the interrupted run are still alive "
                      "after SIGKILL: " +
                      listing(now.proven)
                : "processes in the process group " + std::to_string(g.pgid) + " of step \"" +
                      st.id + "\"'s interrupted attempt " + std::to_string(g.attempt) +
                      " are still alive after waiting " + util::format_duration(waited) + ": " +
                      listing(now.others) + "; they were not signalled: " + why;
        block += " (look: ps -o pid,pgid,lstart,args -p " + pids_of(all_of(now)) + ")";
        auto& b = report.blocked[st.id];
        b += (b.empty() ? "" : "; ") + block;
    } else if (ended && ended->how != exec::Settled::exited) {
        rec.outcome = std::string(exec::to_string(
            ended->how == exec::Settled::remain ? exec::Settled::killed : ended->how));
        what = ended->how == exec::Settled::terminated ? "ended by SIGTERM" : "ended by SIGKILL";
    }
    hooks.record(rec);
    hooks.progress(st.id,
                   who + " " + what + " after " + util::format_duration(waited) +
                       (interrupted ? " (interrupted: nothing else of the run is done)" : ""));
    report.interrupted = report.interrupted || interrupted;
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

GroupNow group_now(const exec::GroupToken& token, bool believed) {
    GroupNow out;
    exec::Recorded seen = exec::recorded_survivors(token);
    // A group id is a pid: it is not given to another process while the group has a member. So
    // the recorded leader's pid alive with another start time means the whole recorded group
    // ended and the id now names another group. The caller's own group is never a step's (each
    // program of a step leads a group of its own).
    bool reused = token.pgid > 0 && token.pgid == ::getpgrp();
    for (const auto* list : {&seen.proven, &seen.unproven}) {
        for (const auto& p : *list) {
            reused = reused || (p.in_group && p.pid == token.pgid && p.start != token.leader_start);
        }
    }
    out.reused = reused;
    for (const auto& p : seen.proven) {
        if (reused && p.in_group) {
            out.unrelated.push_back(p);
        } else if (believed) {
            out.proven.push_back(p);
        } else {
            out.others.push_back(p);
        }
    }
    for (const auto& p : seen.unproven) {
        // Older than the recorded leader: it joined later, it is not what the attempt started.
        if (reused || p.start < token.leader_start) {
            out.unrelated.push_back(p);
        } else {
            out.others.push_back(p);
        }
    }
    return out;
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
            if (report.interrupted) {
                return report; // the rest is looked at again by the next resume
            }
            const exec::GroupToken token{g.pgid, g.leader_start, g.boot_id, g.token};
            if (token.boot_id != exec::boot_id()) {
                continue; // another boot: every process of that group is gone
            }
            if (g.exited) {
                const bool trusted =
                    implausible(state.run_id, st, g, exec::started_at(g.leader_start)).empty();
                leave_alone(st, g, token, trusted, hooks, report);
                continue;
            }
            settle_recorded(state.run_id, st, g, wait, hooks, report);
        }
    }
    if (!report.interrupted) {
        settle_on_hosts(state, pb, hooks, report);
    }
    if (!report.interrupted) {
        // After the processes: what a program of the step (pg_restore) left open ends with it.
        settle_sessions(state, pb, hooks, report);
    }
    return report;
}

} // namespace rollback::orchestrator
