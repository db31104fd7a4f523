// SPDX-License-Identifier: MIT
#pragma once

// The live half of the decision engine: reads the configured sources every tick and feeds one
// long-lived decision::Evaluator, so counting state (`for`, m_of_n), incidents and the cooldown
// carry from tick to tick. Starting runs, signals and the clock belong to the caller
// (`rollback monitor`); this class does no sleeping.
//
// Access logs are followed like `tail -F` (sources::LogTailer): each tick reads only the lines
// appended since the last one, so a tick costs what the service logged, not the file's size.
// Polled sources (command, http, prometheus, sql) are read when their own `interval` is due.

#include "config/config.hpp"
#include "decision/evaluator.hpp"
#include "exec/runner.hpp"
#include "monitor/alert_book.hpp"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

namespace rollback::monitor {

using util::SystemTime;

class Monitor {
  public:
    /// `baselines`: the book kept in the state directory (empty when none).
    explicit Monitor(config::Config cfg, decision::BaselineBook baselines = {});
    ~Monitor();
    Monitor(Monitor&&) noexcept;
    Monitor& operator=(Monitor&&) noexcept;

    /// Reads every source a condition uses and evaluates at `now` (non-decreasing between
    /// calls; `rollback monitor` passes interval boundaries, as `check --replay` does, so both
    /// write identical records for identical input). Access logs: the intervals that ended at
    /// or before `now`, quiet ones as zero requests, an unreadable file as no data. Polled
    /// sources: one observation when their interval is due.
    ///
    /// The first tick warms up first (docs/decision.md "trigger and monitor", Restarts): the
    /// access logs are read back far enough to rebuild each condition's counting (its `for` /
    /// consecutive / m_of_n run, with its tolerated missed ticks) and to cover the gap since the
    /// resumed memory's last tick (at most a day), and the Evaluator is warmed up over them at
    /// every interval boundary before `now` (decision::Evaluator::warm_up) — so a started or
    /// reloaded monitor judges as one long-lived monitor would.
    decision::Evaluation tick(exec::ProcessRunner& runner, SystemTime now);

    /// Evaluates the alert conditions (`kind = "alert"`) at `now`, or at the previous alert
    /// evaluation's time when `now` is earlier: each observes how many alerts of `book` match
    /// it, with their labels as the sample's detail. A separate Evaluator from tick()'s (alerts
    /// arrive between ticks and must not count as extra ticks of the other conditions); a
    /// trigger of either carries its incident policy (cooldown, recurrence watch) to the other.
    /// nullopt when there are no alert conditions.
    ///
    /// A condition with `confirm` queries its prometheus source when it has active alerts: they
    /// count only when the answer is a number beyond the threshold; otherwise it observes 0 (no
    /// action) and the detail says why ("not confirmed: ..."), and the record is notable when
    /// the unconfirmed alerts are new. The query's value is in the detail either way.
    std::optional<decision::Evaluation> evaluate_alerts(SystemTime now, const AlertBook& book);
    /// The alert conditions when the active alerts are not known (`rollback check` cannot read
    /// the kept ones): each observes no data with `why` — verdict no_data, never "0 alerts".
    /// nullopt when there are no alert conditions.
    std::optional<decision::Evaluation> evaluate_alerts_unknown(SystemTime now,
                                                                const std::string& why);
    bool has_alert_conditions() const { return m_alerts != nullptr; }
    /// How a confirmation query is read (tests); the default queries Prometheus over HTTP.
    using ConfirmQuery =
        std::function<decision::Sample(const config::SourceConfig& source, SystemTime now)>;
    void set_confirm_query(ConfirmQuery query) { m_confirm_query = std::move(query); }

    /// Lifecycle events, passed on to the Evaluators.
    void deployed(SystemTime time, std::string release,
                  std::optional<SystemTime> known_at = std::nullopt);
    void rolled_back(SystemTime time);

    const config::Config& config() const { return m_cfg; }
    decision::BaselineBook baselines() const { return m_eval.baselines(); }
    /// decision::Evaluator::baseline_changes of the conditions' evaluator.
    uint64_t baseline_changes() const { return m_eval.baseline_changes(); }
    /// The incident policy's memory (cooldown, recurrence watch), to keep across a restart or a
    /// reload; see decision::Evaluator::PolicyMemory.
    /// Both Evaluators' (signal and alert conditions): the later of each time.
    decision::Evaluator::PolicyMemory policy_memory() const;
    void resume_policy(const decision::Evaluator::PolicyMemory& memory);
    /// decision::Evaluator::adopt_policy on both Evaluators: a follower that becomes the
    /// leader takes the shared memory as the truth of what was acted on.
    void adopt_policy(const decision::Evaluator::PolicyMemory& memory);
    /// Mode confirm: the approval requests of open incidents (decision::Evaluator), routed to
    /// the evaluator that holds the condition.
    void approval_requested(const std::string& condition, const std::string& decision_id,
                            SystemTime expires);
    std::vector<std::pair<std::string, std::string>> approvals_due(SystemTime now) const;
    void approval_settled(const std::string& condition, bool expired);
    /// decision::Evaluator::trigger_not_started, for both evaluators (a trigger's cooldown is
    /// carried to the other).
    void trigger_not_started(SystemTime at);

