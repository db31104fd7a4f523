// SPDX-License-Identifier: MIT
#include "state/approval_answer.hpp"

namespace rollback::state {

AnswerOutcome answer_approval(Approvals& store, const ApprovalRequest& next) {
    if (store.answer_pending_approval(next)) {
        return {true, std::nullopt};
    }
    // An answered request never changes again (every answer is this compare-and-set): what is
    // read now is what won.
    return {false, store.approval(next.decision_id)};
}

std::string answered_how(const std::optional<ApprovalRequest>& a) {
    if (!a) {
        return "gone (no such request any more)";
    }
    const std::string at = a->approved_at ? " at " + util::format_time(*a->approved_at) : "";
    if (a->state == "approved") {
        return "approved by " + a->approved_by + at +
               (a->run_id.empty() ? std::string() : " (its run: " + a->run_id + ")");
    }
    if (a->state == "rejected") {
        return "rejected by " + a->approved_by + at +
               (a->answer_reason.empty() ? std::string() : " (" + a->answer_reason + ")");
    }
    if (a->state == "withdrawn") {
        return "withdrawn" +
               (a->withdrawn_at ? " at " + util::format_time(*a->withdrawn_at) : std::string()) +
               (a->withdrawn_reason.empty() ? std::string() : " because " + a->withdrawn_reason);
    }
    // Pending but naming a run: an approval of a store written before the compare-and-set.
    return a->state + (a->run_id.empty() ? std::string() : " (its run: " + a->run_id + ")");
}

} // namespace rollback::state
