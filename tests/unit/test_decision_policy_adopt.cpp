// SPDX-License-Identifier: MIT
// Monitors sharing a state (docs/config.md "Leadership"): a monitor that becomes the leader
// adopts the shared policy memory — what the leaders acted on — so an incident that fired while
// nobody could act (the shared state down at that tick) is acted on when someone leads again,
// and one a leader acted on is never acted on twice (issue 14: "nobody acted").
#include "decision/evaluator.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

using namespace rollback::decision;
using namespace std::chrono_literals;

namespace {

const SystemTime k_t0 = SystemTime(std::chrono::seconds(1'795'996'800)); // 2026-11-30

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

DecisionPolicy policy(Mode mode = Mode::auto_) {
    DecisionPolicy p;
    p.target = "t";
    p.mode = mode;
    p.cooldown = 60s;
    p.watch_after = 60s;
    return p;
}

constexpr int k_nobody = -1;

struct Outcome {
    int acted = 0;          ///< triggers (or approval requests) made by the monitor leading
    int acted_at = -1;      ///< the tick of the first
    int follower_noted = 0; ///< what followers recorded as the action (not executed)
};

// Monitors 0..n-1 evaluate the same samples, one tick a second; `leader[t]` leads at tick t
// (k_nobody: the shared state did not answer, everyone follows). The leader keeps its memory in
// the shared state after each tick it leads; a monitor that becomes the leader adopts it first
// (`adopt` false: the behaviour before the fix, each keeps its own).
Outcome run(const std::vector<double>& values, const std::vector<int>& leader, int monitors,
            bool adopt, Mode mode = Mode::auto_) {
    std::vector<std::unique_ptr<Evaluator>> ev;
    for (int m = 0; m < monitors; ++m) {
        ev.push_back(
            std::make_unique<Evaluator>(std::vector<ConditionSpec>{value_rule()}, policy(mode)));
    }
    Evaluator::PolicyMemory shared;
    Outcome out;
    int previous = k_nobody;
    for (size_t t = 0; t < values.size(); ++t) {
        const auto now = k_t0 + std::chrono::seconds(t + 1);
        const int lead = leader[t];
        if (adopt && lead != k_nobody && lead != previous) {
            ev[static_cast<size_t>(lead)]->adopt_policy(shared);
        }
        for (int m = 0; m < monitors; ++m) {
            auto& e = *ev[static_cast<size_t>(m)];
            e.add_sample("web", Sample::make_value(now, values[t]));
            const auto r = e.evaluate(now).record;
            const bool acting = r.action == Action::trigger || r.action == Action::request_approval;
            if (acting && m == lead) {
                if (out.acted++ == 0) {
                    out.acted_at = static_cast<int>(t);
                }
            } else if (acting) {
                ++out.follower_noted;
            }
        }
        if (lead != k_nobody) {
            shared = ev[static_cast<size_t>(lead)]->policy_memory();
        }
        previous = lead;
    }
    return out;
}

} // namespace

TEST_SUITE("decision") {
    TEST_CASE("leadership: an incident that fired while nobody led is acted on by the next "
              "leader") {
        // 9 for 30 s; the shared state down for ticks 0-9 (the incident fires at tick 0);
        // monitor 1 leads from tick 10.
        const std::vector<double> nines(30, 9.0);
        std::vector<int> leader(30, 1);
        for (int t = 0; t < 10; ++t) {
            leader[static_cast<size_t>(t)] = k_nobody;
        }
        const auto before = run(nines, leader, 2, false);
        CHECK(before.acted == 0); // the fault: every monitor counted its own unexecuted trigger
        const auto after = run(nines, leader, 2, true);
        CHECK(after.acted == 1);
        CHECK(after.acted_at == 10); // the first breaching tick it leads
        // Mode confirm: the approval request is made then, likewise.
        const auto confirm = run(nines, leader, 2, true, Mode::confirm);
        CHECK(confirm.acted == 1);
        CHECK(confirm.acted_at == 10);
    }

    TEST_CASE("leadership: an incident the leader acted on is not acted on again by its "
              "successor") {
        const std::vector<double> nines(30, 9.0);
        std::vector<int> leader(30, 0);
        for (int t = 12; t < 30; ++t) {
            leader[static_cast<size_t>(t)] = 1; // monitor 0 dies at tick 12
        }
        CHECK(run(nines, leader, 2, true).acted == 1);
    }

    TEST_CASE("leadership: any schedule of leaders and outages acts once per incident") {
        // Random schedules over one long incident (and over two incidents with a healthy
        // stretch longer than the cooldown between them): the incident is acted on exactly
        // once if some monitor leads at a breaching tick, never twice.
        std::mt19937 rng(14);
        for (int round = 0; round < 2000; ++round) {
            const int monitors = 2 + static_cast<int>(rng() % 2);
            const bool two = rng() % 2 == 0;
            std::vector<double> values(40, 9.0);
            if (two) {
                for (size_t t = 15; t < 25; ++t) {
                    values[t] = 1.0; // resolves (resolve_after 0s); the cooldown is 60 s
                }
            }
            std::vector<int> leader(values.size());
            int current = static_cast<int>(rng() % static_cast<unsigned>(monitors + 1)) - 1;
            for (auto& l : leader) {
                if (rng() % 4 == 0) { // a failover, a partition, an outage of the state
                    current = static_cast<int>(rng() % static_cast<unsigned>(monitors + 1)) - 1;
                }
                l = current;
            }
            int led_breaching = 0;
            for (size_t t = 0; t < values.size(); ++t) {
                led_breaching += leader[t] != k_nobody && values[t] > 5 && (!two || t < 15);
            }
            const auto o = run(values, leader, monitors, true);
            INFO("round " << round);
            // The second incident comes within the cooldown (and watch) of the first trigger:
            // at most a notification, never a second trigger.
            CHECK(o.acted == (led_breaching > 0 ? 1 : (two ? o.acted : 0)));
            CHECK(o.acted <= 1);
        }
    }
}
