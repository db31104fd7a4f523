// SPDX-License-Identifier: MIT
#include "cli/check_support.hpp"

#include "util/secrets.hpp"

#include "cli/state_dir.hpp"
#include "exec/runner.hpp"
#include "monitor/monitor.hpp"
#include "state/local_store.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <algorithm>
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

std::vector<DeployMarker> read_deploy_history(const fs::path& state_dir,
                                              const std::string& target) {
    const fs::path p = state_dir / "deploys.jsonl";
    std::vector<DeployMarker> out;
    if (!fs::exists(p)) {
        if (auto m = read_deploy_marker(state_dir)) {
            out.push_back(std::move(*m));
        }
        return out;
    }
    const std::string text = util::read_file(p);
    std::vector<util::Diagnostic> errors;
    int line_no = 0;
    for (std::string_view rest = text; !rest.empty();) {
        const size_t nl = rest.find('\n');
        const std::string_view line = rest.substr(0, nl);
        rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
        ++line_no;
        if (util::trim(line).empty()) {
            continue;
        }
        // What is wrong with the line, or empty when it is a marker (then in `m`).
        DeployMarker m;
        std::string problem;
        boost::system::error_code ec;
        const boost::json::value v = boost::json::parse(line, ec);
        const boost::json::object* o = ec ? nullptr : v.if_object();
        auto text_of = [&](std::string_view key) -> const boost::json::string* {
            const auto* f = o->if_contains(key);
            return f ? f->if_string() : nullptr;
        };
        if (!o) {
            problem = ec ? "not JSON (" + ec.message() + ")" : "not a JSON object";
        } else if (const auto* tg = text_of("target"); tg && !target.empty() && *tg != target) {
            continue; // another target's marker in a shared state directory
        } else if (const auto* r = text_of("release"); !r || r->empty()) {
            problem = "no \"release\"";
        } else if (const auto* w = text_of("time"); !w) {
            problem = "no \"time\"";
        } else if (auto t = util::parse_time(std::string_view(w->data(), w->size())); !t) {
            problem = "cannot read time " + util::quoted(std::string_view(w->data(), w->size()));
        } else {
            m.release = std::string(r->data(), r->size());
            m.time = *t;
        }
        if (!problem.empty()) {
            errors.push_back({{p.string(), line_no, 1},
                              "deploy marker",
                              "malformed: " + problem,
                              "each line is written by `rollback deployed`; fix or remove it"});
            continue;
        }
        out.push_back(std::move(m));
    }
    if (!errors.empty()) {
        throw util::InvalidInput(std::move(errors));
    }
    // Recorded in the order `rollback deployed` ran; a deploy recorded later with an earlier
    // --time belongs where its time puts it.
    std::stable_sort(out.begin(), out.end(),
                     [](const DeployMarker& a, const DeployMarker& b) { return a.time < b.time; });
    return out;
}

decision::DecisionRecord evaluate_now(const config::Config& cfg, const fs::path& state_dir,
                                      util::SystemTime now) {
    // One tick of the monitor's own reading and evaluation: `check` and `monitor --once` judge
    // the same data the same way.
    monitor::Monitor mon(
        cfg, state::LocalStore(state_dir).baselines().value_or(decision::BaselineBook{}));
    if (auto marker = read_deploy_marker(state_dir)) {
        mon.deployed(marker->time, marker->release);
    }
    exec::RealProcessRunner runner;
    return mon.tick(runner, now).record;
}

std::string summarize_record(const decision::DecisionRecord& r) {
    std::string out = util::format_time(r.time) + "  " + std::string(decision::to_string(r.action));
    if (r.action != decision::Action::none) {
        out +=
            r.executed ? "" : " (not executed: " + std::string(decision::to_string(r.mode)) + ")";
    }
    for (const auto& c : r.conditions) {
        // Names and reasons come from the config and the sources: shown, never interpreted by
        // the terminal. Numbers in full (shortest round trip): rounded, 5.00004 > 5 read "5>5".
        out +=
            "  " + util::terminal_text(c.name) + "=" + std::string(decision::to_string(c.verdict));
        if (c.observed) {
            out += "(" + decision::format_number(*c.observed);
            if (c.threshold) {
                out +=
                    (c.comparator == "below" ? "<" : ">") + decision::format_number(*c.threshold);
            }
            out += ")";
        }
    }
    if (r.action != decision::Action::none) {
        out += "\n    " + util::terminal_text(r.reason);
    }
    return out;
}

} // namespace rollback::cli
