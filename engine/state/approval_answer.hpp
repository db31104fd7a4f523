// SPDX-License-Identifier: MIT
#pragma once

// Every answer to a monitor's approval request — a person's approve or reject, the monitor's
// withdrawal — is one compare-and-set on "still pending, with no run"
// (Approvals::answer_pending_approval): of two answers exactly one is kept, and the other learns
// which one won (docs/decision.md "approve and explain").

#include "state/store.hpp"

#include <optional>
#include <string>

namespace rollback::state {

/// What became of an answer.
struct AnswerOutcome {
    bool kept = false; ///< this answer was written
    /// When not kept: the request as another answer left it (nullopt: there is none).
    std::optional<ApprovalRequest> first;
};

/// Writes `next` (the request of `next.decision_id` answered: approved, rejected or withdrawn)
/// only while the stored request is pending with no run; otherwise reads what answered it first.
/// Throws what the store throws (exit 7 when it cannot be written).
AnswerOutcome answer_approval(Approvals& store, const ApprovalRequest& next);

/// How `a` was answered, for the loser's message: "approved by ann at T (its run: R)",
/// "rejected by bob at T (reason)", "withdrawn at T because <reason>", "gone" (nullopt).
std::string answered_how(const std::optional<ApprovalRequest>& a);

} // namespace rollback::state
