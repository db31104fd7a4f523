// SPDX-License-Identifier: MIT
#pragma once

// Virtual time: the loop of `rollback check --replay`, here so that the live monitor's tests can
// hold the two to identical records. No sleeping: ticks are interval boundaries over a recorded
// span, and each tick sees exactly the samples with time <= the tick, as the monitor does.
// replay_file() is the whole replay of a recorded file against a config; `check` only prints.

#include "config/config.hpp"
#include "decision/evaluator.hpp"
#include "sources/collect.hpp"

#include <chrono>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rollback::monitor {

struct ReplayStats {
    uint64_t ticks = 0, samples = 0;
    uint64_t deploys = 0;   ///< deploy markers fed (dated at or before the last tick)
    uint64_t rollbacks = 0; ///< rollback runs fed (ended at or before the last tick)
};

/// A deploy marker of the replayed history (`rollback deployed`, or `check --deploy`).
struct Deploy {
    Deploy() = default;
    Deploy(util::SystemTime time_, std::string release_,
           std::optional<util::SystemTime> recorded_at_ = std::nullopt)
        : time(time_), release(std::move(release_)), recorded_at(recorded_at_) {}
    util::SystemTime time;
    std::string release;
    /// When the marker was recorded (`rollback deployed`), nullopt for --deploy and old markers.
    std::optional<util::SystemTime> recorded_at;
    /// The first tick at or after this applies it: the later of `time` and `recorded_at`.
    util::SystemTime known_at() const {
        return recorded_at && *recorded_at > time ? *recorded_at : time;
    }
};

using OnTick = std::function<void(const decision::Evaluation&)>;

/// The replay as a stream: samples come one at a time, in time order, and each tick is
/// evaluated as soon as no sample can still come for it (a sample dated after it arrived, or
/// the end) — so a replay holds what the evaluator's windows hold, not the recorded span.
/// Ticks are the multiples of `interval` from `first` (rounded up; default: the first sample's
/// time) to the `last` given to finish(). Samples before `first` fill the first tick's windows.
/// `deploys` are passed to `ev.deployed` before the first tick at or after their time — a
/// marker recorded later than its time (`rollback deployed --time` in the past) at or after its
/// recording, as the live monitor that read it then applied it: markers before `first` are
/// all fed at the first tick (the newest is the release running then); of several between two
/// ticks, the newest is the one the evaluator applies, as live. `rollbacks` (the ends of the
/// rollback runs recorded, monitor::recorded_rollbacks) are passed to `ev.rolled_back` before
/// the first tick at or after them, after that tick's markers — as the live monitor noticed
/// each run that ended (docs/decision.md "Commands").
class ReplayLoop {
  public:
    ReplayLoop(decision::Evaluator& ev, std::string source, util::Millis interval,
               std::optional<util::SystemTime> first, OnTick on_tick,
               std::vector<Deploy> deploys = {}, std::vector<util::SystemTime> rollbacks = {});
    /// Adds the next sample of the source (time order): first evaluates the ticks before its
    /// time.
    void add(decision::Sample sample);
    /// The ticks from the first one through `t`: what evaluating up to `t` costs (0 before the
    /// first sample when no `first` was given).
    uint64_t ticks_through(util::SystemTime t) const;
    /// The first and the newest sample's time (nullopt before the first sample).
    std::optional<util::SystemTime> first_sample() const { return m_first_sample; }
    std::optional<util::SystemTime> last_sample() const { return m_last_sample; }
    /// Evaluates the remaining ticks up to `last`. Counts as fed the samples dated at or before
    /// the last tick.
    ReplayStats finish(util::SystemTime last);

  private:
    void run_ticks_before(int64_t end_ms, bool inclusive);

    decision::Evaluator& m_ev;
    std::string m_source;
    int64_t m_step;
    std::optional<int64_t> m_begin_ms; ///< the first tick
    int64_t m_next_ms = 0;             ///< the next tick to evaluate
    OnTick m_on_tick;
    std::vector<Deploy> m_deploys;
    size_t m_next_deploy = 0;
    std::vector<util::SystemTime> m_rollbacks;
    size_t m_next_rollback = 0;
    std::optional<util::SystemTime> m_first_sample, m_last_sample;
    uint64_t m_added = 0;
    uint64_t m_after_tick = 0; ///< samples added since the newest tick evaluated, dated after it
    ReplayStats m_stats;
};

/// The same over samples in memory: evaluates `ev` at every multiple of `interval` in
/// [first, last] (`first` rounded up), after adding the samples of `source` (time order) that are
/// due; `on_tick` gets every evaluation. Samples after the last tick are not fed.
ReplayStats replay(decision::Evaluator& ev, const std::string& source,
                   std::vector<decision::Sample> samples, util::SystemTime first,
                   util::SystemTime last, util::Millis interval, const OnTick& on_tick,
                   const std::vector<Deploy>& deploys = {},
                   const std::vector<util::SystemTime>& rollbacks = {});

