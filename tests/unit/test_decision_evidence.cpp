// SPDX-License-Identifier: MIT
// A sample is evidence once (docs/decision.md, "Counting"): a ratio or a percentile over lines
// rests on the window's newest line, so a quiet bucket, or a line leaving the window, is no new
// evidence; a tick whose window gained no line holds (break-it issue 10, finding 13).
#include "decision/evaluator.hpp"
#include "decision/histogram.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace rollback::decision;
using namespace std::chrono_literals;

namespace {

const SystemTime k_t0 = SystemTime(std::chrono::seconds(1'795'996'800)); // 2026-11-30

DecisionPolicy policy() {
    DecisionPolicy p;
    p.target = "shop";
    p.cooldown = 1h;
    return p;
}

// The finding's rule: error_rate above 0.05, window 5m, for 2m, no min_requests.
ConditionSpec quiet_rule() {
    ConditionSpec c;
    c.name = "errors";
    c.source = "web";
    c.signal = Signal::error_rate;
    c.window = 5min;
    c.above = 0.05;
    c.counting = Counting::for_duration;
    c.for_duration = 2min;
    c.severity = Severity::critical;
    return c;
}

struct Line {
    int second; ///< the bucket's end, seconds after k_t0
    uint64_t count, errors;
    double latency_ms = 100;
};

// Buckets of 10 s from 10 s to `last` s, quiet but for `lines`; a tick after each bucket.
std::vector<DecisionRecord> run(const ConditionSpec& c, const std::vector<Line>& lines, int last) {
    Evaluator ev({c}, policy());
    std::vector<DecisionRecord> out;
    size_t next = 0;
    for (int s = 10; s <= last; s += 10) {
        const auto now = k_t0 + std::chrono::seconds(s);
        Sample smp = Sample::make_requests(now, 0, 0);
        if (next < lines.size() && lines[next].second == s) {
            std::vector<double> lat(lines[next].count, lines[next].latency_ms);
            smp = Sample::make_requests(now, lines[next].count, lines[next].errors,
                                        sparse_histogram(lat));
            ++next;
        }
        ev.add_sample("web", smp);
        out.push_back(ev.evaluate(now).record);
    }
    return out;
}

size_t count_action(const std::vector<DecisionRecord>& rs, Action a) {
    size_t n = 0;
    for (const auto& r : rs) {
        n += r.action == a;
    }
    return n;
}

} // namespace

TEST_SUITE("decision") {
    TEST_CASE("one 500 on a quiet site is judged once and never satisfies for") {
        // A request every 20 minutes, the last a 500, then a quiet night.
        std::vector<Line> lines;
        for (int m = 20; m < 100; m += 20) {
            lines.push_back({m * 60, 1, 0});
        }
        lines.push_back({100 * 60, 1, 1});
        auto rs = run(quiet_rule(), lines, 9 * 3600);
        CHECK(count_action(rs, Action::trigger) == 0);
        bool pending = false;
        for (const auto& r : rs) {
            CHECK(r.conditions[0].verdict != Verdict::firing);
            pending = pending || r.conditions[0].verdict == Verdict::pending;
            if (r.conditions[0].verdict == Verdict::pending && r.time > k_t0 + 100min + 10s) {
                CHECK(r.conditions[0].counting_state.find("no new sample since") !=
                      std::string::npos);
            }
        }
        CHECK(pending); // the 500 was seen, and judged once
    }

    TEST_CASE("siblings of one line judged again are held too") {
        // consecutive = 3 and m_of_n = [3, 5]: one 500 is one breaching tick, not three.
        ConditionSpec c = quiet_rule();
        c.counting = Counting::consecutive;
        c.consecutive = 3;
        CHECK(count_action(run(c, {{600, 1, 1}}, 3600), Action::trigger) == 0);
        c.counting = Counting::m_of_n;
        c.m = 3;
        c.n = 5;
        CHECK(count_action(run(c, {{600, 1, 1}}, 3600), Action::trigger) == 0);
        // A p95 over one slow request.
        c = quiet_rule();
        c.signal = Signal::latency_p95;
        c.above = 500.0;
        CHECK(count_action(run(c, {{600, 1, 0, 2000}}, 3600), Action::trigger) == 0);
        // Healthy lines leaving the window raise the rate of the 500 that stays: no new evidence.
        c = quiet_rule();
        std::vector<Line> lines = {{600, 30, 0}, {700, 1, 1}};
        CHECK(count_action(run(c, lines, 3600), Action::trigger) == 0);
    }

    TEST_CASE("new lines at every tick are new evidence and satisfy for") {
        std::vector<Line> lines;
        for (int s = 600; s <= 1200; s += 10) {
            lines.push_back({s, 1, 1});
        }
        auto rs = run(quiet_rule(), lines, 1800);
        REQUIRE(count_action(rs, Action::trigger) == 1);
        for (const auto& r : rs) {
            if (r.action == Action::trigger) {
                CHECK(r.time == k_t0 + 720s); // 2 minutes after the first breaching tick
            }
        }
    }

    TEST_CASE(
        "a silence after an incident that acted pages nobody when its tick ends the incident") {
        // Break-it round 40 finding 04: a 2-hour window empties 2 hours after the last breach;
        // that silent tick also ends the incident (missed ticks only, for more than the 1 h
        // cooldown), and the page came because "acted" was read after the incident ended.
        ConditionSpec c = quiet_rule();
        c.window = 2h;
        c.counting = Counting::immediate;
        std::vector<Line> lines;
        for (int s = 10; s <= 600; s += 10) {
            lines.push_back({s, 10, 5});
        }
        auto rs = run(c, lines, 9000);
        CHECK(count_action(rs, Action::trigger) == 1);
        CHECK(count_action(rs, Action::escalate) == 0);
    }

    TEST_CASE("a request count over quiet buckets is new evidence at each bucket") {
        // request_count below 1: an empty bucket is a count of zero for its interval.
        ConditionSpec c = quiet_rule();
        c.signal = Signal::request_count;
        c.above.reset();
        c.below = 1.0;
        c.window = 1min;
        auto rs = run(c, {{10, 5, 0}}, 600);
        CHECK(count_action(rs, Action::trigger) == 1);
    }
}
