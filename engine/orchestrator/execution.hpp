// SPDX-License-Identifier: MIT
#pragma once

// The machinery shared by a new run and a resumed one (internal to orchestrator/).

#include "orchestrator/execute.hpp"

#include "journal/records.hpp"
#include "journal/state.hpp"
#include "journal/writer.hpp"
#include "remote/ssh.hpp"
#include "util/duration.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>

namespace rollback::orchestrator {

/// What to do with one planned step when the main loop reaches it.
enum class StepPlan {
    run,          ///< run it (attempts start after `first_attempt - 1`)
    record_skip,  ///< not selected: record step_skipped
    already_done, ///< finished in an earlier invocation: nothing to do, nothing to record
    /// failed (or timed out) in an earlier invocation, its retries used up: nothing runs or is
    /// recorded, and the step counts as the failure it was (on_failure decides, as when it
    /// failed); `message` is its summary
    already_failed,
    needs_attention, ///< resume cannot decide: stop and ask a person
};

struct StepDecision {
    StepPlan plan = StepPlan::run;
    int first_attempt = 1;
    std::string message; ///< skip reason or attention message
    /// run: wait this long before `first_attempt` (the rest of a retry delay that an
    /// interruption cut short; 0 = start at once).
    util::Millis wait_first{0};
    /// already_failed: how the step ended then (failed, timed_out, verification_failed).
    actions::Status failed_as = actions::Status::failed;
};

/// What a step's `probe` found on the hosts where its interrupted attempt did not finish
/// (Execution::probe_on_hosts).
struct HostProbes {
    std::vector<std::string> done;     ///< recorded done there (step_host_finished marked_done)
    std::vector<std::string> not_done; ///< the step runs there again
    std::vector<std::string> unknown;  ///< "web2 (exit 3)": the probe could not tell
    bool every_host_done = false;      ///< every host of the step succeeded or is done by probe
};

/// The delay after failed attempt `attempt` (1-based) of `step` before the next one:
/// retry_delay doubled after each failed attempt, at most 5 minutes.
util::Millis retry_delay_after(const playbook::Step& step, int attempt);

class Execution {
  public:
    Execution(const playbook::Playbook& pb, std::unique_ptr<journal::Appender> writer,
              actions::Trigger trigger, std::string run_id, std::filesystem::path state_dir,
              state::Store& store, bool verbose, exec::ProcessRunner& runner,
              report::Observer& observer);

    /// Appends to the journal, then shows it. Durable before returning unless `durability` is
    /// with_next (a step's finish: the next record that opens a side effect syncs it).
    void record(const journal::Record& rec,
                journal::Durability durability = journal::Durability::now);

    /// A context for `step` (run-level events use an empty step), running children with
    /// `runner` (default: the execution's runner). Its `stage` callback journals step_progress
    /// records through this execution.
    actions::Context context(const playbook::Step& step);
    actions::Context context(const playbook::Step& step, exec::ProcessRunner& runner);

    /// Runs `step` with its retries and before/after hooks; returns the last attempt's result.
    /// `wait_first` is slept (interruptibly: then the result is `interrupted` and no attempt
    /// starts) before `first_attempt`, when resume continues a retry schedule.
    actions::Result run_step(const playbook::Step& step, int first_attempt,
                             util::Millis wait_first = util::Millis(0));

    /// Calls the playbook's hooks for a lifecycle `event`; failures are recorded, never fatal.
    /// `extra` fields are added to the event (on-failure: run_state, summary, message).
    void lifecycle(std::string_view event, const playbook::Step* step, std::string_view status,
                   const boost::json::object& extra = {});

    /// The main loop over `plan`, asking `decide` for each step (finally steps included). Regular
    /// steps stop at the first abort; finally steps then run unless the run needs attention.
    RunOutcome drive(const Plan& plan,
                     const std::function<StepDecision(const PlannedStep&)>& decide);

    const std::string& run_id() const { return m_run_id; }