/// How long after an access log's last line a replay (without --to) goes on judging the quiet
/// that follows, as the live monitor would: the longest time the source's conditions need to
/// judge silence after a breach — for each, its counting span (`for`, or `consecutive` / `n`
/// intervals) + 4 × `window` + (`max_missed` + 2) × the larger of `interval` and the source's
/// interval (docs/decision.md, "The end of a replay"). Whole seconds, rounded up.
util::Millis silence_tail(const std::vector<decision::ConditionSpec>& conds, util::Millis interval,
                          util::Millis source_interval);

/// A replay's last tick: the first multiple of `interval` at or after `newest` + `lateness`
/// (the newest sample is judged once it is final, however it is dated).
util::SystemTime replay_last_tick(util::SystemTime newest, util::Millis lateness,
                                  util::Millis interval);

/// The source a replayed file stands for: `name`, else the one source the conditions use.
/// util::Error (exit 2) when the conditions use several and none is named, or `name` is no
/// source of `cfg`.
std::string replay_source(const config::Config& cfg, const std::string& name);

/// A recorded file replayed against the conditions of one source (`rollback check --replay`).
struct FileReplay {
    std::string file;
    std::string source; ///< as replay_source() resolved it
    std::string format; ///< "": the source's (an access log), else combined_request_time
    /// Evaluation interval, and an access log's bucket interval too; nullopt: the [decision]
    /// interval, an access log bucketed by its source's interval.
    std::optional<util::Millis> interval;
    std::optional<util::SystemTime> from, to;
    bool samples_only = false; ///< read and pass on the samples, evaluate nothing
    std::vector<Deploy> deploys;
    /// The ends of the rollback runs recorded in the state (monitor::recorded_rollbacks).
    std::vector<util::SystemTime> rollbacks;
};

/// What a replay came to, for its summary.
struct FileReplayResult {
    std::size_t conditions = 0;
    util::Millis interval{0};
    ReplayStats stats;
    uint64_t triggers = 0;               ///< trigger or request_approval
    uint64_t escalations = 0;            ///< escalate
    uint64_t notable = 0;                ///< records shown
    double seconds = 0, cpu_seconds = 0; ///< reading and evaluating (one stream)
};

/// Replays a FileReplay: read() streams the file's samples through a ReplayLoop of the source's
/// conditions (a replay holds its windows, not the file's span: docs/decision.md, "Replay");
/// `on_decision` gets each notable record. With samples_only, `on_csv_line` gets a header and one
/// "start,end,kind,requests,errors,value" line per sample in [from, to] instead. --from starts
/// the evaluations, not the data: the first windows are filled with what came before.
class FileReplayer {
  public:
    using OnDecision = std::function<void(const decision::DecisionRecord&)>;
    using OnLine = std::function<void(const std::string&)>;
    /// util::Error (exit 2) when `r.from` and `r.to` span more than k_max_ticks evaluations.
    FileReplayer(const config::Config& cfg, FileReplay r, OnDecision on_decision,
                 OnLine on_csv_line);
    ~FileReplayer();
    FileReplayer(const FileReplayer&) = delete;
    FileReplayer& operator=(const FileReplayer&) = delete;

    /// Reads the file (once), evaluating the ticks whose samples are in. Returns what reading
    /// skipped. Throws util::Error (exit 2) for a span of more than k_max_ticks evaluations (a
    /// wrong date), and stream_samples' errors.
    const sources::FileStats& read();
    /// The format the file was read in, the source's max_lateness (access logs).
    const std::string& format() const { return m_format; }
    util::Millis lateness() const { return m_lateness; }
    /// How long after an access log's last line the replay judges the quiet (silence_tail()).
    util::Millis quiet_tail() const { return std::chrono::seconds(m_tail_s); }
    /// The newest sample read, nullopt when none.
    std::optional<util::SystemTime> newest() const { return m_newest; }
    /// After read() found samples (not samples_only): judges the last lines once they are
    /// final, as the live monitor does — up to the first tick at or after the last sample +
    /// max_lateness (or `to`) — and sums up.
    FileReplayResult finish();

    /// Virtual time still ticks every interval: a span of centuries is a wrong date.
    static constexpr int64_t k_max_ticks = 20'000'000;

  private:
    void check_span(util::SystemTime t) const;

    FileReplay m_r;
    std::vector<decision::ConditionSpec> m_conds;
    std::string m_format;
    util::Millis m_interval{0}, m_lateness{0};
    int64_t m_interval_s = 0;
    int64_t m_tail_s = 0; ///< silence_tail() of an access log, 0 for a CSV
    std::optional<util::SystemTime> m_read_from;
    std::unique_ptr<decision::Evaluator> m_ev;
    std::unique_ptr<ReplayLoop> m_loop;
    OnLine m_on_csv_line;
    std::optional<util::SystemTime> m_oldest, m_newest;
    sources::FileStats m_in;
    FileReplayResult m_result;
    std::chrono::steady_clock::time_point m_started;
    std::clock_t m_cpu_started = 0;
};

} // namespace rollback::monitor
