// SPDX-License-Identifier: MIT
#pragma once

// Survivors of interrupted attempts: processes of a step's groups (step_process records) still
// alive after the engine that ran the step died, and on hosts (step_host_started without its
// step_host_finished) the processes carrying the attempt's token there. They are waited for, or
// ended, before anything else of that step runs (DESIGN.md trust invariant 4; docs/actions.md
// "Step processes"). A journal is untrusted input: only processes that carry the attempt's proof
// (its token or mark) are ever signalled, and only on a record that is plausible; every other
// live member of the recorded group is waited for, and while one lives the step does not start.

#include "exec/process_group.hpp"
#include "journal/records.hpp"
#include "journal/state.hpp"
#include "orchestrator/host_survivors.hpp"
#include "playbook/model.hpp"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rollback::orchestrator {

struct SurvivorHooks {
    /// Appends a record (step_survivors) to the run's journal.
    std::function<void(const journal::Record&)> record;
    /// A line for the person watching: (step id, text).
    std::function<void(const std::string&, const std::string&)> progress;
    /// Looks at one host (host_survivors.hpp); empty: a step in flight on hosts cannot be
    /// checked (it is then `unchecked`).
    HostScanner scan_host = nullptr;
};

struct SurvivorReport {
    /// Steps that must not run again, with why: processes of their interrupted attempt are still
    /// alive (proven ones after SIGKILL; others after the wait, never signalled). The text names
    /// them and how to look at them; the resume command is the caller's to add.
    std::map<std::string, std::string> blocked;
    /// Steps on hosts whose interrupted attempt could not be checked on some host (unreachable,
    /// no /proc): they do not run again unless a person says so (--retry or --mark-done).
    std::map<std::string, std::string> unchecked;
    /// Per step: what the programs that ended by themselves (step_process_exited) left running,
    /// found by its proof and left alone.
    std::map<std::string, std::vector<exec::ProcessInfo>> left_alone;
    /// An interrupt (SIGINT, SIGTERM, SIGHUP) arrived while waiting: the proven survivors of the
    /// group being waited for were ended, nothing further was looked at. The caller records
    /// nothing as done and starts nothing.
    bool interrupted = false;
};

/// Why the journal's record `g` of a group of step `st` in run `run_id` is not to be believed
/// ("" when it is): no attempt token, a token not of this run, step and attempt
/// (`<run_id>/<step>/<attempt>/<16 hex digits>`), or a leader start time (`started_at`) that
/// is not between the attempt's step_started and the record (a few seconds' slack for clocks).
std::string implausible(const std::string& run_id, const journal::StepState& st,
                        const journal::ProcessGroup& g,
                        std::optional<std::chrono::system_clock::time_point> leader_started);

/// The live processes a journal's record of a group names now. `proven`: they carry the
/// attempt's token or mark (exec::recorded_survivors), the only ones ever signalled — none
/// when `believed` is false (the record is implausible). `others`: the live members of the
/// group without that proof (all of them when not believed), guarded against pid reuse: none
/// when the recorded leader's pid is alive with another start time (the pid, and so the group
/// id, was reused: that group is another one), nor when the group is the caller's own; only
/// members started no earlier than the recorded leader. Never throws.
struct GroupNow {
    std::vector<exec::ProcessInfo> proven;
    std::vector<exec::ProcessInfo> others;
    /// Live members of the recorded group id that are not the attempt's (a reused group, the
    /// caller's own, or older than the recorded leader): never waited for, only shown.
    std::vector<exec::ProcessInfo> unrelated;
    bool reused = false; ///< the recorded leader's pid is another process now
    bool empty() const { return proven.empty() && others.empty(); }
};
GroupNow group_now(const exec::GroupToken& token, bool believed);

/// For every step of `state` with recorded groups. A group whose program ended by itself: its
/// proven survivors are listed and left alone (step_survivors `left_alone`). Otherwise every
/// live process the record names (group_now) is waited for, up to the step's timeout in `pb`
/// (5 minutes for a step `pb` lacks); then the proven ones get TERM, a 5 s grace, KILL, one
/// process at a time, and the others (never signalled) 5 s more. Whatever still lives blocks
/// the step (step_survivors `remain`). Then, for every step in flight on hosts, the same on each
/// host where its attempt did not finish, through `hooks.scan_host`; then the database sessions
/// of every step in flight (settle_sessions, step_sessions.hpp). An interrupt during a wait
/// ends the proven survivors of that group at once and returns `interrupted`.
SurvivorReport settle_survivors(const journal::RunState& state, const playbook::Playbook& pb,
                                const SurvivorHooks& hooks);

/// settle_survivors' part on hosts (survivors_hosts.cpp): for each step in flight on hosts whose
/// action runs programs there, each host where its attempt started and did not finish is looked
/// at (hooks.scan_host); what carries a token of the step's attempts there is waited for up to
/// the step's timeout, then TERM, grace, KILL; the members of their groups and sessions without
/// it are waited for, never signalled. Still alive: `blocked`. Not looked at (no scanner, an
/// unreachable host, no /proc): `unchecked`. An interrupt stops the wait without a signal.
void settle_on_hosts(const journal::RunState& state, const playbook::Playbook& pb,
                     const SurvivorHooks& hooks, SurvivorReport& report);

} // namespace rollback::orchestrator
