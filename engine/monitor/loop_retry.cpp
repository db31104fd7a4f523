// SPDX-License-Identifier: MIT
// A trigger whose run did not start because the state store failed, the [decision] playbook
// did not load (moved or broken after the start) or its preflight found problems (a backup
// missing, a server down; docs/decision.md "trigger and monitor"): its
// cooldown was kept before the start, so without a retry the incident would count as acted on and
// no rollback would ever run. The hooks are told, and the trigger is tried again at every tick
// whose own evaluation finds its condition firing — the run lock still decides whether a run
// starts.
#include "monitor/loop.hpp"

#include "monitor/decision_actions.hpp"
#include "util/duration.hpp"
#include "util/error.hpp"
#include "util/log.hpp"
#include "util/secrets.hpp"
#include "util/time.hpp"

#include <algorithm>

namespace rollback::monitor {

using decision::Action;
using decision::Verdict;

util::Millis Loop::retry_delay(int attempts, util::Millis max) const {
    const util::Millis interval = m_mon->config().interval;
    util::Millis delay = interval;
    for (int i = 1; i < attempts && delay < max; ++i) {
        delay *= 2;
    }
    return std::max(interval, std::min(delay, max));
}

void Loop::run_not_started(const decision::DecisionRecord& record, const std::string& decision_id,
                           const std::string& error, NotStarted reason) {
    const std::string what = reason == NotStarted::playbook    ? "the playbook did not load"
                             : reason == NotStarted::preflight ? "its preflight found problems"
                                                               : "the state store failed";
    const char* label = reason == NotStarted::playbook    ? "playbook"
                        : reason == NotStarted::preflight ? "preflight"
                                                          : "store";
    const bool first = !m_pending || m_pending->condition != record.cause;
    if (first) {
        m_pending = PendingTrigger{decision_id, record.cause, util::mask_secrets(error), what,
                                   1,           record.time};
    } else {
        m_pending->error = util::mask_secrets(error);
        m_pending->what = what;
        ++m_pending->attempts;
    }
    // A preflight may checksum a backup of gigabytes and ask every server of the playbook: it is
    // not run again at every tick of an incident that lasts hours (break-it 42, left over).
    std::string when = "at every tick";
    if (reason == NotStarted::preflight) {
        // From the interval's boundary: the first retry is the next tick, as for the others.
        m_pending->next_try = tick_floor(m_tick_at, m_mon->config().interval) +
                              retry_delay(m_pending->attempts, k_retry_delay_max);
        when = "from " + util::format_time(m_pending->next_try) +
               " (the delay doubling from one interval, at most " +
               util::format_duration(k_retry_delay_max) + ")";
    } else {
        m_pending->next_try = {};
    }
    if (m_endpoint) {
        m_endpoint->run_not_started(label);
    }
    const std::string line = "decision " + m_pending->decision_id + ": no run: " + what + " (" +
                             error + "); retrying " + when + " while \"" + record.cause +
                             "\" fires (failed starts: " + std::to_string(m_pending->attempts) +
                             ")";
    log::error("monitor: {}", line);
    m_env.out.problem(line);
    boost::json::object ev{
        {"event", "run_not_started"},
        {"decision_id", decision_id},
        {"exit_code", util::to_int(reason == NotStarted::store ? util::ExitCode::state_unwritable
                                                               : util::ExitCode::invalid)},
        {"error", error},
        {"retry", true},
        {"attempts", m_pending->attempts}};
    if (m_pending->next_try != util::SystemTime{}) {
        ev["next_try"] = util::format_time(m_pending->next_try);
    }
    event(std::move(ev));
    if (!first) {
        return; // paged at the first failure; each retry is said and recorded
    }
    // The same path as the monitor's escalations: an `escalate` event to the [decision] hooks.
    decision::DecisionRecord page = record;
    page.action = Action::escalate;
    page.executed = true;
    page.reason = "the rollback run of decision " + decision_id + " did not start: " + what + " (" +
                  m_pending->error + "); retried " + when + " while \"" + record.cause + "\" fires";
    event({{"event", "escalated"}, {"decision_id", decision_id}, {"error", error}});
    if (!m_hooks_pb) {
        return;
    }
    try {
        for (auto& why : tell_hooks(
                 m_mon->config(), *m_hooks_pb, m_env.runner, m_env.store, m_env.state_dir, page,
                 decision_id,
                 [this, &decision_id](const auto& names) {
                     return may_call_hooks(decision_id, names);
                 },
                 error)) {
            event({{"event", "hook_failed"}, {"decision_id", decision_id}, {"error", why}});
        }
    } catch (const std::exception& e) {
        log::error("monitor: the hooks were not told of decision {}: {}", decision_id, e.what());
        event({{"event", "hook_failed"}, {"decision_id", decision_id}, {"error", e.what()}});
    }
}

decision::Evaluation Loop::with_retry(decision::Evaluation e) {
    if (!m_pending) {
        return e;
    }
    auto& conds = e.record.conditions;
    auto c = std::find_if(conds.begin(), conds.end(),
                          [this](const auto& cr) { return cr.name == m_pending->condition; });
    if (c == conds.end()) {
        return e; // another evaluation (the alert conditions, or the signal ones)
    }
    if (e.record.action == Action::trigger && e.record.cause == m_pending->condition) {
        m_pending.reset(); // its cooldown ran out: the condition's own trigger acts
        return e;
    }
    if (c->verdict == Verdict::ok || e.record.mode != decision::Mode::auto_) {
        const std::string line =
            "decision " + m_pending->decision_id + ": no retry: \"" + m_pending->condition +
            (c->verdict == Verdict::ok ? "\" resolved" : "\" is no longer in mode auto");
        log::info("monitor: {}", line);
        m_env.out.say(line);
        event({{"event", "retry_dropped"},
               {"decision_id", m_pending->decision_id},
               {"verdict", decision::to_string(c->verdict)}});
        // No rollback ran for it: the cooldown it took keeps no later incident from acting
        // (break-it 47/N3: a flap then a firing was "suppressed" for the whole hour).
        m_mon->trigger_not_started(m_pending->decided_at);
        m_pending.reset();
        return e;
    }
    if (c->verdict != Verdict::firing || !m_leading || e.record.action == Action::trigger ||
        m_tick_at < m_pending->next_try) {
        // Not this tick: no evidence of its own, a follower, another trigger acts, or the
        // delay after a refused preflight has not passed.
        return e;
    }
    // This tick's own observations satisfy the counting rule: a trigger of its own evidence.
    c->action = Action::trigger;
    e.record.action = Action::trigger;
    e.record.executed = true;
    e.record.cause = m_pending->condition;
    e.record.reason = "\"" + m_pending->condition + "\" still fires: retry of decision " +
                      m_pending->decision_id + ", whose run did not start (" + m_pending->what +
                      ": " + m_pending->error + ")";
    e.notable = true;
    return e;
}

} // namespace rollback::monitor
