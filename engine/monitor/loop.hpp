// SPDX-License-Identifier: MIT
#pragma once

// The loop of `rollback monitor`. Every [decision] interval: feed the deploy marker, notice the
// runs that finished, read the sources and evaluate (monitor::Monitor), keep the decision record
// and the tick line, ask for an approval (mode = "confirm"), tell the [decision] hooks, and on
// an executed trigger start the playbook; between ticks, apply the notifications the [server]
// received (Endpoint) and evaluate the alert conditions. The incident policy's memory (cooldown,
// recurrence watch) and the baselines are saved when they change, and resumed at a start or a
// reload, so one incident is acted on at most once.
//
// Everything at the edge is injected (LoopEnv): the clock, the process runner, the state store,
// what starts a run and what prints — tests drive it tick by tick with fakes
// (tests/unit/test_monitor_loop.cpp). Signals belong to the caller: it asks for a reload with
// reload() and stops the loop with exec's interrupt flag.

#include "actions/action.hpp"
#include "config/config.hpp"
#include "decision/record.hpp"
#include "exec/runner.hpp"
#include "monitor/alert_book.hpp"
#include "monitor/endpoint.hpp"
#include "monitor/monitor.hpp"
#include "playbook/model.hpp"
#include "state/leadership.hpp"
#include "state/store.hpp"
#include "util/time.hpp"

#include <boost/json/object.hpp>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>

namespace rollback::monitor {

/// Starts the [decision] playbook for a decision's trigger (`rollback monitor`: the sequence of
/// `rollback run`, confirmed by mode = "auto"; tests: the orchestrator over a fake runner).
class RunStarter {
  public:
    virtual ~RunStarter() = default;
    /// Runs `pb` for `trigger` to its end and returns the run's exit code (util::ExitCode).
    /// Throws util::Error when no run started (the lock is held: exit 4; preflight: exit 2).
    /// The run takes the lock under `fence` (state::RunFence; its decided_run is the run's id)
    /// and starts nothing when it does not hold.
    virtual int start(const playbook::Playbook& pb, const actions::Trigger& trigger,
                      const state::RunFence& fence) = 0;
    /// Continues the run `run_id` that a monitor left unfinished (it died or was deposed) by the
    /// rules of `rollback resume`, to its end; returns the run's exit code. Throws util::Error
    /// when it did not resume (the lock is held: exit 4; a changed playbook: exit 2).
    virtual int resume(const std::string& run_id, const state::RunFence& fence) = 0;
};

/// What the loop tells the person watching it (`rollback monitor`: stdout and stderr).
class LoopOutput {
  public:
    virtual ~LoopOutput() = default;
    /// A notable decision record, as it is kept.
    virtual void decision(const decision::DecisionRecord& r) = 0;
    /// A line of news ("approval requested: ...", "reloaded FILE").
    virtual void say(const std::string& line) = 0;
    /// A problem a person should see; may hold secrets (the output masks them).
    virtual void problem(const std::string& line) = 0;
};

/// The playbook whose hooks directory holds `[decision] hooks`, none when there are no hooks
/// (loop_reload.cpp). Throws util::Error (exit 2) for a hook that is not an executable file.
std::optional<playbook::Playbook> load_hooks_playbook(const config::Config& cfg);

/// The world the loop acts in.
struct LoopEnv {
    const util::Clock& clock;
    exec::ProcessRunner& runner; ///< the sources' commands and the hooks
    state::Store& store;
    RunStarter& starter;
    LoopOutput& out;
    /// Where the monitor's own files are: monitor.jsonl (what it did besides deciding), the
    /// policy memory, the hooks' and the endpoint's state directory.
    std::filesystem::path state_dir;
};

/// Where a config puts the monitor's state, as the command line's one rule resolves it with the
/// monitor's own options and environment (docs/config.md "The state directory"): the local
/// directory (canonical) and the shared state, if any.
struct ResolvedState {
    std::filesystem::path dir;
    std::optional<config::SharedState> shared;
    /// What a command the monitor prints (`rollback approve ID`, the hooks' `approve`) adds to
    /// find this state from any directory: " -c FILE", and " --state-dir DIR" when the
    /// directory is not the file's own (--state-dir, $ROLLBACK_STATE_DIR). Not compared.
    std::string args;
};
using StateRule = std::function<ResolvedState(const config::Config&)>;

class Loop {
  public:
    /// Loads the hooks playbook, resumes the baselines and the policy memory kept in the state;
    /// runs already in the store are history. With `[server]` (and not `once`) the endpoint
    /// starts listening. Throws util::Error: a hook that is not executable, a playbook that does
    /// not load, a port that cannot be bound.
    Loop(LoopEnv env, config::Config cfg, bool once);
    ~Loop();
    Loop(const Loop&) = delete;
    Loop& operator=(const Loop&) = delete;

