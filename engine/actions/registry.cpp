// SPDX-License-Identifier: MIT
#include "actions/action.hpp"

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
    Parsed parsed = action->parse(pb, step);
    step.parsed = parsed.diagnostics.empty() ? std::move(parsed.params) : nullptr;
    return std::move(parsed.diagnostics);
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
