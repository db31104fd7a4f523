// SPDX-License-Identifier: MIT
#pragma once

// The decision engine, pure: fed samples and evaluation ticks in (virtual or real) time, it returns
// one DecisionRecord per tick. No I/O and no clock: the caller passes time in. `check --replay`
// drives it over a recorded file; the monitor loop drives it with the system clock:
//
//   Evaluator ev(conditions, policy);
//   every interval: for each source: ev.add_sample(name, sample);   // samples with time <= now
//                   Evaluation e = ev.evaluate(now);                 // then act on e.record
//   ev.deployed(marker_time, release);  ev.rolled_back(time);       // lifecycle events

#include "decision/condition.hpp"
#include "decision/record.hpp"
#include "decision/sample.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace rollback::decision {

/// The per-release signal summaries used as `previous_release` baselines: the median of each
/// condition's observed value over the ticks a release ran, incident ticks excluded. Releases that
/// were rolled back are kept but never used as a baseline.
struct ReleaseBaseline {
    std::string release;
    std::map<std::string, double> values;  ///< condition name → median
    std::map<std::string, uint64_t> ticks; ///< condition name → ticks summarized
    bool rolled_back = false;
    /// The release's deploy (its marker's time) and the before_deploy baselines computed at it
    /// (condition name → baseline, its value nullopt when the window before it held none): a
    /// restarted monitor takes them back rather than recomputing them from a log that may have
    /// been rotated since (docs/decision.md "Baselines").
    std::optional<SystemTime> deployed_at;
    std::map<std::string, BaselineInfo> before_deploy;
};
struct BaselineBook {
    std::vector<ReleaseBaseline> releases; ///< oldest first
    /// The newest release other than `current` not rolled back with a value for `condition`.
    const ReleaseBaseline* previous_good(const std::string& current,
                                         const std::string& condition) const;
    std::string to_json() const;
    /// Throws util::Error on malformed text.
    static BaselineBook from_json(std::string_view text);
};

struct Evaluation {
    DecisionRecord record;
    /// True when the record is worth keeping: an action other than none, a verdict that changed
    /// since the previous tick, or the first tick. (Every notable record is written to disk.)
    bool notable = false;
};

class Evaluator {
  public:
    Evaluator(std::vector<ConditionSpec> conditions, DecisionPolicy policy,
              BaselineBook baselines = {});
    ~Evaluator();
    Evaluator(Evaluator&&) noexcept;
    Evaluator& operator=(Evaluator&&) noexcept;

    /// Adds one sample of `source`. Samples of a source must come in time order: a sample with
    /// the same time as the previous one is a duplicate and ignored (idempotent redelivery); an
    /// older one is late and ignored. Returns false when ignored. Unknown sources are ignored.
    bool add_sample(const std::string& source, Sample sample);

    /// A replay's input ends at `time` (the end of an access log's last interval that held a
    /// line): the quiet intervals the replay makes after it, for the silence after a breach, are
    /// not observed traffic, and the interval that ends at `time` may be part-observed, so a
    /// `request_count below` window that reaches `time` is not judged (insufficient_sample;
    /// docs/decision.md "The end of a replay"). The live monitor never calls it: its quiet
    /// intervals are observed.
    void input_ends(SystemTime time);

