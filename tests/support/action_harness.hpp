// SPDX-License-Identifier: MIT
#pragma once

// Running one action the way the orchestrator does, for action tests: a playbook in a temp
// directory, one step whose params the test sets, the real process runner, a state dir, and the
// progress lines collected. Header-only: only tests that link rb_actions include it.

#include "actions/action.hpp"
#include "exec/runner.hpp"
#include "playbook/model.hpp"
#include "state/local_store.hpp"

#include <boost/json/parse.hpp>
#include <filesystem>
#include <string>
#include <vector>

namespace rollback::test {

struct ActionHarness {
    /// `dir` holds the playbook directory (dir/playbook) and the state dir (dir/state).
    ActionHarness(const std::filesystem::path& dir, const std::string& action,
                  const std::string& params_json) {
        playbook.file = dir / "playbook" / "test.toml";
        playbook.directory = dir / "playbook";
        playbook.name = "test";
        std::filesystem::create_directories(playbook.directory);
        step.id = action + "-step";
        step.action = action;
        step.where = {playbook.file.string(), 1, 1};
        step.params = boost::json::parse(params_json).as_object();
        state_dir = dir / "state";
        store = state::LocalStore(state_dir);
    }

    actions::Context context() {
        actions::Context ctx{playbook,
                             step,
                             fake != nullptr ? *fake : static_cast<exec::ProcessRunner&>(runner),
                             run_id,
                             state_dir,
                             state_dir / "runs" / run_id,
                             store,
                             trigger,
                             false,
                             [this](const std::string& line) { progress.push_back(line); }};
        return ctx;
    }
    const actions::Action& action() const {
        const actions::Action* a = actions::find_action(step.action);
        if (a == nullptr) {
            throw std::runtime_error("action not registered: " + step.action);
        }
        return *a;
    }
    /// The step as the loader leaves it: its keys parsed once and kept in step.parsed (left
    /// empty when they do not parse). Called by run() and preflight(), after any change to
    /// step.params a test made.
    std::vector<util::Diagnostic> parse() { return actions::parse_step(playbook, step); }
    actions::Result run() {
        parse();
        return action().run(context());
    }
    std::vector<actions::Check> preflight() {
        parse();
        return action().preflight(context());
    }
    std::vector<util::Diagnostic> validate() const { return action().validate(playbook, step); }

    playbook::Playbook playbook;
    playbook::Step step;
    exec::RealProcessRunner runner;
    exec::ProcessRunner* fake = nullptr; ///< when set, runs the commands instead of `runner`
    actions::Trigger trigger;
    std::string run_id = "run-1";
    std::filesystem::path state_dir;
    state::LocalStore store{""}; ///< the state_dir's: what the actions keep there
    std::vector<std::string> progress;
};

/// The first failed check's problem, or "" when every check passed.
inline std::string first_failed(const std::vector<actions::Check>& checks) {
    for (const auto& c : checks) {
        if (!c.ok) {
            return c.what + ": " + c.problem;
        }
    }
    return {};
}

} // namespace rollback::test