    /// Access-log lines that did not match the format, and lines that came later than the
    /// source's max_lateness (both not counted), since the start.
    struct LogCounts {
        uint64_t lines = 0, rejected = 0, late = 0;
        uint64_t implausible = 0; ///< dated before 2000 or in the future
    };
    LogCounts log_counts(const std::string& source) const;
    /// Observations of each source that were no data (unreadable) or a failed check, since the
    /// start.
    const std::map<std::string, uint64_t>& read_errors() const { return m_read_errors; }

  private:
    struct LogState;
    util::Millis reach(const std::string& source, SystemTime now) const;
    /// How far before the first tick the warm-up begins (tick()).
    util::Millis warm_span(SystemTime now) const;
    /// Queries `a.confirm`'s source, and the time of its sample (`timestamp(Q)`): true when its
    /// number passes the rule. Puts the query's number (or why there is none) in `s.detail`
    /// (confirm.cpp). A number that does not pass makes `s` the value 0; no number — Prometheus
    /// down or answering an error, an empty vector, NaN, or a sample older than the alert
    /// (`since`: before Prometheus restarted, say) — makes `s` unavailable: no data, neither a
    /// confirmation nor a recovery; a failed query counts as a read error of the source and is
    /// logged when it starts and stops failing.
    bool confirmed(const config::AlertCondition& a, SystemTime now, SystemTime since,
                   decision::Sample& s);
    /// When the earliest active alert of `a` started (startsAt, else when it arrived).
    static SystemTime alerts_since(const config::AlertCondition& a, const AlertBook& book);
    void read_access_log(const config::SourceConfig& src, SystemTime now);
    /// The lines of this tick that do not match the format (`rejected` of `read`): see
    /// monitor.cpp; an unavailable sample while they are at least half.
    void reject_lines(const config::SourceConfig& src, LogState& st, SystemTime now,
                      int64_t final_ms, uint64_t read, uint64_t rejected,
                      const std::string& first_bad);
    /// The lines of this tick that came later than max_lateness (`late` of `counted`, the
    /// oldest `age_s` old when read): see log_checks.cpp; an unavailable sample while they are
    /// at least half.
    void lagging_lines(const config::SourceConfig& src, LogState& st, SystemTime now,
                       int64_t final_ms, uint64_t counted, uint64_t late, int64_t age_s);
    static decision::Sample observe(const config::SourceConfig& src, exec::ProcessRunner& runner,
                                    SystemTime now);

    config::Config m_cfg;
    decision::Evaluator m_eval;
    std::optional<SystemTime> m_deployed_at;
    std::map<std::string, std::unique_ptr<LogState>> m_logs;
    std::map<std::string, SystemTime> m_next_due; ///< polled sources
    std::set<std::string> m_used;                 ///< sources some condition reads
    std::map<std::string, uint64_t> m_read_errors;
    bool m_ticked = false;                     ///< the first tick (and its warm-up) is done
    std::optional<SystemTime> m_resumed_until; ///< the resumed memory's last tick
    /// The resumed memory's watched logs (PolicyMemory::watched_logs): a log whose file is the
    /// same one continues its watched start.
    std::map<std::string, decision::Evaluator::PolicyMemory::WatchedLog> m_resumed_watch;
    std::unique_ptr<decision::Evaluator> m_alerts; ///< the alert conditions, when any
    std::optional<SystemTime> m_alerts_at;         ///< time of the last alert evaluation
    ConfirmQuery m_confirm_query;                  ///< empty: Prometheus over HTTP
    /// Per alert condition: the fingerprints its last evaluation held unconfirmed ("" none).
    std::map<std::string, std::string> m_unconfirmed;
    /// Confirming sources whose last query failed (logged once when it starts and stops).
    std::set<std::string> m_confirm_failing;
};

/// The tick boundary at or before `now`: ticks are aligned to multiples of `interval` since the
/// epoch, as `check --replay` aligns them, so both see the same windows.
SystemTime tick_floor(SystemTime now, util::Millis interval);
/// How long after a boundary the monitor reads the sources for it: lines a web server logs just
/// before the boundary reach the file a moment later (250 ms, at most a quarter interval).
util::Millis settle_delay(util::Millis interval);

} // namespace rollback::monitor
