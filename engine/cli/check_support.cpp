// SPDX-License-Identifier: MIT
#include "cli/check_support.hpp"

#include "cli/state_dir.hpp"
#include "exec/runner.hpp"
#include "monitor/monitor.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/strings.hpp"

#include <boost/json.hpp>
#include <cmath>

namespace rollback::cli {

namespace fs = std::filesystem;

config::Config load_rollback_config(const CommonOptions& common) {
    auto file = find_config(common, {});
    if (!file) {
        throw util::Error("no configuration: rollback.toml does not exist", util::ExitCode::invalid,
                          "pass -c rollback.toml (see docs/config.md)");
    }
    return config::load(*file);
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
    // One tick of the monitor's own reading and evaluation: `check` and `monitor --once` judge
    // the same data the same way.
    decision::BaselineBook book;
    if (fs::exists(state_dir / "baselines.json")) {
        book = decision::BaselineBook::from_json(util::read_file(state_dir / "baselines.json"));
    }
    monitor::Monitor mon(cfg, std::move(book));
    if (auto marker = read_deploy_marker(state_dir)) {
        mon.deployed(marker->time, marker->release);
    }
    exec::RealProcessRunner runner;
    return mon.tick(runner, now).record;
}

decision::DecisionRecord read_decision_record(const fs::path& state_dir, const std::string& id) {
    const fs::path dir = state_dir / "decisions";
    const fs::path file = dir / (id + ".json");
    if (id.empty() || id.find('/') != std::string::npos || !fs::exists(file)) {
        throw util::Error("no decision record " + util::quoted(id) + " in " + dir.string(),
                          util::ExitCode::invalid);
    }
    return decision::from_json(util::read_file(file));
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