    /// Hosts where a step already succeeded (a resume: from the journal's step_host_finished);
    /// a step on hosts runs only on the others.
    void set_done_hosts(std::map<std::string, std::set<std::string>> done) {
        m_done_hosts = std::move(done);
    }
    /// Resume of a step on hosts interrupted mid-attempt: runs its `probe` on each host whose
    /// attempt started and did not finish in `recorded` (its status there "running"), over that
    /// host's connection and wrapper, the probe bound to the host. Each answer is a step_probe
    /// record naming the host; a `done` host also gets a step_host_finished `marked_done` and is
    /// not run again. Hosts that finished or never started are not probed.
    HostProbes probe_on_hosts(const playbook::Step& step, const journal::StepState& recorded);
    /// Master connections already open (the preflight's): steps on hosts use them.
    void set_connections(std::shared_ptr<remote::Connections> c) { m_connections = std::move(c); }
    /// An interrupt hands the run over (RunOptions::hand_over): drive() then runs no finally
    /// step — the next leader's resume runs them after the remaining steps.
    void set_hand_over(std::optional<HandOver> to) { m_hand_over = std::move(to); }
    /// A resume's wait for an interrupted attempt's survivors was interrupted: drive() starts
    /// nothing (its `decide` says so) and records the interrupt as one during that wait
    /// (run_interrupted `during: survivors`): no finally step runs (break-it 41/03).
    void set_interrupted_waiting() { m_interrupted_waiting = true; }
    /// Verify checks a person forced past (--mark-done --force of a check that never passed): a
    /// run that then succeeds is not verified — run_finished, the outcome and the on-success
    /// hook's event list them.
    void set_not_verified(std::vector<std::string> steps) { m_not_verified = std::move(steps); }
    /// Where the run's state is (RunOptions::state): the commands it prints carry its args.
    void set_state(StateRef at) { m_state = std::move(at); }
    /// What a printed command adds to find the run's state (StateRef::args, or the state
    /// directory's when none was given).
    std::string state_args() const;

  private:
    /// One attempt of a step with `hosts` (orchestrator/hosts.cpp): batches, max_failures,
    /// step_host_started/step_host_finished per host; hosts already done are skipped.
    actions::Result run_on_hosts(const playbook::Step& step, int attempt);
    /// The finally steps of `plan` (drive's second half); may set `final` to needs_attention.
    void run_finally(const Plan& plan,
                     const std::function<StepDecision(const PlannedStep&)>& decide,
                     journal::RunStatus& final, RunOutcome& out);
    /// The run_handed_over record of an interrupt by `sig` during `during` ("steps" or
    /// "finally"); `interrupted` is the step the signal interrupted and its result (null: none).
    journal::RunHandedOver hand_over_record(int sig, std::string during,
                                            const playbook::Step* interrupted,
                                            const actions::Result& result) const;
    /// on-success / on-failure hooks, the exit code, run_finished; each record through `guarded`
    /// (returns false when the state directory refused it).
    void finish(journal::RunStatus final, RunOutcome& out, const playbook::Step* culprit,
                const std::string& culprit_summary, int tolerated_failures, bool stopped,
                const std::function<bool(const std::function<void()>&)>& guarded);

    const playbook::Playbook& m_pb;
    std::unique_ptr<journal::Appender> m_writer;
    actions::Trigger m_trigger;
    std::string m_run_id;
    std::filesystem::path m_state_dir;
    state::Store& m_store;
    bool m_verbose;
    exec::ProcessRunner& m_runner;
    report::Observer& m_observer;
    playbook::Step m_no_step;
    std::mutex m_record_mutex; ///< hosts of a batch record from their threads
    /// The run's master connections: given (RunOptions::connections) or made by the first
    /// step on hosts.
    std::shared_ptr<remote::Connections> m_connections;
    std::map<std::string, std::set<std::string>> m_done_hosts;
    std::optional<HandOver> m_hand_over;
    StateRef m_state;
    bool m_interrupted_waiting = false;
    /// The attempt run_step made last (nullopt: it was interrupted before one started): what a
    /// hand-over says of the step in flight.
    std::optional<int> m_last_attempt;
    std::vector<std::string> m_not_verified;
    std::chrono::steady_clock::time_point m_started = std::chrono::steady_clock::now();
};

} // namespace rollback::orchestrator
