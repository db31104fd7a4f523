// SPDX-License-Identifier: MIT
// A restarted or reloaded monitor is one long-lived monitor (docs/decision.md "trigger and
// monitor", Restarts and Warm-up; break-it round 4 of issue 10, findings 01, 04, 05 and 07): a
// new Evaluator resumed from the old one's memory and warmed up over the samples re-read from
// the log decides what the long-lived one decides, and a warm-up never acts.
#include "decision/evaluator.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

using namespace rollback::decision;
using namespace std::chrono_literals;

namespace {

const SystemTime k_t0 = SystemTime(std::chrono::seconds(1'795'996'800)); // 2026-11-30

// An error-rate rule over an access log, one bucket a second: above 5 %, window 3s, at least
// 5 requests, counting as given.
ConditionSpec rate_rule(Counting counting) {
    ConditionSpec c;
    c.name = "err";
    c.source = "web";
    c.signal = Signal::error_rate;
    c.window = 3s;
    c.above = 0.05;
    c.min_requests = 5;
    c.counting = counting;
    c.for_duration = 4s;
    c.consecutive = 3;
    c.m = 3;
    c.n = 5;
    c.max_missed = 1;
    c.resolve_after = 2s;
    c.severity = Severity::critical;
    return c;
}

DecisionPolicy policy(Millis cooldown) {
    DecisionPolicy p;
    p.target = "t";
    p.mode = Mode::auto_;
    p.cooldown = cooldown;
    p.watch_after = 0s;
    return p;
}

// A second of the log: `requests` lines, `errors` of them 5xx (0 requests: a quiet second).
struct Second {
    uint64_t requests = 0, errors = 0;
};

SystemTime at(size_t i) {
    return k_t0 + std::chrono::seconds(i + 1);
}

struct Restart {
    size_t tick; ///< the first tick of the new monitor
    size_t gap;  ///< ticks no monitor ran before it (0: a reload)
    /// The new config's max_lateness (nullopt: unchanged).
    std::optional<Millis> lateness = std::nullopt;
};

struct Outcome {
    std::vector<Action> actions; ///< per tick (none for a tick no monitor ran)
    std::vector<std::string> details;
};

// One tick a second over `log`. At each restart the evaluator is replaced by a new one resumed
// from the old one's memory, which re-reads the log from its start and warms up over it at
// every second before its first tick, as monitor::Monitor::tick does.
Outcome run(const ConditionSpec& c, const DecisionPolicy& p, const std::vector<Second>& log,
            const std::vector<Restart>& restarts, bool warm = true) {
    const std::vector<std::string> sources{"web"};
    ConditionSpec spec = c;
    auto ev = std::make_unique<Evaluator>(std::vector<ConditionSpec>{spec}, p);
    Outcome out;
    size_t fed = 0;
    for (size_t i = 0; i < log.size(); ++i) {
        bool down = false;
        for (const auto& r : restarts) {
            down = down || (i + r.gap >= r.tick && i < r.tick);
        }
        out.actions.push_back(Action::none);
        out.details.emplace_back();
        if (down) {
            continue;
        }
        auto restart = std::find_if(restarts.begin(), restarts.end(),
                                    [&](const Restart& r) { return r.tick == i; });
        if (restart != restarts.end()) {
            auto memory = ev->policy_memory();
            if (restart->lateness) {
                spec.lateness = *restart->lateness;
            }
            ev = std::make_unique<Evaluator>(std::vector<ConditionSpec>{spec}, p);
            ev->resume_policy(memory);
            fed = 0;
            for (; fed < i && warm; ++fed) {
                ev->add_sample("web",
                               Sample::make_requests(at(fed), log[fed].requests, log[fed].errors));
            }
            ev->add_sample("web", Sample::make_requests(at(i), log[i].requests, log[i].errors));
            for (size_t w = 0; w < i && warm; ++w) {
                ev->warm_up(at(w), sources);
            }
        } else {
            for (; fed < i; ++fed) { // the seconds no monitor read (none without a restart)
                ev->add_sample("web",
                               Sample::make_requests(at(fed), log[fed].requests, log[fed].errors));
            }
            ev->add_sample("web", Sample::make_requests(at(i), log[i].requests, log[i].errors));
        }
        fed = i + 1;
        auto e = ev->evaluate(at(i));
        out.actions.back() = e.record.action;
        if (!e.record.conditions.empty()) {
            out.details.back() = e.record.conditions.front().detail;
        }
    }
    return out;
}

size_t count(const std::vector<Action>& a, Action x) {
    return static_cast<size_t>(std::count(a.begin(), a.end(), x));
}

std::vector<Second> steady(size_t n, uint64_t requests, uint64_t errors) {
    return std::vector<Second>(n, Second{requests, errors});
}

std::vector<Second> operator+(std::vector<Second> a, const std::vector<Second>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

} // namespace

TEST_SUITE("decision") {
    TEST_CASE("a reloaded evaluator warmed up decides as the long-lived one at every tick") {
        // Random logs (outages, healthy spells, silences, thin traffic), every counting kind,
        // reloads at random ticks: the actions are the long-lived monitor's, tick for tick.
        std::mt19937 rng(20261206);
        for (Counting counting : {Counting::immediate, Counting::for_duration,
                                  Counting::consecutive, Counting::m_of_n}) {
            for (int trial = 0; trial < 60; ++trial) {
                std::vector<Second> log;
                while (log.size() < 60) {
                    const size_t len = 1 + rng() % 8;
                    const int kind = static_cast<int>(rng() % 4);
                    const uint64_t req = kind == 3 ? 0 : 2 + rng() % 10;
                    const uint64_t err = kind == 1 ? req / 3 : kind == 2 ? rng() % 2 : 0;
                    log = log + steady(len, req, err);
                }
                std::vector<Restart> reloads;
                for (size_t i = 1; i < log.size(); ++i) {
                    if (rng() % 5 == 0) {
                        reloads.push_back({i, 0});
                    }
                }
                const auto p = policy(std::chrono::seconds(5 + rng() % 20));
                const auto c = rate_rule(counting);
                const auto alone = run(c, p, log, {});
                const auto reloaded = run(c, p, log, reloads);
                CHECK(reloaded.actions == alone.actions);
            }
        }
    }

    TEST_CASE("a reload that moves the window back acts as the long-lived one later") {
        // Break-it 22 finding 10: a reload with a larger max_lateness (by d seconds) judges at
        // tick t the window the long-lived monitor judged at t - d. The windows the monitor
        // before it judged are not evidence again: for d ticks nothing acts, then every action
        // is the long-lived monitor's, d ticks later — never a second one for an incident that
        // already acted and resolved. Random logs, every counting kind, one such reload.
        std::mt19937 rng(20261207);
        for (Counting counting : {Counting::immediate, Counting::for_duration,
                                  Counting::consecutive, Counting::m_of_n}) {
            for (int trial = 0; trial < 80; ++trial) {
                std::vector<Second> log;
                while (log.size() < 70) {
                    const size_t len = 1 + rng() % 8;
                    const int kind = static_cast<int>(rng() % 4);
                    const uint64_t req = kind == 3 ? 0 : 2 + rng() % 10;
                    const uint64_t err = kind == 1 ? req / 3 : kind == 2 ? rng() % 2 : 0;
                    log = log + steady(len, req, err);
                }
                auto c = rate_rule(counting);
                c.lateness = std::chrono::seconds(rng() % 3);
                const size_t d = 1 + rng() % 6;
                const size_t at_tick = 10 + rng() % 40;
                const Restart reload{at_tick, 0, c.lateness + std::chrono::seconds(d)};
                // The cooldown is wall time: one long enough not to end within the shift.
                const auto p = policy(1h);
                const auto alone = run(c, p, log, {});
                const auto reloaded = run(c, p, log, {reload});
                CAPTURE(trial);
                CAPTURE(d);
                CAPTURE(at_tick);
                for (size_t t = 0; t < log.size(); ++t) {
                    CAPTURE(t);
                    const Action expected = t < at_tick       ? alone.actions[t]
                                            : t < at_tick + d ? Action::none
                                                              : alone.actions[t - d];
                    CHECK(reloaded.actions[t] == expected);
                }
            }
        }
    }

    TEST_CASE("reloads every two seconds keep the breaching run of for") {
        // Finding 01: 30 % 5xx; for = 4s. Without the warm-up the run restarts at every reload
        // and never reaches 4 s.
        const auto log = steady(5, 10, 0) + steady(20, 10, 3);
        std::vector<Restart> every2;
        for (size_t i = 2; i < log.size(); i += 2) {
            every2.push_back({i, 0});
        }
        const auto c = rate_rule(Counting::for_duration);
        const auto p = policy(1h);
        CHECK(count(run(c, p, log, {}).actions, Action::trigger) == 1);
        CHECK(count(run(c, p, log, every2, false).actions, Action::trigger) == 0);
        CHECK(run(c, p, log, every2).actions == run(c, p, log, {}).actions);
    }

    TEST_CASE("an acted incident that ended while no monitor ran does not hide a new outage") {
        // Finding 04: outage 1 triggers; the monitor stops at tick 12, outage 1 ends, 10 s
        // healthy (past resolve_after and the cooldown), outage 2 is under way when it starts
        // again at tick 26.
        const auto log =
            steady(3, 10, 0) + steady(10, 10, 3) + steady(10, 10, 0) + steady(15, 10, 5);
        const auto c = rate_rule(Counting::for_duration);
        const auto p = policy(5s);
        const auto alone = run(c, p, log, {});
        CHECK(count(alone.actions, Action::trigger) == 2);
        const auto restarted = run(c, p, log, {{26, 14}});
        CHECK(count(restarted.actions, Action::trigger) == 2);
        // Without the warm-up the restored incident swallows outage 2.
        CHECK(count(run(c, p, log, {{26, 14}}, false).actions, Action::trigger) == 1);
        // Outage 2 (from tick 23) triggers at the tick the long-lived monitor triggers.
        CHECK(std::vector<Action>(restarted.actions.begin() + 26, restarted.actions.end()) ==
              std::vector<Action>(alone.actions.begin() + 26, alone.actions.end()));
        // A restart while outage 1 still breaches: it stays acted on (one trigger for it).
        CHECK(count(run(c, p, steady(3, 10, 0) + steady(30, 10, 3), {{20, 4}}).actions,
                    Action::trigger) == 1);
    }

    TEST_CASE("a silence after a breach is paged across a restart or a reload") {
        // Finding 05: 5 s at 40 % 5xx (for = 20s: no trigger), then not a line.
        auto c = rate_rule(Counting::for_duration);
        c.for_duration = 20s;
        const auto p = policy(1h);
        const auto log = steady(4, 10, 0) + steady(5, 10, 4) + steady(20, 0, 0);
        const auto alone = run(c, p, log, {});
        REQUIRE(count(alone.actions, Action::escalate) == 1);
        const size_t paged = static_cast<size_t>(
            std::find(alone.actions.begin(), alone.actions.end(), Action::escalate) -
            alone.actions.begin());
        // A reload one second into the silence, and a restart back before the page is due.
        CHECK(run(c, p, log, {{10, 0}}).actions == alone.actions);
        CHECK(run(c, p, log, {{11, 1}}).actions == alone.actions);
        CHECK(count(run(c, p, log, {{11, 1}}, false).actions, Action::escalate) == 0);
        // Down when the page was due: owed to the first live tick, saying so.
        const auto late = run(c, p, log, {{paged + 3, 5}});
        REQUIRE(count(late.actions, Action::escalate) == 1);
        CHECK(late.actions[paged + 3] == Action::escalate);
        CHECK(late.details[paged + 3].find("while the monitor was stopped or reloading") !=
              std::string::npos);
        CHECK(late.details[paged + 3].find("silent after breaching") != std::string::npos);
    }

    TEST_CASE("a warm-up never acts") {
        // A first start over a log whose outage satisfied for long ago: the warm-up opens the
        // incident but neither triggers nor starts the cooldown; the first live tick acts.
        const auto c = rate_rule(Counting::for_duration);
        Evaluator ev({c}, policy(1h));
        const std::vector<std::string> sources{"web"};
        for (size_t i = 0; i < 12; ++i) {
            ev.add_sample("web", Sample::make_requests(at(i), 10, 5));
        }
        for (size_t i = 0; i < 11; ++i) {
            ev.warm_up(at(i), sources);
        }
        const auto memory = ev.policy_memory();
        CHECK_FALSE(memory.cooldown_until);
        CHECK_FALSE(memory.evaluated_until);
        REQUIRE(memory.conditions.count("err") == 1);
        CHECK(memory.conditions.at("err").incident_since == at(4));
        CHECK_FALSE(memory.conditions.at("err").acted);
        auto e = ev.evaluate(at(11));
        CHECK(e.record.action == Action::trigger);
        CHECK(e.notable);
        CHECK(ev.policy_memory().evaluated_until == at(11));
        // A warm-up over another source's conditions leaves this one alone.
        Evaluator other({c}, policy(1h));
        other.add_sample("web", Sample::make_requests(at(0), 10, 5));
        other.warm_up(at(0), std::vector<std::string>{"elsewhere"});
        CHECK(other.policy_memory().conditions.empty());
    }

    TEST_CASE("an http failure run survives a resumed evaluator") {
        // Finding 07: downtime above 8s; every probe fails; resumed after 5 s.
        ConditionSpec c;
        c.name = "down";
        c.source = "health";
        c.signal = Signal::downtime;
        c.window = 60s;
        c.above = 8.0;
        c.severity = Severity::critical;
        auto ev = std::make_unique<Evaluator>(std::vector<ConditionSpec>{c}, policy(1h));
        std::vector<Action> actions;
        for (size_t i = 0; i < 14; ++i) {
            if (i == 5) {
                auto memory = ev->policy_memory();
                REQUIRE(memory.conditions.count("down") == 1);
                CHECK(memory.conditions.at("down").fail_since == at(0));
                ev = std::make_unique<Evaluator>(std::vector<ConditionSpec>{c}, policy(1h));
                ev->resume_policy(memory);
            }
            ev->add_sample("health", Sample::make_probe(at(i), true, 0));
            auto e = ev->evaluate(at(i));
            actions.push_back(e.record.action);
            if (i == 5) {
                REQUIRE(e.record.conditions.front().observed);
                CHECK(*e.record.conditions.front().observed == doctest::Approx(5.0));
            }
        }
        CHECK(actions[9] == Action::trigger);
        CHECK(count(actions, Action::trigger) == 1);
        // A probe that succeeds ends the restored run.
        auto memory = ev->policy_memory();
        Evaluator back({c}, policy(1h));
        back.resume_policy(memory);
        back.add_sample("health", Sample::make_probe(at(20), false, 3));
        back.evaluate(at(20));
        CHECK(!back.policy_memory().conditions["down"].fail_since);
    }

    TEST_CASE("a one-shot evaluation acts on the newest sample the warm-up judged") {
        // Break-it round 25 finding 09: `check` and `monitor --once` with the source's interval
        // equal to the decision interval. The warm-up judges every boundary up to the newest
        // bucket and opens the incident without acting; the one live tick sees no newer bucket
        // (it holds) and must still act — once.
        auto c = rate_rule(Counting::immediate);
        Evaluator ev({c}, policy(1h));
        const std::vector<std::string> sources{"web"};
        for (size_t i = 0; i < 12; ++i) {
            ev.add_sample("web", Sample::make_requests(at(i), 10, 3));
        }
        for (size_t i = 0; i < 12; ++i) {
            ev.warm_up(at(i), sources);
        }
        CHECK_FALSE(ev.policy_memory().conditions.at("err").acted);
        auto e = ev.evaluate(at(11) + 400ms);
        REQUIRE(e.record.conditions.size() == 1);
        CHECK(e.record.conditions[0].verdict == Verdict::firing);
        CHECK(e.record.action == Action::trigger);
        CHECK(e.record.conditions[0].counting_state.find("justified by the warm-up") !=
              std::string::npos);
        // The next live tick holding on the same bucket does not act again.
        e = ev.evaluate(at(11) + 800ms);
        CHECK(e.record.action == Action::none);

        // A warm-up whose newest tick was ok (3 quiet buckets: the window) does not make a held
        // live tick act.
        Evaluator quiet({c}, policy(1h));
        for (size_t i = 0; i < 12; ++i) {
            quiet.add_sample("web", Sample::make_requests(at(i), 10, i < 9 ? 3 : 0));
        }
        for (size_t i = 0; i < 12; ++i) {
            quiet.warm_up(at(i), sources);
        }
        CHECK(quiet.evaluate(at(11) + 400ms).record.action == Action::none);

        // Ticks the previous monitor judged (up to its evaluated_until) are its own: their
        // incident is the memory's, acted on already.
        Evaluator first({c}, policy(1h));
        for (size_t i = 0; i < 12; ++i) {
            first.add_sample("web", Sample::make_requests(at(i), 10, 3));
            e = first.evaluate(at(i));
        }
        const auto memory = first.policy_memory();
        REQUIRE(memory.conditions.at("err").acted);
        Evaluator again({c}, policy(1h));
        again.resume_policy(memory);
        for (size_t i = 0; i < 12; ++i) {
            again.add_sample("web", Sample::make_requests(at(i), 10, 3));
        }
        for (size_t i = 0; i < 12; ++i) {
            again.warm_up(at(i), sources);
        }
        CHECK(again.evaluate(at(11) + 400ms).record.action == Action::none);
    }

    TEST_CASE("a one-shot evaluation acts on an outage whose source is coarser than the ticks") {
        // Break-it round 36 finding 08: buckets of 5 minutes, ticks every minute. The warm-up's
        // boundary that took in the failing bucket justified the incident; the boundaries after
        // it hold on that bucket, and so does the live tick: it must act, once, whatever minute
        // `check` runs in — and not when the bucket it holds on was healthy.
        ConditionSpec c;
        c.name = "errors";
        c.source = "web";
        c.signal = Signal::error_rate;
        c.window = 10min;
        c.above = 0.2;
        c.min_requests = 5;
        c.severity = Severity::critical;
        c.bucket = 5min;
        const SystemTime b = k_t0 + 1h; // the failing bucket's end
        const std::vector<std::string> sources{"web"};
        for (int minute = 0; minute < 5; ++minute) {
            CAPTURE(minute);
            for (bool failing : {true, false}) {
                CAPTURE(failing);
                Evaluator ev({c}, policy(1h));
                ev.add_sample("web", Sample::make_requests(b - 10min, 100, 0));
                ev.add_sample("web", Sample::make_requests(b - 5min, 100, 0));
                ev.add_sample("web", Sample::make_requests(b, 100, failing ? 80 : 0));
                const SystemTime now = b + std::chrono::minutes(minute) + 20s;
                for (SystemTime t = b - 10min; t <= now - 20s; t += 1min) {
                    ev.warm_up(t, sources);
                }
                auto e = ev.evaluate(now);
                REQUIRE(e.record.conditions.size() == 1);
                CHECK(e.record.action == (failing ? Action::trigger : Action::none));
                e = ev.evaluate(now + 10s);
                CHECK(e.record.action == Action::none); // once
            }
        }
    }

    TEST_CASE("a one-shot evaluation between boundaries acts only on its own window") {
        // Break-it round 29 finding 01: buckets of 10 s, a window of 15 s (not a multiple of
        // them), ticks every 10 s, `check` run 6.7 s after a boundary B. The warm-up's newest
        // tick B judges (B - 15s, B]: ten 500s of 30 requests, firing. The live tick holds on
        // the same bucket, but its own window (B - 8.3s, B + 6.7s] holds only the healthy
        // bucket: it must not act on the warm-up's evaluation (it triggered on observed 0).
        ConditionSpec c;
        c.name = "errors";
        c.source = "web";
        c.signal = Signal::error_rate;
        c.window = 15s;
        c.above = 0.2;
        c.min_requests = 5;
        c.severity = Severity::critical;
        c.bucket = 10s;
        const SystemTime b = k_t0 + 100s;
        const std::vector<std::string> sources{"web"};
        auto warmed = [&] {
            auto ev = std::make_unique<Evaluator>(std::vector<ConditionSpec>{c}, policy(1h));
            ev->add_sample("web", Sample::make_requests(b - 30s, 20, 0));
            ev->add_sample("web", Sample::make_requests(b - 20s, 20, 0));
            ev->add_sample("web", Sample::make_requests(b - 10s, 10, 10));
            ev->add_sample("web", Sample::make_requests(b, 20, 0));
            for (SystemTime t = b - 30s; t <= b; t += 10s) {
                ev->warm_up(t, sources);
            }
            return ev;
        };
        auto off = warmed();
        auto e = off->evaluate(b + 6700ms);
        REQUIRE(e.record.conditions.size() == 1);
        CHECK(e.record.action == Action::none);
        CHECK(e.record.conditions[0].observed == 0.0);
        // 3 s after the boundary the window (B - 12s, B + 3s] still holds the 500s: that
        // evaluation of its own justifies acting, once.
        auto near = warmed();
        e = near->evaluate(b + 3s);
        CHECK(e.record.action == Action::trigger);
        REQUIRE(e.record.conditions[0].observed);
        CHECK(*e.record.conditions[0].observed > 0.2);
    }

    TEST_CASE("a reload out of observe acts on the incident a shadow recorded") {
        // Break-it round 29 finding 02: a condition in mode observe records a trigger (not
        // executed) for an outage; the config is reloaded with mode auto while the outage goes
        // on. The shadow executed nothing: the first auto tick whose own evidence satisfies
        // the rule triggers — a reload (or a restart) into auto never swallows an outage.
        auto c = rate_rule(Counting::immediate);
        auto observe = policy(20s);
        observe.mode = Mode::observe;
        const auto outage = steady(5, 10, 0) + steady(40, 10, 5);
        for (size_t reload : {15u, 30u}) {
            Evaluator first({c}, observe);
            size_t shadow = 0;
            for (size_t i = 0; i < reload; ++i) {
                first.add_sample(
                    "web", Sample::make_requests(at(i), outage[i].requests, outage[i].errors));
                auto e = first.evaluate(at(i));
                shadow += e.record.action == Action::trigger && !e.record.executed;
            }
            CHECK(shadow == 1);
            const auto memory = first.policy_memory();
            REQUIRE(memory.conditions.count("err") == 1);
            CHECK(memory.conditions.at("err").acted);
            CHECK(memory.conditions.at("err").shadow_acted);
            Evaluator second({c}, policy(20s));
            second.resume_policy(memory);
            const std::vector<std::string> sources{"web"};
            for (size_t i = 0; i < reload; ++i) {
                second.add_sample(
                    "web", Sample::make_requests(at(i), outage[i].requests, outage[i].errors));
                second.warm_up(at(i), sources);
            }
            size_t executed = 0, first_at = 0;
            for (size_t i = reload; i < outage.size(); ++i) {
                second.add_sample(
                    "web", Sample::make_requests(at(i), outage[i].requests, outage[i].errors));
                auto e = second.evaluate(at(i));
                if (e.record.action == Action::trigger && e.record.executed) {
                    first_at = executed++ == 0 ? i : first_at;
                }
            }
            CHECK(executed == 1);
            CHECK(first_at == reload);
            // Back into observe: the shadow's record stands, nothing is recorded again.
            Evaluator shadow_again({c}, observe);
            shadow_again.resume_policy(memory);
            size_t again = 0;
            for (size_t i = 0; i < outage.size(); ++i) {
                shadow_again.add_sample(
                    "web", Sample::make_requests(at(i), outage[i].requests, outage[i].errors));
                if (i < reload) {
                    shadow_again.warm_up(at(i), sources);
                } else {
                    again += shadow_again.evaluate(at(i)).record.action != Action::none;
                }
            }
            CHECK(again == 0);
        }
    }
}
