// SPDX-License-Identifier: MIT
#pragma once

// What `run`, `resume` and `trigger` share: confirmation, the run lock, the run summary.

#include "cli/state_dir.hpp"
#include "config/config.hpp"
#include "orchestrator/execute.hpp"
#include "orchestrator/plan.hpp"
#include "playbook/model.hpp"
#include "state/store.hpp"

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rollback::cli {

/// A run lock's holder as every message names it: "run ID (pid P on HOST, started T by USER,
/// reason: R)".
std::string describe(const state::Holder& h);

/// Asks "question [y/N]" on the terminal. Without --yes and without a terminal on stdin it
/// refuses: throws util::Error (exit 2) saying to pass --yes. Returns false when answered no.
bool confirm(const std::string& question, bool yes);

/// Takes the state directory's lock for `run_id`. Exit 4 (util::Error) naming the holder when a
/// live run holds it, or when a run died without finishing (offering `rollback resume`), unless
/// `abandon_stale` — then the survivors of that dead run's in-flight steps are waited for or
/// ended (timeouts from `pb` when given; on the hosts through `connections`; journaled in the
/// dead run's journal, printed on stderr), it gets a run_abandoned record in its journal, and the
/// lock is taken. Exit 4 when some are still alive after that (or a host cannot be checked), 130
/// when an interrupt cut the wait: then the dead run is left as it was (not abandoned, its lock
/// kept).
/// `sd` is where `store` was found (for messages and the commands they suggest). With `stale`,
/// the holder that died without releasing the lock (of any run; LeaseAttempt::stale) is put
/// there, so a caller that gives up before it starts can release leaving it as it was.
std::unique_ptr<state::RunLease>
take_lock(state::Store& store, const StateDir& sd, const std::string& run_id,
          const std::string& reason, bool abandon_stale, const playbook::Playbook* pb = nullptr,
          const state::RunFence* fence = nullptr, std::optional<state::Holder>* stale = nullptr,
          std::shared_ptr<remote::Connections> connections = nullptr);

/// Releases the run lock `lock` at the end of its run (returned or thrown). A monitor's run among
/// monitors sharing a state (`fence` of a leadership) that is left unfinished — interrupted
/// because its monitor stopped, or stopped by the state store — is released as a dead holder's
/// (the holder kept in the lock): the leader, the next one or this monitor again, resumes it
/// (docs/config.md "Failover"). Anything else is released plainly. `outcome`, when the run
/// returned one, says whether it finished without asking the store again (a store that does not
/// answer now cannot turn a finished run into a failed start). Never throws.
void release_run_lock(state::Store& store, state::RunLease& lock, const state::RunFence* fence,
                      const orchestrator::RunOutcome* outcome = nullptr);

/// How a run `run_id` under `fence` is handed over on a signal: to the next leader of the shared
/// state when `fence` is a leadership's (with the command that resumes it by hand, `sd`'s state
/// arguments), else nullopt (a person's run, or a monitor alone: its finally steps run).
std::optional<orchestrator::HandOver> hand_over_to(const state::RunFence* fence, const StateDir& sd,
                                                   const std::string& run_id);

/// `sd` as the orchestrator's StateRef: what the commands a run prints carry (state_args), and
/// whether a record refused is the shared state's server.
orchestrator::StateRef state_ref(const StateDir& sd);

/// The closing lines of a run for a person (or a JSON summary object with --json).
void print_summary(const orchestrator::RunOutcome& outcome, const StateDir& sd, bool json);

/// How start_run behaves: the options `run`, `trigger` and `monitor` share.
struct StartOptions {
    std::filesystem::path state_dir;
    /// The shared store the configuration names (StateDir::shared); none: the state directory.
    std::optional<config::SharedState> shared;
    /// The configuration that named the state (StateDir::config), for the printed commands.
    std::filesystem::path config;
    orchestrator::Selection selection;
    bool verbose = false;
    bool json = false;
    bool yes = false;           ///< no confirmation question
    bool dry_run = false;       ///< show the plan and stop
    bool abandon_stale = false; ///< see take_lock
    bool start_logging = true;  ///< false when the caller (the monitor) already logs
    std::string command = "run";
    /// A monitor's run: the lock is taken under this fence, and its decided_run is the run id.
    std::optional<state::RunFence> fence;
    /// Called once the run lock is held, before the run's first record, with the store and the
    /// run id (`approve` marks its request answered there, conditionally). When it throws, the
    /// lock is released and nothing runs.
    std::function<void(state::Store&, const std::string& run_id)> under_lock;
};

/// The sequence of `run`: plan `pb` for `trigger`, show the plan with its preflight, confirm, take
/// the lock, run it (journaled), print the summary. Returns the run's exit code (the preflight's
/// with dry_run; 0 when not confirmed). Throws util::Error: preflight problems (exit 2), lock held
/// or an unfinished run (exit 4), no confirmation possible (exit 2).
int start_run(const playbook::Playbook& pb, const actions::Trigger& trigger, const StartOptions& o);

/// What resume_run continues and how: the options of `rollback resume`.
struct ResumeRequest {
    std::string run_id;
    std::vector<std::string> mark_done; ///< --mark-done (split)
    std::vector<std::string> retry;     ///< --retry (split)
    std::vector<std::string> vars;      ///< --var NAME=VALUE
    std::string reason;
    bool yes = false;
    bool allow_changed = false;
    /// --allow-changed-vars: go on with this resume's values where they differ from the run's.
    bool allow_changed_vars = false;
    bool force = false; ///< --force (ResumeOptions::force)
    bool verbose = false;
    bool json = false;
    bool start_logging = true; ///< false when the caller (the monitor) already logs
    /// The process exits after: the run's state and playbook are left to the exit instead of
    /// being freed (util::leave_to_exit). Never for the monitor.
    bool exits_after = false;
    /// A monitor's resume: the lock is taken under this fence.
    std::optional<state::RunFence> fence;
};

/// The sequence of `rollback resume` — the one code path that continues a run, for a person and
/// for a monitor that took over the leadership: checks the run is not live, has a plan and an
/// unchanged playbook, takes the lock, runs the probes of --mark-done steps, confirms, resumes
/// (finished steps are not run again; in-flight ones by idempotence, probe or a person), prints
/// the summary. Returns the run's exit code (0 when not confirmed). Throws util::Error: exit 4
/// when the run is live or the lock held, exit 2 for a run with nothing to resume, a changed
/// playbook, or variables resolved differently from the run's (orchestrator::vars_at_resume).
int resume_run(state::Store& store, const StateDir& sd, const ResumeRequest& r);

} // namespace rollback::cli
