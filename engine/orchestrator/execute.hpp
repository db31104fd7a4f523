// SPDX-License-Identifier: MIT
#pragma once

// The run state machine: run the plan's steps in order with retries, hooks and journaling,
// then the finally steps; resume an interrupted run from its journal.

#include "actions/action.hpp"
#include "exec/runner.hpp"
#include "journal/reader.hpp"
#include "journal/state.hpp"
#include "orchestrator/plan.hpp"
#include "remote/ssh.hpp"
#include "report/observer.hpp"
#include "util/exit_code.hpp"

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rollback::orchestrator {

/// How a monitor's run among monitors sharing a state is handed over to the next leader on
/// SIGINT/SIGTERM (journal::RunHandedOver, docs/config.md "Failover"): its finally steps are left
/// to that leader's resume, which runs them after the remaining steps.
struct HandOver {
    std::int64_t generation = 0; ///< the leadership generation of the monitor running it
    std::string resume;          ///< the command that continues the run by hand
};

/// Where the run's state is, for what the run tells a person (the cli's StateDir, as data).
struct StateRef {
    /// What a command the run prints adds to find the state from any directory
    /// (state::state_args: " --state-dir DIR", " -c FILE"); "": the state directory's.
    std::string args;
    /// The state is the shared one (PostgreSQL): a record it refuses is the server's, not a
    /// disk's; `where` names it for messages ("the shared state postgresql://... (schema S)").
    bool shared = false;
    std::string where;
};

struct RunOptions {
    std::filesystem::path state_dir;
    actions::Trigger trigger;
    Selection selection;
    bool verbose = false;
    std::string user; ///< who started it (for the journal)
    /// Master connections the preflight opened (may be null): steps on hosts use them, so each
    /// host is connected to once. A master idle past ControlPersist is gone; ssh then connects
    /// directly for each command, with the same checks.
    std::shared_ptr<remote::Connections> connections = nullptr;
    /// A monitor's run on a shared state: SIGINT/SIGTERM hands it over to the next leader
    /// (run_handed_over) instead of running its finally steps (nullopt: a person's run, or a
    /// monitor alone on its state).
    std::optional<HandOver> hand_over = std::nullopt;
    StateRef state = {};
};

struct RunOutcome {
    std::string run_id;
    journal::RunStatus status = journal::RunStatus::failed;
    util::ExitCode code = util::ExitCode::run_failed;
    std::filesystem::path journal;
    std::string message; ///< for needs_attention: what the person must do
    /// Stopped because this process lost the run lock (fencing): the run is the new holder's to
    /// finish, not this process's nor a person's to resume.
    bool fenced = false;
    /// Succeeded with these verify checks forced past by a person (--mark-done --force): the
    /// run is NOT verified (journal::RunFinished::not_verified).
    std::vector<std::string> not_verified = {};
};

/// Runs `plan` as a new run with id `run_id`: writes its journal in `store`, every record before
/// the effect it announces, each append fenced by `lease` (the caller holds the lock). Failures of
/// steps are in the outcome; throws util::Error only when the journal cannot be written.
RunOutcome run(const Plan& plan, const RunOptions& options, state::Store& store,
               const state::RunLease& lease, const std::string& run_id, exec::ProcessRunner& runner,
               report::Observer& observer);

struct ResumeOptions {
    std::filesystem::path state_dir;
    std::vector<std::string> mark_done; ///< --mark-done STEP: a person says it happened
    std::vector<std::string> retry;     ///< --retry STEP: a person says run it again
    std::string user;
    std::string why; ///< --reason for the resume
    bool verbose = false;
    /// Step → what its probe found when a person marks it done anyway (see probe_mark_done);
    /// recorded in the step_marked_done record as `probe_state`.
    std::map<std::string, std::string> mark_done_warnings = {};
    /// As RunOptions::hand_over: the leading monitor's resume of a run on a shared state.
    std::optional<HandOver> hand_over = std::nullopt;
    /// Variables the resume took from its own sources although the run had other values
    /// (--allow-changed-vars): recorded in run_resumed "vars_changed".
    std::vector<std::string> vars_changed = {};
    /// --force: --mark-done of a verify-phase check that never passed is recorded (as "not
    /// verified") instead of refused.
    bool force = false;
    StateRef state = {};
};

/// For each `mark_done` step whose action probes itself (pg_restore): what the probe finds when
/// it says the step is NOT done, e.g. "the swap did not happen: shop is NOT restored ...". Only
/// looks; resume's caller shows these and asks for confirmation before marking such a step done.
std::map<std::string, std::string>
probe_mark_done(const playbook::Playbook& pb, const journal::Journal& jr,
                const std::vector<std::string>& mark_done, const std::filesystem::path& state_dir,
                state::Store& store, exec::ProcessRunner& runner);

/// What resume needs of a run's journal: its header, warnings and chain check (`journal`, whose
/// records need not be kept), the state folded from it, and its first run_started.
struct ResumeJournal {
    journal::Journal journal;
    journal::RunState state;
    /// The run_started record (from read_for_resume: without its `steps`, which are the fold's
    /// `state.steps`).
    std::optional<journal::RunStarted> started;
    /// The lease held while `journal` was read (resume then continues the journal from that
    /// reading, Store::continue_journal); null: resume reads it again (Store::open_journal).
    const state::RunLease* read_under = nullptr;
};

/// Reads `run_id`'s journal once, under `lease` (the run lock taken for the resume), folding its
/// records as they are read (none kept): a long run's 2 records per step are never held, and
/// resume() continues the journal from this reading. util::Error as Store::read_journal.
ResumeJournal read_for_resume(const state::Store& store, const std::string& run_id,
                              const state::RunLease& lease);

/// The same from a journal read whole.
ResumeJournal resume_journal(const journal::Journal& jr);

/// Continues the run recorded in `journal` with the playbook `pb` (loaded by the caller from the
/// journal's playbook path; its SHA-256 is checked by the caller). Finished steps are not run
/// again; an in-flight step is re-run when idempotent, else its probe decides, else the run stops
/// in needs_attention. Throws util::Error (exit 2) when there is nothing to resume or the
/// options name unknown steps — before anything is written.
RunOutcome resume(const playbook::Playbook& pb, const ResumeJournal& journal,
                  const ResumeOptions& options, state::Store& store, const state::RunLease& lease,
                  exec::ProcessRunner& runner, report::Observer& observer);
/// resume() of a journal read whole.
RunOutcome resume(const playbook::Playbook& pb, const journal::Journal& journal,
                  const ResumeOptions& options, state::Store& store, const state::RunLease& lease,
                  exec::ProcessRunner& runner, report::Observer& observer);

} // namespace rollback::orchestrator
