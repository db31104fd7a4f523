// SPDX-License-Identifier: MIT
// Access-log lines into per-interval samples by event time: lateness, the log's clock and its
// jumps, quiet intervals (docs/decision.md, "Event time and lateness").
#include "sources/access_log.hpp"

#include <algorithm>
#include <array>
#include <chrono>

namespace rollback::sources {

RequestAggregator::RequestAggregator(int64_t interval_s, Sink sink, int64_t lateness_s, Clock clock)
    : m_interval(std::max<int64_t>(1, interval_s)), m_lateness(std::max<int64_t>(0, lateness_s)),
      m_clock_kind(clock), m_sink(std::move(sink)),
      m_latest_plausible_s(std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count() +
                           86400),
      m_hold(m_lateness + 2 * m_interval) {
    m_recent.fill(INT64_MIN);
}

namespace {

template <class Bucket>
inline void count_into(Bucket& b, const LogEntry& e) {
    ++b.count;
    if (e.status >= 500 && e.status <= 599) {
        ++b.errors;
    }
    if (e.latency_ms >= 0) {
        if (b.hist.empty()) {
            b.hist.assign(decision::LatencyHistogram::k_buckets, 0);
        }
        const auto i = static_cast<size_t>(decision::LatencyHistogram::bucket_of(e.latency_ms));
        ++b.hist[i];
        b.lo = std::min(b.lo, i);
        b.hi = std::max(b.hi, i + 1);
    }
}

} // namespace

void RequestAggregator::add(const LogEntry& e) {
    ++m_lines;
    // A line of the open interval most lines go to, that makes no interval final: no map lookup,
    // nothing to emit.
    if (m_current.bucket != nullptr && m_hold.empty() && e.time_s >= m_current.start &&
        e.time_s - m_current.start < m_interval && e.time_s < m_final_at &&
        (m_read_at == INT64_MIN || e.time_s - m_read_at <= jump_s())) {
        count_into(*m_current.bucket, e);
        m_clock = std::max(m_clock, e.time_s);
        // Dated before m_final_at, it leaves at least k_agree_below of the recent lines before
        // it: the watermark cannot pass m_final_at by this line (see watermark()).
        m_recent[m_recent_next++ % k_recent] = e.time_s;
        return;
    }
    add_slow(e);
}

void RequestAggregator::add_slow(const LogEntry& e) {
    if (m_read_at != INT64_MIN && e.time_s - m_read_at > jump_s()) {
        // Live: dated ahead of the monitor's own clock by more than a jump — a worker whose clock
        // runs ahead, or this machine's clock behind (by a day or more too: checked before the
        // day-ahead bound, so that the monitor can say so). No line, however many agree with it,
        // makes it count.
        ++m_implausible;
        ++m_ahead;
        m_ahead_max_s = std::max(m_ahead_max_s, e.time_s - m_read_at);
        return;
    }
    if (e.time_s < k_earliest_plausible_s || e.time_s > m_latest_plausible_s) {
        ++m_implausible;
        return;
    }
    judge(e);
}

void RequestAggregator::judge(const LogEntry& e) {
    // A line far ahead of the log's clock (or the first line) does not move it alone: it and the
    // lines within a jump of it are held until a line a jump later confirms them or a line a
    // jump earlier refutes them (sources/jump_hold.hpp).
    m_hold.feed(
        e, e.time_s, [this] { return m_clock; }, [this](const LogEntry& x) { apply(x); },
        [this](const LogEntry&) { ++m_implausible; });
}

void RequestAggregator::apply(const LogEntry& e) {
    m_clock = std::max(m_clock, e.time_s);
    m_current.bucket = nullptr;
    int64_t start = e.time_s - ((e.time_s % m_interval) + m_interval) % m_interval;
    // Judged by the watermark of the lines before it (those of the fast path included); then it
    // takes part in the watermark.
    if (m_clock_kind == Clock::log) {
        m_watermark = std::max(m_watermark, watermark());
    }
    const bool counted = e.time_s >= m_count_from;
    if (!counted) {
        m_observed_from = std::min(m_observed_from, start);
    } else {
        // Too late: its interval is final — emitted, or (before the first emission, by the
        // log's watermark) already past it.
        const bool final =
            (m_next_emit != INT64_MIN && start < m_next_emit) ||
            (m_clock_kind == Clock::log && start + m_interval + m_lateness <= m_watermark);
        if (final) {
            ++m_late;
            ++m_pending_late;
        } else {
            // A too-late line observes nothing new: the log is observed from its first counted
            // line's interval.
            m_observed_from = std::min(m_observed_from, start);
            auto it = m_open.try_emplace(start).first;
            count_into(it->second, e);
            m_current.bucket = &it->second;
            m_current.start = start;
        }
    }
    if (m_clock_kind == Clock::log) {
        m_recent[m_recent_next++ % k_recent] = e.time_s;
        m_watermark = std::max(m_watermark, watermark());
        finalize(m_watermark);
    } else {
        update_final_at();
    }
}

int64_t RequestAggregator::watermark() const {
    // The newest time that all but k_agree_below - 1 of the last k_recent lines have reached:
    // the k_agree_below-th smallest of their times (INT64_MIN until enough lines were read).
    std::array<int64_t, k_recent> t = m_recent;
    std::nth_element(t.begin(), t.begin() + (k_agree_below - 1), t.end());
    return t[k_agree_below - 1];
}

void RequestAggregator::update_final_at() {
    if (m_clock_kind == Clock::caller) {
        m_final_at = INT64_MAX; // lines never make an interval final: the caller's clock does
        return;
    }
    int64_t first = m_open.empty() ? INT64_MAX : m_open.begin()->first;
    if (m_next_emit != INT64_MIN) {
        first = std::min(first, m_next_emit);
    }
    m_final_at = first == INT64_MAX ? INT64_MAX : first + m_interval + m_lateness;
}

void RequestAggregator::finalize(int64_t w) {
    while (!m_open.empty() && m_open.begin()->first + m_interval + m_lateness <= w) {
        auto it = m_open.begin();
        if (m_current.bucket == &it->second) {
            m_current.bucket = nullptr;
        }
        emit(it->first, it->second);
        m_open.erase(it);
    }
    // Quiet intervals that are final are zero requests, up to the first open one: a line for
    // one of them is too late, as for any final interval.
    if (m_next_emit != INT64_MIN) {
        Bucket empty;
        const int64_t limit = m_open.empty() ? INT64_MAX : m_open.begin()->first;
        if (m_on_quiet_run && m_next_emit < limit && m_next_emit + m_interval + m_lateness <= w) {
            // The last start s of the run: s < limit and s + interval + lateness <= w.
            const int64_t bound =
                std::min(limit == INT64_MAX ? limit : limit - 1, w - m_interval - m_lateness);
            const int64_t last = m_next_emit + (bound - m_next_emit) / m_interval * m_interval;
            m_on_quiet_run(m_next_emit + m_interval, last + m_interval);
        }
        while (m_next_emit < limit && m_next_emit + m_interval + m_lateness <= w) {
            emit(m_next_emit, empty);
        }
    }
    update_final_at();
}

void RequestAggregator::emit(int64_t start, Bucket& b) {
    auto with_late = [this](decision::Sample s) {
        s.late = m_pending_late;
        m_pending_late = 0;
        m_sink(std::move(s));
    };
    if (m_next_emit != INT64_MIN) {
        if (m_on_quiet_run && m_next_emit < start) {
            m_on_quiet_run(m_next_emit + m_interval, start);
        }
        for (int64_t gap = m_next_emit; gap < start; gap += m_interval) {
            with_late(decision::Sample::make_requests(
                decision::SystemTime(std::chrono::seconds(gap + m_interval)), 0, 0));
        }
    }
    decision::SparseHistogram sparse;
    sparse.reserve(b.hi > b.lo ? b.hi - b.lo : 0);
    for (size_t i = b.lo; i < b.hi; ++i) {
        if (b.hist[i] != 0) {
            sparse.emplace_back(static_cast<uint16_t>(i), b.hist[i]);
        }
    }
    with_late(decision::Sample::make_requests(
        decision::SystemTime(std::chrono::seconds(start + m_interval)), b.count, b.errors,
        std::move(sparse)));
    m_next_emit = start + m_interval;
    m_emitted = true;
}

void RequestAggregator::observed_since(int64_t s) {
    if (m_emitted) {
        return;
    }
    int64_t start = s - ((s % m_interval) + m_interval) % m_interval;
    if (!m_open.empty()) {
        start = std::min(start, m_open.begin()->first);
    }
    if (m_next_emit != INT64_MIN) {
        start = std::min(start, m_next_emit);
    }
    m_next_emit = start;
    m_observed_from = std::min(m_observed_from, start);
    update_final_at();
}

void RequestAggregator::flush_until(int64_t now_s) {
    m_caller_now = std::max(m_caller_now, now_s);
    if (!m_hold.empty()) {
        // Live: the held lines were read by the monitor's clock and are not from its future
        // (reading_at); a return would have to be more than max_lateness late to refute them
        // now. They count before their intervals can be final (of two runs at the start, the
        // one with more lines).
        m_hold.finish([this] { return m_clock; }, INT64_MAX,
                      [this](const LogEntry& x) { apply(x); },
                      [this](const LogEntry&) { ++m_implausible; });
    }
    m_current.bucket = nullptr;
    finalize(now_s); // a quiet log still says "no traffic" up to what is final
}

void RequestAggregator::flush_all(int64_t until_s) {
    // Unconfirmed at the end: the log's last lines after a quiet gap count; a run more than a
    // day ahead of the rest does not (it would stretch the replay to its wild date); of two runs
    // at the start, the one with more lines.
    m_hold.finish([this] { return m_clock; }, k_last_line_gap_s,
                  [this](const LogEntry& x) { apply(x); },
                  [this](const LogEntry&) { ++m_implausible; });
    m_current.bucket = nullptr;
    for (auto& [start, b] : m_open) {
        emit(start, b);
    }
    m_open.clear();
    if (until_s != INT64_MIN) {
        finalize(until_s); // the log went quiet: zero requests, as live makes them
    }
    m_final_at = INT64_MAX;
}

} // namespace rollback::sources
