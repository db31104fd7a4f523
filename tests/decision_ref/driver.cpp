// SPDX-License-Identifier: MIT
// The C++ side of the differential test (docs/decision-reference.md): reads cases, one JSON
// object a line on stdin ({"id", "config", "data", "events"}), runs each through the functions
// `rollback check --replay` uses (config::parse, sources::read_samples, decision::Evaluator,
// monitor::replay) and prints one JSON line per case: every tick with its action, cause,
// executed, release and, per condition, verdict, action, observed (9 significant digits),
// missing, requests, late. A case the engine refuses prints {"id", "error"}.
//
// Events: deploy markers and finished rollbacks are given to the Evaluator before the first tick
// at or after their time; the replay is split at event times for that, so the ticks and the
// sample feeding stay monitor::replay's.

#include "config/config.hpp"
#include "decision/evaluator.hpp"
#include "monitor/replay.hpp"
#include "sources/collect.hpp"
#include "util/error.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

using namespace rollback;
namespace json = boost::json;

struct Event {
    int64_t ms = 0;
    std::string kind, release;
};

json::value number_or_null(const std::optional<double>& v) {
    if (!v) {
        return nullptr;
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.9g", *v);
    return json::parse(buf);
}

json::value run_case(const json::object& c, const std::filesystem::path& dir) {
    const std::string config_text(c.at("config").as_string());
    const std::string data(c.at("data").as_string());
    config::Config cfg = config::parse(config_text, "case.toml", dir);
    if (cfg.conditions.empty()) {
        throw util::Error("no condition");
    }
    const std::string source = cfg.conditions.front().source;
    const config::SourceConfig& src = cfg.sources.at(source);
    const bool is_log = src.kind == config::SourceKind::access_log;
    const auto file = dir / (is_log ? "access.log" : "series.csv");
    {
        std::ofstream out(file, std::ios::binary | std::ios::trunc);
        out << data;
    }
    // As cmd_check's replay: an access log is bucketed into its source's interval.
    const int64_t interval_s = (is_log ? src.interval : cfg.interval).count() / 1000;
    const util::Millis lateness = is_log ? src.max_lateness : util::Millis(0);
    std::vector<decision::ConditionSpec> conds;
    for (const auto& cond : cfg.conditions) {
        if (cond.source == source) {
            conds.push_back(cond);
        }
    }
    // As cmd_check's replay: an access log's quiet after its last line is judged too.
    const int64_t tail_s =
        is_log ? monitor::silence_tail(conds, cfg.interval, src.interval).count() / 1000 : 0;
    sources::FileSamples in = sources::read_samples(
        file, is_log ? src.format : "combined_request_time", interval_s, lateness.count() / 1000,
        std::nullopt, std::nullopt, sources::k_max_replay_samples, tail_s);
    decision::Evaluator ev(conds, cfg.decision);
    if (in.input_end) {
        ev.input_ends(*in.input_end); // as cmd_check's replay: the quiet after it is not observed
    }
    std::vector<Event> events;
    for (const auto& e : c.at("events").as_array()) {
        const auto& a = e.as_array();
        Event ev_item;
        ev_item.kind = std::string(a.at(0).as_string());
        ev_item.ms = a.at(1).to_number<int64_t>();
        if (a.size() > 2) {
            ev_item.release = std::string(a.at(2).as_string());
        }
        events.push_back(ev_item);
    }
    std::stable_sort(events.begin(), events.end(),
                     [](const Event& x, const Event& y) { return x.ms < y.ms; });
    json::array ticks;
    if (in.samples.empty()) {
        return ticks;
    }
    const util::Millis interval = cfg.interval;
    const util::SystemTime first = in.samples.front().time;
    // As cmd_check's replay: the last samples are judged once they are final.
    const util::SystemTime last =
        monitor::replay_last_tick(in.samples.back().time, lateness, interval);
    auto on_tick = [&](const decision::Evaluation& e) {
        const auto& r = e.record;
        json::array conds_out;
        for (const auto& cr : r.conditions) {
            json::array row;
            row.emplace_back(std::string(decision::to_string(cr.verdict)));
            row.emplace_back(std::string(decision::to_string(cr.action)));
            row.emplace_back(number_or_null(cr.observed));
            row.emplace_back(std::string(decision::to_string(cr.missing)));
            if (cr.requests) {
                row.emplace_back(*cr.requests);
            } else {
                row.emplace_back(nullptr);
            }
            if (cr.late) {
                row.emplace_back(*cr.late);
            } else {
                row.emplace_back(nullptr);
            }
            conds_out.emplace_back(std::move(row));
        }
        json::array t;
        t.emplace_back(std::chrono::duration_cast<util::Millis>(r.time.time_since_epoch()).count());
        t.emplace_back(std::string(decision::to_string(r.action)));
        t.emplace_back(r.cause);
        t.emplace_back(r.executed);
        t.emplace_back(r.release);
        t.emplace_back(std::move(conds_out));
        ticks.emplace_back(std::move(t));
    };
    std::vector<decision::Sample> samples = std::move(in.samples);
    util::SystemTime from = first;
    auto apply = [&](const Event& e) {
        const util::SystemTime t{util::Millis(e.ms)};
        if (e.kind == "deploy") {
            ev.deployed(t, e.release);
        } else {
            ev.rolled_back(t);
        }
    };
    for (const Event& e : events) {
        const util::SystemTime t{util::Millis(e.ms)};
        if (t > from) {
            // The ticks before the event, then the event, then the rest.
            const auto until = std::min(last, t - util::Millis(1));
            if (until >= from) {
                auto st = monitor::replay(ev, source, samples, from, until, interval, on_tick);
                samples.erase(samples.begin(), samples.begin() + static_cast<long>(st.samples));
            }
            from = t;
        }
        apply(e);
    }
    if (from <= last) {
        monitor::replay(ev, source, std::move(samples), from, last, interval, on_tick);
    }
    return ticks;
}

} // namespace

int main() {
    char tmpl[] = "/tmp/decision_ref.XXXXXX";
    if (!mkdtemp(tmpl)) {
        std::perror("rollback: error: decision_ref_driver: mkdtemp");
        return 1;
    }
    const std::filesystem::path dir(tmpl);
    std::string line;
    while (std::getline(std::cin, line)) {
        if (line.empty()) {
            continue;
        }
        json::object out;
        json::value id;
        try {
            const json::object c = json::parse(line).as_object();
            id = c.at("id");
            out["id"] = id;
            out["ticks"] = run_case(c, dir);
        } catch (const std::exception& e) {
            out["id"] = id;
            out["error"] = e.what();
        }
        std::string text = json::serialize(out);
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fputc('\n', stdout);
    }
    std::filesystem::remove_all(dir);
    return 0;
}
