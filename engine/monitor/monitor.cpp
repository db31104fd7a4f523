// SPDX-License-Identifier: MIT
#include "monitor/monitor.hpp"

#include "monitor/log_state.hpp"

#include "sources/access_log.hpp"
#include "sources/collect.hpp"
#include "sources/http_probe.hpp"
#include "sources/prometheus.hpp"
#include "sources/sql_query.hpp"
#include "sources/tailer.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <deque>
#include <future>
#include <pthread.h>

namespace rollback::monitor {

using decision::Sample;
using std::chrono::duration_cast;

Monitor::Monitor(config::Config cfg, decision::BaselineBook baselines)
    : m_cfg(std::move(cfg)), m_eval(m_cfg.conditions, m_cfg.decision, std::move(baselines)) {
    for (const auto& c : m_cfg.conditions) {
        m_used.insert(c.source);
    }
    if (!m_cfg.alert_conditions.empty()) {
        std::vector<decision::ConditionSpec> specs;
        for (const auto& a : m_cfg.alert_conditions) {
            specs.push_back(a.spec);
        }
        m_alerts = std::make_unique<decision::Evaluator>(std::move(specs), m_cfg.decision);
    }
}
Monitor::~Monitor() = default;
Monitor::Monitor(Monitor&&) noexcept = default;
Monitor& Monitor::operator=(Monitor&&) noexcept = default;

void Monitor::deployed(SystemTime time, std::string release, std::optional<SystemTime> known_at) {
    m_deployed_at = time;
    if (m_alerts) {
        m_alerts->deployed(time, release, known_at);
    }
    m_eval.deployed(time, std::move(release), known_at);
}

void Monitor::rolled_back(SystemTime time) {
    m_eval.rolled_back(time);
    if (m_alerts) {
        m_alerts->rolled_back(time);
    }
}

decision::Evaluator::PolicyMemory Monitor::policy_memory() const {
    auto memory = m_eval.policy_memory();
    if (m_alerts) {
        memory.merge(m_alerts->policy_memory());
    }
    for (const auto& [name, st] : m_logs) {
        const auto id = st->tailer.identity();
        if (id && st->watched_from_s != INT64_MAX) {
            memory.watched_logs[name] = {id->dev, id->ino, id->offset, st->watched_from_s};
        }
    }
    // Not read yet by this monitor (before its first tick): the resumed watch goes on.
    for (const auto& [name, w] : m_resumed_watch) {
        memory.watched_logs.emplace(name, w);
    }
    return memory;
}

void Monitor::approval_requested(const std::string& condition, const std::string& decision_id,
                                 SystemTime expires) {
    m_eval.approval_requested(condition, decision_id, expires);
    if (m_alerts) {
        m_alerts->approval_requested(condition, decision_id, expires);
    }
}

std::vector<std::pair<std::string, std::string>> Monitor::approvals_due(SystemTime now) const {
    auto due = m_eval.approvals_due(now);
    if (m_alerts) {
        auto more = m_alerts->approvals_due(now);
        due.insert(due.end(), more.begin(), more.end());
    }
    return due;
}

void Monitor::approval_settled(const std::string& condition, bool expired) {
    m_eval.approval_settled(condition, expired);
    if (m_alerts) {
        m_alerts->approval_settled(condition, expired);
    }
}

void Monitor::trigger_not_started(SystemTime at) {
    m_eval.trigger_not_started(at);
    if (m_alerts) {
        m_alerts->trigger_not_started(at);
    }
}

void Monitor::resume_policy(const decision::Evaluator::PolicyMemory& memory) {
    if (!m_ticked && memory.evaluated_until &&
        (!m_resumed_until || *m_resumed_until < *memory.evaluated_until)) {
        m_resumed_until = memory.evaluated_until;
    }
    if (!m_ticked) {
        for (const auto& [name, w] : memory.watched_logs) {
            m_resumed_watch[name] = w;
        }
    }
    m_eval.resume_policy(memory);
    if (m_alerts) {
        m_alerts->resume_policy(memory);
    }
}

void Monitor::adopt_policy(const decision::Evaluator::PolicyMemory& memory) {
    m_eval.adopt_policy(memory);
    if (m_alerts) {
        m_alerts->adopt_policy(memory);
    }
}

std::optional<decision::Evaluation> Monitor::evaluate_alerts(SystemTime now,
                                                             const AlertBook& book) {
    if (!m_alerts) {
        return std::nullopt;
    }
    if (m_alerts_at && now < *m_alerts_at) {
        now = *m_alerts_at;
    }
    m_alerts_at = now;
    bool newly_unconfirmed = false;
    for (const auto& a : m_cfg.alert_conditions) {
        const size_t active = book.active(a);
        Sample s = Sample::make_value(now, static_cast<double>(active));
        s.detail = book.describe(a);
        std::string unconfirmed;
        if (a.confirm && active > 0 && !confirmed(a, now, alerts_since(a, book), s)) {
            for (const auto& fp : book.fingerprints(a)) {
                unconfirmed += fp + "\n";
            }
            // A number that did not confirm, then none (or the other way): a new reason.
            unconfirmed += s.kind == decision::SampleKind::value ? "number" : "no number";
        }
        std::string& before = m_unconfirmed[a.spec.name];
        newly_unconfirmed |= !unconfirmed.empty() && unconfirmed != before;
        before = std::move(unconfirmed);
        m_alerts->add_sample(a.spec.source, std::move(s));
    }
    decision::Evaluation e = m_alerts->evaluate(now);
    if (newly_unconfirmed) {
        e.notable = true; // "not confirmed" is a decision too: kept, with the query's number
    }
    if (e.record.action == decision::Action::trigger && e.record.executed) {
        m_eval.resume_policy(m_alerts->policy_memory()); // one cooldown for the target
    }
    return e;
}

std::optional<decision::Evaluation> Monitor::evaluate_alerts_unknown(SystemTime now,
                                                                     const std::string& why) {
    if (!m_alerts) {
        return std::nullopt;
    }
    if (m_alerts_at && now < *m_alerts_at) {
        now = *m_alerts_at;
    }
    m_alerts_at = now;
    for (const auto& a : m_cfg.alert_conditions) {
        m_alerts->add_sample(a.spec.source,
                             Sample::make_missing(now, decision::SampleKind::unavailable, why));
    }
    return m_alerts->evaluate(now);
}

Monitor::LogCounts Monitor::log_counts(const std::string& source) const {
    auto it = m_logs.find(source);
    if (it == m_logs.end()) {
        return {};
    }
    LogCounts c = it->second->counts;
    c.late += it->second->agg.late();
    c.implausible = it->second->agg.implausible();
    return c;
}

util::Millis Monitor::reach(const std::string& source, SystemTime now) const {
    util::Millis r{0};
    for (const auto& c : m_cfg.conditions) {
        if (c.source != source) {
            continue;
        }
        r = std::max(r, c.window);
        if (c.baseline == decision::BaselineKind::before_deploy && m_deployed_at) {
            const auto bw = c.baseline_window.count() > 0 ? c.baseline_window : c.window;
            r = std::max(r, duration_cast<util::Millis>(now - *m_deployed_at) + bw);
        }
    }
    return r;
}

util::Millis Monitor::warm_span(SystemTime now) const {
    util::Millis span{0};
    for (const auto& c : m_cfg.conditions) {
        auto src = m_cfg.sources.find(c.source);
        util::Millis step = m_cfg.interval;
        if (src != m_cfg.sources.end()) {
            step = std::max(step, src->second.interval);
        }
        util::Millis counting = step;
        switch (c.counting) {
        case decision::Counting::immediate:
            break;
        case decision::Counting::for_duration:
            counting = c.for_duration + step;
            break;
        case decision::Counting::consecutive:
            counting = step * std::max(c.consecutive, 1);
            break;
        case decision::Counting::m_of_n:
            counting = step * std::max(c.n, 1);
            break;
        }
        span = std::max(span, counting + step * (c.max_missed + 1));
    }
    if (m_resumed_until && *m_resumed_until < now) {
        // The gap since the previous monitor's last tick: incidents it left open resolve, new
        // ones open, as a monitor that never stopped would have judged them (at most a day).
        span += std::min<util::Millis>(duration_cast<util::Millis>(now - *m_resumed_until),
                                       std::chrono::hours(24));
    }
    return span;
}

void Monitor::read_access_log(const config::SourceConfig& src, SystemTime now) {
    const util::Millis interval = std::max<util::Millis>(src.interval, std::chrono::seconds(1));
    const int64_t step_ms = interval.count() / 1000 * 1000;
    const int64_t now_ms = to_ms(now);
    auto it = m_logs.find(src.name);
    if (it == m_logs.end()) {
        // The first read covers the windows the conditions look at (and a before_deploy
        // baseline), then follows the file.
        int64_t from_ms = now_ms - src.max_lateness.count() - reach(src.name, now).count() -
                          step_ms - (m_ticked ? 0 : warm_span(now).count());
        // At most as many quiet intervals as a replay takes (config::check_read_back refuses a
        // config whose windows need more): a before_deploy baseline of a deploy long ago, or
        // the gap since the resumed memory, never builds gigabytes (break-it 44/07).
        const int64_t max_back = static_cast<int64_t>(sources::k_max_replay_samples) * step_ms;
        if (now_ms - from_ms > max_back) {
            log::warn("source \"{}\": read back {} intervals of {} s only (not {}): the most a "
                      "start builds; a before_deploy baseline older than that is judged on what "
                      "remains",
                      src.name, sources::k_max_replay_samples, step_ms / 1000,
                      (now_ms - from_ms) / step_ms);
            from_ms = now_ms - max_back;
        }
        const int64_t fed_until = from_ms / step_ms * step_ms;
        // A renamed log is followed while lines may still come to it in time: an Apache
        // graceful restart's old children write their last requests there up to max_lateness
        // late (break-it 44/03) — closed only after max_lateness and an interval without growth.
        const int64_t tick_ms = std::max<int64_t>(1, m_cfg.interval.count());
        const int old_idle_polls =
            static_cast<int>((src.max_lateness.count() + step_ms + tick_ms - 1) / tick_ms) + 1;
        try {
            it = m_logs
                     .emplace(src.name,
                              std::make_unique<LogState>(src, step_ms / 1000, from_ms / 1000,
                                                         fed_until, old_idle_polls))
                     .first;
        } catch (const util::Error& e) { // a log_format that does not compile: a broken check
            ++m_read_errors[src.name];
            m_eval.add_sample(src.name,
                              Sample::make_missing(now, decision::SampleKind::error, e.what()));
            return;
        }
    }
    LogState& st = *it->second;
    sources::LogEntry entry;
    st.agg.reading_at(now_ms / 1000); // lines dated ahead of this clock are not counted
    const uint64_t lines_before = st.agg.lines(), ahead_before = st.agg.ahead();
    const uint64_t late_before = st.counts.late + st.agg.late();
    uint64_t read = 0, rejected = 0; // non-empty lines of this tick, and those that do not match
    int64_t oldest_s = INT64_MAX;    // the oldest date of a line read at this tick
    std::string first_bad;
    auto poll = st.tailer.poll([&](std::string_view line) {
        ++st.counts.lines;
        if (line.empty()) {
            return;
        }
        ++read;
        if (!st.format.parse(line, entry, st.cache)) {
            ++st.counts.rejected;
            if (rejected++ == 0) {
                first_bad = std::string(line.substr(0, 120));
            }
        } else {
            oldest_s = std::min(oldest_s, entry.time_s);
            st.agg.add(entry); // lines before cutoff_s judge the clock only (count_from)
        }
    });
    if (!poll.predecessor.empty()) {
        log::info("source \"{}\": {} read first: rotated from {} and written since the windows' "
                  "start, it holds their older lines (and the server may still write to it)",
                  src.name, poll.predecessor.string(), src.path.string());
    }
    // Lines too long to be a log line (never delivered): unreadable lines, like bad ones.
    st.counts.lines += poll.overlong;
    st.counts.rejected += poll.overlong;
    read += poll.overlong;
    rejected += poll.overlong;
    if (!poll.readable) {
        // Cannot see the log: no data, never "no traffic" (and never downtime).
        ++m_read_errors[src.name];
        st.readable_at_start = st.readable_at_start && m_ticked;
        m_eval.add_sample(src.name,
                          Sample::make_missing(now, decision::SampleKind::unavailable, poll.error));
        return;
    }
    st.agg.flush_until(now_ms / 1000);
    if (st.agg.implausible() > st.implausible_logged) {
        // Never silent: a worker whose clock runs ahead — or this machine's clock behind the
        // web server's, which would leave the monitor blind to every line.
        log::warn("source \"{}\": {} more lines not counted: dated before 2000, or ahead of "
                  "this machine's clock by more than max_lateness + 2 intervals ({} in all)",
                  src.name, st.agg.implausible() - st.implausible_logged, st.agg.implausible());
        st.implausible_logged = st.agg.implausible();
    }
    // Feed the intervals that are final (ended max_lateness ago); a log without lines for an
    // interval is a quiet service (zero requests), not a missing source.
    const int64_t final_ms = now_ms - src.max_lateness.count();
    if (st.watched_from_s == INT64_MAX) {
        // A line dated at or after the second after this first read is written after it: the
        // intervals from the first boundary there on are watched whole (break-it 40/01: a
        // monitor restarted on a log a logrotate had just emptied, over a dead site).
        const int64_t s = now_ms / 1000 + 1, step_s = step_ms / 1000;
        st.watched_from_s = (s + step_s - 1) / step_s * step_s;
        // The previous monitor (a restart, a reload, the last --once) watched this same file —
        // same device and inode, not shorter than it read it — from an earlier start: every
        // line written since is in it, so the watch goes on (break-it 44/06: after a
        // compressing rotation, --once on a timer never found the dead site).
        auto resumed = m_resumed_watch.find(src.name);
        const auto id = st.tailer.identity();
        if (resumed != m_resumed_watch.end() && id && id->dev == resumed->second.dev &&
            id->ino == resumed->second.ino && id->offset >= resumed->second.size) {
            st.watched_from_s = std::min(st.watched_from_s, resumed->second.since_s);
        }
        if (resumed != m_resumed_watch.end()) {
            m_resumed_watch.erase(resumed); // a different file starts afresh
        }
    }
    // Quiet intervals are zero requests from the log's first line on, or from the first
    // interval this monitor watched whole; before both the log observed nothing (a file just
    // created or rotated): no sample, as a replay has none.
    const int64_t observed_from = std::min(st.agg.observed_from(), st.watched_from_s);
    // Late lines are never dropped silently: the next sample fed carries them (its `late`).
    auto feed = [&](Sample s) {
        s.late += st.carry_late;
        st.carry_late = 0;
        m_eval.add_sample(src.name, std::move(s));
    };
    auto fill_until = [&](int64_t upto_ms) {
        if (observed_from == INT64_MAX) {
            return;
        }
        const int64_t from_t = std::max(st.fed_until_ms, observed_from * 1000);
        for (int64_t t = from_t + step_ms; t <= upto_ms; t += step_ms) {
            feed(Sample::make_requests(SystemTime(util::Millis(t)), 0, 0));
            st.fed_until_ms = t;
        }
    };
    while (!st.ready.empty() && to_ms(st.ready.front().time) <= final_ms) {
        Sample& s = st.ready.front();
        const int64_t t = to_ms(s.time);
        if (t <= st.fed_until_ms) {
            st.counts.late += s.count; // its interval was already reported as quiet
            st.carry_late += s.count;
        } else {
            fill_until(t - step_ms);
            feed(std::move(s));
            st.fed_until_ms = t;
        }
        st.ready.pop_front();
    }
    if (st.ready.empty()) {
        fill_until(final_ms / step_ms * step_ms);
    }
    const uint64_t late_now = st.counts.late + st.agg.late();
    if (late_now > st.late_logged) {
        // As lines from the future: an allowance shorter than the log's delay says so.
        log::warn("source \"{}\": {} more lines not counted: they came later than max_lateness = "
                  "{} after newer ones ({} in all); the records of the windows that hold them "
                  "show them (late)",
                  src.name, late_now - st.late_logged, util::format_duration(src.max_lateness),
                  late_now);
        st.late_logged = late_now;
    }
    reject_lines(src, st, now, final_ms, read, rejected, first_bad);
    lagging_lines(src, st, now, final_ms, read - rejected, late_now - late_before,
                  oldest_s == INT64_MAX ? 0 : now_ms / 1000 - oldest_s);
    const uint64_t ahead = st.agg.ahead() - ahead_before;
    if (ahead > 0 && ahead == st.agg.lines() - lines_before) {
        // Every line read at this tick is dated ahead of this machine's clock by more than a
        // jump: its clock is behind the web server's, and the monitor, which counts no line from
        // its future, is blind. Say so as the source being unusable (no_data, on_no_data): dated
        // just after the final window's end, so that the window's newest sample is this one and
        // no interval fed later is older than it.
        m_eval.add_sample(
            src.name,
            Sample::make_missing(
                SystemTime(util::Millis(std::max(final_ms, st.fed_until_ms) + 1)),
                decision::SampleKind::unavailable,
                "clock skew " + std::to_string(st.agg.ahead_max_s()) + " s: the " +
                    std::to_string(ahead) +
                    " lines read are dated ahead of this machine's clock by more than "
                    "max_lateness + 2 intervals (" +
                    std::to_string(st.agg.jump_s()) +
                    " s); none is counted — fix the clock (NTP) of this machine or the web "
                    "server"));
    }
}

decision::Sample Monitor::observe(const config::SourceConfig& src, exec::ProcessRunner& runner,
                                  SystemTime now) {
    util::RealHttpClient http;
    switch (src.kind) {
    case config::SourceKind::command:
        return sources::run_command(runner, src.argv, src.timeout, now);
    case config::SourceKind::http:
        return sources::probe_http(http, src.url, src.expect_status, src.timeout, now, src.tls);
    case config::SourceKind::prometheus:
        return sources::query_prometheus(http, src.url, src.query, src.timeout, now, src.tls);
    case config::SourceKind::sql:
        return sources::run_sql_query(src.dsn, src.query, src.timeout, now);
    case config::SourceKind::access_log:
        break; // followed by read_access_log, never polled
    }
    return Sample::make_missing(now, decision::SampleKind::error,
                                "source kind " + std::string(config::to_string(src.kind)) +
                                    " is followed, not polled");
}

decision::Evaluation Monitor::tick(exec::ProcessRunner& runner, SystemTime now) {
    // Network sources (http, prometheus, sql) of one tick are read side by side, so a hanging
    // target costs the tick one timeout, not one per source; commands run on this thread when
    // their turn comes (deferred), logs right away. Samples are added in the sources' order.
    std::vector<std::pair<const std::string*, std::future<Sample>>> reads;
    for (const auto& entry : m_cfg.sources) {
        // Named references, not a structured binding: lambdas capture `src` below (clang 14,
        // the fuzz and sanitizer compiler, cannot capture a binding).
        const std::string& name = entry.first;
        const config::SourceConfig& src = entry.second;
        if (!m_used.count(name)) {
            continue;
        }
        if (src.kind == config::SourceKind::access_log) {
            read_access_log(src, now);
            continue;
        }
        // Polled sources: once per their own interval (aligned like the ticks).
        auto due = m_next_due.find(name);
        if (due != m_next_due.end() && now < due->second) {
            continue;
        }
        m_next_due[name] = tick_floor(now, src.interval) + src.interval;
        if (src.kind == config::SourceKind::command) {
            reads.emplace_back(&name, std::async(std::launch::deferred, [&src, &runner, now] {
                return observe(src, runner, now);
            }));
            continue;
        }
        reads.emplace_back(&name, std::async(std::launch::async, [&src, &runner, now] {
            // Signals (SIGTERM, SIGHUP) are the main thread's to take.
            sigset_t all;
            sigfillset(&all);
            pthread_sigmask(SIG_BLOCK, &all, nullptr);
            return observe(src, runner, now);
        }));
    }
    for (auto& [name, read] : reads) {
        Sample s = read.get();
        if (s.kind == decision::SampleKind::unavailable || s.kind == decision::SampleKind::error) {
            ++m_read_errors[*name];
        }
        if (s.kind == decision::SampleKind::probe && s.errors > 0) {
            // Why the target failed (TLS, refused, timeout, status): a rollback cannot fix a
            // certificate, and the person reading the log must be able to tell.
            log::warn("source \"{}\": probe failed: {}", *name,
                      s.detail.empty() ? std::string("no reason given") : s.detail);
        }
        m_eval.add_sample(*name, std::move(s));
    }
    if (!m_ticked) {
        m_ticked = true;
        // The warm-up: the conditions over the logs just read back, at every interval boundary
        // before now, never acting (decision::Evaluator::warm_up).
        std::vector<std::string> logs;
        for (const auto& name : m_used) {
            auto src = m_cfg.sources.find(name);
            if (src != m_cfg.sources.end() && src->second.kind == config::SourceKind::access_log &&
                m_logs.count(name) && m_logs.at(name)->readable_at_start) {
                logs.push_back(name);
            }
        }
        if (!logs.empty()) {
            const util::Millis interval = m_cfg.interval;
            for (SystemTime t = tick_floor(now - warm_span(now), interval) + interval; t < now;
                 t += interval) {
                m_eval.warm_up(t, logs);
            }
        }
    }
    decision::Evaluation e = m_eval.evaluate(now);
    if (m_alerts && e.record.action == decision::Action::trigger && e.record.executed) {
        m_alerts->resume_policy(m_eval.policy_memory()); // one cooldown for the target
    }
    return e;
}

SystemTime tick_floor(SystemTime now, util::Millis interval) {
    const int64_t step = std::max<int64_t>(1, interval.count());
    const int64_t t = to_ms(now);
    return SystemTime(util::Millis(t - ((t % step) + step) % step));
}

util::Millis settle_delay(util::Millis interval) {
    return std::min<util::Millis>(util::Millis(250), interval / 4);
}

} // namespace rollback::monitor
