// SPDX-License-Identifier: MIT
#include "actions/action.hpp"

#include "playbook/hosts.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <map>
#include <memory>

namespace rollback::actions {

// Each action kind's factory, declared next to its implementation file.
std::unique_ptr<Action> make_exec_action();
std::unique_ptr<Action> make_wait_action();
std::unique_ptr<Action> make_hook_action();
std::unique_ptr<Action> make_sql_action();
std::unique_ptr<Action> make_sql_assert_action();
std::unique_ptr<Action> make_pg_restore_action();
std::unique_ptr<Action> make_release_switch_action();
std::unique_ptr<Action> make_git_checkout_action();
std::unique_ptr<Action> make_service_action();
std::unique_ptr<Action> make_http_action();
std::unique_ptr<Action> make_approve_action();

namespace {

const std::map<std::string, std::unique_ptr<Action>, std::less<>>& registry() {
    static const auto table = [] {
        std::map<std::string, std::unique_ptr<Action>, std::less<>> t;
        t.emplace("exec", make_exec_action());
        t.emplace("wait", make_wait_action());
        t.emplace("hook", make_hook_action());
        t.emplace("sql", make_sql_action());
        t.emplace("sql_assert", make_sql_assert_action());
        t.emplace("pg_restore", make_pg_restore_action());
        t.emplace("release_switch", make_release_switch_action());
        t.emplace("git_checkout", make_git_checkout_action());
        t.emplace("service", make_service_action());
        t.emplace("http", make_http_action());
        t.emplace("approve", make_approve_action());
        return t;
    }();
    return table;
}

} // namespace

const Action* find_action(std::string_view name) {
    auto it = registry().find(name);
    return it == registry().end() ? nullptr : it->second.get();
}

std::vector<std::string> action_names() {
    std::vector<std::string> out;
    for (const auto& [name, _] : registry()) {
        out.push_back(name);
    }
    return out;
}

std::vector<util::Diagnostic> parse_step(const playbook::Playbook& pb, playbook::Step& step) {
    const Action* action = find_action(step.action);
    if (action == nullptr) {
        return {};
    }
    if (step.hosts.empty()) {
        Parsed parsed = action->parse(pb, step);
        step.parsed = parsed.diagnostics.empty() ? std::move(parsed.params) : nullptr;
        return std::move(parsed.diagnostics);
    }
    // On hosts the keys hold per-host values: they are checked as each host will run them (a
    // port from {{host.port}} is a port only once bound). A problem every host has is reported
    // once; one of some hosts names them. Each host's run parses its bound keys again.
    step.parsed = nullptr;
    const auto hosts = pb.inventory.select(step.hosts);
    std::vector<std::pair<util::Diagnostic, std::vector<std::string>>> found;
    for (const remote::Host* h : hosts) {
        for (auto& d : action->parse(pb, playbook::bind_host(step, *h)).diagnostics) {
            auto same = std::find_if(found.begin(), found.end(), [&d](const auto& f) {
                return f.first.problem == d.problem && f.first.where.line == d.where.line &&
                       f.first.where.column == d.where.column;
            });
            if (same == found.end()) {
                found.push_back({std::move(d), {h->name}});
            } else {
                same->second.push_back(h->name);
            }
        }
    }
    std::vector<util::Diagnostic> out;
    for (auto& [d, names] : found) {
        if (names.size() != hosts.size()) {
            d.problem = "host " + util::join(names, ", ") + ": " + d.problem;
        }
        out.push_back(std::move(d));
    }
    if (hosts.empty()) {
        return action->parse(pb, step).diagnostics;
    }
    return out;
}

std::string_view to_string(Status s) {
    switch (s) {
    case Status::succeeded:
        return "succeeded";
    case Status::failed:
        return "failed";
    case Status::verification_failed:
        return "verification_failed";
    case Status::timed_out:
        return "timed_out";
    case Status::interrupted:
        return "interrupted";
    }
    return "failed";
}

} // namespace rollback::actions
