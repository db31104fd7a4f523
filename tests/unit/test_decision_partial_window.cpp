// SPDX-License-Identifier: MIT
// A count below a threshold is judged over a whole window only (docs/decision.md, "Partial
// windows"): a window cut short by a deploy, by the source's first observation or by a
// replay's input end holds fewer requests than the traffic it stands for, and a healthy release
// must never be rolled back for it (break-it round 36, finding 05: a trigger 3 s after
// `rollback deployed`). A dead site is still caught, at the first whole window.
#include "decision/evaluator.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace rollback::decision;
using namespace std::chrono_literals;

namespace {

const SystemTime k_t0 = SystemTime(std::chrono::seconds(1'795'996'800)); // 2026-11-30

SystemTime at(std::chrono::seconds s) {
    return k_t0 + s;
}

DecisionPolicy policy() {
    DecisionPolicy p;
    p.target = "shop";
    p.cooldown = 1h;
    return p;
}

// request_count below `below` over 60 s of 10 s access-log intervals, immediate.
ConditionSpec count_below(double below) {
    ConditionSpec c;
    c.name = "orders";
    c.source = "web";
    c.signal = Signal::request_count;
    c.window = 60s;
    c.bucket = 10s;
    c.below = below;
    c.severity = Severity::critical;
    return c;
}

struct Tick {
    DecisionRecord record;
    int second;
};

// Intervals of 10 s ending at 10 .. `last` s with `per_bucket(end)` requests; a tick at each
// interval's end; `deploy_at` (seconds) a deploy marker of release "v2" when given.
std::vector<Tick> run(const ConditionSpec& c, int last, int (*per_bucket)(int),
                      std::optional<int> deploy_at = std::nullopt, int first = 10) {
    Evaluator ev({c}, policy());
    if (deploy_at) {
        ev.deployed(at(std::chrono::seconds(*deploy_at)), "v2");
    }
    std::vector<Tick> out;
    for (int s = first; s <= last; s += 10) {
        ev.add_sample("web", Sample::make_requests(at(std::chrono::seconds(s)),
                                                   static_cast<uint64_t>(per_bucket(s)), 0));
        out.push_back({ev.evaluate(at(std::chrono::seconds(s))).record, s});
    }
    return out;
}

int steady(int) {
    return 10;
} // 60 requests in a whole window
int dead_after_300(int s) {
    return s <= 300 ? 10 : 0;
}

} // namespace

TEST_SUITE("decision: partial windows") {
    TEST_CASE("a count below over a window cut by a deploy is never a breach: every deploy time") {
        // A healthy release (60 requests in every whole window, threshold 50) deployed at any
        // second of ten minutes: no tick breaches, the partial ones say why, and from the first
        // whole window on the count is judged (ok).
        for (int deploy = 1; deploy <= 600; deploy += 7) {
            CAPTURE(deploy);
            auto ticks = run(count_below(50), 1200, steady, deploy);
            bool judged_whole = false;
            for (const auto& t : ticks) {
                const auto& c = t.record.conditions.at(0);
                CHECK(t.record.action == Action::none);
                CHECK(c.verdict != Verdict::pending);
                CHECK(c.verdict != Verdict::firing);
                if (c.verdict == Verdict::insufficient_sample) {
                    // Before the deploy applies: the monitor's first minute.
                    CHECK(c.detail.find(t.second > deploy ? "deploy of v2" : "observed since") !=
                          std::string::npos);
                    CHECK(!c.observed);
                }
                if (c.verdict == Verdict::ok && t.second > deploy) {
                    judged_whole = true;
                    CHECK(c.observed == doctest::Approx(60));
                }
            }
            // The first whole window: the deploy's interval rounded up, plus the window.
            CHECK(judged_whole);
        }
    }

    TEST_CASE("a dead site after a deploy is still caught at the first whole window") {
        // Traffic stops at 300 s, the deploy was at 125 s: its first interval starts at 130 s,
        // its first whole window ends at 190 s; the count reaches 0 < 50 once the last lines
        // leave the window (the window (T − 60 s, T] holds fewer than 5 busy intervals).
        auto ticks = run(count_below(50), 900, dead_after_300, 125);
        int trigger_at = -1;
        for (const auto& t : ticks) {
            if (t.record.action == Action::trigger) {
                trigger_at = t.second;
                break;
            }
        }
        // 300 s: the last busy interval; at 320 s the window (260, 320] holds 4 × 10 = 40.
        CHECK(trigger_at == 320);
    }

    TEST_CASE("a count below is judged only once the source has been observed a whole window") {
        // A monitor started at 1000 s on a quiet shop (the first interval of its log ends at
        // 1010 s and covers [1000, 1010), maybe part of it): not a breach before 1070 s, when
        // the window (1010, 1070] no longer holds that interval; a breach after.
        auto ticks = run(
            count_below(1), 1200, [](int) { return 0; }, std::nullopt, 1010);
        for (const auto& t : ticks) {
            const auto& c = t.record.conditions.at(0);
            CAPTURE(t.second);
            if (t.second < 1070) {
                CHECK(c.verdict == Verdict::insufficient_sample);
                CHECK(c.detail.find("observed since") != std::string::npos);
                CHECK(t.record.action == Action::none);
            } else {
                CHECK(c.observed == doctest::Approx(0));
            }
        }
        CHECK(ticks.back().record.conditions.at(0).verdict == Verdict::firing);
    }

    TEST_CASE(
        "a count above over a partial window is judged: a part holds no more than the whole") {
        ConditionSpec c = count_below(0);
        c.below.reset();
        c.above = 15;
        auto ticks = run(c, 200, steady, 5);
        // The deploy at 5 s: the first interval of v2 is [10, 20): 10 requests at 20 s, 20 at 30 s.
        bool breached = false;
        for (const auto& t : ticks) {
            CHECK(t.record.conditions.at(0).verdict != Verdict::insufficient_sample);
            breached = breached || t.record.conditions.at(0).verdict == Verdict::firing;
        }
        CHECK(breached);
    }

    TEST_CASE("the quiet after a replay's input end is not a count of zero") {
        // The input ends at 300 s; the replay's quiet intervals follow to 900 s.
        Evaluator ev({count_below(50)}, policy());
        for (int s = 10; s <= 900; s += 10) {
            if (s == 300) {
                ev.input_ends(at(300s));
            }
            ev.add_sample("web",
                          Sample::make_requests(at(std::chrono::seconds(s)), s <= 300 ? 10 : 0, 0));
            auto r = ev.evaluate(at(std::chrono::seconds(s))).record;
            const auto& c = r.conditions.at(0);
            CAPTURE(s);
            CHECK(r.action == Action::none);
            if (s >= 300) { // the last interval, (290, 300], may be part-observed
                CHECK(c.verdict == Verdict::insufficient_sample);
                CHECK(c.detail.find("the input ends at") != std::string::npos);
            } else if (s >= 70) {
                CHECK(c.verdict == Verdict::ok);
            }
        }
    }

    TEST_CASE("a partial window is not silence after a breach") {
        // A count below breaching at 60 .. 100 s (30 requests a window) with for = 5m: the run
        // is open when the input ends at 100 s; the windows after it are partial, never the
        // silence after a breach (on_silence escalates by default).
        ConditionSpec c = count_below(50);
        c.counting = Counting::for_duration;
        c.for_duration = 5min;
        Evaluator ev({c}, policy());
        for (int s = 10; s <= 600; s += 10) {
            if (s == 110) {
                ev.input_ends(at(100s));
            }
            ev.add_sample("web",
                          Sample::make_requests(at(std::chrono::seconds(s)), s <= 100 ? 5 : 0, 0));
            auto r = ev.evaluate(at(std::chrono::seconds(s))).record;
            CAPTURE(s);
            CHECK(r.action == Action::none);
            if (s > 100) {
                CHECK(r.conditions.at(0).verdict == Verdict::insufficient_sample);
            }
        }
    }
}
