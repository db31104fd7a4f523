// SPDX-License-Identifier: MIT
// Mode confirm: requests whose time ran out are settled (expired — kept as withdrawn, "it expired
// unanswered" — or answered); an approval request
// lives as long as its incident. When the incident ends before anyone answered — it resolved by
// `resolve_after` of ok evaluations, or a reload removed its condition — the request is withdrawn
// (state "withdrawn", when, why): `rollback approve` refuses it as it refuses an expired one, since
// the evidence it asked about is stale (docs/decision.md "trigger and monitor").
#include "monitor/loop.hpp"

#include "monitor/decision_actions.hpp"
#include "state/approval_answer.hpp"
#include "util/error.hpp"
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
        const std::string reason = kept ? "the incident of condition \"" + condition + "\"" +
                                              since + " resolved at " + util::format_time(now)
                                        : "condition \"" + condition + "\" is no longer in " +
                                              m_mon->config().file.string() + " (its incident" +
                                              since + " ended at " + util::format_time(now) + ")";
        const auto done = withdraw(*a, condition, reason, now);
        if (done == Withdrawal::fenced) {
            return; // the open requests are looked at again when this monitor leads again
        }
        if (done == Withdrawal::failed) {
            open.emplace(condition, before);
        }
    }
    m_open_requests = std::move(open);
}

Loop::Withdrawal Loop::withdraw(state::ApprovalRequest a, const std::string& condition,
                                const std::string& reason, util::SystemTime now) {
    const std::string id = a.decision_id;
    a.state = "withdrawn";
    a.withdrawn_at = now;
    a.withdrawn_reason = reason;
    // Fenced like the [decision] hooks: the `leader` row is read again right before the
    // write, so a leader paused past its lease withdraws nothing (the one that leads now
    // decides). The write is a compare-and-set on "still pending, with no run": a person's
    // `rollback approve` (or --reject) that lands between the read and this write wins and is
    // kept, never overwritten.
    if (!still_leading("approval request " + id + " not withdrawn")) {
        return Withdrawal::fenced;
    }
    state::AnswerOutcome outcome;
    try {
        outcome = state::answer_approval(m_env.store, a);
    } catch (const std::exception& e) {
        log::warn("monitor: cannot withdraw approval request {}: {}", id, e.what());
        return Withdrawal::failed;
    }
    if (!outcome.kept) {
        const std::string how = state::answered_how(outcome.first);
        log::info("monitor: approval request {} not withdrawn: it was {} first", id, how);
        m_env.out.say("approval request " + id + " not withdrawn: it was " + how + " first");
        event({{"event", "approval_not_withdrawn"},
               {"decision_id", id},
               {"condition", condition},
               {"answered", how}});
        return Withdrawal::done;
    }
    m_told.erase(id);
    log::info("monitor: approval request {} withdrawn: {}", id, a.withdrawn_reason);
    m_env.out.say("approval request " + id + " withdrawn: " + a.withdrawn_reason);
    event({{"event", "approval_withdrawn"},
           {"decision_id", id},
           {"condition", condition},
           {"reason", a.withdrawn_reason}});
    return Withdrawal::done;
}

bool Loop::announce(state::ApprovalRequest a, const decision::DecisionRecord& r) {
    const std::string id = a.decision_id;
    const auto& cfg = m_mon->config();
    for (const auto& hook : m_told[id]) { // told by this process, not kept yet
        if (std::find(a.told.begin(), a.told.end(), hook) == a.told.end()) {
            a.told.push_back(hook);
        }
    }
    const auto all_told = [&] {
        return !m_hooks_pb || std::all_of(cfg.hooks.begin(), cfg.hooks.end(), [&](const auto& h) {
            return std::find(a.told.begin(), a.told.end(), h) != a.told.end();
        });
    };
    const std::uint64_t generation = m_leadership != nullptr ? m_leadership->generation() : 0;
    bool answered = false;
    bool unkept = false;
    // Kept after each hook, in the transaction that checks the leadership (a shared store): a
    // leader deposed meanwhile records nothing over what the next leader told, and stops.
    const auto keep = [&]() -> bool {
        state::ApprovalRequest next = a;
        next.announced = all_told();
        try {
            if (!m_env.store.note_told(next, generation)) {
                answered = true; // answered or gone meanwhile: nothing more to announce
                return false;
            }
        } catch (const util::Error& e) {
            if (e.code() == util::ExitCode::locked) {
                m_leading = false;
                const std::string line = std::string(e.what()) + "; it acts on nothing more";
                log::warn("monitor: {}", line);
                m_env.out.problem(line);
                event({{"event", "fenced"}, {"what", e.what()}, {"decision_id", id}});
                return false;
            }
            log::warn("monitor: approval request {}: {}", id, e.what());
            unkept = true; // the telling goes on; kept at the next look
        } catch (const std::exception& e) {
            log::warn("monitor: approval request {}: {}", id, e.what());
            unkept = true;
        }
        return true;
    };
    bool called = false;
    if (m_hooks_pb) {
        const HookProgress progress{a.told, [&](const std::string& hook) {
                                        called = true;
                                        a.told.push_back(hook);
                                        m_told[id].push_back(hook);
                                        return keep();
                                    }};
        for (auto& why : tell_hooks(
                 cfg, *m_hooks_pb, m_env.runner, m_env.store, m_env.state_dir, r, id,
                 [this, &id](const auto& names) { return may_call_hooks(id, names); }, {},
                 state_args(), &progress)) {
            event({{"event", "hook_failed"}, {"decision_id", id}, {"error", std::move(why)}});
        }
    }
    if (answered || (m_leadership != nullptr && !m_leading) || !all_told()) {
        if (answered) {
            m_told.erase(id);
        }
        return false; // stopped: fenced, or answered meanwhile
    }
    if (!called && !keep()) { // every hook was told before (or none is set): done now
        return false;
    }
    if (unkept) {
        m_take_over_requests = true;
        return false;
    }
    m_told.erase(id);
    return true;
}

