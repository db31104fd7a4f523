// SPDX-License-Identifier: MIT
#include "cli/plan_view.hpp"

#include "util/duration.hpp"
#include "util/secrets.hpp"
#include "util/strings.hpp"

#include <boost/json/array.hpp>
#include <cstdio>

namespace rollback::cli {
namespace {

std::string pad(std::string s, size_t width) {
    if (s.size() < width) {
        s.append(width - s.size(), ' ');
    }
    return s;
}

std::string paint(bool color, const char* code, const std::string& text) {
    return color ? std::string("\033[") + code + "m" + text + "\033[0m" : text;
}

// The lifecycle events in the order a run calls them (hooks/README.md).
constexpr const char* k_hook_events[] = {"on-trigger", "before-step", "after-step", "on-failure",
                                         "on-success"};

/// Text a playbook, the environment or a check supplied, as a terminal may show it: secrets
/// masked, control characters visible (util::terminal_text).
std::string shown(std::string_view text) {
    return util::terminal_text(text);
}

} // namespace

std::string plan_text(const orchestrator::Plan& plan, const orchestrator::Preflight& pre,
                      bool color) {
    const auto& pb = *plan.playbook;
    size_t regular = 0, fin = 0, skipped = 0;
    size_t id_w = 4;
    for (const auto& ps : plan.steps) {
        (ps.is_finally ? fin : regular) += 1;
        skipped += ps.selected ? 0 : 1;
        id_w = std::max(id_w, ps.step->id.size());
    }
    std::string out = "Plan: " + shown(pb.name) + " (" + shown(pb.file.string()) + ")\n";
    if (!pb.description.empty()) {
        out += "  " + shown(pb.description) + "\n";
    }
    out += "  " + std::to_string(regular) + " steps, " + std::to_string(fin) + " finally";
    if (skipped > 0) {
        out += ", " + std::to_string(skipped) + " skipped";
    }
    out += "\n\n";
    out += "   # " + pad("step", id_w) + "  " + pad("phase", 9) + "  " + pad("action", 14) + "  " +
           pad("timeout", 7) + "  retries  what\n";
    int n = 0;
    for (size_t i = 0; i < plan.steps.size(); ++i) {
        const auto& ps = plan.steps[i];
        const auto& s = *ps.step;
        char num[16];
        std::snprintf(num, sizeof num, "%4d", ++n);
        std::string line = std::string(num) + " " + pad(shown(s.id), id_w) + "  " +
                           pad(std::string(playbook::to_string(s.phase)), 9) + "  " +
                           pad(s.action, 14) + "  " + pad(util::format_duration(s.timeout), 7) +
                           "  " + pad(std::to_string(s.retries), 7) + "  " +
                           shown(pre.steps[i].description);
        out += ps.selected
                   ? line + "\n"
                   : paint(color, "2", line + "   [skipped: " + shown(ps.skip_reason) + "]") + "\n";
        if (!s.needs.empty()) {
            out += "       needs: " + shown(util::join(s.needs, ", ")) + "\n";
        }
        if (!s.when.empty() && ps.selected) {
            out += "       when: " + shown(s.when) + "\n";
        }
    }
    if (!pb.variables.empty()) {
        out += "\nVariables:\n";
        size_t w = 4;
        for (const auto& v : pb.variables) {
            w = std::max(w, v.name.size());
        }
        for (const auto& v : pb.variables) {
            out += "  " + pad(v.name, w) + " = " +
                   (v.secret ? std::string("***") : shown(v.value)) + "   (" + shown(v.origin) +
                   ")\n";
        }
    }
    if (!pb.hooks.empty()) {
        out += "\nHooks (" + shown(pb.hooks_dir.string()) + "):\n";
        for (const char* event : k_hook_events) {
            if (auto it = pb.hooks.find(event); it != pb.hooks.end() && !it->second.empty()) {
                out += "  " + pad(event, 12) + shown(util::join(it->second, ", ")) + "\n";
            }
        }
    }
    out += "\nPreflight:\n";
    size_t checks = 0;
    for (const auto& sp : pre.steps) {
        for (const auto& c : sp.checks) {
            ++checks;
            if (c.ok && c.notice) {
                out += "  " + paint(color, "33", "note") + "  " + shown(sp.planned->step->id) +
                       ": " + shown(c.what) + "\n";
                if (!c.hint.empty()) {
                    out += "        " + shown(c.hint) + "\n";
                }
            } else if (c.ok) {
                out += "  " + paint(color, "32", "ok  ") + "  " + shown(sp.planned->step->id) +
                       ": " + shown(c.what) + "\n";
            } else {
                out += "  " + paint(color, "31", "FAIL") + "  " + shown(sp.planned->step->id) +
                       ": " + shown(c.what) + ": " + shown(c.problem) + "\n";
                if (!c.hint.empty()) {
                    out += "        hint: " + shown(c.hint) + "\n";
                }
            }
        }
    }
    if (checks == 0) {
        out += "  (nothing to check)\n";
    }
    size_t problems = pre.problems();
    out += problems == 0 ? "\nRunnable: yes\n"
                         : "\nRunnable: no — " + std::to_string(problems) + " preflight problem" +
                               (problems == 1 ? "" : "s") + "\n";
    return util::mask_secrets(out);
}

boost::json::object plan_json(const orchestrator::Plan& plan, const orchestrator::Preflight& pre) {
    boost::json::array steps;
    for (size_t i = 0; i < plan.steps.size(); ++i) {
        const auto& ps = plan.steps[i];
        const auto& s = *ps.step;
        boost::json::array checks;
        for (const auto& c : pre.steps[i].checks) {
            checks.push_back({{"ok", c.ok},
                              {"notice", c.notice},
                              {"what", util::mask_secrets(c.what)},
                              {"problem", util::mask_secrets(c.problem)},
                              {"hint", util::mask_secrets(c.hint)}});
        }
        steps.push_back({{"id", s.id},
                         {"phase", playbook::to_string(s.phase)},
                         {"action", s.action},
                         {"finally", ps.is_finally},
                         {"selected", ps.selected},
                         {"skip_reason", ps.skip_reason},
                         {"what", util::mask_secrets(pre.steps[i].description)},
                         {"timeout_ms", s.timeout.count()},
                         {"retries", s.retries},
                         {"on_failure", playbook::to_string(s.on_failure)},
                         {"idempotent", s.idempotent},
                         {"checks", std::move(checks)}});
    }
    boost::json::array vars;
    for (const auto& v : plan.playbook->variables) {
        vars.push_back({{"name", v.name},
                        {"value", v.secret ? std::string("***") : util::mask_secrets(v.value)},
                        {"secret", v.secret},
                        {"origin", v.origin}});
    }
    boost::json::object hooks;
    for (const char* event : k_hook_events) {
        if (auto it = plan.playbook->hooks.find(event); it != plan.playbook->hooks.end()) {
            boost::json::array names;
            for (const auto& n : it->second) {
                names.emplace_back(n);
            }
            hooks[event] = std::move(names);
        }
    }
    return {{"type", "plan"},
            {"playbook", plan.playbook->file.string()},
            {"name", plan.playbook->name},
            {"steps", std::move(steps)},
            {"variables", std::move(vars)},
            {"hooks", std::move(hooks)},
            {"hooks_dir", plan.playbook->hooks_dir.string()},
            {"problems", pre.problems()},
            {"runnable", pre.problems() == 0}};
}

} // namespace rollback::cli