    /// The loop until interrupted (exec::interrupt_requested), or one iteration with `once`:
    /// reloads when `take_reload` says so, ticks at interval boundaries, sleeps in between (woken
    /// by the endpoint's alerts). Saves the baselines and the policy memory at the end. Returns
    /// the exit code of `--once`: that of the run started, else 5 when a rollback was
    /// recommended but not run, else 0; 0 when not `once`.
    int run(const std::function<bool()>& take_reload);

    /// One iteration at the current tick time: with `boundary` the tick (deploy marker, finished
    /// runs, evaluation, records, people, run); then the alerts the endpoint received.
    void iterate(bool boundary);
    /// After a boundary iteration: the next tick (interval boundaries; those missed while a run
    /// ran are skipped) and when to read its sources (a settle delay after it).
    util::SystemTime schedule_next(bool boundary);
    /// Re-reads the config file: a bad one is rejected (said, recorded) and the running one kept;
    /// the counting state restarts, the policy memory and the baselines carry over.
    void reload();
    /// Saves what must survive: the baselines and the policy memory.
    void save();

    /// Monitors sharing a state (docs/config.md "Leadership"): from now on every tick asks
    /// `leadership` first; only the leader acts (runs, resumes a run a dead leader left,
    /// approvals, hooks, baselines), every monitor records its decisions saying which it was.
    /// Without it the monitor is alone on its state and always acts. Must outlive the loop.
    void set_leadership(state::Leadership& leadership) { m_leadership = &leadership; }
    /// The rule a reload resolves the new file's state by (cli's resolve_state_dir with this
    /// monitor's --state-dir and $ROLLBACK_STATE_DIR): a file that resolves to the state the
    /// monitor runs on (whatever its spelling, or a state_dir the environment overrides) reloads;
    /// one that resolves to another is refused. By default the file's own `[target] state_dir`
    /// and `[state]`. Resolves the running config's state at once.
    void set_state_rule(StateRule rule);
    /// Whether the last tick led (always true when alone).
    bool leading() const { return m_leading; }

    /// The time of the next tick (the first: the clock's second at construction).
    util::SystemTime tick_time() const { return m_tick_at; }
    const Monitor& monitor() const { return *m_mon; }
    int once_exit_code() const { return m_once_rc; }