void Loop::adopt_request(const state::ApprovalRequest& a, util::SystemTime now) {
    auto memory = m_mon->policy_memory();
    auto& cm = memory.conditions[a.condition];
    cm.acted = true;
    cm.shadow_acted = false;
    cm.approval_id = a.decision_id;
    cm.approval_expires = a.expires_at;
    cm.approval_expired = false;
    cm.approval_escalated = false;
    m_mon->adopt_policy(memory); // kept by the tick's persist(), fenced
    std::string by = "a monitor before this one";
    try {
        const auto filed = m_env.store.record(a.decision_id);
        if (filed.leadership) {
            by = filed.leadership->host + " pid " + std::to_string(filed.leadership->pid) +
                 " (generation " + std::to_string(filed.leadership->generation) + ")";
        }
    } catch (const std::exception& e) {
        log::warn("monitor: cannot read decision {}: {}", a.decision_id, e.what());
    }
    const std::string line =
        "approval request " + a.decision_id + " of condition \"" + a.condition + "\", filed by " +
        by + ", taken over: its incident is open here too; rollback approve " + a.decision_id +
        state_args() + " (until " + util::format_time(a.expires_at) + ")";
    log::info("monitor: {}", line);
    m_env.out.say(line);
    event({{"event", "approval_taken_over"},
           {"decision_id", a.decision_id},
           {"condition", a.condition},
           {"filed_by", by},
           {"at", util::format_time(now)}});
}

void Loop::take_over_approvals(util::SystemTime now) {
    if (!m_take_over_requests) {
        return;
    }
    std::vector<state::ApprovalRequest> all;
    try {
        all = m_env.store.approvals();
    } catch (const std::exception& e) {
        log::warn("monitor: cannot read the approval requests: {}", e.what());
        return; // looked at again at the next tick
    }
    const auto& cfg = m_mon->config();
    bool again = false;
    // Newest first: of two pending requests of one condition the newer is the incident's.
    for (auto it = all.rbegin(); it != all.rend(); ++it) {
        const state::ApprovalRequest& a = *it;
        if (a.state != "pending" || !a.run_id.empty()) {
            continue;
        }
        if (m_leadership != nullptr && !m_leading) {
            return; // fenced meanwhile: looked at again when this monitor leads again
        }
        const auto memory = m_mon->policy_memory();
        const auto held = std::find_if(
            memory.conditions.begin(), memory.conditions.end(), [&](const auto& entry) {
                return entry.second.incident_since && entry.second.approval_id == a.decision_id;
            });
        const bool expired = a.expires_at < now;
        const bool known = std::any_of(cfg.conditions.begin(), cfg.conditions.end(),
                                       [&](const auto& c) { return c.name == a.condition; }) ||
                           std::any_of(cfg.alert_conditions.begin(), cfg.alert_conditions.end(),
                                       [&](const auto& c) { return c.spec.name == a.condition; });
        const auto cm = memory.conditions.find(a.condition);
        const bool open = cm != memory.conditions.end() && cm->second.incident_since.has_value();
        const auto verdict = m_verdicts.find(a.condition);
        std::string reason;
        if (held != memory.conditions.end() || (known && verdict == m_verdicts.end())) {
            // Held: this monitor's own (or adopted) request; not evaluated here yet: judged
            // by this monitor's own evidence at the next tick.
            again = again || held == memory.conditions.end();
        } else if (!known) {
            reason = "condition \"" + a.condition + "\" is no longer in " + cfg.file.string();
        } else if (open && cm->second.approval_id.empty()) {
            adopt_request(a, now); // an expired one is settled by check_approvals, as its own
        } else if (open) {
            reason = "request " + cm->second.approval_id +
                     " stands for the incident of condition \"" + a.condition + "\"";
        } else if (expired) {
            reason = "it expired unanswered at " + util::format_time(a.expires_at) +
                     " ([decision] approval_timeout)";
        } else if (verdict->second == decision::Verdict::pending ||
                   verdict->second == decision::Verdict::firing) {
            again = true; // breaching, its counting not satisfied here yet: judged next tick
        } else {
            reason = "the incident of condition \"" + a.condition +
                     "\" is not open at the evaluation of the monitor that leads now (its last "
                     "verdict: " +
                     std::string(decision::to_string(verdict->second)) +
                     "): the evidence it asked about is stale";
        }
        if (!reason.empty()) {
            again = again || withdraw(a, a.condition, reason, now) == Withdrawal::failed;
            continue;
        }
        const auto now_held = m_mon->policy_memory().conditions;
        const auto mine = now_held.find(a.condition);
        if (mine == now_held.end() || mine->second.approval_id != a.decision_id || a.announced ||
            expired) {
            continue;
        }
        try {
            again = !announce(a, m_env.store.record(a.decision_id)) || again;
        } catch (const std::exception& e) {
            log::warn("monitor: approval request {} not announced: {}", a.decision_id, e.what());
            again = true;
        }
    }
    m_take_over_requests = again && m_leading;
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
