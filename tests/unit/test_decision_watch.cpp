// SPDX-License-Identifier: MIT
// What a deploy marker does to the incident policy (docs/decision.md, "Decisions" rule 1 and
// "Commands"): a marker of a new release dated after a rollback ends the recurrence watch; the
// restored release's marker, the rolled-back release's and one dated before the rollback keep
// it; a back-dated marker applies at the first tick at or after its recording.
#include "decision/evaluator.hpp"

#include <doctest/doctest.h>

using namespace rollback::decision;
using namespace std::chrono_literals;

namespace {

const SystemTime k_t0 = SystemTime(std::chrono::seconds(1'795'996'800)); // 2026-11-30

SystemTime at(std::chrono::seconds s) {
    return k_t0 + s;
}

ConditionSpec rule() {
    ConditionSpec c;
    c.name = "errors";
    c.source = "cmd";
    c.signal = Signal::value;
    c.window = 5s;
    c.above = 10.0;
    c.severity = Severity::critical;
    return c;
}

DecisionPolicy watchful() {
    DecisionPolicy p;
    p.target = "shop";
    p.cooldown = 1min;
    p.watch_after = 30min;
    return p;
}

DecisionRecord tick(Evaluator& ev, std::chrono::seconds s, double value) {
    ev.add_sample("cmd", Sample::make_value(at(s), value));
    return ev.evaluate(at(s)).record;
}

// v1 runs, v2 breaks and is triggered, the rollback ends at 60 s and the incident resolves.
Evaluator rolled_back_v2() {
    Evaluator ev({rule()}, watchful());
    ev.deployed(at(0s), "v1");
    CHECK(tick(ev, 0s, 1).action == Action::none);
    ev.deployed(at(10s), "v2");
    CHECK(tick(ev, 10s, 1).release == "v2");
    const auto r = tick(ev, 20s, 50);
    CHECK(r.action == Action::trigger);
    CHECK(r.release == "v2");
    ev.rolled_back(at(60s));
    CHECK(tick(ev, 70s, 1).conditions[0].verdict == Verdict::ok);
    return ev;
}

} // namespace

TEST_SUITE("decision") {
    TEST_CASE("a new release deployed after a rollback ends the recurrence watch") {
        Evaluator ev = rolled_back_v2();
        REQUIRE(ev.policy_memory().watch_until);
        CHECK(ev.policy_memory().watch_since == at(60s));
        SUBCASE("the restored release v1 keeps it: its failure is a recurrence") {
            ev.deployed(at(65s), "v1");
            CHECK(tick(ev, 80s, 1).release == "v1");
            const auto r = tick(ev, 100s, 50);
            CHECK(r.action == Action::notify);
            CHECK(r.conditions[0].detail.find("recurrence") != std::string::npos);
        }
        SUBCASE("the rolled-back release v2 deployed again keeps it") {
            ev.deployed(at(65s), "v2");
            CHECK(tick(ev, 80s, 1).release == "v2");
            CHECK(tick(ev, 100s, 50).action == Action::notify);
        }
        SUBCASE("a new release's marker dated before the rollback keeps it") {
            ev.deployed(at(55s), "v3"); // fed late, applied at the next tick
            CHECK(tick(ev, 80s, 1).release == "v3");
            CHECK(ev.policy_memory().watch_until);
            CHECK(tick(ev, 100s, 50).action == Action::notify);
        }
        SUBCASE("a new release v3 ends it: its failure is a new incident, triggered") {
            ev.deployed(at(65s), "v1");
            CHECK(tick(ev, 80s, 1).release == "v1");
            CHECK(tick(ev, 100s, 50).action == Action::notify); // v1: a recurrence
            CHECK(tick(ev, 110s, 1).conditions[0].verdict == Verdict::ok);
            ev.deployed(at(120s), "v3");
            CHECK(tick(ev, 120s, 1).release == "v3");
            CHECK_FALSE(ev.policy_memory().watch_until);
            const auto r = tick(ev, 200s, 50);
            CHECK(r.action == Action::trigger);
            CHECK(r.release == "v3");
        }
    }

    TEST_CASE("the watch's rollback time survives a restart: a new release still ends it") {
        Evaluator ev = rolled_back_v2();
        const auto memory = ev.policy_memory();
        Evaluator next({rule()}, watchful(), ev.baselines());
        next.resume_policy(memory);
        REQUIRE(next.policy_memory().watch_until);
        CHECK(next.policy_memory().watch_since == at(60s));
        SUBCASE("the restored release keeps it") {
            next.deployed(at(65s), "v1");
            CHECK(tick(next, 80s, 1).release == "v1");
            CHECK(tick(next, 100s, 50).action == Action::notify);
        }
        SUBCASE("a new release ends it") {
            next.deployed(at(65s), "v3");
            CHECK(tick(next, 80s, 1).release == "v3");
            CHECK(tick(next, 100s, 50).action == Action::trigger);
        }
        SUBCASE("a memory without watch_since: the watch began watch_after before its end") {
            auto old = memory;
            old.watch_since.reset();
            Evaluator older({rule()}, watchful(), ev.baselines());
            older.resume_policy(old);
            older.deployed(at(50s), "v3"); // before the rollback at 60 s
            CHECK(tick(older, 80s, 1).release == "v3");
            CHECK(older.policy_memory().watch_until);
            older.deployed(at(90s), "v4");
            CHECK(tick(older, 90s, 1).release == "v4");
            CHECK_FALSE(older.policy_memory().watch_until);
        }
    }

    TEST_CASE("a back-dated deploy marker applies at the first tick at or after its recording") {
        Evaluator ev({rule()}, watchful());
        ev.deployed(at(0s), "v1");
        CHECK(tick(ev, 0s, 1).release == "v1");
        ev.deployed(at(10s), "v2", at(25s)); // deployed at 10 s, recorded at 25 s
        CHECK(tick(ev, 10s, 1).release == "v1");
        CHECK(tick(ev, 20s, 1).release == "v1");
        const auto r = tick(ev, 30s, 1);
        CHECK(r.release == "v2");
        REQUIRE(r.deployed_at);
        CHECK(*r.deployed_at == at(10s)); // its deploy time is still its own
        // Recorded before its time (a marker for a deploy planned ahead): at its time.
        ev.deployed(at(50s), "v3", at(35s));
        CHECK(tick(ev, 40s, 1).release == "v2");
        CHECK(tick(ev, 50s, 1).release == "v3");
    }
}
