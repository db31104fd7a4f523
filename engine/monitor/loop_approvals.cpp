// SPDX-License-Identifier: MIT
// Mode confirm: requests whose time ran out are settled (expired — kept as withdrawn, "it expired
// unanswered" — or answered); an approval request
// lives as long as its incident. When the incident ends before anyone answered — it resolved by
// `resolve_after` of ok evaluations, or a reload removed its condition — the request is withdrawn
// (state "withdrawn", when, why): `rollback approve` refuses it as it refuses an expired one, since
// the evidence it asked about is stale (docs/decision.md "trigger and monitor").
#include "monitor/loop.hpp"

#include "state/approval_answer.hpp"
#include "util/log.hpp"

#include <algorithm>

namespace rollback::monitor {

void Loop::withdraw_ended_approvals(util::SystemTime now) {
    std::map<std::string, OpenRequest> open;
    for (const auto& entry : m_mon->policy_memory().conditions) {
        if (!entry.second.approval_id.empty() && entry.second.incident_since) {
            open[entry.first] = OpenRequest{entry.second.approval_id, entry.second.incident_since};
        }
    }
    if (!m_open_requests) {
        // The first tick: the requests of the incidents the policy memory resumed (a request
        // whose incident ended while no monitor ran is withdrawn now).
        m_open_requests.emplace();
        if (m_policy_saved) {
            for (const auto& entry : m_policy_saved->conditions) {
                if (!entry.second.approval_id.empty() && entry.second.incident_since) {
                    (*m_open_requests)[entry.first] =
                        OpenRequest{entry.second.approval_id, entry.second.incident_since};
                }
            }
        }
    }
    const auto& conditions = m_mon->config().conditions;
    const auto& alert_conditions = m_mon->config().alert_conditions;
    for (const auto& entry : *m_open_requests) {
        const std::string& condition = entry.first;
        const OpenRequest& before = entry.second;
        auto now_open = open.find(condition);
        if (now_open != open.end() && now_open->second.decision_id == before.decision_id) {
            continue; // its incident is still open
        }
        std::optional<state::ApprovalRequest> a;
        try {
            a = m_env.store.approval(before.decision_id);
        } catch (const std::exception& e) {
            log::warn("monitor: cannot read approval request {}: {}", before.decision_id, e.what());
            open.emplace(condition, before); // looked at again next tick
            continue;
        }
        if (!a || a->state != "pending") {
            continue; // answered (approved) or already withdrawn: nothing to take back
        }
        const bool kept = std::any_of(conditions.begin(), conditions.end(),
                                      [&](const auto& c) { return c.name == condition; }) ||
                          std::any_of(alert_conditions.begin(), alert_conditions.end(),
                                      [&](const auto& c) { return c.spec.name == condition; });
        const std::string since =
            before.incident_since ? " since " + util::format_time(*before.incident_since) : "";
        a->state = "withdrawn";
        a->withdrawn_at = now;
        a->withdrawn_reason = kept ? "the incident of condition \"" + condition + "\"" + since +
                                         " resolved at " + util::format_time(now)
                                   : "condition \"" + condition + "\" is no longer in " +
                                         m_mon->config().file.string() + " (its incident" + since +
                                         " ended at " + util::format_time(now) + ")";
        // Fenced like the [decision] hooks: the `leader` row is read again right before the
        // write, so a leader paused past its lease withdraws nothing (the one that leads now
        // decides). The write is a compare-and-set on "still pending, with no run": a person's
        // `rollback approve` (or --reject) that lands between the read above and this write wins
        // and is kept, never overwritten.
        if (!still_leading("approval request " + before.decision_id + " not withdrawn")) {
            return; // the open requests are looked at again when this monitor leads again
        }
        state::AnswerOutcome outcome;
        try {
            outcome = state::answer_approval(m_env.store, *a);
        } catch (const std::exception& e) {
            log::warn("monitor: cannot withdraw approval request {}: {}", before.decision_id,
                      e.what());
            open.emplace(condition, before);
            continue;
        }
        if (!outcome.kept) {
            const std::string how = state::answered_how(outcome.first);
            log::info("monitor: approval request {} not withdrawn: it was {} first",
                      before.decision_id, how);
            m_env.out.say("approval request " + before.decision_id + " not withdrawn: it was " +
                          how + " first");
            event({{"event", "approval_not_withdrawn"},
                   {"decision_id", before.decision_id},
                   {"condition", condition},
                   {"answered", how}});
            continue;
        }
        log::info("monitor: approval request {} withdrawn: {}", a->decision_id,
                  a->withdrawn_reason);
        m_env.out.say("approval request " + a->decision_id + " withdrawn: " + a->withdrawn_reason);
        event({{"event", "approval_withdrawn"},
               {"decision_id", a->decision_id},
               {"condition", condition},
               {"reason", a->withdrawn_reason}});
    }
    m_open_requests = std::move(open);
}

/// Mode confirm: the approval requests of open incidents whose time ran out, answered or not.
/// Unanswered, the incident escalates at its next breaching tick (once).
void Loop::check_approvals(util::SystemTime now) {
    for (const auto& due : m_mon->approvals_due(now)) {
        std::optional<state::ApprovalRequest> a;
        try {
            a = m_env.store.approval(due.second);
        } catch (const std::exception& e) {
            log::warn("monitor: cannot read approval request {}: {}", due.second, e.what());
        }
        bool expired = !a || a->state == "pending";
        if (expired && a && m_leading &&
            still_leading("approval request " + due.second + " not marked expired")) {
            // Kept as withdrawn by the compare-and-set every answer is: a person's approval
            // that lands between the read above and this write wins (the request is then not
            // expired and not escalated), and none is accepted after it.
            state::ApprovalRequest ended = *a;
            ended.state = "withdrawn";
            ended.withdrawn_at = now;
            ended.withdrawn_reason = "it expired unanswered at " +
                                     util::format_time(a->expires_at) +
                                     " ([decision] approval_timeout)";
            try {
                auto outcome = state::answer_approval(m_env.store, ended);
                if (!outcome.kept && outcome.first) {
                    a = outcome.first;
                    expired = a->state == "pending";
                }
            } catch (const std::exception& e) {
                log::warn("monitor: cannot mark approval request {} expired: {}", due.second,
                          e.what());
            }
        }
        m_mon->approval_settled(due.first, expired);
        if (expired) {
            log::info("monitor: approval request {} of condition \"{}\" expired unanswered",
                      due.second, due.first);
            event({{"event", "approval_expired"},
                   {"decision_id", due.second},
                   {"condition", due.first}});
        } else if (a->state == "rejected") {
            // A person said no: settled, not escalated.
            log::info("monitor: approval request {} of condition \"{}\" was rejected by {}",
                      due.second, due.first, a->approved_by);
            event({{"event", "approval_rejected"},
                   {"decision_id", due.second},
                   {"condition", due.first},
                   {"by", a->approved_by},
                   {"reason", a->answer_reason}});
        }
    }
}

} // namespace rollback::monitor
