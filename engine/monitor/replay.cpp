// SPDX-License-Identifier: MIT
#include "monitor/replay.hpp"

#include <algorithm>

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
                       std::vector<Deploy> deploys)
    : m_ev(ev), m_source(std::move(source)), m_step(std::max<int64_t>(1, interval.count())),
      m_on_tick(std::move(on_tick)), m_deploys(std::move(deploys)) {
    if (first) {
        m_begin_ms = round_up(ms_of(*first), m_step);
        m_next_ms = *m_begin_ms;
    }
}

void ReplayLoop::run_ticks_before(int64_t end_ms, bool inclusive) {
    bool any = false;
    while (inclusive ? m_next_ms <= end_ms : m_next_ms < end_ms) {
        const util::SystemTime now{util::Millis(m_next_ms)};
        while (m_next_deploy < m_deploys.size() && m_deploys[m_next_deploy].time <= now) {
            m_ev.deployed(m_deploys[m_next_deploy].time, m_deploys[m_next_deploy].release);
            ++m_next_deploy;
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
    return m_stats;
}

ReplayStats replay(decision::Evaluator& ev, const std::string& source,
                   std::vector<decision::Sample> samples, util::SystemTime first,
                   util::SystemTime last, util::Millis interval, const OnTick& on_tick,
                   const std::vector<Deploy>& deploys) {
    ReplayLoop loop(ev, source, interval, first, on_tick, deploys);
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

} // namespace rollback::monitor