    /// A deploy marker: `release` is current from `time` on. The current release's summary goes
    /// into the baseline book; before_deploy baselines are computed from the samples before `time`
    /// at the first tick at or after it. `known_at`: when the marker was recorded, if later than
    /// `time` (a back-dated marker): it applies at the first tick at or after that instead, as
    /// the monitor that read it then applied it (its deploy time and baselines still `time`).
    void deployed(SystemTime time, std::string release,
                  std::optional<SystemTime> known_at = std::nullopt);
    /// A rollback run finished at `time`: the current release is marked rolled back (never a
    /// baseline) and, for `watch_after`, firing conditions are reported as a recurrence (notify)
    /// instead of triggering again — until a deploy marker dated after `time` brings a release
    /// new since then (neither the rolled-back release nor one known before it).
    void rolled_back(SystemTime time);
    /// What the incident policy remembers beyond one evaluator's life: no automatic trigger
    /// before `cooldown_until`; until `watch_until` (a rollback's end + watch_after) a firing
    /// condition is a recurrence (notify), not a trigger; and per condition (by name) its open
    /// incident — since when, whether it acted (triggered, asked for approval, notified, or was
    /// covered) and its recovery — its escalation cooldown, and the missing-data state it paged
    /// for. `rollback monitor` keeps it in the state directory so that a restart or a reload (a
    /// new Evaluator) is exactly one long-lived monitor: it acts at most once per incident and
    /// escalates at most once per cooldown.
    struct ConditionMemory {
        std::optional<SystemTime> incident_since; ///< the open incident (firing until resolved)
        std::optional<SystemTime> ok_since;       ///< recovering since (resolve_after)
        /// The incident's last breaching tick (missed ticks alone end it after a bound).
        std::optional<SystemTime> breached_at;
        bool acted = false;
        /// The incident's action was a shadow's (the condition in mode observe): recorded, not
        /// executed. A condition resumed in another mode (a reload or restart out of observe)
        /// has not acted on it (docs/decision.md "A reload out of observe").
        bool shadow_acted = false;
        std::optional<SystemTime> last_escalated;
        /// Its last "silent after breaching" page (a cooldown apart from last_escalated's).
        std::optional<SystemTime> silence_escalated;
        std::optional<SystemTime> noted_cooldown; ///< the cooldown its suppression was told of
        /// The missing-data verdict of its last counted tick (a state that began, was paged for).
        std::optional<Verdict> missing_verdict;
        /// Mode confirm: the approval request of the open incident, when it expires, and
        /// whether the monitor found it expired unanswered, and whether that was escalated.
        std::string approval_id;
        std::optional<SystemTime> approval_expires;
        bool approval_expired = false, approval_escalated = false;
        /// `downtime` (an http source): the current run of failed probes, its first and its last
        /// failed probe — no log holds probes, so a restart or a reload carries the run over.
        std::optional<SystemTime> fail_since, fail_last;
        /// The end of the last window a live tick judged (that tick − the condition's
        /// max_lateness): samples dated at or before it were evidence once already. A reload
        /// that moves the window back (a larger max_lateness) holds them (docs/decision.md
        /// "Counting"); nullopt in a memory kept before the field (evaluated_until − the
        /// lateness then).
        std::optional<SystemTime> judged_until;
        /// The max_lateness of the evaluator that kept this memory: the times of the open
        /// incident are of its ticks (nullopt in a memory kept before the field).
        std::optional<Millis> lateness;
        bool operator==(const ConditionMemory&) const = default;
    };
    struct PolicyMemory {
        PolicyMemory() = default;
        PolicyMemory(std::optional<SystemTime> cooldown_until_,
                     std::optional<SystemTime> watch_until_,
                     std::map<std::string, ConditionMemory> conditions_ = {},
                     std::optional<SystemTime> watch_since_ = std::nullopt)
            : cooldown_until(cooldown_until_), watch_until(watch_until_),
              conditions(std::move(conditions_)), watch_since(watch_since_) {}
        std::optional<SystemTime> cooldown_until;
        std::optional<SystemTime> watch_until;
        std::map<std::string, ConditionMemory> conditions;
        /// The last tick this memory judged (a live evaluate): a warm-up judges the incidents
        /// only after it (see warm_up).
        std::optional<SystemTime> evaluated_until;
        /// The rollback the watch follows: a deploy marker of a new release dated after it ends
        /// the watch (nullopt in a memory kept before the field: watch_until - watch_after).
        std::optional<SystemTime> watch_since;
        /// The run the leader decided to start last (kept before it starts, so that a leader
        /// taking over finds out whether it did: docs/config.md "Leadership"). Kept by the
        /// monitor loop; the evaluator neither sets nor reads it.
        struct DecidedRun {
            std::string run_id;
            std::string decision_id;
            std::string condition;
            bool operator==(const DecidedRun&) const = default;
        };
        std::optional<DecidedRun> decided_run;
        /// The cooldown of the conditions in mode observe (a shadow's trigger starts it).
        std::optional<SystemTime> shadow_cooldown_until;
        /// Per access-log source: the file the monitor followed (device, inode, bytes read) and
        /// since when it watched every line of it be written (s; Monitor's watched start). Kept
        /// by the monitor, never read by the evaluator: a restart, a reload or the next --once
        /// on the same file continues the watch (break-it 44/06).
        struct WatchedLog {
            uint64_t dev = 0, ino = 0, size = 0;
            int64_t since_s = 0;
            bool operator==(const WatchedLog&) const = default;
        };
        std::map<std::string, WatchedLog> watched_logs;
        bool operator==(const PolicyMemory&) const = default;
        /// Carries `other` over: the later of each time; a condition's entry of `other` where
        /// this one has none (the two evaluators of a monitor hold disjoint conditions).
        void merge(const PolicyMemory& other);
    };
    PolicyMemory policy_memory() const;
    /// Carries `memory` over (the later of each time and this evaluator's own wins; an open
    /// incident of a condition of the same name is this evaluator's open incident).
    void resume_policy(const PolicyMemory& memory);
    /// Takes `memory` as the truth of what was acted on (docs/config.md "Leadership": a monitor
    /// that becomes the leader acts as the previous leader left things): the cooldown, the
    /// watch, and for each condition whether its open incident acted, its approval request and
    /// when it last paged, come from `memory` — replacing what this evaluator decided while it
    /// followed and acted on nothing. An open incident of this evaluator that `memory` does not
    /// hold as acted has not acted: at its next tick that breaches with its counting satisfied
    /// it acts. Counting state (breaching runs, windows) stays this evaluator's own.
    void adopt_policy(const PolicyMemory& memory);

