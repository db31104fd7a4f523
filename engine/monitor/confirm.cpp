// SPDX-License-Identifier: MIT
// Confirming an alert (docs/config.md "Confirming an alert"): an alert carries no values, so an
// alert condition with `confirm` re-queries its Prometheus source before it acts. Only a fresh
// number confirms: the query's sample must be no older than the alert. Anything else that is no
// number is no data — never a confirmation, and never a recovery (a pending approval stays).

#include "monitor/monitor.hpp"

#include "decision/record.hpp"
#include "sources/prometheus.hpp"
#include "util/http_client.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"
#include "util/time.hpp"

#include <algorithm>
#include <cmath>

namespace rollback::monitor {

using decision::Sample;

SystemTime Monitor::alerts_since(const config::AlertCondition& a, const AlertBook& book) {
    std::optional<SystemTime> since;
    for (const auto& alert : book.alerts()) {
        if (alert.resolved || !config::matches(a, alert.labels)) {
            continue;
        }
        SystemTime t = alert.received;
        if (auto started = util::parse_time(alert.starts_at)) {
            t = *started;
        }
        since = since ? std::min(*since, t) : t;
    }
    return since.value_or(SystemTime{});
}

bool Monitor::confirmed(const config::AlertCondition& a, SystemTime now, SystemTime since,
                        Sample& s) {
    const auto& c = *a.confirm;
    auto src = m_cfg.sources.find(c.source);
    auto ask = [&](const std::string& query) {
        if (src == m_cfg.sources.end()) { // config::load refuses it; a hand-built config may not
            return Sample::make_missing(now, decision::SampleKind::error, "no source " + c.source);
        }
        config::SourceConfig asked = src->second;
        asked.query = query;
        if (m_confirm_query) {
            return m_confirm_query(asked, now);
        }
        util::RealHttpClient http;
        return sources::query_prometheus(http, asked.url, asked.query, asked.timeout, now,
                                         asked.tls);
    };
    const std::string expr = src == m_cfg.sources.end() ? std::string() : src->second.query;
    const std::string query = expr.empty() ? std::string() : " " + util::quoted(expr);
    const std::string rule =
        std::string(c.above ? "above " : "below ") + decision::format_number(c.threshold);
    Sample q = ask(expr);
    // The sample's own time: an instant query answers at its evaluation time with the newest
    // sample of the last 5 minutes — from before a Prometheus restart, or of a target that is
    // down (up = 0), just as well.
    std::string stale;
    if (q.kind == decision::SampleKind::value) {
        // With a `#` in the query, the closing parenthesis goes on a line of its own: a comment
        // ending the query's last line would swallow it (a PromQL comment runs to the end of
        // its line), and the query would never confirm.
        const bool comment = expr.find('#') != std::string::npos;
        const Sample t = ask("timestamp(" + expr + (comment ? "\n)" : ")"));
        if (t.kind != decision::SampleKind::value) {
            q = t;
            q.detail = "the time of its sample: " + t.detail;
        } else if (const auto at = util::time_from_millis(std::llround(t.value * 1000));
                   !at || *at < since) {
            stale = "stale: its sample is from " +
                    (at ? util::format_time(*at) : decision::format_number(t.value)) +
                    ", before the alert (since " + util::format_time(since) + ")";
        }
    }
    bool ok = false;
    std::string why;
    if (q.kind == decision::SampleKind::value && stale.empty()) {
        ok = c.above ? q.value > c.threshold : q.value < c.threshold;
        why = "source " + c.source + query + " = " + decision::format_number(q.value) +
              (ok ? ", " : ", not ") + rule;
    } else if (q.kind == decision::SampleKind::value) {
        why = "source " + c.source + query + " gave no fresh number (" +
              decision::format_number(q.value) + ", " + stale + "), needed " + rule;
    } else {
        const char* kind = q.kind == decision::SampleKind::unavailable ? "no data"
                           : q.kind == decision::SampleKind::error     ? "error"
                                                                       : "not a value";
        why = "source " + c.source + query + " gave no number (" + kind +
              (q.detail.empty() ? std::string() : ": " + q.detail) + "), needed " + rule;
    }
    const bool failed =
        q.kind == decision::SampleKind::unavailable || q.kind == decision::SampleKind::error;
    if (failed) {
        ++m_read_errors[c.source];
        if (m_confirm_failing.insert(c.source).second) {
            log::warn("condition \"{}\": its confirming source \"{}\" gave no number ({}): its "
                      "alerts are neither confirmed nor resolved until it answers",
                      a.spec.name, c.source, q.detail);
        }
    } else if (m_confirm_failing.erase(c.source) > 0) {
        log::info("condition \"{}\": its confirming source \"{}\" answers again", a.spec.name,
                  c.source);
    }
    const auto active = static_cast<uint64_t>(s.value);
    if (ok) {
        s.detail = "confirmed: " + why + "; " + s.detail;
    } else if (q.kind == decision::SampleKind::value && stale.empty()) {
        s.detail =
            std::to_string(active) + " active alert(s) not confirmed: " + why + "; " + s.detail;
        s.value = 0;
    } else {
        // No number is no data: the condition is no_data (on_no_data), its incident and a
        // pending approval stay as they were — missing data is not a recovery.
        s = Sample::make_missing(now, decision::SampleKind::unavailable,
                                 std::to_string(active) + " active alert(s) not confirmed: " + why +
                                     "; " + s.detail);
    }
    return ok;
}

} // namespace rollback::monitor
