// SPDX-License-Identifier: MIT
#include "cli/decision_actions.hpp"

#include "actions/hooks.hpp"
#include "cli/check_support.hpp"
#include "state/local_store.hpp"
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
    state::LocalStore store(state_dir);
    actions::Context ctx{pb, step, runner, "", state_dir, {}, store, t, false, {}};
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

} // namespace rollback::cli
