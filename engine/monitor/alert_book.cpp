// SPDX-License-Identifier: MIT
#include "monitor/alert_book.hpp"

#include <algorithm>
#include <cctype>

namespace rollback::monitor {

namespace {

// Label values come from outside: quoted as PromQL quotes them, control characters shown as
// escapes, so a record's detail stays one readable line.
void append_quoted(std::string& out, const std::string& v) {
    out += '"';
    for (unsigned char c : v) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c < 0x20 || c == 0x7f) {
            static constexpr char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        } else {
            out += static_cast<char>(c);
        }
    }
    out += '"';
}

/// Resolutions remembered: enough for every alert a monitor sees in a day; the oldest go first.
constexpr size_t k_resolutions_kept = 4096;

/// An alert's endsAt as a time; nullopt when absent, unreadable or Go's zero time
/// ("0001-01-01T00:00:00Z", what Alertmanager sends for a firing alert): no end announced.
std::optional<util::SystemTime> end_of(const std::string& ends_at) {
    if (ends_at.empty()) {
        return std::nullopt;
    }
    auto t = util::parse_time(ends_at);
    if (!t || *t <= util::SystemTime{}) {
        return std::nullopt;
    }
    return t;
}

} // namespace

std::string_view to_string(AlertChange::Kind k) {
    static constexpr std::string_view names[] = {
        "fired", "repeated", "resolved", "resolved_unknown", "unmatched", "stale", "expired"};
    return names[static_cast<int>(k)];
}

std::vector<AlertChange> AlertBook::apply(const server::AlertNotification& n,
                                          const std::vector<config::AlertCondition>& conditions,
                                          util::SystemTime now) {
    std::vector<AlertChange> out;
    out.reserve(n.alerts.size());
    for (const auto& a : n.alerts) {
        AlertChange ch;
        ch.fingerprint = a.fingerprint;
        ch.labels = a.labels;
        for (const auto& c : conditions) {
            if (config::matches(c, a.labels)) {
                ch.conditions.push_back(c.spec.name);
            }
        }
        auto it = m_active.find(a.fingerprint);
        const auto ends = end_of(a.ends_at);
        const auto gone = m_resolved.find(a.fingerprint);
        if (a.status == "resolved" || (ends && *ends <= now)) {
            ch.kind = it == m_active.end() ? AlertChange::Kind::resolved_unknown
                                           : AlertChange::Kind::resolved;
            if (it != m_active.end()) {
                m_active.erase(it);
            }
            remember_resolution(a.fingerprint, a.starts_at, ends ? std::min(*ends, now) : now);
        } else if (it == m_active.end() && gone != m_resolved.end() && !a.starts_at.empty() &&
                   gone->second.starts_at == a.starts_at &&
                   (!ends || *ends <= *gone->second.resolved)) {
            ch.kind = AlertChange::Kind::stale; // sent before its resolution: not a new incident
        } else if (it != m_active.end()) {
            ch.kind = AlertChange::Kind::repeated;
            it->second.labels = a.labels;
            it->second.ends_at = a.ends_at;
        } else if (ch.conditions.empty()) {
            ch.kind = AlertChange::Kind::unmatched;
        } else {
            ch.kind = AlertChange::Kind::fired;
            if (gone != m_resolved.end()) {
                m_resolved.erase(gone);
            }
            ActiveAlert active{a.fingerprint, a.labels, a.starts_at, now, a.ends_at, std::nullopt};
            m_active[a.fingerprint] = std::move(active);
        }
        out.push_back(std::move(ch));
    }
    return out;
}

void AlertBook::remember_resolution(const std::string& fingerprint, const std::string& starts_at,
                                    util::SystemTime at) {
    auto& r = m_resolved[fingerprint];
    if (r.resolved && r.starts_at == starts_at && *r.resolved >= at) {
        return; // a later resolution of the same alert is kept
    }
    r.fingerprint = fingerprint;
    r.starts_at = starts_at;
    r.resolved = at;
    while (m_resolved.size() > k_resolutions_kept) {
        auto oldest = std::min_element(
            m_resolved.begin(), m_resolved.end(),
            [](const auto& x, const auto& y) { return *x.second.resolved < *y.second.resolved; });
        m_resolved.erase(oldest);
    }
}

std::vector<AlertChange> AlertBook::expire(util::SystemTime now) {
    std::vector<AlertChange> out;
    for (auto it = m_active.begin(); it != m_active.end();) {
        const auto ends = end_of(it->second.ends_at);
        if (!ends || *ends > now) {
            ++it;
            continue;
        }
        AlertChange ch;
        ch.kind = AlertChange::Kind::expired;
        ch.fingerprint = it->first;
        ch.labels = it->second.labels;
        remember_resolution(it->first, it->second.starts_at, *ends);
        it = m_active.erase(it);
        out.push_back(std::move(ch));
    }
    return out;
}

size_t AlertBook::active(const config::AlertCondition& c) const {
    size_t n = 0;
    for (const auto& [fp, a] : m_active) {
        n += config::matches(c, a.labels) ? 1 : 0;
    }
    return n;
}

std::vector<std::string> AlertBook::fingerprints(const config::AlertCondition& c) const {
    std::vector<std::string> out;
    for (const auto& [fp, a] : m_active) {
        if (config::matches(c, a.labels)) {
            out.push_back(fp);
        }
    }
    return out;
}

std::vector<ActiveAlert> AlertBook::alerts() const {
    std::vector<ActiveAlert> out;
    out.reserve(m_active.size() + m_resolved.size());
    for (const auto& entry : m_active) {
        out.push_back(entry.second);
    }
    for (const auto& entry : m_resolved) {
        out.push_back(entry.second);
    }
    return out;
}

size_t AlertBook::restore(std::vector<ActiveAlert> kept,
                          const std::vector<config::AlertCondition>& conditions) {
    m_active.clear();
    m_resolved.clear();
    size_t left_out = 0;
    for (auto& a : kept) {
        if (a.resolved) {
            if (!a.fingerprint.empty()) {
                remember_resolution(a.fingerprint, a.starts_at, *a.resolved);
            }
            continue;
        }
        const bool matched =
            std::any_of(conditions.begin(), conditions.end(), [&](const config::AlertCondition& c) {
                return config::matches(c, a.labels);
            });
        if (!matched || a.fingerprint.empty()) {
            ++left_out;
            continue;
        }
        std::string fp = a.fingerprint;
        m_active[fp] = std::move(a);
    }
    return left_out;
}

std::string AlertBook::describe(const config::AlertCondition& c) const {
    constexpr size_t k_shown = 5;
    std::string out;
    size_t n = 0;
    for (const auto& [fp, a] : m_active) {
        if (!config::matches(c, a.labels)) {
            continue;
        }
        if (++n > k_shown) {
            continue;
        }
        if (!out.empty()) {
            out += "; ";
        }
        out += "alert {";
        bool first = true;
        for (const auto& [k, v] : a.labels) {
            out += first ? "" : ", ";
            first = false;
            for (unsigned char ch : k) { // label names are [a-zA-Z_][a-zA-Z0-9_]* in Prometheus
                out += std::isalnum(ch) || ch == '_' ? static_cast<char>(ch) : '_';
            }
            out += '=';
            append_quoted(out, v);
        }
        out += "}";
        if (!a.starts_at.empty()) {
            out += " since " + a.starts_at;
        }
        out += " (fingerprint " + fp + ")";
    }
    if (n > k_shown) {
        out += "; and " + std::to_string(n - k_shown) + " more";
    }
    return out;
}

} // namespace rollback::monitor
