// SPDX-License-Identifier: MIT
#include "monitor/replay.hpp"

#include "util/error.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <set>

namespace rollback::monitor {

namespace {

int64_t ms_of(util::SystemTime t) {
    return std::chrono::duration_cast<util::Millis>(t.time_since_epoch()).count();
}

// The first multiple of `step` at or after `ms` (times here are after 1970: ms >= 0).
int64_t round_up(int64_t ms, int64_t step) {
    return (ms + step - 1) / step * step;
}

} // namespace

ReplayLoop::ReplayLoop(decision::Evaluator& ev, std::string source, util::Millis interval,
                       std::optional<util::SystemTime> first, OnTick on_tick,
                       std::vector<Deploy> deploys, std::vector<util::SystemTime> rollbacks)
    : m_ev(ev), m_source(std::move(source)), m_step(std::max<int64_t>(1, interval.count())),
      m_on_tick(std::move(on_tick)), m_deploys(std::move(deploys)),
      m_rollbacks(std::move(rollbacks)) {
    std::stable_sort(m_deploys.begin(), m_deploys.end(),
                     [](const Deploy& a, const Deploy& b) { return a.known_at() < b.known_at(); });
    std::sort(m_rollbacks.begin(), m_rollbacks.end());
    if (first) {
        m_begin_ms = round_up(ms_of(*first), m_step);
        m_next_ms = *m_begin_ms;
    }
}

void ReplayLoop::run_ticks_before(int64_t end_ms, bool inclusive) {
    bool any = false;
    while (inclusive ? m_next_ms <= end_ms : m_next_ms < end_ms) {
        const util::SystemTime now{util::Millis(m_next_ms)};
        while (m_next_deploy < m_deploys.size() && m_deploys[m_next_deploy].known_at() <= now) {
            const Deploy& d = m_deploys[m_next_deploy];
            m_ev.deployed(d.time, d.release, d.recorded_at);
            ++m_next_deploy;
        }
        // The runs that ended since the last tick, after the markers: the monitor reads the
        // marker, then notices the run (monitor::Loop::iterate).
        while (m_next_rollback < m_rollbacks.size() && m_rollbacks[m_next_rollback] <= now) {
            m_ev.rolled_back(m_rollbacks[m_next_rollback]);
            ++m_next_rollback;
        }
        m_on_tick(m_ev.evaluate(now));
        ++m_stats.ticks;
        m_next_ms += m_step;
        any = true;
    }
    if (any) {
        // A sample added before a tick is dated at or before the next tick at that time (it
        // came after the ticks before its time): every one so far is at or before this one.
        m_after_tick = 0;
    }
}

void ReplayLoop::add(decision::Sample sample) {
    if (!m_begin_ms) {
        m_begin_ms = round_up(ms_of(sample.time), m_step);
        m_next_ms = *m_begin_ms;
    }
    if (!m_first_sample) {
        m_first_sample = sample.time;
    }
    m_last_sample = sample.time;
    // Every sample dated at or before a tick is added before it is evaluated: the ticks before
    // this sample's time can be evaluated now.
    run_ticks_before(ms_of(sample.time), false);
    m_ev.add_sample(m_source, std::move(sample));
    ++m_added;
    ++m_after_tick;
}

uint64_t ReplayLoop::ticks_through(util::SystemTime t) const {
    if (!m_begin_ms || ms_of(t) < *m_begin_ms) {
        return 0;
    }
    return static_cast<uint64_t>((ms_of(t) - *m_begin_ms) / m_step) + 1;
}

ReplayStats ReplayLoop::finish(util::SystemTime last) {
    if (m_begin_ms) {
        run_ticks_before(ms_of(last), true);
    }
    m_stats.samples = m_added - m_after_tick;
    m_stats.deploys = m_next_deploy;
    m_stats.rollbacks = m_next_rollback;
    return m_stats;
}

ReplayStats replay(decision::Evaluator& ev, const std::string& source,
                   std::vector<decision::Sample> samples, util::SystemTime first,
                   util::SystemTime last, util::Millis interval, const OnTick& on_tick,
                   const std::vector<Deploy>& deploys,
                   const std::vector<util::SystemTime>& rollbacks) {
    ReplayLoop loop(ev, source, interval, first, on_tick, deploys, rollbacks);
    const int64_t step = std::max<int64_t>(1, interval.count());
    const int64_t begin = round_up(ms_of(first), step);
    if (ms_of(last) < begin) {
        return {}; // no tick: nothing is fed
    }
    const int64_t end = ms_of(last) / step * step; // the last tick
    for (auto& s : samples) {
        if (ms_of(s.time) > end) {
            break;
        }
        loop.add(std::move(s));
    }
    return loop.finish(last);
}

util::Millis silence_tail(const std::vector<decision::ConditionSpec>& conds, util::Millis interval,
                          util::Millis source_interval) {
    const util::Millis step = std::max(interval, source_interval);
    util::Millis tail{0};
    for (const auto& c : conds) {
        // Silence is judged while a run is open: the run's counting, the window emptied and the
        // silence made unlikely by the traffic before it (at least one request in a breaching
        // window: at most 3 windows after the last breach), then max_missed + 1 silent ticks.
        const util::Millis counting = decision::counting_span(c, step);
        tail = std::max(tail, counting + 4 * c.window + (c.max_missed + 2) * step);
    }
    const int64_t ms = tail.count();
    return util::Millis((ms + 999) / 1000 * 1000);
}

util::SystemTime replay_last_tick(util::SystemTime newest, util::Millis lateness,
                                  util::Millis interval) {
    const int64_t step = std::max<int64_t>(1, interval.count());
    return util::SystemTime(util::Millis(round_up(ms_of(newest + lateness), step)));
}

std::string replay_source(const config::Config& cfg, const std::string& name) {
    std::string source = name;
    if (source.empty()) {
        std::set<std::string> used;
        for (const auto& c : cfg.conditions) {
            used.insert(c.source);
        }
        if (used.size() != 1) {
            throw util::Error("--replay: the conditions use " + std::to_string(used.size()) +
                                  " sources; name the one the file stands for with --source",
                              util::ExitCode::invalid);
        }
        source = *used.begin();
    }
    if (cfg.sources.find(source) == cfg.sources.end()) {
        throw util::Error("--source: no source " + util::quoted(source) + " in " +
                              cfg.file.string(),
                          util::ExitCode::invalid);
    }
    return source;
}

FileReplayer::FileReplayer(const config::Config& cfg, FileReplay r, OnDecision on_decision,
                           OnLine on_csv_line)
    : m_r(std::move(r)), m_on_csv_line(std::move(on_csv_line)) {
    const auto& src = cfg.sources.at(m_r.source);
    for (const auto& c : cfg.conditions) {
        if (c.source == m_r.source) {
            m_conds.push_back(c);
        }
    }
    m_result.conditions = m_conds.size();
    m_interval = m_r.interval.value_or(cfg.interval);
    m_result.interval = m_interval;
    const bool is_log = src.kind == config::SourceKind::access_log;
    m_format = !m_r.format.empty() ? m_r.format : is_log ? src.format : "combined_request_time";
    // Access logs aggregate into the source's intervals, as the monitor does (--interval: both).
    const bool own_buckets = !m_r.interval && is_log;
    m_interval_s = (own_buckets ? src.interval : m_interval).count() / 1000;
    if (is_log) { // the samples' intervals (--interval aggregates into the replay's)
        for (auto& c : m_conds) {
            c.bucket = std::chrono::seconds(m_interval_s);
        }
    }
    // --from starts the evaluations, not the data: the windows of the first ticks are filled
    // with what came before, as the live monitor's first read fills them.
    util::Millis warmup{0};
    for (const auto& c : m_conds) {
        warmup = std::max(warmup, c.window);
    }
    m_lateness = is_log ? src.max_lateness : util::Millis(0);
    m_tail_s =
        is_log
            ? silence_tail(m_conds, m_interval, std::chrono::seconds(m_interval_s)).count() / 1000
            : 0;
    // The quiet tail after the last line is bounded on its own (sources::stream_samples): known
    // from the config alone, so refused before any work (break-it round 40, finding 09: a
    // 40-day window printed a trigger after 38 s, then exited 2).
    if (!m_r.to && m_interval_s > 0 &&
        static_cast<uint64_t>(m_tail_s / m_interval_s) > 4 * sources::k_max_replay_samples) {
        throw util::Error(
            m_r.file + ": the quiet intervals after the last line, to judge the " +
                "silence after a breach (4 windows and more: " +
                util::format_duration(std::chrono::seconds(m_tail_s)) + "), are more than " +
                std::to_string(4 * sources::k_max_replay_samples) + " intervals of " +
                std::to_string(m_interval_s) + " s",
            util::ExitCode::invalid, "a longer source interval, or --to to end the replay sooner");
    }
    if (m_r.from) {
        m_read_from = *m_r.from - warmup - m_lateness - m_interval;
    }
    // The replay streams: each sample goes to the evaluator (or, with samples_only, to the CSV
    // lines) as soon as its interval is final, and each tick is evaluated as soon as its
    // samples are in. So a replay holds its windows, not the file's span.
    m_ev = std::make_unique<decision::Evaluator>(m_conds, cfg.decision);
    auto* result = &m_result;
    m_loop = std::make_unique<ReplayLoop>(
        *m_ev, m_r.source, m_interval, m_r.from,
        [result, on_decision = std::move(on_decision)](const decision::Evaluation& e) {
            const auto a = e.record.action;
            result->triggers +=
                a == decision::Action::trigger || a == decision::Action::request_approval;
            result->escalations += a == decision::Action::escalate;
            if (!e.notable) {
                return;
            }
            ++result->notable;
            on_decision(e.record);
        },
        m_r.deploys, m_r.rollbacks);
    // Checked as the samples come, and for the --to given, before the ticks are run.
    if (m_r.from && m_r.to) {
        check_span(*m_r.to);
    }
}

FileReplayer::~FileReplayer() = default;

void FileReplayer::check_span(util::SystemTime t) const {
    const auto span_from = m_r.from.value_or(m_oldest.value_or(t));
    // In milliseconds since the epoch: the difference of two times in nanoseconds overflows
    // past 292 years, and --from/--to may span 1678..2261.
    const int64_t ticks = (ms_of(t) - ms_of(span_from)) / std::max<int64_t>(1, m_interval.count());
    if (ticks > k_max_ticks) {
        throw util::Error(m_r.file + ": the samples span " + util::format_time(span_from) + " .. " +
                              util::format_time(t) + ", " + std::to_string(ticks) +
                              " evaluations at " + util::format_duration(m_interval) +
                              " (at most " + std::to_string(k_max_ticks) + ")",
                          util::ExitCode::invalid,
                          "a line with a wrong date? narrow the replay with --from/--to, or a "
                          "longer --interval");
    }
}

const sources::FileStats& FileReplayer::read() {
    // An access log's samples, at most as many as k_max_ticks evaluations take (bucket interval
    // over evaluation interval): a gap of years is refused before its quiet intervals are made.
    const int64_t per_sample = std::max<int64_t>(1, m_interval_s * 1000 / m_interval.count());
    const size_t max_samples = std::min<size_t>(sources::k_max_replay_samples,
                                                static_cast<size_t>(k_max_ticks / per_sample));
    if (m_r.samples_only) {
        m_on_csv_line("start,end,kind,requests,errors,value");
    }
    m_started = std::chrono::steady_clock::now();
    // CPU time beside wall time: on a loaded machine the wall time of the loop says little.
    // Reading the file is in it: reading and evaluating are one stream.
    m_cpu_started = std::clock();
    m_in = sources::stream_samples(
        m_r.file, m_format, m_interval_s, m_lateness.count() / 1000, m_read_from, m_r.to,
        max_samples, m_tail_s,
        [this](decision::Sample s) {
            if (!m_oldest) {
                m_oldest = s.time;
                if (m_r.to) {
                    check_span(*m_r.to);
                }
            }
            m_newest = s.time;
            check_span(s.time);
            if (!m_r.samples_only) {
                m_loop->add(std::move(s));
                return;
            }
            if (m_r.from && s.time < *m_r.from) {
                return; // read as the windows' warm-up only
            }
            // A CSV's rows are value samples dated at their time; a log's are its intervals.
            const bool row = s.kind == decision::SampleKind::value;
            auto start = row ? s.time : s.time - std::chrono::seconds(m_interval_s);
            m_on_csv_line(util::format_time(start) + "," + util::format_time(s.time) + "," +
                          (row ? "value" : "requests") + "," + std::to_string(s.count) + "," +
                          std::to_string(s.errors) + "," + decision::format_number(s.value));
        },
        [this](util::SystemTime end) {
            if (!m_r.samples_only) {
                m_ev->input_ends(end);
            }
        });
    return m_in;
}

FileReplayResult FileReplayer::finish() {
    if (m_newest) {
        // The last samples are judged once they are final, as the live monitor judges them: up
        // to the first tick at or after the newest sample (an access log's: the quiet intervals
        // after its last line) + max_lateness, however the sample is dated (a CSV row at
        // 00:10:00.5 is judged at the tick after it).
        const auto last = m_r.to.value_or(replay_last_tick(*m_newest, m_lateness, m_interval));
        check_span(last);
        m_result.stats = m_loop->finish(last);
    }
    m_result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - m_started).count();
    m_result.cpu_seconds = static_cast<double>(std::clock() - m_cpu_started) / CLOCKS_PER_SEC;
    return m_result;
}

} // namespace rollback::monitor
