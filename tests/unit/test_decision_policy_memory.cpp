// SPDX-License-Identifier: MIT
// A restarted or reloaded monitor is one long-lived monitor (docs/decision.md, "trigger and
// monitor"): an Evaluator resumed from another's PolicyMemory acts at most once per incident
// and escalates at most once per cooldown (break-it issue 10, findings 03 and 06; finding 10:
// an expired approval request escalates once).
#include "decision/evaluator.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

using namespace rollback::decision;
using namespace std::chrono_literals;

namespace {

const SystemTime k_t0 = SystemTime(std::chrono::seconds(1'795'996'800)); // 2026-11-30

// The finding's rule: value above 5, window 2s, immediate; cooldown and watch_after as given.
ConditionSpec value_rule() {
    ConditionSpec c;
    c.name = "v";
    c.source = "web";
    c.signal = Signal::value;
    c.window = 2s;
    c.above = 5.0;
    c.severity = Severity::critical;
    return c;
}

DecisionPolicy policy(Millis cooldown, Millis watch_after, Mode mode = Mode::auto_) {
    DecisionPolicy p;
    p.target = "t";
    p.mode = mode;
    p.cooldown = cooldown;
    p.watch_after = watch_after;
    return p;
}

// One sample a second: a value, or (NaN) a failed check.
Sample sample_at(SystemTime t, double v) {
    if (v != v) {
        return Sample::make_missing(t, SampleKind::error, "exit code 1");
    }
    return Sample::make_value(t, v);
}

// Runs the series one tick a second; at each second in `restarts` the evaluator is replaced by
// a new one resumed from the old one's memory (a restart or a SIGHUP). A trigger's rollback
// ends a second later. Returns the actions, one per tick.
std::vector<Action> run(const ConditionSpec& c, const DecisionPolicy& p,
                        const std::vector<double>& values, const std::vector<int>& restarts) {
    auto ev = std::make_unique<Evaluator>(std::vector<ConditionSpec>{c}, p);
    std::vector<Action> out;
    SystemTime rollback_ends = SystemTime::max(); // none pending
    for (size_t i = 0; i < values.size(); ++i) {
        const auto now = k_t0 + std::chrono::seconds(i + 1);
        if (std::find(restarts.begin(), restarts.end(), static_cast<int>(i)) != restarts.end()) {
            auto memory = ev->policy_memory();
            ev = std::make_unique<Evaluator>(std::vector<ConditionSpec>{c}, p);
            ev->resume_policy(memory);
        }
        if (rollback_ends <= now) {
            ev->rolled_back(rollback_ends);
            rollback_ends = SystemTime::max();
        }
        ev->add_sample("web", sample_at(now, values[i]));
        auto e = ev->evaluate(now);
        out.push_back(e.record.action);
        if (e.record.action == Action::trigger) {
            rollback_ends = now + 1s;
        }
    }
    return out;
}

size_t count(const std::vector<Action>& a, Action x) {
    return static_cast<size_t>(std::count(a.begin(), a.end(), x));
}

} // namespace

TEST_SUITE("decision") {
    TEST_CASE("a resumed evaluator does not trigger again for the open incident") {
        // Value 9 for 20 s, cooldown 5s, watch_after 5s: one long-lived monitor triggers once.
        const std::vector<double> nines(20, 9.0);
        const auto p = policy(5s, 5s);
        CHECK(count(run(value_rule(), p, nines, {}), Action::trigger) == 1);
        // Restarted (SIGTERM + start) after 10 s, reloaded (SIGHUP) at 12 s, both, every second.
        for (const std::vector<int>& restarts :
             {std::vector<int>{10}, std::vector<int>{12}, std::vector<int>{3, 10, 12},
              std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}}) {
            CHECK(count(run(value_rule(), p, nines, restarts), Action::trigger) == 1);
        }
        // The incident resolves (an ok tick, resolve_after 0s) and a new one triggers again.
        std::vector<double> two(nines);
        two[14] = 1.0;
        CHECK(count(run(value_rule(), p, two, {}), Action::trigger) == 2);
        CHECK(count(run(value_rule(), p, two, {10}), Action::trigger) == 2);
    }

    TEST_CASE("a resumed evaluator escalates at most once per cooldown") {
        // A check that fails for 20 s, cooldown 1h: one page, restarted or not.
        const std::vector<double> failing(20, std::nan(""));
        const auto p = policy(1h, 30min);
        CHECK(count(run(value_rule(), p, failing, {}), Action::escalate) == 1);
        CHECK(count(run(value_rule(), p, failing, {4}), Action::escalate) == 1);
        CHECK(count(run(value_rule(), p, failing, {3, 6, 9}), Action::escalate) == 1);
        // Cooldown 5s: a state that persists is paged when it begins, not again after the
        // cooldown, restarted or not (the state did not begin again).
        const auto short_cd = policy(5s, 30min);
        CHECK(count(run(value_rule(), short_cd, failing, {}), Action::escalate) == 1);
        CHECK(count(run(value_rule(), short_cd, failing, {10}), Action::escalate) == 1);
    }

    TEST_CASE("property: restarts anywhere decide as one long-lived evaluator") {
        std::mt19937 rng(20261205);
        for (int round = 0; round < 300; ++round) {
            std::vector<double> values;
            const int n = 10 + static_cast<int>(rng() % 40);
            for (int i = 0; i < n; ++i) {
                const unsigned r = rng() % 10;
                values.push_back(r < 5 ? 9.0 : r < 8 ? 1.0 : std::nan(""));
            }
            ConditionSpec c = value_rule();
            c.resolve_after = std::chrono::seconds(rng() % 4);
            c.severity = rng() % 5 == 0 ? Severity::warning : Severity::critical;
            const auto p =
                policy(std::chrono::seconds(1 + rng() % 10), std::chrono::seconds(rng() % 10));
            std::vector<int> restarts;
            for (int i = 0; i < n; ++i) {
                if (rng() % 4 == 0) {
                    restarts.push_back(i);
                }
            }
            CAPTURE(round);
            CHECK(run(c, p, values, restarts) == run(c, p, values, {}));
        }
    }

    TEST_CASE("an expired approval request escalates once while the incident breaches") {
        ConditionSpec c = value_rule();
        Evaluator ev({c}, policy(3s, 5s, Mode::confirm));
        std::vector<Action> actions;
        std::string detail;
        for (int s = 1; s <= 15; ++s) {
            const auto now = k_t0 + std::chrono::seconds(s);
            if (s == 4) {
                // The monitor found the request expired unanswered (and a resumed evaluator
                // knows it too).
                REQUIRE(ev.approvals_due(now).size() == 1);
                CHECK(ev.approvals_due(now)[0].second == "20261130-000001-abcdef12");
                ev.approval_settled("v", true);
                CHECK(ev.approvals_due(now).empty());
                auto memory = ev.policy_memory();
                REQUIRE(memory.conditions.count("v") == 1);
                CHECK(memory.conditions.at("v").approval_expired);
                Evaluator resumed({c}, policy(3s, 5s, Mode::confirm));
                resumed.resume_policy(memory);
                ev = std::move(resumed);
            }
            ev.add_sample("web", Sample::make_value(now, 9.0));
            auto e = ev.evaluate(now);
            actions.push_back(e.record.action);
            if (e.record.action == Action::request_approval) {
                ev.approval_requested("v", "20261130-000001-abcdef12", now + 2s);
            }
            if (e.record.action == Action::escalate) {
                detail = e.record.conditions[0].detail;
            }
        }
        CHECK(count(actions, Action::request_approval) == 1);
        CHECK(count(actions, Action::escalate) == 1);
        CHECK(actions[3] == Action::escalate); // the first breaching tick after the expiry
        CHECK(detail.find("approval request 20261130-000001-abcdef12 expired at "
                          "2026-11-30T00:00:03.000Z unanswered") != std::string::npos);

        // Answered (approved) before its expiry: nothing more.
        Evaluator answered({c}, policy(3s, 5s, Mode::confirm));
        size_t escalations = 0;
        for (int s = 1; s <= 15; ++s) {
            const auto now = k_t0 + std::chrono::seconds(s);
            for (const auto& due : answered.approvals_due(now)) {
                answered.approval_settled(due.first, false);
            }
            answered.add_sample("web", Sample::make_value(now, 9.0));
            auto e = answered.evaluate(now);
            escalations += e.record.action == Action::escalate;
            if (e.record.action == Action::request_approval) {
                answered.approval_requested("v", "id", now + 2s);
            }
        }
        CHECK(escalations == 0);
    }
}
