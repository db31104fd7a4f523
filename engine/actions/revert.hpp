// SPDX-License-Identifier: MIT
#pragma once

// Going back to an earlier release: the flow `release_switch` and `git_checkout` share. Each kind
// plans where to go (its own layout: releases/ and `current`, or tags in a work tree) into a
// RevertPlan; choosing "previous" past the releases marked bad, and carrying the plan out (the
// step's details, the bad-release record before the change, the result) are the same for both.

#include "actions/action.hpp"

#include <functional>
#include <string>
#include <vector>

namespace rollback::actions {

/// A revert as it would happen now: from, to, and why `to` was chosen — or what prevents it.
struct RevertPlan {
    std::string from;        ///< the release in place (a tag or short commit for git)
    std::string from_commit; ///< git only
    std::string to;
    std::string to_commit; ///< git only
    std::string
        chosen_by; ///< "named", "previous by history ...", "switched to earlier in this run"
    std::vector<std::string> skipped; ///< bad releases passed over when looking for "previous"
    bool already_done = false;        ///< the target is already in place
    std::string problem;
    std::string hint;
};

/// True when `release` at `location` (a deploy root, a work tree) is marked bad.
bool is_bad(const std::vector<state::BadRelease>& bad, const std::string& location,
            const std::string& release);

/// The first of `older` (newest first) that is not marked bad at `location`; each bad one passed
/// over is added to plan.skipped once. Empty when every one is bad or `older` is empty.
std::string pick_previous(const std::vector<std::string>& older,
                          const std::vector<state::BadRelease>& bad, const std::string& location,
                          RevertPlan& plan);

/// " (skipped bad: v3, v2)" when the plan passed over bad releases, else "".
std::string skipped_note(const RevertPlan& plan);

/// How one kind carries out a plan: where, and the change itself.
struct RevertWork {
    std::string location_key; ///< the details' key for `location`: "deploy_root", "repo"
    std::string location;
    bool commits = false;     ///< the details carry from_commit and to_commit
    std::string already;      ///< summary when already done: "already on", "already at"
    std::string done_line;    ///< progress once done: "checked out v1"
    std::string done_summary; ///< "switched v2 -> v1"
    /// Makes the change; fills r (details, output, and on failure status and summary) and
    /// returns whether it succeeded. Throws nothing.
    std::function<bool(Result& r)> apply;
};

/// The shared flow: the plan's facts in the details; a problem fails the step (with its hint);
/// already done succeeds; otherwise `from` is recorded as bad — before the change, so a retry or
/// resume of this run does not go one release further back — and the change is made.
Result carry_out(const Context& ctx, const RevertPlan& plan, const RevertWork& work);

} // namespace rollback::actions
