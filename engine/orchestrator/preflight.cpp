// SPDX-License-Identifier: MIT
#include "orchestrator/preflight.hpp"

#include "orchestrator/hosts.hpp"
#include "playbook/hosts.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <optional>

namespace rollback::orchestrator {

size_t Preflight::problems() const {
    size_t n = 0;
    for (const auto& s : steps) {
        if (!s.planned->selected) {
            continue;
        }
        for (const auto& c : s.checks) {
            n += c.ok ? 0 : 1;
        }
    }
    return n;
}

std::vector<std::string> Preflight::failures() const {
    std::vector<std::string> out;
    for (const auto& s : steps) {
        if (!s.planned->selected) {
            continue;
        }
        for (const auto& c : s.checks) {
            if (!c.ok) {
                out.push_back(
                    util::mask_secrets(s.planned->step->id + ": " + c.what + ": " + c.problem));
            }
        }
    }
    return out;
}

namespace {

std::string preflight_failed_text(const std::vector<std::string>& failures) {
    std::string out = "preflight found problems; nothing was run";
    if (!failures.empty()) {
        out += ": " + failures.front();
    }
    if (failures.size() > 1) {
        out += " (and " + std::to_string(failures.size() - 1) + " more)";
    }
    return out;
}

} // namespace

PreflightFailed::PreflightFailed(std::vector<std::string> failures)
    : util::Error(preflight_failed_text(failures), util::ExitCode::invalid,
                  "fix them (see the plan above), then run again"),
      m_failures(std::move(failures)) {}

Preflight preflight(const Plan& plan, const std::filesystem::path& state_dir, state::Store& store,
                    const actions::Trigger& trigger, exec::ProcessRunner& runner,
                    std::shared_ptr<remote::Connections> connections) {
    Preflight out;
    std::optional<HostPreflight> hosts; // made by the first step on hosts
    for (const auto& ps : plan.steps) {
        StepPreflight sp;
        sp.planned = &ps;
        const actions::Action* action = actions::find_action(ps.step->action);
        if (action == nullptr) {
            sp.description = ps.step->action;
            sp.checks.push_back(
                {false, "action", "unknown action " + util::quoted(ps.step->action), {}});
        } else {
            sp.description = playbook::show_host_references(action->describe(*ps.step));
            if (ps.selected) {
                actions::Context ctx{*plan.playbook, *ps.step, runner, "plan", state_dir, {},
                                     store,          trigger,  false,  {}};
                try {
                    // On hosts: each host, and the action's checks there.
                    if (ps.step->hosts.empty()) {
                        sp.checks = action->preflight(ctx);
                    } else {
                        if (!hosts) {
                            hosts.emplace(*plan.playbook, runner, state_dir, store, trigger,
                                          connections);
                        }
                        sp.checks = hosts->step(*ps.step);
                    }
                } catch (const std::exception& e) {
                    sp.checks.push_back({false, "preflight", e.what(), {}});
                }
            }
        }
        out.steps.push_back(std::move(sp));
    }
    return out;
}

} // namespace rollback::orchestrator
