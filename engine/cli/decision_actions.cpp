// SPDX-License-Identifier: MIT
#include "cli/decision_actions.hpp"

#include "actions/hooks.hpp"
#include "cli/check_support.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

#include <boost/json.hpp>

namespace rollback::cli {

namespace fs = std::filesystem;

actions::Trigger trigger_of(const decision::DecisionRecord& r, const std::string& decision_id,
                            std::string kind) {
    actions::Trigger t;
    t.kind = std::move(kind);
    t.condition = r.cause;
    for (const auto& c : r.conditions) {
        if (c.name == r.cause) {
            t.severity = std::string(decision::to_string(c.severity));
        }
    }
    t.reason = r.reason;
    t.decision_id = decision_id;
    return t;
}

std::vector<std::string> tell_hooks(const config::Config& cfg, const playbook::Playbook& pb,
                                    exec::ProcessRunner& runner, const fs::path& state_dir,
                                    const decision::DecisionRecord& r,
                                    const std::string& decision_id) {
    std::vector<std::string> failures;
    if (cfg.hooks.empty()) {
        return failures;
    }
    const actions::Trigger t = trigger_of(r, decision_id, "monitor");
    playbook::Step step; // a decision is no step: the event's "step" is ""
    actions::Context ctx{pb, step, runner, "", state_dir, {}, t, false, {}};
    boost::json::object extra{{"decision_id", decision_id},
                              {"summary", summarize_record(r)},
                              {"executed", r.executed},
                              {"mode", decision::to_string(r.mode)}};
    if (r.action == decision::Action::request_approval) {
        extra["approve"] = "rollback approve " + decision_id + " -c " + cfg.file.string();
    }
    auto event = actions::hook_event(ctx, "decision", decision::to_string(r.action), extra);
    for (const auto& name : cfg.hooks) {
        auto result = actions::run_hook(ctx, name, event);
        if (result.status != actions::Status::succeeded) {
            std::string why = "hook " + name + " (decision " + decision_id +
                              "): " + result.summary + ": " +
                              util::tail(std::string(util::trim(result.output_tail)), 300);
            log::warn("monitor: {}", why);
            failures.push_back(std::move(why));
        }
    }
    return failures;
}

void append_tick(const fs::path& state_dir, const decision::DecisionRecord& r,
                 const std::string& written_id, int keep_days) {
    boost::json::array conds;
    for (const auto& c : r.conditions) {
        boost::json::object o{{"name", c.name}, {"verdict", decision::to_string(c.verdict)}};
        if (c.observed) {
            o["observed"] = *c.observed;
        } else {
            o["observed"] = nullptr;
        }
        conds.push_back(std::move(o));
    }
    boost::json::object line{{"version", decision::k_record_version},
                             {"kind", "tick"},
                             {"time", util::format_time(r.time)},
                             {"action", decision::to_string(r.action)},
                             {"executed", r.executed},
                             {"record", written_id},
                             {"conditions", std::move(conds)}};
    const std::string day = util::format_time(r.time).substr(0, 10);
    const fs::path dir = state_dir / "decisions";
    const fs::path file = dir / ("ticks-" + day + ".jsonl");
    std::error_code ec;
    const bool new_day = !fs::exists(file, ec);
    fs::create_directories(dir, ec);
    if (!util::append_line(file, boost::json::serialize(line))) {
        log::warn("cannot append to {}", file.string());
        return;
    }
    if (!new_day) {
        return;
    }
    // A new day: drop tick files past their keep (names sort by day).
    const std::string oldest =
        "ticks-" + util::format_time(r.time - std::chrono::hours(24) * keep_days).substr(0, 10) +
        ".jsonl";
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        const std::string name = e.path().filename().string();
        if (name.rfind("ticks-", 0) == 0 && name < oldest) {
            fs::remove(e.path(), ec);
        }
    }
}

fs::path approval_path(const fs::path& state_dir, const std::string& decision_id) {
    // Decision ids are "<time>.<ms>Z-<hex>": nothing that could leave the directory.
    if (decision_id.empty() || decision_id.front() == '.' ||
        decision_id.find_first_of("/\\") != std::string::npos) {
        throw util::Error("not a decision id: " + util::quoted(decision_id),
                          util::ExitCode::invalid);
    }
    return state_dir / "approvals" / (decision_id + ".json");
}

void write_approval(const fs::path& state_dir, const ApprovalRequest& a) {
    boost::json::object o{{"version", 1},
                          {"decision_id", a.decision_id},
                          {"requested_at", util::format_time(a.requested_at)},
                          {"expires_at", util::format_time(a.expires_at)},
                          {"condition", a.condition},
                          {"severity", a.severity},
                          {"reason", a.reason},
                          {"state", a.state},
                          {"approved_by", a.approved_by},
                          {"approved_at", a.approved_at ? util::format_time(*a.approved_at) : ""},
                          {"run_id", a.run_id}};
    fs::create_directories(state_dir / "approvals");
    util::write_file_atomic(approval_path(state_dir, a.decision_id),
                            boost::json::serialize(o) + "\n");
}

namespace {

ApprovalRequest parse_approval(const fs::path& file) {
    try {
        auto v = boost::json::parse(util::read_file(file)).as_object();
        auto str = [&](const char* k) { return std::string(v.at(k).as_string()); };
        auto time = [&](const char* k) {
            auto t = util::parse_time(str(k));
            if (!t) {
                throw std::runtime_error(std::string("bad time in ") + k);
            }
            return *t;
        };
        ApprovalRequest a;
        a.decision_id = str("decision_id");
        a.requested_at = time("requested_at");
        a.expires_at = time("expires_at");
        a.condition = str("condition");
        a.severity = str("severity");
        a.reason = str("reason");
        a.state = str("state");
        a.approved_by = str("approved_by");
        if (!str("approved_at").empty()) {
            a.approved_at = time("approved_at");
        }
        a.run_id = str("run_id");
        return a;
    } catch (const std::exception& e) {
        throw util::Error(file.string() + ": malformed approval request: " + e.what());
    }
}

} // namespace

std::optional<ApprovalRequest> read_approval(const fs::path& state_dir,
                                             const std::string& decision_id) {
    fs::path p = approval_path(state_dir, decision_id);
    if (!fs::exists(p)) {
        return std::nullopt;
    }
    return parse_approval(p);
}

std::vector<ApprovalRequest> list_approvals(const fs::path& state_dir) {
    std::vector<ApprovalRequest> out;
    const fs::path dir = state_dir / "approvals";
    if (!fs::is_directory(dir)) {
        return out;
    }
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.path().extension() == ".json") {
            files.push_back(e.path());
        }
    }
    std::sort(files.begin(), files.end()); // ids start with the time
    for (const auto& f : files) {
        out.push_back(parse_approval(f));
    }
    return out;
}

} // namespace rollback::cli
