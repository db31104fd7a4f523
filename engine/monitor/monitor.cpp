// SPDX-License-Identifier: MIT
#include "monitor/monitor.hpp"

#include "sources/collect.hpp"

#include <algorithm>
#include <chrono>

namespace rollback::monitor {

using decision::Sample;
using std::chrono::duration_cast;

Monitor::Monitor(config::Config cfg, decision::BaselineBook baselines)
    : m_cfg(std::move(cfg)), m_eval(m_cfg.conditions, m_cfg.decision, std::move(baselines)) {}

void Monitor::deployed(SystemTime time, std::string release) {
    m_eval.deployed(time, std::move(release));
}

void Monitor::rolled_back(SystemTime time) {
    m_eval.rolled_back(time);
}

void Monitor::read_access_log(const config::SourceConfig& src, util::Millis reach, SystemTime now) {
    const util::Millis interval = std::max<util::Millis>(src.interval, std::chrono::seconds(1));
    const int64_t interval_s = interval.count() / 1000;
    const int64_t step_ms = interval_s * 1000;
    // Only complete intervals: a partial one fed now would make the complete one, read next
    // tick, a duplicate the Evaluator ignores.
    const int64_t now_ms = duration_cast<util::Millis>(now.time_since_epoch()).count();
    const SystemTime complete{util::Millis(now_ms / step_ms * step_ms - step_ms)};
    auto it = m_read_until.find(src.name);
    const SystemTime from =
        it != m_read_until.end() ? it->second + util::Millis(1) : complete - reach - interval;
    if (complete < from) {
        return;
    }
    sources::FileSamples fsam;
    try {
        fsam = sources::read_samples(src.path, src.format, interval_s, from, complete);
    } catch (const util::Error& e) {
        m_eval.add_sample(src.name,
                          Sample::make_missing(now, decision::SampleKind::unavailable, e.what()));
        return;
    }
    // A log without lines for an interval is a quiet service (no traffic), not a missing source.
    const int64_t from_ms = duration_cast<util::Millis>(from.time_since_epoch()).count();
    int64_t next = (from_ms + step_ms - 1) / step_ms * step_ms;
    const int64_t end = duration_cast<util::Millis>(complete.time_since_epoch()).count();
    auto fill_until = [&](int64_t upto) {
        for (; next < upto; next += step_ms) {
            m_eval.add_sample(src.name,
                              Sample::make_requests(SystemTime(util::Millis(next)), 0, 0));
        }
    };
    for (auto& s : fsam.samples) {
        const int64_t t = duration_cast<util::Millis>(s.time.time_since_epoch()).count();
        fill_until(t);
        next = std::max(next, t + 1);
        next = (next + step_ms - 1) / step_ms * step_ms;
        m_eval.add_sample(src.name, std::move(s));
    }
    fill_until(end + 1);
    m_read_until[src.name] = complete;
}

decision::Evaluation Monitor::tick(exec::ProcessRunner& runner, SystemTime now) {
    for (const auto& [name, src] : m_cfg.sources) {
        util::Millis reach{0};
        bool used = false;
        for (const auto& c : m_cfg.conditions) {
            if (c.source == name) {
                used = true;
                reach = std::max(reach, c.window);
            }
        }
        if (!used) {
            continue;
        }
        switch (src.kind) {
        case config::SourceKind::access_log:
            read_access_log(src, reach, now);
            break;
        case config::SourceKind::command:
            m_eval.add_sample(name, sources::run_command(runner, src.argv, src.timeout, now));
            break;
        case config::SourceKind::http:
        case config::SourceKind::prometheus:
        case config::SourceKind::sql:
            m_eval.add_sample(name, Sample::make_missing(
                                        now, decision::SampleKind::error,
                                        "source kind " + std::string(config::to_string(src.kind)) +
                                            " is not read by this build's monitor"));
            break;
        }
    }
    return m_eval.evaluate(now);
}

util::Millis until_next_tick(SystemTime now, util::Millis interval) {
    const int64_t step = std::max<int64_t>(1, interval.count());
    const int64_t t = duration_cast<util::Millis>(now.time_since_epoch()).count();
    return util::Millis(step - t % step);
}

} // namespace rollback::monitor
