// SPDX-License-Identifier: MIT
#include "cli/check_support.hpp"

#include "exec/runner.hpp"
#include "sources/collect.hpp"
#include "sources/http_probe.hpp"
#include "sources/prometheus.hpp"
#include "sources/sql_query.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/strings.hpp"

#include <boost/json.hpp>
#include <cmath>

namespace rollback::cli {

namespace fs = std::filesystem;
using decision::Sample;

config::Config load_rollback_config(const CommonOptions& common) {
    fs::path file = common.config.empty() ? fs::path("rollback.toml") : fs::path(common.config);
    if (!fs::exists(file)) {
        throw util::Error("no configuration: " + file.string() + " does not exist",
                          util::ExitCode::invalid, "pass -c rollback.toml (see docs/config.md)");
    }
    return config::load(file);
}

fs::path decision_state_dir(const CommonOptions& common, const config::Config& cfg) {
    return common.state_dir.empty() ? cfg.state_dir : fs::path(common.state_dir);
}

std::optional<DeployMarker> read_deploy_marker(const fs::path& state_dir) {
    fs::path p = state_dir / "deploy.json";
    if (!fs::exists(p)) {
        return std::nullopt;
    }
    try {
        auto v = boost::json::parse(util::read_file(p));
        DeployMarker m;
        m.release = boost::json::value_to<std::string>(v.at("release"));
        auto t = util::parse_time(boost::json::value_to<std::string>(v.at("time")));
        if (!t) {
            throw std::runtime_error("bad time");
        }
        m.time = *t;
        return m;
    } catch (const std::exception& e) {
        throw util::Error(p.string() + ": malformed deploy marker: " + e.what());
    }
}

decision::DecisionRecord evaluate_now(const config::Config& cfg, const fs::path& state_dir,
                                      util::SystemTime now) {
    decision::BaselineBook book;
    if (fs::exists(state_dir / "baselines.json")) {
        book = decision::BaselineBook::from_json(util::read_file(state_dir / "baselines.json"));
    }
    decision::Evaluator ev(cfg.conditions, cfg.decision, book);
    auto marker = read_deploy_marker(state_dir);
    if (marker) {
        ev.deployed(marker->time, marker->release);
    }
    exec::RealProcessRunner runner;
    util::RealHttpClient http;
    for (const auto& [name, src] : cfg.sources) {
        util::Millis reach{0}; // how far back the conditions on this source look
        bool used = false;
        for (const auto& c : cfg.conditions) {
            if (c.source != name) {
                continue;
            }
            used = true;
            reach = std::max(reach, c.window);
            if (c.baseline == decision::BaselineKind::before_deploy && marker) {
                auto bw = c.baseline_window.count() > 0 ? c.baseline_window : c.window;
                reach = std::max(reach,
                                 std::chrono::duration_cast<util::Millis>(now - marker->time) + bw);
            }
        }
        if (!used) {
            continue;
        }
        switch (src.kind) {
        case config::SourceKind::access_log: {
            const int64_t interval = std::max<int64_t>(1, src.interval.count() / 1000);
            sources::FileSamples fsam;
            try {
                fsam = sources::read_samples(src.path, src.format, interval,
                                             now - reach - src.interval, now);
            } catch (const util::Error& e) {
                ev.add_sample(
                    name, Sample::make_missing(now, decision::SampleKind::unavailable, e.what()));
                break;
            }
            util::SystemTime last = now - reach;
            for (auto& s : fsam.samples) {
                last = s.time;
                ev.add_sample(name, std::move(s));
            }
            // A log with no new lines is a quiet service (no traffic), not a missing source.
            using std::chrono::duration_cast;
            using std::chrono::seconds;
            const int64_t last_s = duration_cast<seconds>(last.time_since_epoch()).count();
            const int64_t now_s = duration_cast<seconds>(now.time_since_epoch()).count();
            for (int64_t t = (last_s / interval + 1) * interval; t <= now_s; t += interval) {
                ev.add_sample(name, Sample::make_requests(util::SystemTime(seconds(t)), 0, 0));
            }
            break;
        }
        case config::SourceKind::command:
            ev.add_sample(name, sources::run_command(runner, src.argv, src.timeout, now));
            break;
        case config::SourceKind::http:
            ev.add_sample(name,
                          sources::probe_http(http, src.url, src.expect_status, src.timeout, now));
            break;
        case config::SourceKind::prometheus:
            ev.add_sample(name,
                          sources::query_prometheus(http, src.url, src.query, src.timeout, now));
            break;
        case config::SourceKind::sql:
            ev.add_sample(name, sources::run_sql_query(src.dsn, src.query, src.timeout, now));
            break;
        }
    }
    return ev.evaluate(now).record;
}

fs::path write_decision_record(const fs::path& state_dir, const decision::DecisionRecord& r) {
    fs::path dir = state_dir / "decisions";
    fs::create_directories(dir);
    fs::path p = dir / (decision::record_id(r) + ".json");
    util::write_file_atomic(p, decision::to_json(r) + "\n");
    return p;
}

std::string summarize_record(const decision::DecisionRecord& r) {
    std::string out = util::format_time(r.time) + "  " + std::string(decision::to_string(r.action));
    if (r.action != decision::Action::none) {
        out +=
            r.executed ? "" : " (not executed: " + std::string(decision::to_string(r.mode)) + ")";
    }
    for (const auto& c : r.conditions) {
        out += "  " + c.name + "=" + std::string(decision::to_string(c.verdict));
        if (c.observed) {
            out += "(" + decision::format_number(std::round(*c.observed * 10000) / 10000);
            if (c.threshold) {
                out += (c.comparator == "below" ? "<" : ">") +
                       decision::format_number(std::round(*c.threshold * 10000) / 10000);
            }
            out += ")";
        }
    }
    if (r.action != decision::Action::none) {
        out += "\n    " + r.reason;
    }
    return out;
}

} // namespace rollback::cli