    /// Mode confirm: the monitor asked for approval of `condition`'s incident as `decision_id`,
    /// answerable until `expires`.
    void approval_requested(const std::string& condition, const std::string& decision_id,
                            SystemTime expires);
    /// The requests whose expiry has passed at `now` and that were not yet found expired or
    /// answered: (condition, decision id).
    std::vector<std::pair<std::string, std::string>> approvals_due(SystemTime now) const;
    /// The request of `condition` expired unanswered (`expired` true: at its next breaching
    /// tick with its counting satisfied, the still-open incident escalates, once), or was
    /// answered (false: nothing more to do for it).
    void approval_settled(const std::string& condition, bool expired);
    /// The run of the trigger made at `at` never started and is no longer retried (its
    /// incident resolved, or its condition left mode auto): the cooldown that trigger started
    /// is given back, so a later incident is not suppressed by a rollback that never ran
    /// (docs/decision.md "trigger and monitor"). A cooldown of another trigger is kept.
    void trigger_not_started(SystemTime at);

    /// A baseline supplied from outside (e.g. computed by `rollback deployed` and kept in the
    /// deploy marker). Overrides a computed one.
    void set_baseline(const std::string& condition, BaselineInfo baseline);

    /// Evaluates every condition at `now` (non-decreasing between calls).
    Evaluation evaluate(SystemTime now);

    /// A warm-up tick (docs/decision.md "trigger and monitor", Restarts): evaluates at `now`
    /// the conditions over `sources` only — the samples a restarted or reloaded monitor re-read
    /// — as evaluate() does, but never acts: no action, no cooldown, no incident marked acted,
    /// no escalation time, no baseline value. Counting (for / consecutive / m_of_n runs, the
    /// breaching run silence is judged against) is rebuilt at every warm-up tick; the incidents
    /// only at ticks after the resumed memory's `evaluated_until` (up to it the memory is what
    /// the previous monitor judged): an open incident resolves, a new one opens (not acted, so
    /// the first live tick that justifies it acts). An escalation a tick after
    /// `evaluated_until` would have made is owed: made at the next evaluate() (when the
    /// incident did not act and the escalation cooldown allows), its detail saying when.
    void warm_up(SystemTime now, const std::vector<std::string>& sources);

    /// The book with the running release's summary included (for persisting).
    BaselineBook baselines() const;
    /// Grows each time a before_deploy baseline is computed (or taken back from the book): the
    /// book changed for good and should be saved now, not some ticks later.
    uint64_t baseline_changes() const;
    const std::vector<ConditionSpec>& conditions() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> m;
};

} // namespace rollback::decision
