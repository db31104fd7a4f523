// SPDX-License-Identifier: MIT
// A before_deploy baseline is kept in the baseline book with its deploy and taken back by a
// new evaluator (a restart after the log was rotated); one the monitor had and lost is an
// escalated no_data, never a silent fall-back (docs/decision.md "Baselines"; break-it 22 of
// issue 10, finding 09).
#include "decision/evaluator.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace rollback::decision;
using namespace std::chrono_literals;

namespace {

const SystemTime k_t0 = SystemTime(std::chrono::seconds(1'796'000'000));

// `value` above twice the median of the values in the 10 s before the deploy, at once; a floor
// of 1000 that a silent fall-back would compare with.
ConditionSpec slow_rule() {
    ConditionSpec c;
    c.name = "slow";
    c.source = "cmd";
    c.signal = Signal::value;
    c.window = 2s;
    c.above_baseline = 2.0;
    c.above = 1000.0;
    c.baseline = BaselineKind::before_deploy;
    c.baseline_window = 10s;
    c.counting = Counting::immediate;
    c.severity = Severity::critical;
    return c;
}

DecisionPolicy observe() {
    DecisionPolicy p;
    p.target = "t";
    p.mode = Mode::observe;
    p.cooldown = 1h;
    return p;
}

SystemTime at(int s) {
    return k_t0 + std::chrono::seconds(s);
}

// Ticks every second from `from` to `to`, a sample of `value` at each; the last record.
Evaluation run(Evaluator& ev, int from, int to, double value) {
    Evaluation e;
    for (int s = from; s <= to; ++s) {
        ev.add_sample("cmd", Sample::make_value(at(s), value));
        e = ev.evaluate(at(s));
    }
    return e;
}

} // namespace

TEST_SUITE("decision") {
    TEST_CASE("a before_deploy baseline kept in the book survives a restart without the log") {
        Evaluator first({slow_rule()}, observe());
        run(first, 0, 19, 20.0);
        first.deployed(at(20), "v2");
        const auto before = first.baseline_changes();
        auto e = run(first, 20, 22, 20.0);
        CHECK(first.baseline_changes() > before); // the monitor saves the book now
        REQUIRE(e.record.conditions.front().baseline->value);
        CHECK(*e.record.conditions.front().baseline->value == doctest::Approx(20.0));
        // Kept through the book's JSON, as baselines.json keeps it.
        const BaselineBook book = BaselineBook::from_json(first.baselines().to_json());
        const auto& v2 = book.releases.back();
        CHECK(v2.release == "v2");
        REQUIRE(v2.deployed_at);
        CHECK(*v2.deployed_at == at(20));
        REQUIRE(v2.before_deploy.count("slow") == 1);

        // Restarted after a rotation: no sample before the deploy; v2 at 80.
        Evaluator second({slow_rule()}, observe(), book);
        second.deployed(at(20), "v2");
        e = run(second, 30, 33, 80.0);
        const auto& c = e.record.conditions.front();
        REQUIRE(c.baseline->value);
        CHECK(*c.baseline->value == doctest::Approx(20.0));
        CHECK(c.baseline->origin.find("no samples") == std::string::npos); // the kept one
    }

    TEST_CASE("a before_deploy baseline the monitor had and lost is an escalated no_data") {
        // max_lateness 2s: the baseline is due two ticks after the deploy's.
        auto rule = slow_rule();
        rule.lateness = 2s;
        Evaluator first({rule}, observe());
        run(first, 0, 19, 20.0);
        first.deployed(at(20), "v2");
        first.evaluate(at(20)); // the deploy's tick: the book saved before the baseline is due
        BaselineBook book = first.baselines();
        REQUIRE(book.releases.back().release == "v2");
        CHECK(book.releases.back().before_deploy.empty());

        // Restarted after a rotation: no sample before the deploy; v2 at 80, under the floor.
        Evaluator second({rule}, observe(), book);
        second.deployed(at(20), "v2");
        int escalations = 0;
        for (int s = 30; s <= 40; ++s) {
            second.add_sample("cmd", Sample::make_value(at(s), 80.0));
            const auto e = second.evaluate(at(s));
            const auto& c = e.record.conditions.front();
            if (s >= 33) { // a window with a sample
                CHECK(c.verdict == Verdict::no_data);
                CHECK(c.detail.find("before_deploy baseline lost") != std::string::npos);
            }
            escalations += e.record.action == Action::escalate;
        }
        CHECK(escalations == 1); // paged once, when the state began

        // A book from before the field (no deployed_at): recomputed as before, nothing paged.
        BaselineBook old = book;
        old.releases.back().deployed_at.reset();
        Evaluator third({rule}, observe(), old);
        third.deployed(at(20), "v2");
        for (int s = 30; s <= 40; ++s) {
            third.add_sample("cmd", Sample::make_value(at(s), 80.0));
            CHECK(third.evaluate(at(s)).record.action == Action::none);
        }
    }
}
