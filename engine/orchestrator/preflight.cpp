// SPDX-License-Identifier: MIT
#include "orchestrator/preflight.hpp"

#include "orchestrator/hosts.hpp"
#include "playbook/hosts.hpp"
#include "util/strings.hpp"

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

Preflight preflight(const Plan& plan, const std::filesystem::path& state_dir, state::Store& store,
                    const actions::Trigger& trigger, exec::ProcessRunner& runner) {
    Preflight out;
    for (const auto& ps : plan.steps) {
        StepPreflight sp;
        sp.planned = &ps;
        const actions::Action* action = actions::find_action(ps.step->action);
        if (action == nullptr) {
            sp.description = ps.step->action;
            sp.checks.push_back(
                {false, "action", "unknown action " + util::quoted(ps.step->action), {}});
        } else {
            // A host step's {{host}} references are shown as written, not as the
            // placeholders they wait in until the step is bound to each host.
            sp.description = playbook::show_host_references(action->describe(*ps.step));
            if (ps.selected) {
                actions::Context ctx{*plan.playbook, *ps.step, runner, "plan", state_dir, {},
                                     store,          trigger,  false,  {}};
                try {
                    // On hosts: the hosts are what can be checked from here (the program and
                    // its directory are the hosts').
                    sp.checks = ps.step->hosts.empty()
                                    ? action->preflight(ctx)
                                    : preflight_hosts(*plan.playbook, *ps.step, runner);
                } catch (const std::exception& e) {
                    sp.checks.push_back({false, "preflight", e.what(), {}});
                }
            }
        }
        for (auto& c : sp.checks) {
            c.what = playbook::show_host_references(c.what);
            c.problem = playbook::show_host_references(c.problem);
            c.hint = playbook::show_host_references(c.hint);
        }
        out.steps.push_back(std::move(sp));
    }
    return out;
}

} // namespace rollback::orchestrator
