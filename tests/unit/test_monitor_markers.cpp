// SPDX-License-Identifier: MIT
// Replay = live for a back-dated deploy marker (docs/decision.md "Commands"): the monitor feeds
// the marker it reads at a tick, whenever it was recorded, and the evaluator applies it at the
// first tick at or after its recording; `check --replay` (monitor::ReplayLoop) fed the recorded
// marker applies it at the same tick. Every record of the two is the same.
#include "decision/evaluator.hpp"
#include "monitor/replay.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace rollback;
using namespace std::chrono_literals;

namespace {

const util::SystemTime k_t0 = util::SystemTime(std::chrono::seconds(1'795'996'800));

util::SystemTime at(util::Millis ms) {
    return k_t0 + ms;
}

decision::ConditionSpec slow() {
    decision::ConditionSpec c;
    c.name = "slow";
    c.source = "web";
    c.signal = decision::Signal::value;
    c.window = 4s;
    c.above_baseline = 2.0;
    c.baseline = decision::BaselineKind::before_deploy;
    c.baseline_window = 10s;
    c.counting = decision::Counting::for_duration;
    c.for_duration = 4s;
    c.severity = decision::Severity::critical;
    return c;
}

// One sample a second: 10 until the rollout at 30 s, 50 after.
std::vector<decision::Sample> samples() {
    std::vector<decision::Sample> out;
    for (int s = 0; s <= 80; ++s) {
        out.push_back(decision::Sample::make_value(at(std::chrono::seconds(s)), s < 30 ? 10 : 50));
    }
    return out;
}

} // namespace

TEST_SUITE("monitor") {
    TEST_CASE("a back-dated deploy marker: the replay decides what the live monitor decided") {
        decision::DecisionPolicy policy;
        policy.target = "shop";
        policy.mode = decision::Mode::observe;
        const util::Millis interval = 2s;
        // v1 from the start; v2 rolled out at 30 s, its marker recorded at 45.5 s.
        const std::vector<monitor::Deploy> deploys = {{at(0s), "v1", at(0s)},
                                                      {at(30s), "v2", at(util::Millis(45'500))}};

        // Live: at each tick (read a settle delay after it) the newest marker written by then
        // is fed; samples up to the tick.
        decision::Evaluator live({slow()}, policy);
        std::vector<std::string> live_records;
        const auto all = samples();
        size_t next = 0;
        std::string fed;
        for (util::Millis t{0}; t <= 80s; t += interval) {
            while (next < all.size() && all[next].time <= at(t)) {
                live.add_sample("web", all[next++]);
            }
            for (const auto& d : deploys) {
                if (*d.recorded_at <= at(t + 250ms) && fed.find(d.release) == std::string::npos) {
                    live.deployed(d.time, d.release, d.recorded_at);
                    fed += d.release;
                }
            }
            live_records.push_back(decision::to_json(live.evaluate(at(t)).record));
        }

        decision::Evaluator replayed({slow()}, policy);
        std::vector<std::string> replay_records;
        monitor::ReplayLoop loop(
            replayed, "web", interval, at(0s),
            [&](const decision::Evaluation& e) {
                replay_records.push_back(decision::to_json(e.record));
            },
            deploys);
        for (auto s : all) {
            loop.add(std::move(s));
        }
        loop.finish(at(80s));
        REQUIRE(replay_records.size() == live_records.size());
        for (size_t i = 0; i < live_records.size(); ++i) {
            CAPTURE(i);
            CHECK(replay_records[i] == live_records[i]);
        }
        // The rollout was judged under v2 only from the tick after its recording (46 s): the
        // ticks from 30 s to 44 s are v1's (no before_deploy baseline of its own: no data).
        const auto r44 = decision::from_json(live_records[22]);
        CHECK(r44.release == "v1");
        const auto r46 = decision::from_json(live_records[23]);
        CHECK(r46.release == "v2");
        REQUIRE(r46.deployed_at);
        CHECK(*r46.deployed_at == at(30s));
    }
}