  private:
    std::optional<std::string> newest_run();
    void notice_runs();
    /// Watches `run` until it ends when its journal does not end yet (notice_runs).
    void watch_if_unfinished(const std::optional<std::string>& run);
    /// A run that ended: on /metrics, and a rollback's end noticed (run_noticed).
    void note_run_end(const std::string& id, const journal::RunState& st);
    void tell_people(const decision::DecisionRecord& r, const std::string& id);
    void check_approvals(util::SystemTime now);
    /// Mode confirm: a pending approval request whose incident ended (resolved, or its condition
    /// left the config) is withdrawn — the evidence it asked about is stale
    /// (loop_approvals.cpp). `now`: the tick's time.
    void withdraw_ended_approvals(util::SystemTime now);
    /// What became of a withdrawal (withdraw()).
    enum class Withdrawal { done, fenced, failed };
    /// Withdraws the pending request `a` of `condition` for `reason` at `now`, fenced (the
    /// leader row read again right before) and by the compare-and-set every answer is (an answer
    /// given meanwhile is kept, and said). `failed`: the store refused; looked at again.
    Withdrawal withdraw(state::ApprovalRequest a, const std::string& condition,
                        const std::string& reason, util::SystemTime now);
    /// Mode confirm, for the monitor that leads: tells the [decision] hooks of the pending
    /// request `a` (of decision record `r`) that were not told of it yet — by this monitor or
    /// by the one that filed it and died or was deposed before it finished — recording each as
    /// told (state::Approvals::note_told, fenced) and the announcement as done once every hook
    /// was told. False when it did not finish: fenced, answered meanwhile, or the store refused
    /// (then looked at again at the next tick).
    bool announce(state::ApprovalRequest a, const decision::DecisionRecord& r);
    /// Mode confirm, at the first tick this monitor leads (its start, each new leadership), and
    /// then while something was left to judge: every pending request is looked at. One this
    /// monitor does not hold — filed by a leader that died or was deposed before it kept its
    /// policy memory — is judged by this monitor's own last evaluation: withdrawn when its
    /// condition left the config, its incident is not open here (the evidence is stale) or it
    /// expired; adopted as the open incident's request otherwise; judged at the next tick while
    /// its condition still breaches without firing or was not evaluated yet. A held or adopted
    /// request whose announcement was not finished is announced (loop_approvals.cpp).
    void take_over_approvals(util::SystemTime now);
    /// `a` becomes the request of its condition's open incident here (acted, its expiry armed).
    void adopt_request(const state::ApprovalRequest& a, util::SystemTime now);
    void feed_marker();
    void persist();
    void handle(const decision::Evaluation& e);
    /// The one place the loop starts a run (an executed trigger): whatever may veto acting —
    /// leadership among monitors sharing a store — belongs here, before the starter is called.
    void act_on_trigger(const decision::DecisionRecord& record, const std::string& decision_id);
    /// At a tick: asks the leadership (when shared) and says when this monitor starts or stops
    /// leading (monitor_loop_leading.cpp).
    void adopt_shared_policy();
    void ask_leadership();
    /// `r` as this monitor keeps it: with its role among monitors sharing the state, and a
    /// follower's trigger not executed.
    decision::DecisionRecord as_kept(const decision::DecisionRecord& r) const;
    /// The leader's look for a run a monitor left unfinished (its holder died or was deposed):
    /// resumed through RunStarter::resume, as `rollback resume` would.
    void resume_left_run();
    /// The leader's look, after it took over, for the run its predecessor decided (the policy
    /// memory's decided run) but that never recorded its plan (the predecessor died or was
    /// deposed in between): started now while its incident is open, so the incident gets one
    /// run, not none (loop_leadership.cpp).
    void start_decided_run();
    /// A new run decided for `r`'s trigger (`id`): kept in the policy memory by the next
    /// persist(), before it starts.
    void decide_run(const std::string& decision_id, const std::string& condition);
    /// The fence of a run this monitor starts (`decided_run`) or resumes ("").
    state::RunFence fence(const std::string& decided_run) const;
    /// After a run did not start or resume because of its fence: the leadership was lost.
    void check_still_leading();
    /// Right before an action outside the journal (a [decision] hook): the leadership of this
    /// tick is still live in the store (Leadership::leads_now). Else `what` is said, the tick
    /// stops leading, and false: a leader paused past its lease acts on nothing. `extra` is
    /// added to the `fenced` event.
    bool still_leading(const std::string& what, boost::json::object extra = {});
    /// The fence of a [decision] hook list for decision `id`, asked before each hook: false
    /// (said, event `fenced` naming the hooks not called) when this monitor no longer leads.
    bool may_call_hooks(const std::string& id, const std::vector<std::string>& not_called);
    /// Runs `body`, a playbook started or resumed (`what` it runs, as /healthz says it): the
    /// endpoint answers 503 meanwhile, and a SIGINT/SIGTERM received while it ran (the run
    /// clears the interrupt to run its finally steps) stops the monitor after it (exit 130).
    int while_running(const std::string& what, const std::function<int()>& body);
    /// After a run this monitor started or resumed ended with `rc`: the history, the cooldown
    /// and watch, and when it was fenced (exit 7, leadership lost) the reason it stops acting.
    /// `run_id`: the run when known (the one started or resumed): one stopped by the store
    /// (exit 7) while this monitor leads is resumed by it (m_left_run).
    void run_ended(const std::string& decision_id, int rc, const std::string& run_id = "");
    /// A run this monitor started failed with the state store's `error` (exit 7) after it
    /// recorded its plan, or it cannot tell: false when its run certainly did not start. Else
    /// the run is never "not started": it is left for the leader to resume (this monitor again
    /// when it leads), said, and true (loop_leadership.cpp).
    bool left_unfinished(const std::string& decision_id, const std::string& error);
    /// The decided run met another run's lock (exit 4): that run is its exclusion, kept in the
    /// policy memory (`blocked_by`), so no leader starts the decided run afterwards.
    void excluded_by_lock();
    /// Why a trigger's run did not start, when that is not the intended exclusion (the lock
    /// held by another run); the label of rollback_runs_not_started_total.
    enum class NotStarted { store, playbook, preflight };
    /// A trigger's run did not start because the state store failed, the playbook did not
    /// load, or its preflight found problems: the hooks are told once (an `escalate` event
    /// naming the decision and the error), /metrics counts it (rollback_runs_not_started_total)
    /// and the trigger is kept for a retry (loop_retry.cpp): the incident is not acted on.
    void run_not_started(const decision::DecisionRecord& record, const std::string& decision_id,
                         const std::string& error, NotStarted reason);
    /// `e` as the loop acts on it: with a trigger kept for a retry whose condition fires again
    /// in `e`, a trigger of `e`'s own evidence retrying it; the kept trigger is dropped when the
    /// condition resolves or triggers by itself.
    decision::Evaluation with_retry(decision::Evaluation e);
    /// iterate() for a monitor sharing its state: a store that does not answer (a server
    /// restarting) makes the tick act on nothing, said once, and the loop goes on.
    void iterate_shared(bool boundary);
    /// iterate() for a monitor on a local state directory: a tick whose records the directory
    /// refuses (disk full, read-only: exit 7) is said once and tried again at the next tick;
    /// `--once` stops with it.
    void iterate_local(bool boundary);
    void take_alerts(bool evaluate);
    /// The alerts a previous monitor held active (state::ActiveAlerts): a restart forgets no
    /// incident (its resolution resolves it; a re-sent notification is a repeat). Unreadable:
    /// logged, started empty.
    void restore_alerts();
    void event(boost::json::object ev);

