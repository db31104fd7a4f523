// SPDX-License-Identifier: MIT
#pragma once

// What a decision does besides its record, for the monitor loop, `check` and `rollback approve`:
// its one line for people, the trigger it gives a run, telling the [decision] hooks. Records,
// ticks and approval requests are kept by state::Store (engine/state/).

#include "actions/action.hpp"
#include "config/config.hpp"
#include "decision/record.hpp"
#include "exec/runner.hpp"
#include "playbook/model.hpp"
#include "state/store.hpp"

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace rollback::monitor {

/// One line per record for people: time, action, and each condition's verdict with its numbers.
std::string summarize_record(const decision::DecisionRecord& r);

/// The decision of one condition of `r` (its action, mode and reason, `r`'s time, release and
/// conditions): what the hooks are told of a condition's action that is not the tick's heaviest.
decision::DecisionRecord condition_decision(const decision::DecisionRecord& r,
                                            const decision::ConditionRecord& c);

/// The trigger a decision gives a run: its cause, that condition's severity, its reason.
actions::Trigger trigger_of(const decision::DecisionRecord& r, const std::string& decision_id,
                            std::string kind);

/// The fence of a [decision] hook list: asked right before each hook is called, with the hooks
/// of the list not called yet (that one first). False: none of them is called (the leader was
/// deposed meanwhile: a hook can take up to its timeout, the caller can pause).
using HookFence = std::function<bool(const std::vector<std::string>& not_called)>;

/// An approval request's announcement (tell_hooks): the hooks it told already are not called
/// again; `called` is asked after each hook returned — it records the hook as told — and a
/// false ends the list there, as the fence does (the leadership was lost).
struct HookProgress {
    std::vector<std::string> told;
    std::function<bool(const std::string& hook)> called;
};

/// Runs every `[decision] hooks` entry with a "decision" event (hooks/README.md): status is the
/// action, plus decision_id, summary, and `approve` (the command) for approval requests. Each
/// hook is called only after `may_call` said yes for it; a no ends the list there. A hook
/// that fails is logged and returned as a message; it never stops the monitor. A non-empty
/// `error` is the event's `error` (an escalation because a trigger's run did not start).
/// `state_args`: what the `approve` command adds to find the state (ResolvedState::args); empty:
/// " -c <cfg.file>". `progress`: an approval request's announcement, none for other decisions.
std::vector<std::string>
tell_hooks(const config::Config& cfg, const playbook::Playbook& pb, exec::ProcessRunner& runner,
           state::Store& store, const std::filesystem::path& state_dir,
           const decision::DecisionRecord& r, const std::string& decision_id,
           const HookFence& may_call, const std::string& error = {},
           const std::string& state_args = {}, const HookProgress* progress = nullptr);

} // namespace rollback::monitor
