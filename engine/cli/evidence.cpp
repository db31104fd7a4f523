// SPDX-License-Identifier: MIT
#include "cli/evidence.hpp"

#include "cli/check_support.hpp"
#include "util/error.hpp"
#include "util/files.hpp"

#include <boost/json/parse.hpp>
#include <cstdio>
#include <map>

namespace rollback::cli {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

report::Evidence evidence_of(const decision::ConditionRecord& c) {
    report::Evidence e;
    e.condition = c.name;
    e.signal = c.signal;
    e.unit = c.unit;
    e.comparator = c.comparator;
    e.verdict = std::string(decision::to_string(c.verdict));
    e.action = std::string(decision::to_string(c.action));
    e.observed = c.observed;
    e.threshold = c.threshold;
    if (c.baseline) {
        e.baseline = c.baseline->value;
        e.baseline_origin = c.baseline->origin;
    }
    e.window_start = c.window_start;
    e.window_end = c.window_end;
    e.counting_state = c.counting_state;
    e.detail = c.detail;
    return e;
}

// The tick log's evaluations in [from, to], by condition name (ticks-YYYY-MM-DD.jsonl, UTC day).
std::map<std::string, std::vector<report::EvidencePoint>>
read_ticks(const state::Store& store, util::SystemTime from, util::SystemTime to) {
    std::map<std::string, std::vector<report::EvidencePoint>> out;
    std::vector<std::string> days;
    for (auto t = from;; t += std::chrono::hours(24)) {
        const std::string day = util::format_time(std::min(t, to)).substr(0, 10);
        if (days.empty() || days.back() != day) {
            days.push_back(day);
        }
        if (t >= to) {
            break;
        }
    }
    for (const auto& day : days) {
        for (const auto& line : store.ticks_of_day(day)) {
            json::error_code ec;
            json::value v = json::parse(line, ec);
            if (ec || !v.is_object()) {
                continue;
            }
            const auto& o = v.as_object();
            const auto* time = o.if_contains("time");
            const auto* conds = o.if_contains("conditions");
            if (!time || !time->is_string() || !conds || !conds->is_array()) {
                continue;
            }
            auto t = util::parse_time(time->as_string());
            if (!t || *t < from || *t > to) {
                continue;
            }
            for (const auto& c : conds->as_array()) {
                if (!c.is_object()) {
                    continue;
                }
                const auto& co = c.as_object();
                const auto* name = co.if_contains("name");
                if (!name || !name->is_string()) {
                    continue;
                }
                report::EvidencePoint p{*t, std::nullopt, ""};
                if (const auto* obs = co.if_contains("observed"); obs && obs->is_number()) {
                    p.value = obs->to_number<double>();
                }
                if (const auto* verdict = co.if_contains("verdict");
                    verdict && verdict->is_string()) {
                    p.verdict = std::string(verdict->as_string());
                }
                out[std::string(name->as_string())].push_back(std::move(p));
            }
        }
    }
    return out;
}

} // namespace

report::DecisionView decision_view(const state::Store& store, const decision::DecisionRecord& r,
                                   const std::string& id, util::Millis before, util::Millis after) {
    report::DecisionView d;
    d.id = id;
    d.time = r.time;
    d.action = std::string(decision::to_string(r.action));
    d.reason = r.reason;
    d.target = r.target;
    d.release = r.release;
    d.executed = r.executed;
    auto ticks = read_ticks(store, r.time - before, r.time + after);
    for (const auto& c : r.conditions) {
        auto e = evidence_of(c);
        if (auto it = ticks.find(c.name); it != ticks.end()) {
            e.series = std::move(it->second);
        }
        if (c.name == r.cause) {
            d.conditions.insert(d.conditions.begin(), std::move(e));
        } else {
            d.conditions.push_back(std::move(e));
        }
    }
    return d;
}

std::optional<report::DecisionView> decision_view_of_run(const state::Store& store,
                                                         const std::string& decision_id) {
    if (decision_id.empty()) {
        return std::nullopt;
    }
    try {
        return decision_view(store, store.record(decision_id), decision_id);
    } catch (const std::exception&) {
        return std::nullopt; // the page says the record is not in this state directory
    }
}

} // namespace rollback::cli