    LoopEnv m_env;
    bool m_once = false;
    std::optional<Monitor> m_mon;
    util::SystemTime m_tick_at;
    int m_once_rc = 0;
    /// Why --once ends with exit 2 (invalid config or playbook): said on stderr at its end, as
    /// every exit 2 is (break-it 44/08).
    std::string m_once_why;
    /// A run the loop started was interrupted by SIGINT/SIGTERM: the monitor stops too (exit 130).
    bool m_stopping = false;
    std::optional<std::string> m_marker_seen; ///< "release@time" of the deploy marker fed last
    /// The incident policy's memory as last saved (monitor-policy.json).
    std::optional<decision::Evaluator::PolicyMemory> m_policy_saved;
    /// The baselines change for good when a deploy marker is fed or a rollback noticed: saved
    /// after that tick (and every k_baseline_ticks, and at exit), so a kill -9 loses little.
    bool m_baselines_dirty = false;
    uint64_t m_baseline_changes = 0; ///< Monitor::baseline_changes when last looked at
    int m_ticks_since_baselines = 0;
    static constexpr int k_baseline_ticks = 60;
    std::optional<playbook::Playbook> m_hooks_pb; ///< the [decision] playbook, when hooks are set
    std::optional<std::string> m_last_run;        ///< the newest run already accounted for
    /// The newest journal as last read while its run was unfinished: not read again unchanged.
    std::optional<std::pair<std::string, std::uint64_t>> m_unfinished_seen;
    /// Runs seen unfinished that are no longer the newest (or were at start): accounted for
    /// when their journal ends (a `rollback resume` of them).
    std::set<std::string> m_unfinished_runs;
    /// The store's runs_version() as last seen: an idle tick costs that one look whatever the
    /// number of runs kept (and a full listing every k_relist_ticks, should two runs appear
    /// within one version).
    std::optional<std::int64_t> m_runs_version;
    std::optional<std::string> m_latest_listed;
    int m_ticks_since_listing = 0;
    static constexpr int k_relist_ticks = 100;
    std::unique_ptr<Endpoint> m_endpoint; ///< [server]: webhook, /metrics, /healthz
    AlertBook m_alerts;                   ///< alerts active, by fingerprint
    bool m_alerts_dirty = false; ///< the book changed since it was last kept (state::ActiveAlerts)
    state::Leadership* m_leadership = nullptr; ///< set: monitors share the state
    /// m_state.args, else " -c <the config file>".
    std::string state_args() const;
    StateRule m_state_rule;                         ///< set_state_rule; empty: the file's own
    ResolvedState m_state;                          ///< the state the monitor runs on
    bool m_leading = true;                          ///< the last tick's answer
    std::optional<std::uint64_t> m_generation_seen; ///< the leader's generation last said
    std::uint64_t m_adopted_generation = 0; ///< the leadership whose policy memory was adopted
    /// The run decided last (kept in the policy memory), and whether this leader still has to
    /// check that it started (after it took over).
    std::optional<decision::Evaluator::PolicyMemory::DecidedRun> m_decided;
    bool m_check_decided = false;
    /// The run whose lock excluded m_decided ("" when none), as kept with it and as last saved.
    std::string m_blocked_by;
    std::string m_blocked_saved;
    /// A run this monitor started or resumed that stopped unfinished (exit 7) while it led:
    /// resumed by resume_left_run once the run lock is free, even when no holder is recorded.
    std::optional<std::string> m_left_run;
    bool m_state_failing = false; ///< the state did not answer (or could not be written) last time
    /// A trigger whose run did not start (the state store failed, the playbook did not load,
    /// its preflight found problems), retried while its condition fires (a preflight: with a delay)
    /// (docs/decision.md "trigger and monitor").
    struct PendingTrigger {
        std::string decision_id;     ///< the decision whose run did not start first
        std::string condition;       ///< its cause
        std::string error;           ///< the store's (the playbook's, the preflight's) error
        std::string what;            ///< "the state store failed", "the playbook did not load", ...
        int attempts = 1;            ///< starts that failed
        util::SystemTime decided_at; ///< the first trigger's time: its cooldown
        /// The first tick that retries: any for the store and the playbook (cheap to try); for a
        /// preflight (which may checksum a backup of gigabytes) one interval after a failure,
        /// then doubling, at most k_retry_delay_max.
        util::SystemTime next_try = {};
    };
    std::optional<PendingTrigger> m_pending;
    /// A run left unfinished whose resume failed (its playbook moved or changed, the store
    /// refused; not the lock held): paged once, tried again after a delay that doubles from one
    /// interval up to k_resume_delay_max, not at every tick (loop_leadership.cpp).
    struct FailedResume {
        std::string run_id;
        int attempts = 0;          ///< resumes that failed in a row
        util::SystemTime next_try; ///< the first tick that tries again
    };
    std::optional<FailedResume> m_failed_resume;
    static constexpr util::Millis k_resume_delay_max{5 * 60 * 1000};
    static constexpr util::Millis k_retry_delay_max = k_resume_delay_max;
    /// The delay before the next try after `attempts` failures in a row: one interval, then
    /// doubling, at most `max` (and never less than an interval).
    util::Millis retry_delay(int attempts, util::Millis max) const;
    /// A resume of `run_id` (of decision `decision_id`) failed with `error`: said, paged at the
    /// first failure, and the next try scheduled.
    void resume_failed(const std::string& run_id, const std::string& decision_id,
                       const util::Error& error);
    /// The approval requests of open incidents as of the last tick, by condition: the id and
    /// since when the incident is open (initialized from the policy memory resumed).
    struct OpenRequest {
        std::string decision_id;
        std::optional<util::SystemTime> incident_since;
    };
    std::optional<std::map<std::string, OpenRequest>> m_open_requests;
    /// take_over_approvals() has to look (again) at the pending requests.
    bool m_take_over_requests = true;
    /// Each condition's verdict at its last evaluation by this monitor (leading or not).
    std::map<std::string, decision::Verdict> m_verdicts;
    /// The hooks this process told of a request whose store did not keep it yet (a write that
    /// failed): not called again when the announcement is finished later.
    std::map<std::string, std::vector<std::string>> m_told;
};

} // namespace rollback::monitor
